//! Configuration: one [`Config`], read once from a TOML file, environment variables and flags
//! (flags win over the environment, the environment over the file), validated, then passed down.
//!
//! A wrong setting fails at start with one line naming the setting and what is wrong with it
//! ([`ConfigError`]). The parts: [`cli`] (the command line), [`file`] (the TOML file as written),
//! [`redis`] (where Redis is), [`connections`] (more Redis servers), [`security`] (authentication and its checks), [`runner`] (workers,
//! schedulers and job defaults), [`limits`] (what the HTTP server takes on), [`values`] (rules
//! they share).

pub mod cli;
pub mod connections;
pub mod error;
pub mod file;
pub mod groups;
pub mod limits;
pub mod redis;
pub mod runner;
pub mod search;
pub mod security;
pub mod values;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use self::cli::{AddArgs, Cli, Command, HealthcheckArgs, JobsArgs, Settings, StatsArgs};
pub use self::error::ConfigError;
use self::error::bad;
pub use self::file::{AuthFile, FileConfig, QueueEntry};
use self::limits::Limits;
use self::runner::RunnerConfig;
use self::runner::file::RunnerFile;
use self::values::{normalize_base_path, parse_address, parse_bool, pick_list};
use crate::queue::connection::RedisSettings;
use crate::queue::model::Library;
use crate::web::security::Security;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: no Redis configured, so `serve` starts a private redis-server.
    pub redis: Option<RedisSettings>,
    pub prefixes: Vec<String>,
    pub queues: Vec<String>,
    /// The library `[[queues]] library` declares, by queue name (others are read from keys).
    pub libraries: BTreeMap<String, Library>,
    pub discovery: bool,
    pub discovery_interval: Duration,
    pub listen: SocketAddr,
    /// "" when mounted at the root, otherwise "/admin/queues" (leading slash, no trailing one).
    pub base_path: String,
    pub title: String,
    /// How often live updates sample the counts; `None` when they are off.
    pub live_interval: Option<Duration>,
    /// A second listener serving only `/metrics`, without authentication.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    /// Authentication, roles, read-only mode and the CSRF origin.
    pub security: Security,
    /// Length the `<prefix>:bullring:audit` stream is trimmed to.
    pub audit_max_len: usize,
    /// Workers, job schedulers and job defaults of `bullring run` / `start`.
    pub runner: RunnerConfig,
    /// Alert rules (`None`: no rules, no alerts engine).
    pub alerts: Option<crate::alerts::AlertsConfig>,
    /// Timeouts and caps of the HTTP server.
    pub limits: Limits,
    /// How much one search request scans.
    pub search: crate::queue::search::Budget,
    /// Groups the overview's queues whose names share a prefix up to it (`None`: off).
    pub delimiter: Option<String>,
    /// The `[[connections]]` besides `default` (the Redis above), in the file's order.
    pub connections: Vec<self::connections::ConnectionConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            redis: None,
            prefixes: vec![crate::queue::model::DEFAULT_PREFIX.into()],
            queues: Vec::new(),
            libraries: BTreeMap::new(),
            discovery: true,
            discovery_interval: Duration::from_secs(10),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            base_path: "/admin/queues".into(),
            title: "bullring".into(),
            live_interval: Some(Duration::from_millis(2000)),
            metrics_listen: None,
            data_dir: PathBuf::from("bullring-data"),
            security: Security::default(),
            audit_max_len: 10_000,
            runner: RunnerConfig::default(),
            alerts: None,
            limits: Limits::default(),
            search: crate::queue::search::Budget::default(),
            connections: Vec::new(),
            delimiter: None,
        }
    }
}

/// The `[[queues]]` entries declared `library = "bull"`.
fn bull_queues(file: &FileConfig) -> Vec<String> {
    file.queues
        .iter()
        .filter(|q| q.library == Some(Library::Bull))
        .map(|q| q.name.clone())
        .collect()
}

impl Config {
    /// The library the configuration declares for queue `name`, if any.
    pub fn library(&self, name: &str) -> Option<Library> {
        self.libraries.get(name).copied()
    }

    /// The prefix bullring's own keys and the runner's queues use (see
    /// [`crate::queue::model::default_prefix`]).
    pub fn default_prefix(&self) -> &str {
        crate::queue::model::default_prefix(&self.prefixes)
    }

    /// The same configuration reading the `[[connections]]` entry `name` instead of the
    /// top-level Redis (its Redis, prefixes, queues and discovery); `default` is this one.
    pub fn on_connection(self, name: &str) -> Result<Config, ConfigError> {
        if name == crate::queue::model::DEFAULT_CONNECTION {
            return Ok(self);
        }
        let Some(other) = self
            .connections
            .iter()
            .find(|c| c.connection.name == name)
            .cloned()
        else {
            let known: Vec<&str> = self
                .connections
                .iter()
                .map(|c| c.connection.name.as_str())
                .collect();
            return Err(bad(
                "--connection",
                format!(
                    "no [[connections]] entry is named {name:?} (known: default{}{})",
                    if known.is_empty() { "" } else { ", " },
                    known.join(", ")
                ),
            ));
        };
        Ok(Config {
            redis: Some(other.redis),
            prefixes: other.prefixes,
            queues: other.queues,
            discovery: other.discovery,
            delimiter: other.delimiter,
            libraries: BTreeMap::new(),
            ..self
        })
    }

    /// Read the file named by `--config` (if any) and merge the flags and environment over it.
    pub fn load(settings: &Settings) -> Result<Config, ConfigError> {
        let file = match &settings.config {
            Some(path) => file::read_file(path)?,
            None => FileConfig::default(),
        };
        Config::merge(settings, file)
    }

    /// A configuration from TOML text (the file's format), with no flags or environment:
    /// handy for the Rust API and tests.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(text)
            .map_err(|e| ConfigError::caused_by("TOML", e.message().to_string(), e))?;
        Config::merge(&Settings::default(), file)
    }

    /// Merge flags/environment (already merged by clap) over the file, and validate.
    pub fn merge(cli: &Settings, file: FileConfig) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let redis = self::redis::redis_settings(cli, &file)?;

        let prefixes = pick_list(&cli.prefixes, file.prefixes.clone(), defaults.prefixes);
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
            file.queues.iter().map(|q| q.name.clone()).collect(),
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
        let listen_text = cli.listen.clone().or(file.listen.clone());
        let listen = match listen_text {
            Some(text) => parse_address(
                "--listen (BULLRING_LISTEN / listen)",
                &text,
                "127.0.0.1:3000",
            )?,
            None => defaults.listen,
        };
        let base_path = match cli.base_path.clone().or(file.base_path.clone()) {
            Some(text) => normalize_base_path(&text)?,
            None => defaults.base_path,
        };
        let title = cli
            .title
            .clone()
            .or(file.title.clone())
            .unwrap_or(defaults.title);
        let live_interval = match cli.live_interval_ms.or(file.live_interval_ms) {
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
            None => defaults.live_interval,
        };
        let metrics_listen = match cli.metrics_listen.clone().or(file.metrics_listen.clone()) {
            Some(text) => Some(parse_address(
                "--metrics-listen (BULLRING_METRICS_LISTEN / metrics_listen)",
                &text,
                "127.0.0.1:9464",
            )?),
            None => None,
        };
        let data_dir = cli
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or(defaults.data_dir);
        let security = security::security(cli, &mut security::file_security(&file), listen)?;
        let audit_max_len = match file.audit_max_len {
            Some(0) => return Err(bad("audit_max_len", "must be at least 1")),
            Some(n) => n,
            None => defaults.audit_max_len,
        };
        let runner = RunnerConfig::from_file(&RunnerFile {
            queues: file
                .queues
                .iter()
                .map(|q| (q.name.clone(), q.defaults.clone()))
                .collect(),
            workers: file.workers.clone(),
            schedulers: file.schedulers.clone(),
            runner: file.runner.clone(),
            bull: bull_queues(&file),
        })?;
        let alerts = crate::alerts::rules::validate(&file.alerts)
            .map_err(|e| ConfigError::caused_by("[alerts] section", e.to_string(), e))?;
        let limits = limits::limits(cli, &file)?;
        let delimiter = groups::delimiter(cli, &file)?;
        let connections = self::connections::connections(&file.connections, &delimiter)?;
        if let Some(rule) = alerts.iter().flat_map(|a| &a.rules).find(|rule| {
            rule.connection != crate::queue::model::DEFAULT_CONNECTION
                && !connections
                    .iter()
                    .any(|c| c.connection.name == rule.connection)
        }) {
            return Err(bad(
                &format!("[[alerts.rules]] {:?} connection", rule.id),
                format!("no [[connections]] entry is named {:?}", rule.connection),
            ));
        }
        Ok(Config {
            delimiter,
            connections,
            limits,
            search: search::budget(cli, &file)?,
            alerts,
            runner,
            security,
            audit_max_len,
            redis,
            prefixes,
            queues,
            libraries: file
                .queues
                .iter()
                .filter_map(|q| Some((q.name.clone(), q.library?)))
                .collect(),
            discovery,
            discovery_interval,
            listen,
            base_path,
            title,
            live_interval,
            metrics_listen,
            data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::security::{AuthMode, Role};

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
    fn reads_security_from_the_file() {
        let hash = crate::web::security::hash_password("pw").unwrap();
        let file: FileConfig = toml::from_str(&format!(
            "read_only = true\ntrusted_proxies = [\"127.0.0.1\"]\n[auth]\nmode = \"basic\"\n[[auth.users]]\nname = \"ann\"\npassword_hash = \"{hash}\"\nrole = \"operator\"\n"
        ))
        .unwrap();
        let config = Config::merge(&Settings::default(), file).unwrap();
        assert!(config.security.read_only);
        assert_eq!(config.security.mode, AuthMode::Basic);
        assert_eq!(config.security.users[0].role, Role::Operator);
        assert!(crate::web::security::verify_password(
            "pw",
            &config.security.users[0].password_hash
        ));
        assert!(!crate::web::security::verify_password(
            "nope",
            &config.security.users[0].password_hash
        ));
    }

    #[test]
    fn the_forwarded_prefix_is_trusted_only_with_a_trusted_proxy() {
        let file: FileConfig =
            toml::from_str("trust_forwarded_prefix = true\ntrusted_proxies = [\"10.0.0.2\"]\n")
                .unwrap();
        let config = Config::merge(&Settings::default(), file).unwrap();
        assert!(config.security.trust_forwarded_prefix);
        let cli = Settings {
            trust_forwarded_prefix: Some("true".into()),
            ..Settings::default()
        };
        let err = Config::merge(&cli, FileConfig::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid --trust-forwarded-prefix"),
            "{err}"
        );
        assert!(err.to_string().contains("--trusted-proxy"), "{err}");
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
        let flags_fail = |cli: Settings| Config::merge(&cli, FileConfig::default()).unwrap_err();
        let err = flags_fail(Settings {
            listen: Some("0.0.0.0:3000".into()),
            ..Settings::default()
        });
        assert!(err.to_string().contains("--allow-anonymous"), "{err}");
        let err = flags_fail(Settings {
            auth: Some("basic".into()),
            ..Settings::default()
        });
        assert!(err.to_string().starts_with("invalid --auth basic"), "{err}");
        let err = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("lisen"));
    }
}
