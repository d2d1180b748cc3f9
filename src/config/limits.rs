//! How much the HTTP server takes on: how long a client may take to send its headers, how long
//! an idle keep-alive connection stays open, how many connections and live-update streams are
//! served at once, and how long one request may run.

use std::time::Duration;

use super::cli::Settings;
use super::error::{ConfigError, bad};
use super::file::FileConfig;

/// The server's limits (see `crate::listener`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A client that has not sent a whole request head within this is disconnected.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in flight and nothing received for this long is
    /// closed.
    pub idle_timeout: Duration,
    /// Connections served at once; one more is answered 503 with `Retry-After` and closed.
    pub max_connections: usize,
    /// Live-update streams (`{base}/events`) open at once; one more is answered 503.
    pub max_event_streams: usize,
    /// How long a request may run before it is answered 503 (event streams are exempt).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            max_connections: 1024,
            max_event_streams: 256,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A duration in ms from the flag or the file, at least 1 ms.
fn millis(
    name: &str,
    cli: Option<u64>,
    file: Option<u64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match cli.or(file) {
        Some(0) => Err(bad(name, "must be at least 1")),
        Some(ms) => Ok(Duration::from_millis(ms)),
        None => Ok(default),
    }
}

/// A count from the flag or the file, at least 1.
fn count(
    name: &str,
    cli: Option<usize>,
    file: Option<usize>,
    default: usize,
) -> Result<usize, ConfigError> {
    match cli.or(file) {
        Some(0) => Err(bad(name, "must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

/// The limits from flags and environment over the file, over the defaults.
pub fn limits(cli: &Settings, file: &FileConfig) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    Ok(Limits {
        header_timeout: millis(
            "--header-timeout-ms (BULLRING_HEADER_TIMEOUT_MS / header_timeout_ms)",
            cli.header_timeout_ms,
            file.header_timeout_ms,
            defaults.header_timeout,
        )?,
        idle_timeout: millis(
            "--idle-timeout-ms (BULLRING_IDLE_TIMEOUT_MS / idle_timeout_ms)",
            cli.idle_timeout_ms,
            file.idle_timeout_ms,
            defaults.idle_timeout,
        )?,
        max_connections: count(
            "--max-connections (BULLRING_MAX_CONNECTIONS / max_connections)",
            cli.max_connections,
            file.max_connections,
            defaults.max_connections,
        )?,
        max_event_streams: count(
            "--max-event-streams (BULLRING_MAX_EVENT_STREAMS / max_event_streams)",
            cli.max_event_streams,
            file.max_event_streams,
            defaults.max_event_streams,
        )?,
        request_timeout: millis(
            "--request-timeout-ms (BULLRING_REQUEST_TIMEOUT_MS / request_timeout_ms)",
            cli.request_timeout_ms,
            file.request_timeout_ms,
            defaults.request_timeout,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_zero_is_refused() {
        let file: FileConfig =
            toml::from_str("max_connections = 7\nrequest_timeout_ms = 900").unwrap();
        let cli = Settings {
            max_connections: Some(9),
            ..Settings::default()
        };
        let limits = limits(&cli, &file).unwrap();
        assert_eq!(limits.max_connections, 9);
        assert_eq!(limits.request_timeout, Duration::from_millis(900));
        assert_eq!(limits.header_timeout, Limits::default().header_timeout);
        let zero: FileConfig = toml::from_str("header_timeout_ms = 0").unwrap();
        let err = super::limits(&Settings::default(), &zero).unwrap_err();
        assert!(err.to_string().contains("header_timeout_ms"), "{err}");
    }
}
