//! `X-Forwarded-Prefix` (src/web/security/prefix.rs): an accepted prefix is a plain path that
//! cannot leave the site or an HTML attribute, and parsing it again gives it back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| bullring::fuzzing::properties::prefix(text));
