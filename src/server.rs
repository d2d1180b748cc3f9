//! Wiring for `bullring serve`: connect (or start a private Redis), start discovery, serve the
//! dashboard until a shutdown signal, then stop everything in order.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::config::connections::ConnectionConfig;
use crate::config::limits::Limits;
use crate::queue::alerts::AlertStore;
use crate::queue::connection::{Redis, RedisSettings};
use crate::queue::discovery::Discovery;
use crate::queue::embedded::EmbeddedRedis;
use crate::queue::model::DEFAULT_CONNECTION;
use crate::queue::read::Reader;
use crate::runner::RunnerHealth;
use crate::web::links::connection_base;
use crate::web::{self, AppState};

/// Where Redis is for this process, and the private server if bullring started one.
pub struct RedisTarget {
    pub settings: RedisSettings,
    pub embedded: Option<EmbeddedRedis>,
}

/// Use the configured Redis, or start a private `redis-server` when none is configured.
pub async fn redis_target(config: &Config) -> anyhow::Result<RedisTarget> {
    if let Some(settings) = &config.redis {
        tracing::info!(redis = %settings.redacted(), "using the configured Redis");
        return Ok(RedisTarget {
            settings: settings.clone(),
            embedded: None,
        });
    }
    tracing::info!(
        data_dir = %config.data_dir.display(),
        "no Redis configured (--redis-url / REDIS_URL); starting a private redis-server"
    );
    let embedded = EmbeddedRedis::start(&config.data_dir).await?;
    Ok(RedisTarget {
        settings: RedisSettings::url(embedded.url()),
        embedded: Some(embedded),
    })
}

/// Queue discovery for a config, its passes running in the background on a connection of its
/// own until `cancel` fires.
fn discovery(config: &Config, settings: &RedisSettings, cancel: &CancellationToken) -> Discovery {
    let discovery = Discovery::new(
        config.prefixes.clone(),
        config.queues.clone(),
        config.discovery,
    )
    .declaring(config.libraries.clone());
    discovery.spawn(
        Redis::new(settings.clone()),
        config.discovery_interval,
        cancel.clone(),
    );
    discovery
}

/// The dashboard's state for a config and a Redis: a read connection, and discovery (its first
/// pass runs in the background, on a connection of its own). Each `[[connections]]` entry gets a
/// state of its own the same way (its pages under `{base}/c/{name}`), held by the default's.
pub fn dashboard_state(
    config: &Config,
    settings: &RedisSettings,
    cancel: &CancellationToken,
) -> AppState {
    let reader = Reader::new(Redis::new(settings.clone()), config.prefixes.clone())
        .with_search_budget(config.search);
    let discovery = discovery(config, settings, cancel);
    let others = config
        .connections
        .iter()
        .map(|other| connection_state(config, other, cancel))
        .collect();
    let state = AppState::new(reader, discovery, &config.base_path, &config.title)
        .with_security(config.security.clone())
        .with_audit_max_len(config.audit_max_len)
        .with_job_defaults(&job_defaults(config))
        .with_live_updates(config.live_interval, cancel)
        .with_alerts(has_rules(config, DEFAULT_CONNECTION))
        .with_delimiter(config.delimiter.clone())
        .with_others(others);
    state.queues().watch(POLICY_EVERY, cancel.clone());
    state
}

/// Each declared queue's `[queues.defaults]` (what the dashboard's add applies to Bull queues).
fn job_defaults(config: &Config) -> Vec<(String, bullmq::JobOptions)> {
    config
        .runner
        .queues
        .iter()
        .map(|q| (q.name.clone(), q.defaults.clone()))
        .collect()
}

/// How often each connection's eviction policy is read again (for the warning on its pages).
const POLICY_EVERY: Duration = Duration::from_secs(30);

/// The state of one `[[connections]]` entry: its own reads, discovery, audit trail (under its
/// first prefix, on its Redis) and live updates.
fn connection_state(
    config: &Config,
    other: &ConnectionConfig,
    cancel: &CancellationToken,
) -> AppState {
    tracing::info!(
        connection = %other.connection.name,
        redis = %other.redis.redacted(),
        "showing another Redis connection"
    );
    let reader = Reader::new(Redis::new(other.redis.clone()), other.prefixes.clone());
    let discovery = Discovery::new(
        other.prefixes.clone(),
        other.queues.clone(),
        other.discovery,
    )
    .on_connection(&other.connection.name);
    discovery.spawn(
        Redis::new(other.redis.clone()),
        config.discovery_interval,
        cancel.clone(),
    );
    let mut security = config.security.clone();
    // Nothing is written there, not even the audit trail's record of a refusal.
    security.read_only |= other.connection.read_only;
    let state = AppState::new(reader, discovery, &config.base_path, &config.title)
        .on_connection(other.connection.clone())
        .with_delimiter(other.delimiter.clone())
        .with_security(security)
        .with_audit_max_len(config.audit_max_len)
        .with_live_updates(config.live_interval, cancel)
        .with_alerts(has_rules(config, &other.connection.name) && !other.connection.read_only);
    state.queues().watch(POLICY_EVERY, cancel.clone());
    state
}

/// Start the alerts engine of each connection its rules watch: its own read connection and
/// discovery, stopped by `cancel`. Nothing when there are no rules, or in read-only mode (the
/// engine writes its bookkeeping to Redis), which is said in the log.
pub fn spawn_alerts(config: &Config, settings: &RedisSettings, cancel: &CancellationToken) {
    let Some(alerts) = &config.alerts else {
        return;
    };
    if config.security.read_only {
        tracing::warn!(
            "alert rules are configured, but alerts do not run in read-only mode (they write their state to Redis)"
        );
        return;
    }
    if let Some(rules) = alerts.on_connection(DEFAULT_CONNECTION) {
        let discovery = discovery(config, settings, cancel);
        let reader = Reader::new(Redis::new(settings.clone()), config.prefixes.clone());
        let store = AlertStore::new(Redis::new(settings.clone()), config.default_prefix());
        spawn_engine(rules, reader, discovery, store, &config.base_path, cancel);
    }
    for other in &config.connections {
        let name = &other.connection.name;
        let Some(mut rules) = alerts.on_connection(name) else {
            continue;
        };
        rules.dashboard_url = rules
            .dashboard_url
            .map(|url| connection_base(url.trim_end_matches('/'), name));
        if other.connection.read_only {
            tracing::warn!(
                connection = %name,
                "alert rules name a read-only connection: they do not run there (alerts write their state to Redis)"
            );
            continue;
        }
        let discovery = Discovery::new(
            other.prefixes.clone(),
            other.queues.clone(),
            other.discovery,
        )
        .on_connection(name);
        discovery.spawn(
            Redis::new(other.redis.clone()),
            config.discovery_interval,
            cancel.clone(),
        );
        let reader = Reader::new(Redis::new(other.redis.clone()), other.prefixes.clone());
        let prefix = crate::queue::model::default_prefix(&other.prefixes);
        let store = AlertStore::new(Redis::new(other.redis.clone()), prefix);
        let base = connection_base(&config.base_path, name);
        spawn_engine(rules, reader, discovery, store, &base, cancel);
    }
}

fn spawn_engine(
    rules: crate::alerts::AlertsConfig,
    reader: Reader,
    discovery: Discovery,
    store: AlertStore,
    base_path: &str,
    cancel: &CancellationToken,
) {
    tracing::info!(rules = rules.rules.len(), base = %base_path, "alerts engine started");
    crate::alerts::Engine::new(rules, reader, discovery, store, base_path).spawn(cancel.clone());
}

/// Whether alert rules watch the connection `name` (its state then shows alerts).
fn has_rules(config: &Config, name: &str) -> bool {
    config
        .alerts
        .as_ref()
        .is_some_and(|a| a.on_connection(name).is_some())
}

/// Serve the dashboard on `listener` within `limits` until `cancel` fires (see
/// [`crate::listener`]: header and idle timeouts, caps on connections and event streams, a time
/// limit per request).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let events_path = format!("{}/events", state.mount_base());
    let app = web::app(state).layer(tower_http::trace::TraceLayer::new_for_http());
    crate::listener::serve(listener, app, limits, events_path, cancel).await;
    Ok(())
}

/// The listener of `--metrics-listen ADDR`, or an error naming the setting.
async fn bind_metrics(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (--metrics-listen): {e}"))
}

/// Serve `/metrics` alone on `addr` (`--metrics-listen`) within the same `limits` until `cancel`
/// fires.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    state: AppState,
    limits: Limits,
    cancel: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = bind_metrics(addr).await?;
    tracing::info!("Prometheus metrics at http://{addr}/metrics");
    let app = web::metrics_router(state);
    // No event stream here: no path is exempt from the time limit.
    let served = crate::listener::serve(listener, app, limits, String::new(), cancel);
    Ok(tokio::spawn(served))
}

/// `bullring run --metrics-listen ADDR`: the runner's `GET /healthz` (JSON: `status`, `version`
/// and `runner`, its [`crate::runner::HealthReport`]) and `GET /metrics` (its Prometheus series),
/// without authentication, for a probe or a scraper on a private network.
pub async fn serve_runner_probe(
    addr: std::net::SocketAddr,
    health: RunnerHealth,
    limits: Limits,
    cancel: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use axum::routing::get;
    let listener = bind_metrics(addr).await?;
    tracing::info!(
        "runner health at http://{addr}/healthz, Prometheus metrics at http://{addr}/metrics"
    );
    let for_health = health.clone();
    let app = axum::Router::new()
        .route(
            "/healthz",
            get(move || {
                let report = for_health.report();
                async move {
                    axum::Json(serde_json::json!({
                        "status": "ok",
                        "version": env!("CARGO_PKG_VERSION"),
                        "runner": report,
                    }))
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let text = health.prometheus();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        );
    let served = crate::listener::serve(listener, app, limits, String::new(), cancel);
    Ok(tokio::spawn(served))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// How long shutdown waits for open requests before giving up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long shutdown waits for the stopped tasks to write their audit entries.
pub const TASKS_GRACE: Duration = Duration::from_secs(5);

/// Stop the background tasks ("apply to every match") of every connection of `state` before
/// their next job, as their Cancel buttons would, and wait at most `grace` for each to record in
/// the audit trail that the shutdown stopped it. A task still running then is said in the log.
pub async fn stop_tasks(state: &AppState, grace: Duration) {
    for each in state.every_connection() {
        each.tasks().shut_down();
    }
    let deadline = tokio::time::Instant::now() + grace;
    for each in state.every_connection() {
        if !each.tasks().ended_by(deadline).await {
            tracing::warn!(
                connection = %each.connection().name,
                "a task did not stop in time: it ends without its audit entry"
            );
        }
    }
}
