//! How much one search request scans before it answers with a cursor: a number of jobs and a
//! time, from the flags and environment over the file, over the defaults (20,000 jobs, 300 ms).

use std::time::Duration;

use super::cli::Settings;
use super::error::{ConfigError, bad};
use super::file::FileConfig;
use crate::queue::search::Budget;

/// The search budget; zero is refused (a search would never move).
pub fn budget(cli: &Settings, file: &FileConfig) -> Result<Budget, ConfigError> {
    let defaults = Budget::default();
    let jobs = match cli.search_max_jobs.or(file.search_max_jobs) {
        Some(0) => {
            return Err(bad(
                "--search-max-jobs (BULLRING_SEARCH_MAX_JOBS / search_max_jobs)",
                "must be at least 1",
            ));
        }
        Some(n) => n,
        None => defaults.jobs,
    };
    let time = match cli.search_max_ms.or(file.search_max_ms) {
        Some(0) => {
            return Err(bad(
                "--search-max-ms (BULLRING_SEARCH_MAX_MS / search_max_ms)",
                "must be at least 1",
            ));
        }
        Some(ms) => Duration::from_millis(ms),
        None => defaults.time,
    };
    Ok(Budget { jobs, time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_zero_is_refused() {
        let file: FileConfig =
            toml::from_str("search_max_jobs = 5000\nsearch_max_ms = 80").unwrap();
        let from_file = budget(&Settings::default(), &file).unwrap();
        assert_eq!(
            (from_file.jobs, from_file.time),
            (5000, Duration::from_millis(80))
        );
        let cli = Settings {
            search_max_jobs: Some(9),
            ..Settings::default()
        };
        assert_eq!(budget(&cli, &file).unwrap().jobs, 9);
        assert_eq!(
            budget(&Settings::default(), &FileConfig::default()).unwrap(),
            Budget::default()
        );
        let zero: FileConfig = toml::from_str("search_max_ms = 0").unwrap();
        let err = budget(&Settings::default(), &zero).unwrap_err();
        assert!(err.to_string().contains("search_max_ms"), "{err}");
    }
}
