//! The configuration file (src/config, the runner's tables included): any TOML text is a
//! `Config` or an error naming what is wrong, never a panic; an accepted one keeps its promises.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| bullring::fuzzing::properties::config(text));
