//! The Host check's parser (src/web/security/host.rs): a parsed host is an IP address or a
//! lowercase name of safe characters, written back it parses to itself, and a port never
//! changes what it names.
#![no_main]

use bullring::fuzzing::{Host, parse_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Some(host) = parse_host(text) else {
        return;
    };
    let shown = host.to_string();
    match &host {
        Host::Name(name) => {
            assert!(!name.is_empty() && name.len() <= 253, "{name:?}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b)),
                "{name:?}"
            );
            assert!(!name.starts_with('.') && !name.ends_with('.') && !name.contains(".."), "{name:?}");
            assert_eq!(parse_host(&shown), Some(host.clone()), "{text:?}");
            assert_eq!(parse_host(&format!("{shown}:8080")), Some(host.clone()), "{text:?}");
        }
        Host::Ip(ip) => {
            let written = if ip.is_ipv6() { format!("[{ip}]") } else { shown.clone() };
            assert_eq!(parse_host(&written), Some(host.clone()), "{text:?}");
            assert_eq!(parse_host(&format!("{written}:3000")), Some(host.clone()), "{text:?}");
        }
    }
    // Case never matters.
    assert_eq!(parse_host(&text.to_ascii_uppercase()), Some(host.clone()), "{text:?}");
});
