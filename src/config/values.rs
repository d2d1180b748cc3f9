//! Small value rules every part of the configuration shares: which source wins for a list,
//! booleans as flags and environment variables spell them, the dashboard's base path.

use super::error::{ConfigError, bad};

/// Flags/env win when given; otherwise the file's list; otherwise the default.
pub(super) fn pick_list(cli: &[String], file: Vec<String>, default: Vec<String>) -> Vec<String> {
    if !cli.is_empty() {
        cli.to_vec()
    } else if !file.is_empty() {
        file
    } else {
        default
    }
}

pub(super) fn parse_bool(setting: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(bad(setting, format!("{text:?} is not true or false"))),
    }
}

/// "/admin/queues/" → "/admin/queues"; "/" → "".
pub(super) fn normalize_base_path(text: &str) -> Result<String, ConfigError> {
    let setting = "--base-path (BULLRING_BASE_PATH / base_path)";
    let trimmed = text.trim();
    if !trimmed.starts_with('/') {
        return Err(bad(setting, format!("{text:?} must start with '/'")));
    }
    if trimmed.contains(['?', '#', ' ', '{', '}', '*']) || trimmed.contains("//") {
        return Err(bad(setting, format!("{text:?} is not a plain URL path")));
    }
    Ok(trimmed.trim_end_matches('/').to_string())
}

/// A socket address such as `example` (`127.0.0.1:3000`).
pub(super) fn parse_address(
    setting: &str,
    text: &str,
    example: &str,
) -> Result<std::net::SocketAddr, ConfigError> {
    text.parse().map_err(|e| {
        ConfigError::caused_by(
            setting,
            format!("{text:?} is not an address such as {example}"),
            e,
        )
    })
}
