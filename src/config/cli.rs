//! The command line: `bullring`'s subcommands and the flags (each with its environment
//! variable) that [`super::Config::load`] merges over the configuration file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Redis password, with --redis-host (or the Sentinel master's).
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<String>,
    /// Connect with TLS, with --redis-host (true/false).
    #[arg(long, env = "REDIS_TLS")]
    pub redis_tls: Option<String>,
    /// Seed nodes of a Redis Cluster, comma separated (use a hash-tagged prefix such as {bull}).
    #[arg(long, env = "BULLRING_REDIS_CLUSTER_NODES", value_delimiter = ',')]
    pub redis_cluster_nodes: Vec<String>,
    /// The master name Redis Sentinel monitors, with --redis-sentinel-nodes.
    #[arg(long, env = "BULLRING_REDIS_SENTINEL_MASTER")]
    pub redis_sentinel_master: Option<String>,
    /// Sentinels to ask where the master is, host:port, comma separated.
    #[arg(long, env = "BULLRING_REDIS_SENTINEL_NODES", value_delimiter = ',')]
    pub redis_sentinel_nodes: Vec<String>,
    /// The sentinels' own password (their requirepass), with --redis-sentinel-nodes.
    #[arg(long, env = "BULLRING_REDIS_SENTINEL_PASSWORD", hide_env_values = true)]
    pub redis_sentinel_password: Option<String>,
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
    /// Disconnect a client that has not sent a whole request head within this, in ms (default
    /// 10000).
    #[arg(long, env = "BULLRING_HEADER_TIMEOUT_MS")]
    pub header_timeout_ms: Option<u64>,
    /// Close a keep-alive connection idle for this long, in ms (default 5000).
    #[arg(long, env = "BULLRING_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Connections served at once; more are answered 503 (default 1024).
    #[arg(long, env = "BULLRING_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Live-update streams open at once; more are answered 503 (default 256).
    #[arg(long, env = "BULLRING_MAX_EVENT_STREAMS")]
    pub max_event_streams: Option<usize>,
    /// How long one request may run before it is answered 503, in ms (default 30000; live-update
    /// streams are exempt).
    #[arg(long, env = "BULLRING_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// How many jobs one search request scans before it answers with a cursor (default 20000).
    #[arg(long, env = "BULLRING_SEARCH_MAX_JOBS")]
    pub search_max_jobs: Option<usize>,
    /// How long one search request scans before it answers with a cursor, in ms (default 300).
    #[arg(long, env = "BULLRING_SEARCH_MAX_MS")]
    pub search_max_ms: Option<u64>,
    /// Group the overview's queues whose names share a prefix up to this (e.g. "." groups
    /// billing.invoices and billing.reminders as billing); off by default.
    #[arg(long, env = "BULLRING_DELIMITER")]
    pub delimiter: Option<String>,
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
    /// A host name the dashboard answers to besides loopback, the listen address and
    /// --public-url's host (`*.example.com` for its subdomains, `*` for any); repeatable.
    #[arg(
        long = "allowed-host",
        env = "BULLRING_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// An origin allowed to show the dashboard in a frame (https://app.example.com); repeatable.
    #[arg(
        long = "frame-ancestor",
        env = "BULLRING_FRAME_ANCESTORS",
        value_delimiter = ','
    )]
    pub frame_ancestors: Vec<String>,
}

/// `bullring add QUEUE NAME --data JSON ...`.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// Queue to add the job to.
    pub queue: String,
    /// Job name (not with --from).
    #[arg(required_unless_present = "from")]
    pub name: Option<String>,
    /// Add every job of this NDJSON file instead (one `{"name", "data", "opts"}` a line, as
    /// `bullring jobs --json --query` and the export API write them); a bad line adds nothing.
    #[arg(long, conflicts_with_all = ["name", "job_id", "delay", "priority", "attempts", "dedup_id", "dedup_ttl_ms"])]
    pub from: Option<std::path::PathBuf>,
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
    /// The `[[connections]]` entry to add to (default: the top-level Redis settings).
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
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
    /// Every job of the state matching this search query (see the README), one JSON line each
    /// (NDJSON, with --json); --limit does not apply.
    #[arg(long, requires = "json")]
    pub query: Option<String>,
    /// The `[[connections]]` entry to read (default: the top-level Redis settings).
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
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
    /// The `[[connections]]` entry to read (default: the top-level Redis settings).
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
    #[command(flatten)]
    pub settings: Settings,
}
