//! Reads on a Redis Cluster: a pipeline split into one batch per hash slot, and the primaries a
//! key-space scan must visit.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::aio::ConnectionLike;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{Arg, Cmd, Pipeline, RedisError, RedisFuture, Value};
use tokio::task::JoinSet;

use crate::queue::decode::reply;

/// One server a full key-space `SCAN` must visit: the standalone server, or one primary of a
/// cluster (each primary holds only its own slots' keys, so a scan of one node misses the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanNode {
    /// A slot this primary owns: SCAN is routed by slot, so redis-rs picks the connection from
    /// its own slot map and no address has to match the one it knows the node by.
    pub(super) slot: Option<Slot>,
    pub(super) address: String,
}

impl ScanNode {
    /// `host:port` as the cluster reports it (the redacted URL on a standalone server), for logs.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// A cluster connection that takes a pipeline of keys in several hash slots. redis-rs 1.8 sends
/// a whole pipeline to the node of its first key and refuses one whose keys are in two slots
/// ("Received crossed slots in pipeline"), while the overview reads keys of every prefix at
/// once. This splits the pipeline into one batch per slot, sends the batches concurrently and
/// puts the replies back in order, so `Pipeline::query_async` (ignored commands, per-command
/// errors) works on the result exactly as on one server. A batch answered with MOVED or ASK is
/// redirected and resent whole by redis-rs, which is why batches are per slot, not per node.
pub(super) struct BySlot<'a> {
    pub(super) conn: ClusterConnection,
    /// Counts one round trip per batch.
    pub(super) round_trips: &'a AtomicU64,
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
pub(super) fn primaries(slots: &Value) -> Vec<ScanNode> {
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
