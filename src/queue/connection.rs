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
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{Arg, Cmd, FromRedisValue, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::decode::reply;
use super::error::{QueueError, Result};

/// How long one Redis call may take before the page gives up. Whether Redis is then unreachable
/// or only slow (a large reply, a busy server) is told by a `PING` on a fresh connection.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long that `PING` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where Redis is: one URL, or the seed nodes of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://`, `rediss://` or `redis+unix://` URL, user and password included.
    pub url: String,
    /// Seed nodes of a Redis Cluster; when not empty, `url` is ignored.
    pub cluster_nodes: Vec<String>,
}

impl RedisSettings {
    pub fn url(url: impl Into<String>) -> Self {
        RedisSettings {
            url: url.into(),
            cluster_nodes: Vec::new(),
        }
    }

    /// The same place, as the engine's connection options (for actions and workers).
    pub fn engine_options(&self) -> bullmq::options::RedisConnectionOptions {
        bullmq::options::RedisConnectionOptions {
            url: self.url.clone(),
            cluster_nodes: self.cluster_nodes.clone(),
            ..Default::default()
        }
    }

    /// The URL with any password replaced, for logs and error pages.
    pub fn redacted(&self) -> String {
        if self.cluster_nodes.is_empty() {
            redact(&self.url)
        } else {
            let nodes: Vec<String> = self.cluster_nodes.iter().map(|n| redact(n)).collect();
            format!("cluster {}", nodes.join(","))
        }
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// A cloneable handle on the read connection.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RedisSettings,
    call_timeout: Duration,
    conn: Mutex<Option<AnyConnection>>,
    round_trips: AtomicU64,
}

/// One server a full key-space `SCAN` must visit: the standalone server, or one primary of a
/// cluster (each primary holds only its own slots' keys, so a scan of one node misses the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanNode {
    /// A slot this primary owns: SCAN is routed by slot, so redis-rs picks the connection from
    /// its own slot map and no address has to match the one it knows the node by.
    slot: Option<Slot>,
    address: String,
}

impl ScanNode {
    /// `host:port` as the cluster reports it (the redacted URL on a standalone server), for logs.
    pub fn address(&self) -> &str {
        &self.address
    }
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
            .map_err(|_| QueueError::unavailable("timed out connecting"))??;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> Result<AnyConnection> {
        let settings = &self.inner.settings;
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

    /// One command sent where `routing` says, on a cluster connection only.
    async fn routed(&self, cmd: Cmd, routing: RoutingInfo) -> Result<Value> {
        let AnyConnection::Cluster(mut cluster) = self.connection().await? else {
            return Err(QueueError::InvalidInput(
                "routing by node needs a cluster connection".into(),
            ));
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
            _ => Err(QueueError::unavailable(format!(
                "no answer within {waited_ms} ms"
            ))),
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

/// A cluster connection that takes a pipeline of keys in several hash slots. redis-rs 1.8 sends
/// a whole pipeline to the node of its first key and refuses one whose keys are in two slots
/// ("Received crossed slots in pipeline"), while the overview reads keys of every prefix at
/// once. This splits the pipeline into one batch per slot, sends the batches concurrently and
/// puts the replies back in order, so `Pipeline::query_async` (ignored commands, per-command
/// errors) works on the result exactly as on one server. A batch answered with MOVED or ASK is
/// redirected and resent whole by redis-rs, which is why batches are per slot, not per node.
struct BySlot<'a> {
    conn: ClusterConnection,
    /// Counts one round trip per batch.
    round_trips: &'a AtomicU64,
}

impl ConnectionLike for BySlot<'_> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.conn.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            // A transaction cannot be split (and must be in one slot anyway); offset and count
            // other than "every reply" only come with transactions.
            if pipeline.is_transaction() || offset != 0 || count != pipeline.len() {
                self.round_trips.fetch_add(1, Ordering::Relaxed);
                return self.conn.req_packed_commands(pipeline, offset, count).await;
            }
            let batches = batches(pipeline);
            self.round_trips
                .fetch_add(batches.len() as u64, Ordering::Relaxed);
            if let [only] = batches.as_slice() {
                let route = SingleNodeRoutingInfo::from(only.route);
                return self
                    .conn
                    .route_pipeline(pipeline.clone(), offset, count, route)
                    .await;
            }

            let commands: Vec<&Cmd> = pipeline.cmd_iter().collect();
            let mut sent = JoinSet::new();
            for (index, batch) in batches.iter().enumerate() {
                let mut part = redis::pipe();
                for &i in &batch.commands {
                    part.add_command(commands[i].clone());
                }
                let mut conn = self.conn.clone();
                let route = SingleNodeRoutingInfo::from(batch.route);
                let len = batch.commands.len();
                sent.spawn(async move { (index, conn.route_pipeline(part, 0, len, route).await) });
            }
            let mut replies: Vec<Option<Value>> = vec![None; pipeline.len()];
            // The first failed batch fails the read; dropping `sent` cancels the others.
            while let Some(done) = sent.join_next().await {
                let (index, values) = done.map_err(|err| {
                    RedisError::from(std::io::Error::other(format!("batch task failed: {err}")))
                })?;
                for (&i, value) in batches[index].commands.iter().zip(values?) {
                    replies[i] = Some(value);
                }
            }
            replies
                .into_iter()
                .map(|value| {
                    value.ok_or_else(|| {
                        RedisError::from((
                            redis::ErrorKind::UnexpectedReturnType,
                            "a cluster batch answered fewer replies than commands",
                        ))
                    })
                })
                .collect()
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// Commands of one pipeline that go to one slot: their route (none: any node) and positions.
#[derive(Debug, PartialEq)]
struct Batch {
    route: Option<Route>,
    commands: Vec<usize>,
}

/// The commands of `pipeline` grouped by the slot of their key, in the order slots first appear.
/// Keyless commands (PING) ride along with the first batch, since any node answers them.
fn batches(pipeline: &Pipeline) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut keyless = Vec::new();
    for (i, cmd) in pipeline.cmd_iter().enumerate() {
        let Some(route) = route_of(cmd) else {
            keyless.push(i);
            continue;
        };
        match batches.iter_mut().find(|b| b.route == Some(route)) {
            Some(batch) => batch.commands.push(i),
            None => batches.push(Batch {
                route: Some(route),
                commands: vec![i],
            }),
        }
    }
    match batches.first_mut() {
        Some(first) => first.commands.extend(keyless),
        None => batches.push(Batch {
            route: None,
            commands: keyless,
        }),
    }
    batches
}

/// Where one command must go: the primary of its first key's slot, or `None` for a command
/// without a key. Read commands name their key first; scripts name it after the key count.
/// A command with several keys goes by the first one: with a hash-tagged prefix (which a cluster
/// requires) every key of a queue is in the same slot.
fn route_of(cmd: &Cmd) -> Option<Route> {
    let mut args = cmd.args_iter().map(|arg| match arg {
        Arg::Simple(bytes) => Some(bytes),
        _ => None,
    });
    let name = args.next()??.to_ascii_uppercase();
    let key = match name.as_slice() {
        b"PING" | b"ECHO" | b"TIME" | b"INFO" | b"SCAN" | b"DBSIZE" | b"CLUSTER" | b"CONFIG"
        | b"CLIENT" | b"COMMAND" | b"HELLO" | b"LASTSAVE" => return None,
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            if args.nth(1)?? == b"0" {
                return None;
            }
            args.next()??
        }
        _ => args.next()??,
    };
    Some(Route::with_key(key, SlotAddr::Master))
}

/// The primaries in a `CLUSTER SLOTS` reply (`[[start, end, [host, port, id, ..], replicas..]..]`),
/// each once, with the first slot it owns.
fn primaries(slots: &Value) -> Vec<ScanNode> {
    let mut nodes = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let ranges: Vec<Value> = reply(slots).unwrap_or_default();
    for range in &ranges {
        let Some(items) = reply::<Vec<Value>>(range) else {
            continue;
        };
        let (Some(start), Some(primary)) = (
            items.first().and_then(reply::<u16>),
            items.get(2).and_then(reply::<Vec<Value>>),
        ) else {
            continue;
        };
        let host: String = primary.first().and_then(reply).unwrap_or_default();
        let port: u16 = primary.get(1).and_then(reply).unwrap_or_default();
        let address = format!("{host}:{port}");
        // The node id tells primaries apart even where the host is reported empty.
        let id: String = primary
            .get(2)
            .and_then(reply)
            .unwrap_or_else(|| address.clone());
        let Some(slot) = Slot::new(start) else {
            continue;
        };
        if !seen.contains(&id) {
            seen.push(id);
            nodes.push(ScanNode {
                slot: Some(slot),
                address,
            });
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("redis://:secret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact("redis://u:p@h/1?x=@"), "redis://***@h/1?x=@");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    fn route(key: &str) -> Option<Route> {
        Some(Route::with_key(key, SlotAddr::Master))
    }

    #[test]
    fn routes_by_the_first_key() {
        let mut pipe = redis::pipe();
        pipe.cmd("LLEN").arg("{a}:q:wait");
        pipe.cmd("HMGET").arg("{a}:q:meta").arg("paused");
        pipe.cmd("ping");
        pipe.cmd("EVALSHA")
            .arg("sha")
            .arg(2)
            .arg("{b}:q:x")
            .arg("{b}:q:y");
        pipe.cmd("EVAL").arg("return 1").arg(0);
        let routes: Vec<Option<Route>> = pipe.cmd_iter().map(route_of).collect();
        assert_eq!(routes, vec![route("a"), route("a"), None, route("b"), None]);
    }

    #[test]
    fn splits_a_pipeline_by_slot_and_keyless_commands_join_the_first() {
        let mut pipe = redis::pipe();
        pipe.cmd("PING");
        pipe.cmd("LLEN").arg("{a}:q:wait");
        pipe.cmd("ZCARD").arg("{b}:q:failed");
        pipe.cmd("LLEN").arg("{a}:r:wait");
        assert_eq!(
            batches(&pipe),
            vec![
                Batch {
                    route: route("a"),
                    commands: vec![1, 3, 0],
                },
                Batch {
                    route: route("b"),
                    commands: vec![2],
                },
            ]
        );
        let mut keyless = redis::pipe();
        keyless.cmd("PING");
        assert_eq!(
            batches(&keyless),
            vec![Batch {
                route: None,
                commands: vec![0],
            }]
        );
    }

    #[test]
    fn finds_each_primary_once() {
        let node = |host: &str, port: i64, id: &str| {
            Value::Array(vec![
                Value::BulkString(host.into()),
                Value::Int(port),
                Value::BulkString(id.into()),
            ])
        };
        let range = |start: i64, end: i64, primary: Value| {
            Value::Array(vec![Value::Int(start), Value::Int(end), primary])
        };
        let slots = Value::Array(vec![
            range(0, 99, node("10.0.0.1", 7000, "n1")),
            range(100, 199, node("10.0.0.2", 7001, "n2")),
            range(200, 299, node("10.0.0.1", 7000, "n1")),
        ]);
        let found = primaries(&slots);
        assert_eq!(
            found,
            vec![
                ScanNode {
                    slot: Slot::new(0),
                    address: "10.0.0.1:7000".into(),
                },
                ScanNode {
                    slot: Slot::new(100),
                    address: "10.0.0.2:7001".into(),
                },
            ]
        );
        assert!(primaries(&Value::Nil).is_empty());
    }
}
