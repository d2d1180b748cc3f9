//! The queue groups' `delimiter`: from the flag and environment over the file; empty is off.
//! A `[[connections]]` entry without one takes the top-level one.

use super::cli::Settings;
use super::error::{ConfigError, bad};
use super::file::FileConfig;

/// Longest delimiter taken.
const MAX_LEN: usize = 16;

/// The top-level delimiter (`None`: queues are not grouped).
pub fn delimiter(cli: &Settings, file: &FileConfig) -> Result<Option<String>, ConfigError> {
    check(
        "--delimiter (BULLRING_DELIMITER / delimiter)",
        cli.delimiter.clone().or(file.delimiter.clone()),
    )
}

/// A `[[connections]]` entry's delimiter: its own, else `inherited` (the top-level one).
pub(super) fn connection_delimiter(
    setting: &str,
    own: Option<String>,
    inherited: &Option<String>,
) -> Result<Option<String>, ConfigError> {
    match own {
        Some(own) => check(&format!("{setting} delimiter"), Some(own)),
        None => Ok(inherited.clone()),
    }
}

/// Empty is off; a delimiter with ':' could never be in a queue name, so it is refused.
fn check(setting: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) if text.contains(':') || text.chars().count() > MAX_LEN => Err(bad(
            setting,
            format!("{text:?} cannot group queue names (at most {MAX_LEN} characters, no ':')"),
        )),
        Some(text) => Ok(Some(text)),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_delimiter_is_read_inherited_and_checked() {
        let config = Config::from_toml(
            "delimiter = \".\"\n[[connections]]\nname = \"a\"\nredis_url = \"redis://h\"\n\
             [[connections]]\nname = \"b\"\nredis_url = \"redis://h\"\ndelimiter = \"\"\n\
             [[connections]]\nname = \"c\"\nredis_url = \"redis://h\"\ndelimiter = \"-\"\n",
        )
        .unwrap();
        assert_eq!(config.delimiter.as_deref(), Some("."));
        let of: Vec<Option<&str>> = config
            .connections
            .iter()
            .map(|c| c.delimiter.as_deref())
            .collect();
        assert_eq!(of, [Some("."), None, Some("-")]);
        assert_eq!(Config::from_toml("").unwrap().delimiter, None);
        let err = Config::from_toml("delimiter = \":\"").unwrap_err();
        assert!(err.to_string().contains("delimiter"), "{err}");
        let err = Config::from_toml(
            "[[connections]]\nname = \"x\"\nredis_url = \"redis://h\"\ndelimiter = \"a:b\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("delimiter"), "{err}");
    }
}
