//! The TOML configuration file as written ([`FileConfig`]), and reading it from disk with errors
//! that name the file and the line.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ConfigError;
use super::runner::file::{QueueDefaultsFile, RunnerTableFile, SchedulerFile, WorkerFile};
use crate::alerts::AlertsFile;
use crate::queue::connections::Color;
use crate::queue::model::Library;
use crate::web::security::{AuthMode, BasicUser, ProxyAuth, Role};

/// The `[[queues]]` entries of the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    pub name: String,
    /// The queue's library, `"bullmq"` or `"bull"`, when it should not be read from its keys.
    pub library: Option<Library>,
    /// Default options of the jobs bullring adds to this queue.
    pub defaults: Option<QueueDefaultsFile>,
}

/// `sentinel = { master = "mymaster", nodes = ["host:26379", ...], password = "...",
/// sentinel_password = "..." }` as written.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelFile {
    pub master: String,
    #[serde(default)]
    pub nodes: Vec<String>,
    /// The master's (and its replicas') password.
    pub password: Option<String>,
    /// The sentinels' own password.
    pub sentinel_password: Option<String>,
}

impl std::fmt::Debug for SentinelFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelFile")
            .field("master", &self.master)
            .field("nodes", &self.nodes)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field(
                "sentinel_password",
                &self.sentinel_password.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// Declares a table of the file that also takes the keys saying where Redis is (`redis_url`,
/// `redis_host`, `redis_port`, `redis_password`, `redis_tls`, `redis_cluster_nodes`, `sentinel`),
/// listed once, here: the top level ([`FileConfig`]) and each `[[connections]]` entry
/// ([`ConnectionFile`]) take the same ones.
///
/// Not a struct of its own under `#[serde(flatten)]`: serde reads a table with a flattened part
/// into a buffer first, so an unknown key or a bad value in that table would be reported without
/// its line (and without the list of the keys it could have been).
macro_rules! with_redis_keys {
    ($(#[$attr:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$attr])*
        pub struct $name {
            pub redis_url: Option<String>,
            pub redis_host: Option<String>,
            pub redis_port: Option<u16>,
            pub redis_password: Option<String>,
            pub redis_tls: Option<bool>,
            #[serde(default)]
            pub redis_cluster_nodes: Vec<String>,
            pub sentinel: Option<SentinelFile>,
            $($fields)*
        }
    };
}

with_redis_keys! {
/// One `[[connections]]` entry as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionFile {
    pub name: String,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub queues: Vec<String>,
    pub discovery: Option<bool>,
    pub label: Option<String>,
    pub color: Option<Color>,
    pub read_only: Option<bool>,
    pub max_role: Option<Role>,
    /// Groups this connection's queues on the overview (default: the top-level `delimiter`).
    pub delimiter: Option<String>,
}
}

/// The `[auth]` table of the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub mode: Option<AuthMode>,
    pub anonymous_role: Option<Role>,
    #[serde(default)]
    pub users: Vec<BasicUser>,
    #[serde(default)]
    pub proxy: ProxyAuth,
}

with_redis_keys! {
/// The TOML file. Every key is optional; unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub queues: Vec<QueueEntry>,
    pub discovery: Option<bool>,
    pub discovery_interval_secs: Option<u64>,
    pub listen: Option<String>,
    pub base_path: Option<String>,
    pub title: Option<String>,
    pub live_interval_ms: Option<u64>,
    pub header_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_event_streams: Option<usize>,
    pub request_timeout_ms: Option<u64>,
    pub search_max_jobs: Option<usize>,
    pub search_max_ms: Option<u64>,
    /// Groups queues whose names share a prefix up to it on the overview ("" or absent: off).
    pub delimiter: Option<String>,
    pub metrics_listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub read_only: Option<bool>,
    pub allow_anonymous: Option<bool>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    pub trust_forwarded_prefix: Option<bool>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
    /// Length the audit stream is trimmed to.
    pub audit_max_len: Option<usize>,
    #[serde(default)]
    pub auth: AuthFile,
    #[serde(default)]
    pub workers: Vec<WorkerFile>,
    #[serde(default)]
    pub schedulers: Vec<SchedulerFile>,
    #[serde(default)]
    pub runner: RunnerTableFile,
    #[serde(default)]
    pub alerts: AlertsFile,
    /// More Redis servers shown in the same dashboard.
    #[serde(default)]
    pub connections: Vec<ConnectionFile>,
}
}

/// Read and parse the file at `path`; a TOML error names its line.
pub(super) fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let setting = format!("--config {}", path.display());
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::caused_by(&setting, "cannot be read", e))?;
    toml::from_str(&text).map_err(|e| {
        let message = e.message().to_string();
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        let problem = match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        };
        ConfigError::caused_by(&setting, problem, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and the line of the error reading `text`.
    fn refused(text: &str) -> (String, usize) {
        let err = toml::from_str::<FileConfig>(text).unwrap_err();
        let line = text[..err.span().expect("a span").start]
            .matches('\n')
            .count()
            + 1;
        (err.message().to_string(), line)
    }

    #[test]
    fn the_redis_keys_are_read_at_the_top_and_in_each_connection() {
        let file: FileConfig = toml::from_str(
            "redis_host = \"cache\"\nredis_port = 6380\nredis_tls = true\n\
             [[connections]]\nname = \"b\"\nredis_cluster_nodes = [\"redis://n1\"]\n\
             [[connections]]\nname = \"c\"\nsentinel = { master = \"m\", nodes = [\"s:26379\"] }\n",
        )
        .unwrap();
        assert_eq!(file.redis_host.as_deref(), Some("cache"));
        assert_eq!((file.redis_port, file.redis_tls), (Some(6380), Some(true)));
        assert_eq!(file.connections[0].redis_cluster_nodes, ["redis://n1"]);
        let sentinel = file.connections[1].sentinel.as_ref().unwrap();
        assert_eq!(sentinel.master, "m");
    }

    #[test]
    fn a_typo_or_a_bad_value_is_named_with_its_line() {
        let (message, line) = refused("title = \"x\"\nbase_paht = \"/x\"\n");
        assert!(message.contains("unknown field `base_paht`"), "{message}");
        assert!(
            message.contains("`redis_url`"),
            "the keys it could be: {message}"
        );
        assert_eq!(line, 2);
        let (message, line) =
            refused("title = \"x\"\n[[connections]]\nname = \"a\"\nredis_urll = \"redis://h\"\n");
        assert!(message.contains("unknown field `redis_urll`"), "{message}");
        assert!(message.contains("`redis_url`"), "{message}");
        assert_eq!(line, 4);
        let (message, line) = refused("title = \"x\"\nredis_port = 70000\n");
        assert!(message.contains("70000"), "{message}");
        assert_eq!(line, 2);
    }
}
