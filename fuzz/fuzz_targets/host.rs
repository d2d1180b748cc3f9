//! The Host check's parser (src/web/security/host.rs): a parsed host is an IP address or a
//! lowercase name of safe characters, written back it parses to itself, and a port never
//! changes what it names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| bullring::fuzzing::properties::host(text));
