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
use crate::runner::config::{RunnerConfig, RunnerFile};
use crate::web::security::{AuthMode, BasicUser, ProxyAuth, Role, Security};

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
    /// Like `serve`, after seeding demo queues with jobs in every state; demo workers and
    /// schedulers keep the board alive.
    Demo(Settings),
    /// Run the configured workers and job schedulers (`[[workers]]`, `[[schedulers]]`).
    Run(Settings),
    /// Run the configured workers and schedulers and serve the dashboard, in one process.
    Start(Settings),
    /// Add a job to a queue and print its id.
    Add(AddArgs),
    /// List the jobs of a queue in one state (newest first).
    Jobs(JobsArgs),
    /// Job counts per state, of one queue or of every queue found.
    Stats(StatsArgs),
    /// Print an argon2 hash of a password (read from standard input) for `[[auth.users]]`.
    HashPassword,
    /// Exit 0 when the dashboard configured by these settings answers its health check
    /// (for container HEALTHCHECKs; the image has no curl).
    Healthcheck(HealthcheckArgs),
}

/// `bullring healthcheck`: the URL, or the settings of the `serve` to check.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Health URL to GET (default: from --listen and --base-path, as `serve` would use them).
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub settings: Settings,
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
    /// Live updates: how often the sampler reads every queue's counts, in ms (0 turns them off;
    /// default 2000).
    #[arg(long, env = "BULLRING_LIVE_INTERVAL_MS")]
    pub live_interval_ms: Option<u64>,
    /// Also serve the Prometheus metrics, without authentication, on this address (e.g.
    /// 127.0.0.1:9464); off by default.
    #[arg(long, env = "BULLRING_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Where the private redis-server keeps its data (default ./bullring-data).
    #[arg(long, env = "BULLRING_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Refuse every action and send no write command to Redis (true/false).
    #[arg(long, env = "BULLRING_READ_ONLY", num_args = 0..=1, default_missing_value = "true")]
    pub read_only: Option<String>,
    /// How users are identified: none, basic or proxy.
    #[arg(long, env = "BULLRING_AUTH")]
    pub auth: Option<String>,
    /// With --auth none, allow listening on a non-loopback address (true/false).
    #[arg(long, env = "BULLRING_ALLOW_ANONYMOUS", num_args = 0..=1, default_missing_value = "true")]
    pub allow_anonymous: Option<String>,
    /// Public origin of the dashboard behind a proxy (https://ops.example.com), for the CSRF check.
    #[arg(long, env = "BULLRING_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address of a reverse proxy whose X-Forwarded-* and user headers are trusted; repeatable.
    #[arg(
        long = "trusted-proxy",
        env = "BULLRING_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Honour X-Forwarded-Prefix from the trusted proxies (a proxy that strips a path prefix).
    #[arg(long, env = "BULLRING_TRUST_FORWARDED_PREFIX", num_args = 0..=1, default_missing_value = "true")]
    pub trust_forwarded_prefix: Option<String>,
}

/// `bullring add QUEUE NAME --data JSON ...`.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// Queue to add the job to.
    pub queue: String,
    /// Job name.
    pub name: String,
    /// Job data, as JSON.
    #[arg(long, default_value = "{}")]
    pub data: String,
    /// Custom job id (not an integer, no ':'); adding an existing id adds nothing.
    #[arg(long)]
    pub job_id: Option<String>,
    /// Delay in milliseconds before the job can run.
    #[arg(long)]
    pub delay: Option<u64>,
    /// Priority (1 is the highest; 0 or absent: no priority).
    #[arg(long)]
    pub priority: Option<u32>,
    /// Attempts in total (overrides the queue's defaults).
    #[arg(long)]
    pub attempts: Option<u32>,
    /// Deduplication id: while a job with this id exists (or until the TTL ends), adding
    /// another one adds nothing.
    #[arg(long)]
    pub dedup_id: Option<String>,
    /// How long the deduplication lasts, in milliseconds (with --dedup-id).
    #[arg(long)]
    pub dedup_ttl_ms: Option<u64>,
    #[command(flatten)]
    pub settings: Settings,
}

/// `bullring jobs QUEUE STATE`.
#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    pub queue: String,
    /// waiting, active, delayed, prioritized, waiting-children, completed, failed or paused.
    pub state: String,
    /// How many jobs to list (newest first, at most 1000).
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Print JSON (Node's field names) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: Settings,
}

/// `bullring stats [QUEUE]`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    pub queue: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: Settings,
}

/// The `[[queues]]` entries of the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    pub name: String,
    /// Default options of the jobs bullring adds to this queue.
    pub defaults: Option<crate::runner::config::QueueDefaultsFile>,
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
    pub live_interval_ms: Option<u64>,
    pub metrics_listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub read_only: Option<bool>,
    pub allow_anonymous: Option<bool>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    pub trust_forwarded_prefix: Option<bool>,
    /// Length the audit stream is trimmed to.
    pub audit_max_len: Option<usize>,
    #[serde(default)]
    pub auth: AuthFile,
    #[serde(default)]
    pub workers: Vec<crate::runner::config::WorkerFile>,
    #[serde(default)]
    pub schedulers: Vec<crate::runner::config::SchedulerFile>,
    #[serde(default)]
    pub runner: crate::runner::config::RunnerTableFile,
    #[serde(default)]
    pub alerts: crate::alerts::AlertsFile,
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            redis: None,
            prefixes: vec![crate::queue::model::DEFAULT_PREFIX.into()],
            queues: Vec::new(),
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
    /// The prefix bullring's own keys and the runner's queues use (see
    /// [`crate::queue::model::default_prefix`]).
    pub fn default_prefix(&self) -> &str {
        crate::queue::model::default_prefix(&self.prefixes)
    }

    /// Read the file named by `--config` (if any) and merge the flags and environment over it.
    pub fn load(settings: &Settings) -> Result<Config, ConfigError> {
        let file = match &settings.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Config::merge(settings, file)
    }

    /// A configuration from TOML text (the file's format), with no flags or environment:
    /// handy for the Rust API and tests.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| bad("TOML", e.to_string()))?;
        Config::merge(&Settings::default(), file)
    }

    /// Merge flags/environment (already merged by clap) over the file, and validate.
    pub fn merge(cli: &Settings, file: FileConfig) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let redis = redis_settings(cli, &file)?;

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
            Some(text) => text.parse().map_err(|_| {
                bad(
                    "--listen (BULLRING_LISTEN / listen)",
                    format!("{text:?} is not an address such as 127.0.0.1:3000"),
                )
            })?,
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
            Some(text) => Some(text.parse().map_err(|_| {
                bad(
                    "--metrics-listen (BULLRING_METRICS_LISTEN / metrics_listen)",
                    format!("{text:?} is not an address such as 127.0.0.1:9464"),
                )
            })?),
            None => None,
        };
        let data_dir = cli
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or(defaults.data_dir);
        let security = security(cli, &mut file_security(&file), listen)?;
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
        })?;
        let alerts = crate::alerts::rules::validate(&file.alerts)
            .map_err(|problem| bad("[alerts] section", problem))?;
        Ok(Config {
            alerts,
            runner,
            security,
            audit_max_len,
            redis,
            prefixes,
            queues,
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

/// The security settings the file gives, before flags and environment.
fn file_security(file: &FileConfig) -> FileSecurity {
    FileSecurity {
        mode: file.auth.mode,
        anonymous_role: file.auth.anonymous_role,
        users: file.auth.users.clone(),
        proxy: file.auth.proxy.clone(),
        read_only: file.read_only,
        allow_anonymous: file.allow_anonymous,
        public_url: file.public_url.clone(),
        trusted_proxies: file.trusted_proxies.clone(),
        trust_forwarded_prefix: file.trust_forwarded_prefix,
    }
}

struct FileSecurity {
    mode: Option<AuthMode>,
    anonymous_role: Option<Role>,
    users: Vec<BasicUser>,
    proxy: ProxyAuth,
    read_only: Option<bool>,
    allow_anonymous: Option<bool>,
    public_url: Option<String>,
    trusted_proxies: Vec<String>,
    trust_forwarded_prefix: Option<bool>,
}

fn security(
    cli: &Settings,
    file: &mut FileSecurity,
    listen: SocketAddr,
) -> Result<Security, ConfigError> {
    let mode = match &cli.auth {
        Some(text) => text
            .parse()
            .map_err(|e: String| bad("--auth (BULLRING_AUTH / [auth] mode)", e))?,
        None => file.mode.unwrap_or_default(),
    };
    let read_only = match &cli.read_only {
        Some(text) => parse_bool("--read-only (BULLRING_READ_ONLY)", text)?,
        None => file.read_only.unwrap_or(false),
    };
    let allow_anonymous = match &cli.allow_anonymous {
        Some(text) => parse_bool("--allow-anonymous (BULLRING_ALLOW_ANONYMOUS)", text)?,
        None => file.allow_anonymous.unwrap_or(false),
    };
    let public_url = cli.public_url.clone().or(file.public_url.take());
    if let Some(url) = &public_url {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && !url.trim_end_matches('/').contains(['?', '#', ' ']);
        if !ok {
            return Err(bad(
                "--public-url (BULLRING_PUBLIC_URL / public_url)",
                format!("{url:?} is not an origin such as https://ops.example.com"),
            ));
        }
    }
    let proxies_text = pick_list(
        &cli.trusted_proxies,
        file.trusted_proxies.clone(),
        Vec::new(),
    );
    let mut trusted_proxies = Vec::new();
    for text in &proxies_text {
        let ip: std::net::IpAddr = text.trim().parse().map_err(|_| {
            bad(
                "--trusted-proxy (BULLRING_TRUSTED_PROXIES / trusted_proxies)",
                format!("{text:?} is not an IP address"),
            )
        })?;
        trusted_proxies.push(ip);
    }
    let trust_forwarded_prefix = match &cli.trust_forwarded_prefix {
        Some(text) => parse_bool(
            "--trust-forwarded-prefix (BULLRING_TRUST_FORWARDED_PREFIX)",
            text,
        )?,
        None => file.trust_forwarded_prefix.unwrap_or(false),
    };
    if trust_forwarded_prefix && trusted_proxies.is_empty() {
        return Err(bad(
            "--trust-forwarded-prefix (BULLRING_TRUST_FORWARDED_PREFIX / trust_forwarded_prefix)",
            "X-Forwarded-Prefix is trusted only from configured proxy addresses; give at least one --trusted-proxy",
        ));
    }
    match mode {
        AuthMode::Basic if file.users.is_empty() => {
            return Err(bad(
                "--auth basic ([[auth.users]])",
                "basic authentication needs at least one [[auth.users]] entry with a password_hash from `bullring hash-password`",
            ));
        }
        AuthMode::Proxy if trusted_proxies.is_empty() => {
            return Err(bad(
                "--auth proxy (--trusted-proxy / trusted_proxies)",
                "proxy authentication trusts the user header only from configured proxy addresses; give at least one",
            ));
        }
        AuthMode::None if !listen.ip().is_loopback() && !allow_anonymous => {
            return Err(bad(
                "--listen (BULLRING_LISTEN / listen)",
                format!(
                    "{listen} is not a loopback address and --auth is none: anyone who can reach it could act on your queues. Set --auth basic or proxy, or pass --allow-anonymous (or --read-only with --allow-anonymous) if that is intended"
                ),
            ));
        }
        _ => {}
    }
    for user in &file.users {
        if !user.password_hash.starts_with("$argon2") {
            return Err(bad(
                &format!("[[auth.users]] {:?} password_hash", user.name),
                "expected an argon2 hash from `bullring hash-password`",
            ));
        }
    }
    Ok(Security {
        mode,
        users: file.users.clone(),
        proxy: file.proxy.clone(),
        anonymous_role: file.anonymous_role.unwrap_or(Role::Admin),
        read_only,
        public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
        trusted_proxies,
        trust_forwarded_prefix,
    })
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
        let err = Config::merge(
            &Settings {
                listen: Some("0.0.0.0:3000".into()),
                ..Settings::default()
            },
            FileConfig::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--allow-anonymous"), "{err}");
        let err = Config::merge(
            &Settings {
                auth: Some("basic".into()),
                ..Settings::default()
            },
            FileConfig::default(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("invalid --auth basic"), "{err}");
        let err = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("lisen"));
    }
}
