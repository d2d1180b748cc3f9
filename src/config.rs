//! Configuration: one [`Config`], read once from a TOML file, environment variables and flags
//! (flags win over the environment, the environment over the file), validated, then passed down.
//!
//! A wrong setting fails at start with one line naming the setting and what is wrong with it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use redis::IntoConnectionInfo;
use serde::Deserialize;

use crate::queue::connection::RedisSettings;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "bullring",
    version,
    about = "Dashboard and worker runner for BullMQ queues"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (starts a private redis-server when no Redis is configured).
    Serve(Settings),
    /// Like `serve`, after seeding demo queues with jobs in every state.
    Demo(Settings),
}

/// Flags and environment variables shared by `serve` and `demo`.
#[derive(Debug, Clone, Default, Args)]
pub struct Settings {
    /// TOML configuration file.
    #[arg(long, env = "BULLRING_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Redis URL: redis://, rediss:// (TLS) or redis+unix://, user and password included.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Redis host, when no URL is given.
    #[arg(long, env = "REDIS_HOST")]
    pub redis_host: Option<String>,
    /// Redis port, with --redis-host (default 6379).
    #[arg(long, env = "REDIS_PORT")]
    pub redis_port: Option<String>,
    /// Redis password, with --redis-host.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<String>,
    /// Connect with TLS, with --redis-host (true/false).
    #[arg(long, env = "REDIS_TLS")]
    pub redis_tls: Option<String>,
    /// Seed nodes of a Redis Cluster, comma separated (use a hash-tagged prefix such as {bull}).
    #[arg(long, env = "BULLRING_REDIS_CLUSTER_NODES", value_delimiter = ',')]
    pub redis_cluster_nodes: Vec<String>,
    /// Queue key prefix; may be given several times (default bull).
    #[arg(long = "prefix", env = "BULLRING_PREFIX", value_delimiter = ',')]
    pub prefixes: Vec<String>,
    /// A queue to show; may be given several times (default: discover queues).
    #[arg(long = "queue", env = "BULLRING_QUEUES", value_delimiter = ',')]
    pub queues: Vec<String>,
    /// Discover queues with SCAN (true/false; default: true unless queues are listed).
    #[arg(long, env = "BULLRING_DISCOVERY")]
    pub discovery: Option<String>,
    /// Address to listen on (default 127.0.0.1:3000).
    #[arg(long, env = "BULLRING_LISTEN")]
    pub listen: Option<String>,
    /// URL path the dashboard is mounted at (default /admin/queues; / allowed).
    #[arg(long, env = "BULLRING_BASE_PATH")]
    pub base_path: Option<String>,
    /// Title shown in the page header.
    #[arg(long, env = "BULLRING_TITLE")]
    pub title: Option<String>,
    /// Where the private redis-server keeps its data (default ./bullring-data).
    #[arg(long, env = "BULLRING_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The `[[queues]]` entries of the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    pub name: String,
}

/// The TOML file. Every key is optional; unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub redis_url: Option<String>,
    pub redis_host: Option<String>,
    pub redis_port: Option<u16>,
    pub redis_password: Option<String>,
    pub redis_tls: Option<bool>,
    #[serde(default)]
    pub redis_cluster_nodes: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub queues: Vec<QueueEntry>,
    pub discovery: Option<bool>,
    pub discovery_interval_secs: Option<u64>,
    pub listen: Option<String>,
    pub base_path: Option<String>,
    pub title: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: no Redis configured, so `serve` starts a private redis-server.
    pub redis: Option<RedisSettings>,
    pub prefixes: Vec<String>,
    pub queues: Vec<String>,
    pub discovery: bool,
    pub discovery_interval: Duration,
    pub listen: SocketAddr,
    /// "" when mounted at the root, otherwise "/admin/queues" (leading slash, no trailing one).
    pub base_path: String,
    pub title: String,
    pub data_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            redis: None,
            prefixes: vec!["bull".into()],
            queues: Vec::new(),
            discovery: true,
            discovery_interval: Duration::from_secs(10),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            base_path: "/admin/queues".into(),
            title: "bullring".into(),
            data_dir: PathBuf::from("bullring-data"),
        }
    }
}

/// A setting that cannot be used, named as the user wrote it.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.into(),
        problem: problem.into(),
    }
}

impl Config {
    /// Read the file named by `--config` (if any) and merge the flags and environment over it.
    pub fn load(settings: &Settings) -> Result<Config, ConfigError> {
        let file = match &settings.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Config::merge(settings, file)
    }

    /// Merge flags/environment (already merged by clap) over the file, and validate.
    pub fn merge(cli: &Settings, file: FileConfig) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let redis = redis_settings(cli, &file)?;

        let prefixes = pick_list(&cli.prefixes, file.prefixes, defaults.prefixes);
        for prefix in &prefixes {
            if prefix.trim().is_empty() {
                return Err(bad(
                    "--prefix (BULLRING_PREFIX / prefixes)",
                    "a prefix is empty",
                ));
            }
        }
        let queues = pick_list(
            &cli.queues,
            file.queues.into_iter().map(|q| q.name).collect(),
            Vec::new(),
        );
        for name in &queues {
            if name.is_empty() || name.contains(':') {
                return Err(bad(
                    "--queue (BULLRING_QUEUES / [[queues]] name)",
                    format!("{name:?} is not a queue name (non-empty, no ':')"),
                ));
            }
        }
        let discovery = match &cli.discovery {
            Some(text) => parse_bool("--discovery (BULLRING_DISCOVERY)", text)?,
            None => file.discovery.unwrap_or(queues.is_empty()),
        };
        let discovery_interval = match file.discovery_interval_secs {
            Some(0) => return Err(bad("discovery_interval_secs", "must be at least 1")),
            Some(secs) => Duration::from_secs(secs),
            None => defaults.discovery_interval,
        };
        let listen_text = cli.listen.clone().or(file.listen);
        let listen = match listen_text {
            Some(text) => text.parse().map_err(|_| {
                bad(
                    "--listen (BULLRING_LISTEN / listen)",
                    format!("{text:?} is not an address such as 127.0.0.1:3000"),
                )
            })?,
            None => defaults.listen,
        };
        let base_path = match cli.base_path.clone().or(file.base_path) {
            Some(text) => normalize_base_path(&text)?,
            None => defaults.base_path,
        };
        let title = cli.title.clone().or(file.title).unwrap_or(defaults.title);
        let data_dir = cli
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or(defaults.data_dir);
        Ok(Config {
            redis,
            prefixes,
            queues,
            discovery,
            discovery_interval,
            listen,
            base_path,
            title,
            data_dir,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let setting = format!("--config {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| bad(&setting, e.to_string()))?;
    toml::from_str(&text).map_err(|e| {
        let message = e.message().to_string();
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        match line {
            Some(line) => bad(&setting, format!("line {line}: {message}")),
            None => bad(&setting, message),
        }
    })
}

/// Flags/env win when given; otherwise the file's list; otherwise the default.
fn pick_list(cli: &[String], file: Vec<String>, default: Vec<String>) -> Vec<String> {
    if !cli.is_empty() {
        cli.to_vec()
    } else if !file.is_empty() {
        file
    } else {
        default
    }
}

fn parse_bool(setting: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(bad(setting, format!("{text:?} is not true or false"))),
    }
}

/// Where Redis is, from (in order) cluster nodes, a URL, or host/port/password/TLS.
fn redis_settings(cli: &Settings, file: &FileConfig) -> Result<Option<RedisSettings>, ConfigError> {
    let nodes = pick_list(
        &cli.redis_cluster_nodes,
        file.redis_cluster_nodes.clone(),
        Vec::new(),
    );
    if !nodes.is_empty() {
        for node in &nodes {
            check_url(
                "--redis-cluster-nodes (BULLRING_REDIS_CLUSTER_NODES / redis_cluster_nodes)",
                node,
            )?;
        }
        return Ok(Some(RedisSettings {
            url: nodes[0].clone(),
            cluster_nodes: nodes,
        }));
    }
    if let Some(url) = cli.redis_url.clone().or(file.redis_url.clone()) {
        check_url("--redis-url (REDIS_URL / redis_url)", &url)?;
        return Ok(Some(RedisSettings::url(url)));
    }
    let Some(host) = cli.redis_host.clone().or(file.redis_host.clone()) else {
        return Ok(None);
    };
    let port = match &cli.redis_port {
        Some(text) => text
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                bad(
                    "--redis-port (REDIS_PORT)",
                    format!("{text:?} is not a port number"),
                )
            })?,
        None => file.redis_port.unwrap_or(6379),
    };
    let tls = match &cli.redis_tls {
        Some(text) => parse_bool("--redis-tls (REDIS_TLS)", text)?,
        None => file.redis_tls.unwrap_or(false),
    };
    let password = cli.redis_password.clone().or(file.redis_password.clone());
    let scheme = if tls { "rediss" } else { "redis" };
    let auth = password
        .map(|p| format!(":{}@", encode_userinfo(&p)))
        .unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let url = format!("{scheme}://{auth}{host}:{port}");
    check_url("--redis-host (REDIS_HOST)", &url)?;
    Ok(Some(RedisSettings::url(url)))
}

fn encode_userinfo(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn check_url(setting: &str, url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !["redis", "rediss", "redis+unix", "unix"].contains(&scheme) {
        return Err(bad(
            setting,
            "expected a redis://, rediss:// or redis+unix:// URL",
        ));
    }
    url.into_connection_info().map(|_| ()).map_err(|e| {
        bad(
            setting,
            format!("{} ({e})", RedisSettings::url(url).redacted()),
        )
    })
}

/// "/admin/queues/" → "/admin/queues"; "/" → "".
fn normalize_base_path(text: &str) -> Result<String, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_redis() {
        let config = Config::merge(&Settings::default(), FileConfig::default()).unwrap();
        assert!(config.redis.is_none());
        assert_eq!(config.base_path, "/admin/queues");
        assert_eq!(config.prefixes, vec!["bull"]);
        assert!(config.discovery);
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(
            "redis_url = \"redis://file:1\"\nbase_path = \"/\"\nprefixes = [\"a\"]\n[[queues]]\nname = \"q\"\n",
        )
        .unwrap();
        let cli = Settings {
            redis_url: Some("redis://flag:2".into()),
            ..Settings::default()
        };
        let config = Config::merge(&cli, file).unwrap();
        assert_eq!(config.redis.unwrap().url, "redis://flag:2");
        assert_eq!(config.base_path, "");
        assert_eq!(config.prefixes, vec!["a"]);
        assert_eq!(config.queues, vec!["q"]);
        assert!(!config.discovery);
    }

    #[test]
    fn builds_a_url_from_host_settings() {
        let cli = Settings {
            redis_host: Some("cache".into()),
            redis_port: Some("6380".into()),
            redis_password: Some("p@ss".into()),
            redis_tls: Some("true".into()),
            ..Settings::default()
        };
        let config = Config::merge(&cli, FileConfig::default()).unwrap();
        assert_eq!(config.redis.unwrap().url, "rediss://:p%40ss@cache:6380");
    }

    #[test]
    fn wrong_settings_name_themselves() {
        let cases = [
            Settings {
                redis_url: Some("http://x".into()),
                ..Settings::default()
            },
            Settings {
                redis_host: Some("h".into()),
                redis_port: Some("seventy".into()),
                ..Settings::default()
            },
            Settings {
                listen: Some("nowhere".into()),
                ..Settings::default()
            },
            Settings {
                base_path: Some("admin".into()),
                ..Settings::default()
            },
        ];
        let names = ["--redis-url", "--redis-port", "--listen", "--base-path"];
        for (cli, name) in cases.iter().zip(names) {
            let err = Config::merge(cli, FileConfig::default()).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("invalid {name}")),
                "{err}"
            );
        }
        let err = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("lisen"));
    }
}
