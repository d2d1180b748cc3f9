//! The configuration file (src/config, the runner's tables included): any TOML text is a
//! `Config` or an error naming what is wrong, never a panic; an accepted one keeps its promises.
#![no_main]

use bullring::fuzzing::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Config::from_toml(text) {
        Ok(config) => {
            assert!(!config.prefixes.is_empty());
            assert!(config.prefixes.iter().all(|p| !p.trim().is_empty()));
            assert!(config.base_path.is_empty() || config.base_path.starts_with('/'));
            assert!(!config.base_path.ends_with('/'), "{:?}", config.base_path);
            assert!(config.limits.max_connections >= 1 && config.limits.max_event_streams >= 1);
            for worker in &config.runner.workers {
                assert!(worker.concurrency >= 1);
            }
        }
        Err(err) => assert!(!err.to_string().trim().is_empty()),
    }
});
