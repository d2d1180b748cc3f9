//! The Redis connection the read side uses, and the settings that describe where Redis is.
//!
//! Reads do not go through the engine's `RedisConnection`: its reconnect policy waits up to
//! minutes, while a dashboard must answer "Redis is down" in a second or two. This module keeps
//! one lazily opened, auto-reconnecting multiplexed connection (standalone or cluster), bounds
//! every call with a timeout, retries an idempotent read once after a stale socket (ENGINE.md
//! gap 7), and counts round trips so tests and benchmarks can see what a page costs.
//!
//! On a Redis Cluster a read pipeline is split into one batch per hash slot (redis-rs refuses a
//! pipeline that crosses slots), the batches go out together and each counts as a round trip:
//! with hash-tagged prefixes that is one per prefix the pipeline touches. Key-space scans visit
//! every primary ([`Redis::scan_nodes`]), since each holds only its own slots' keys.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bullmq::redis_connection::AnyConnection;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, Value};
use tokio::sync::Mutex;

mod cluster;
mod sentinel;
mod settings;

pub use sentinel::SentinelSettings;
pub use settings::RedisSettings;

use super::decode::reply;
use super::error::{QueueError, Result};
pub use cluster::ScanNode;
use cluster::{BySlot, primaries};

/// How long one Redis call may take before the page gives up. Whether Redis is then unreachable
/// or only slow (a large reply, a busy server) is told by a `PING` on a fresh connection.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long that `PING` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A cloneable handle on the read connection.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RedisSettings,
    call_timeout: Duration,
    conn: Mutex<Option<AnyConnection>>,
    /// The master address the sentinels last named (Sentinel settings only).
    master: std::sync::Mutex<Option<String>>,
    round_trips: AtomicU64,
}

impl Redis {
    /// A handle that connects on first use, so the dashboard starts (and shows a 503 page) even
    /// while Redis is down.
    pub fn new(settings: RedisSettings) -> Self {
        Redis::with_call_timeout(settings, CALL_TIMEOUT)
    }

    /// A handle whose calls may take `call_timeout` (instead of [`CALL_TIMEOUT`]).
    pub fn with_call_timeout(settings: RedisSettings, call_timeout: Duration) -> Self {
        Redis {
            inner: Arc::new(Inner {
                settings,
                call_timeout,
                conn: Mutex::new(None),
                master: std::sync::Mutex::new(None),
                round_trips: AtomicU64::new(0),
            }),
        }
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    /// Round trips sent so far through this handle (on a cluster, one per node batch).
    pub fn round_trips(&self) -> u64 {
        self.inner.round_trips.load(Ordering::Relaxed)
    }

    async fn connection(&self) -> Result<AnyConnection> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = tokio::time::timeout(CONNECT_TIMEOUT * 2, self.connect())
            .await
            .map_err(|_| {
                QueueError::unavailable(crate::text::Said::new("error.redis.connect_timeout"))
            })??;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// The master's address as the sentinels last named it, for the Redis page (`None` without
    /// Sentinel, or before the first connection).
    pub fn master_address(&self) -> Option<String> {
        self.inner
            .master
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// After a failure that may mean a failover (the master unreachable, or demoted and answering
    /// READONLY), forget the connection so the next call asks the sentinels again.
    async fn forget_master_after(&self, err: &QueueError) {
        if self.inner.settings.sentinel.is_some() && (err.is_unavailable() || err.is_readonly()) {
            *self.inner.conn.lock().await = None;
        }
    }

    async fn connect(&self) -> Result<AnyConnection> {
        let resolved;
        let mut settings = &self.inner.settings;
        if let Some(sentinel) = &settings.sentinel {
            let address = sentinel.master_address().await?;
            *self
                .inner
                .master
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(address.clone());
            resolved = settings.at_master(&address);
            settings = &resolved;
        }
        if !settings.cluster_nodes.is_empty() {
            let client = redis::cluster::ClusterClient::builder(settings.cluster_nodes.clone())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(self.inner.call_timeout + CONNECT_TIMEOUT)
                .retries(1)
                .build()?;
            return Ok(AnyConnection::Cluster(client.get_async_connection().await?));
        }
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(self.inner.call_timeout + CONNECT_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        Ok(AnyConnection::Single(
            ConnectionManager::new_with_config(client, config).await?,
        ))
    }

    /// Send a pipeline of read commands: one round trip to a standalone server; on a cluster one
    /// batch per hash slot the keys fall in, sent at the same time. Reads are idempotent, so a
    /// call that fails on a dead socket is sent once more (the connection has reconnected by
    /// then).
    pub async fn read<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        retry_once(|| self.send(pipe)).await
    }

    /// Send a pipeline that writes, once: a write is not retried, since the first attempt may
    /// have reached Redis.
    pub async fn write<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        self.send(pipe).await
    }

    async fn send<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        let sent = self.send_once(pipe).await;
        if let Err(err) = &sent {
            self.forget_master_after(err).await;
        }
        sent
    }

    async fn send_once<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        let conn = self.connection().await?;
        let round_trips = &self.inner.round_trips;
        self.bounded(async move {
            match conn {
                AnyConnection::Single(mut single) => {
                    round_trips.fetch_add(1, Ordering::Relaxed);
                    pipe.query_async(&mut single).await
                }
                AnyConnection::Cluster(cluster) => {
                    let mut by_slot = BySlot {
                        conn: cluster,
                        round_trips,
                    };
                    pipe.query_async(&mut by_slot).await
                }
            }
        })
        .await
    }

    /// The servers a full `SCAN` must visit: the server itself (no round trip), or every
    /// primary of the cluster (one `CLUSTER SLOTS`). Ask again for each pass: slots move.
    pub async fn scan_nodes(&self) -> Result<Vec<ScanNode>> {
        if self.inner.settings.cluster_nodes.is_empty() {
            return Ok(vec![ScanNode {
                slot: None,
                address: self.inner.settings.redacted(),
            }]);
        }
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("SLOTS");
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
        let slots = retry_once(|| self.routed(cmd.clone(), routing.clone())).await?;
        Ok(primaries(&slots))
    }

    /// One `SCAN <cursor> MATCH <pattern> COUNT <count>` on `node`, one round trip: the next
    /// cursor (0 when that node's pass is over) and the keys of this step.
    pub async fn scan(
        &self,
        node: &ScanNode,
        cursor: u64,
        pattern: &str,
        count: u64,
    ) -> Result<(u64, Vec<String>)> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let value = match node.slot {
            // A standalone server: exactly the pipeline of one command it always was.
            None => {
                let mut pipe = redis::pipe();
                pipe.add_command(cmd);
                let (value,): (Value,) = self.read(&pipe).await?;
                value
            }
            Some(slot) => {
                let route = Route::with_slot(slot, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                retry_once(|| self.routed(cmd.clone(), routing.clone())).await?
            }
        };
        // A reply of another shape ends this node's pass rather than looping on a bad cursor.
        Ok(reply(&value).unwrap_or((0, Vec::new())))
    }

    /// Load a Lua script into the server, or into every primary of a cluster (a script's keys may
    /// live on any of them), so that `EVALSHA` finds it. Loading is idempotent.
    pub async fn load_script(&self, code: &str) -> Result<()> {
        let mut load = redis::cmd("SCRIPT");
        load.arg("LOAD").arg(code);
        if self.inner.settings.cluster_nodes.is_empty() {
            let mut pipe = redis::pipe();
            pipe.add_command(load).ignore();
            return self.write(&pipe).await;
        }
        let every_primary = RoutingInfo::MultiNode((
            MultipleNodeRoutingInfo::AllMasters,
            Some(ResponsePolicy::AllSucceeded),
        ));
        self.routed(load, every_primary).await.map(drop)
    }

    /// One command sent where `routing` says, on a cluster connection only.
    async fn routed(&self, cmd: Cmd, routing: RoutingInfo) -> Result<Value> {
        let AnyConnection::Cluster(mut cluster) = self.connection().await? else {
            return Err(QueueError::InvalidInput(crate::text::Said::new(
                "check.routing_needs_cluster",
            )));
        };
        self.inner.round_trips.fetch_add(1, Ordering::Relaxed);
        // A routed command hands back the server's error as a value: make it an error here, so
        // a refused SCAN does not read as an empty key space.
        self.bounded(async move { cluster.route_command(cmd, routing).await?.extract_error() })
            .await
    }

    /// Bound one call by the call timeout and sort its failure: refused (a Redis error),
    /// unreachable, or only slow. A Redis that answers a `PING` on a fresh connection is there,
    /// only slow to finish this call (a large reply, a busy server): not "unreachable".
    async fn bounded<T>(&self, call: impl Future<Output = RedisResult<T>>) -> Result<T> {
        match tokio::time::timeout(self.inner.call_timeout, call).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) if !err.is_timeout() => return Err(err.into()),
            _ => {}
        }
        let waited_ms = u64::try_from(self.inner.call_timeout.as_millis()).unwrap_or(u64::MAX);
        let probe = async {
            let mut conn = self.connect().await?;
            Ok::<String, QueueError>(redis::cmd("PING").query_async(&mut conn).await?)
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(_)) => Err(QueueError::Slow { waited_ms }),
            _ => Err(QueueError::unavailable(
                crate::text::Said::new("error.no_answer").with("ms", waited_ms),
            )),
        }
    }

    /// `PING`, for health checks.
    pub async fn ping(&self) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("PING");
        let _: (String,) = self.read(&pipe).await?;
        Ok(())
    }
}

/// Run `attempt`, and once more if Redis looked unreachable: after a stale socket the connection
/// has reconnected by the second try, and every call made this way is a read.
async fn retry_once<T, F, Fut>(attempt: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    match attempt().await {
        Err(err) if err.is_unavailable() => attempt().await,
        other => other,
    }
}
