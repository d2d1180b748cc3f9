//! [`ConfigError`]: a setting that cannot be used, named as the user wrote it, with what is wrong
//! with it and, when another error found the problem (a file that cannot be read, TOML that does
//! not parse, an address or URL that does not parse), that error as its source.

use std::error::Error as StdError;

/// The error under a [`ConfigError`], kept as its source.
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// A setting that cannot be used, named as the user wrote it.
///
/// Shown as `invalid <setting>: <problem>`; a report that walks the sources (the binary's error
/// line) adds the cause after it.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {problem}")]
pub struct ConfigError {
    /// The setting as the user knows it: a flag, an environment variable, a file key or entry.
    pub setting: String,
    /// What is wrong with it.
    pub problem: String,
    /// The error that found the problem, if another error did.
    #[source]
    pub source: Option<Cause>,
}

impl ConfigError {
    /// A value that breaks one of bullring's rules (no other error underneath).
    pub fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            setting: setting.into(),
            problem: problem.into(),
            source: None,
        }
    }

    /// A value that another error refused: `problem` says what, in the user's terms.
    pub fn caused_by(
        setting: impl Into<String>,
        problem: impl Into<String>,
        cause: impl Into<Cause>,
    ) -> Self {
        ConfigError {
            setting: setting.into(),
            problem: problem.into(),
            source: Some(cause.into()),
        }
    }
}

/// Shorthand for [`ConfigError::new`].
pub(crate) fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::new(setting, problem)
}
