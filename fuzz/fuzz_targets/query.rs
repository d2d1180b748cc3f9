//! Query strings and form bodies (src/web/params.rs, src/web/input.rs, as the `Query` extractor
//! deserializes them): whatever arrives, the answer is parameters within their bounds or a 400,
//! never a panic or a 500.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| bullring::fuzzing::properties::query(text));
