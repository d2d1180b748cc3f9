//! `X-Forwarded-Prefix` (src/web/security/prefix.rs): an accepted prefix is a plain path that
//! cannot leave the site or an HTML attribute, and parsing it again gives it back.
#![no_main]

use bullring::fuzzing::parse_prefix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(prefix) = parse_prefix(text) else {
        return;
    };
    // Empty means "/" (the root); anything else starts with one '/' and does not end with one.
    if !prefix.is_empty() {
        assert!(prefix.starts_with('/'), "{prefix:?}");
        assert!(!prefix.ends_with('/'), "{prefix:?}");
    }
    assert!(!prefix.contains("//"), "{prefix:?}");
    assert!(prefix.len() <= 256, "{prefix:?}");
    for segment in prefix.split('/').skip(1) {
        assert!(segment != ".." && segment != "." && !segment.is_empty(), "{prefix:?}");
    }
    for c in ['"', '\'', '<', '>', '\\', '?', '#', ' ', '\t', '\n', '\r'] {
        assert!(!prefix.contains(c), "{prefix:?} has {c:?}");
    }
    // Round trip: the prefix is accepted as it is, and with the slash the proxy may add.
    assert_eq!(parse_prefix(&prefix).as_deref(), Ok(prefix.as_str()));
    assert_eq!(parse_prefix(&format!("{prefix}/")).as_deref(), Ok(prefix.as_str()));
});
