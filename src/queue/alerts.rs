//! What the alerts engine keeps in Redis, so that several bullring processes share it: which
//! alerts are active, who already sent what, where each queue's events stream was read up to,
//! and a capped log of recent alerts for the dashboard. All keys live under
//! `<prefix>:bullring:alerts:` of the first configured prefix, outside every queue's keys.
//!
//! Bull 3/4 has no events stream: its final failures are read from its `failed` sorted set,
//! scored by finish time (Bull's `moveToFinished` and stalled-jobs check add a job there only
//! once it has no attempt left). A Bull queue's position is `<ms>-<n>`: read up to finish time
//! `ms`, with the first `n` jobs of that very millisecond read. A failure recorded with a finish
//! time before the position (a worker whose clock is behind another's by more than a round) is
//! not alerted, nor is one whose job Bull removed at once (`removeOnFail: true`).
//!
//! Only-once sending across processes rests on atomic Redis answers: `HSETNX` / `HDEL` on the
//! active hash (the process that flips a condition sends its message), `SET NX EX` claims on
//! each failed event and on each rule's cool-down.
//! It does not decide anything (see `crate::alerts`).

use std::collections::{HashMap, HashSet};

use redis::Value;
use serde::{Deserialize, Serialize};

use super::connection::Redis;
use super::decode::{hash, reply, strings};
use super::error::Result;
use super::model::{Library, QueueRef};

/// How long a claim on a failed event is kept (it only has to outlive the stream's position).
const EVENT_CLAIM_SECS: u64 = 7 * 24 * 3600;
/// Recent alerts kept for the Alerts page.
pub const LOG_MAX_LEN: usize = 1000;

/// One alert message, as sent and as listed on the Alerts page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Log entry id (`<ms>-<seq>`), empty until stored.
    #[serde(default)]
    pub id: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub rule: String,
    /// `final-failure`, `failure-rate`, `backlog` or `no-worker`.
    pub kind: String,
    /// The connection of the queue (`default` for records kept before connections were named).
    #[serde(default = "default_connection")]
    pub connection: String,
    pub prefix: String,
    pub queue: String,
    pub title: String,
    pub text: String,
    /// The dashboard page it is about (a job or a queue), when known.
    #[serde(default)]
    pub url: String,
    pub at_ms: i64,
}

fn default_connection() -> String {
    super::model::DEFAULT_CONNECTION.to_string()
}

/// A final failure: a failed event read from a BullMQ queue's events stream, or a job read
/// from a Bull queue's `failed` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvent {
    /// What names this failure for good: the stream entry id (BullMQ), `<finish ms>-<job id>`
    /// (Bull, whose retried job may fail again later).
    pub entry: String,
    pub job_id: String,
    /// Empty when the event does not carry it (Bull): the job's `failedReason` says it.
    pub reason: String,
    /// When the job failed, ms.
    pub at_ms: i64,
}

/// A Bull queue's position in its `failed` set: the finish time read up to, and how many jobs
/// of that millisecond were read.
fn bull_position(position: &str) -> (i64, u64) {
    let mut parts = position.splitn(2, '-');
    let ms = parts.next().and_then(|ms| ms.parse().ok()).unwrap_or(0);
    let seen = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    (ms, seen)
}

/// The jobs of a Bull queue's `failed` set read past `position`, and the new position.
fn bull_failures(value: &Value, position: Option<&str>) -> EventBatch {
    let entries: Vec<(String, i64)> = reply::<Vec<(String, f64)>>(value)
        .unwrap_or_default()
        .into_iter()
        .map(|(id, score)| (id, score as i64))
        .collect();
    let Some(position) = position else {
        // A first look starts after the newest failure (no alerts for old ones).
        let after = entries.last().map_or(0, |(_, ms)| ms + 1);
        return EventBatch {
            failed: Vec::new(),
            last: Some(format!("{after}-0")),
        };
    };
    let (from, seen) = bull_position(position);
    let last = entries.last().map(|(_, newest)| {
        let same = entries.iter().filter(|(_, ms)| ms == newest).count() as u64;
        let seen = if *newest == from { seen + same } else { same };
        format!("{newest}-{seen}")
    });
    EventBatch {
        failed: entries
            .into_iter()
            .map(|(job_id, at_ms)| FailedEvent {
                entry: format!("{at_ms}-{job_id}"),
                job_id,
                reason: String::new(),
                at_ms,
            })
            .collect(),
        last,
    }
}

/// Events of one queue read past its stored position.
#[derive(Debug, Clone, Default)]
pub struct EventBatch {
    pub failed: Vec<FailedEvent>,
    /// The last entry read (the new position), `None` when nothing was read.
    pub last: Option<String>,
}

/// The alerts' keys. Cheap to clone.
#[derive(Clone)]
pub struct AlertStore {
    redis: Redis,
    base: String,
}

impl AlertStore {
    /// Keys under `<prefix>:bullring:alerts:`.
    pub fn new(redis: Redis, prefix: &str) -> Self {
        AlertStore {
            redis,
            base: format!("{prefix}:bullring:alerts"),
        }
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.base)
    }

    /// The key of the recent alerts log (for the page's explanation).
    pub fn log_key(&self) -> String {
        self.key("log")
    }

    /// The field naming `rule` on `queue` in the active and pending hashes.
    pub fn field(rule: &str, queue: &QueueRef) -> String {
        format!("{rule}|{}|{}", queue.prefix, queue.name)
    }

    /// Mark a condition active; true for the one process that flipped it.
    pub async fn activate(
        &self,
        rule: &str,
        queue: &QueueRef,
        record: &AlertRecord,
    ) -> Result<bool> {
        let mut pipe = redis::pipe();
        pipe.cmd("HSETNX")
            .arg(self.key("active"))
            .arg(Self::field(rule, queue))
            .arg(serde_json::to_string(record).unwrap_or_default());
        let replies: Vec<i64> = self.redis.write(&pipe).await?;
        Ok(replies.first() == Some(&1))
    }

    /// Clear an active condition; true for the one process that cleared it.
    pub async fn resolve(&self, rule: &str, queue: &QueueRef) -> Result<bool> {
        let mut pipe = redis::pipe();
        pipe.cmd("HDEL")
            .arg(self.key("active"))
            .arg(Self::field(rule, queue));
        let replies: Vec<i64> = self.redis.write(&pipe).await?;
        Ok(replies.first() == Some(&1))
    }

    /// Every active alert.
    pub async fn active(&self) -> Result<Vec<AlertRecord>> {
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL").arg(self.key("active"));
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let mut list: Vec<AlertRecord> = hash(&replies[0])
            .into_values()
            .filter_map(|json| serde_json::from_str(&json).ok())
            .collect();
        list.sort_by(|a, b| (&a.queue, &a.rule).cmp(&(&b.queue, &b.rule)));
        Ok(list)
    }

    /// The fields of the active conditions and the first-seen times of pending ones, in one
    /// round trip: a round only writes where something changed.
    pub async fn bookkeeping(&self) -> Result<(HashSet<String>, HashMap<String, i64>)> {
        let mut pipe = redis::pipe();
        pipe.cmd("HKEYS").arg(self.key("active"));
        pipe.cmd("HGETALL").arg(self.key("pending"));
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let active = strings(&replies[0]).into_iter().collect();
        let pending = hash(&replies[1])
            .into_iter()
            .filter_map(|(field, ms)| Some((field, ms.parse().ok()?)))
            .collect();
        Ok((active, pending))
    }

    /// When a condition was first seen (set now if it was not), for rules that wait `for` a
    /// while before firing.
    pub async fn first_seen(&self, rule: &str, queue: &QueueRef, now_ms: i64) -> Result<i64> {
        let key = self.key("pending");
        let field = Self::field(rule, queue);
        let mut pipe = redis::pipe();
        pipe.cmd("HSETNX").arg(&key).arg(&field).arg(now_ms);
        pipe.cmd("HGET").arg(&key).arg(&field);
        let replies: Vec<Value> = self.redis.write(&pipe).await?;
        Ok(reply::<Option<String>>(&replies[1])
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(now_ms))
    }

    /// Forget that a condition was seen.
    pub async fn clear_seen(&self, rule: &str, queue: &QueueRef) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("HDEL")
            .arg(self.key("pending"))
            .arg(Self::field(rule, queue));
        let _: Vec<i64> = self.redis.write(&pipe).await?;
        Ok(())
    }

    /// Claim the right to send for `rule` on `queue` for `cooldown_secs`; false while an earlier
    /// message's cool-down runs (whichever process sent it).
    pub async fn claim_cooldown(
        &self,
        rule: &str,
        queue: &QueueRef,
        cooldown_secs: u64,
    ) -> Result<bool> {
        if cooldown_secs == 0 {
            return Ok(true);
        }
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key(&format!("cool:{}", Self::field(rule, queue))))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(cooldown_secs);
        let replies: Vec<Value> = self.redis.write(&pipe).await?;
        Ok(matches!(replies.first(), Some(Value::Okay)))
    }

    /// Claim failed events, each for a rule: `(rule, queue, entry)`; true where this process got
    /// it, false where another process (or an earlier run) did. One round trip.
    pub async fn claim_events(&self, claims: &[(&str, &QueueRef, &str)]) -> Result<Vec<bool>> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (rule, queue, entry) in claims {
            pipe.cmd("SET")
                .arg(self.key(&format!("sent:{}:{entry}", Self::field(rule, queue))))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(EVENT_CLAIM_SECS);
        }
        let replies: Vec<Value> = self.redis.write(&pipe).await?;
        Ok(replies.iter().map(|r| matches!(r, Value::Okay)).collect())
    }

    /// The stored stream positions of `queues` (`None`: never read).
    pub async fn positions(&self, queues: &[QueueRef]) -> Result<Vec<Option<String>>> {
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(self.key("positions"));
        for queue in queues {
            cmd.arg(format!("{}|{}", queue.prefix, queue.name));
        }
        pipe.add_command(cmd);
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(reply::<Vec<Option<String>>>(&replies[0]).unwrap_or_else(|| vec![None; queues.len()]))
    }

    /// Store how far each queue's events stream was read, in one round trip.
    pub async fn save_positions(&self, positions: &[(&QueueRef, &str)]) -> Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("HSET");
        cmd.arg(self.key("positions"));
        for (queue, entry) in positions {
            cmd.arg(format!("{}|{}", queue.prefix, queue.name))
                .arg(*entry);
        }
        let mut pipe = redis::pipe();
        pipe.add_command(cmd);
        let _: Vec<i64> = self.redis.write(&pipe).await?;
        Ok(())
    }

    /// Read the final failures of `queues` after their positions, at most `count` each, in one
    /// round trip: a BullMQ queue's events stream, a Bull queue's `failed` set. A queue never
    /// read starts at the end (no alerts for old failures): its batch has no events and `last`
    /// set to the newest entry.
    pub async fn read_events(
        &self,
        queues: &[QueueRef],
        positions: &[Option<String>],
        count: usize,
    ) -> Result<Vec<EventBatch>> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (queue, position) in queues.iter().zip(positions) {
            if queue.library == Library::Bull {
                let failed = queue.keys().failed();
                match position.as_deref().map(bull_position) {
                    Some((ms, seen)) => pipe
                        .cmd("ZRANGEBYSCORE")
                        .arg(failed)
                        .arg(ms)
                        .arg("+inf")
                        .arg("WITHSCORES")
                        .arg("LIMIT")
                        .arg(seen)
                        .arg(count),
                    None => pipe
                        .cmd("ZRANGE")
                        .arg(failed)
                        .arg(-1)
                        .arg(-1)
                        .arg("WITHSCORES"),
                };
                continue;
            }
            let events = queue.keys().get("events");
            match position {
                Some(entry) => {
                    pipe.cmd("XRANGE")
                        .arg(events)
                        .arg(format!("({entry}"))
                        .arg("+")
                        .arg("COUNT")
                        .arg(count);
                }
                None => {
                    pipe.cmd("XREVRANGE")
                        .arg(events)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(1);
                }
            }
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(replies
            .iter()
            .zip(positions)
            .zip(queues)
            .map(|((value, position), queue)| {
                if queue.library == Library::Bull {
                    return bull_failures(value, position.as_deref());
                }
                let entries = stream_entries(value);
                let last = entries.last().map(|(id, _)| id.clone());
                if position.is_none() {
                    return EventBatch {
                        failed: Vec::new(),
                        // An empty stream starts at the beginning.
                        last: Some(last.unwrap_or_else(|| "0-0".into())),
                    };
                }
                let failed = entries
                    .into_iter()
                    .filter(|(_, f)| f.get("event").map(String::as_str) == Some("failed"))
                    .map(|(entry, f)| FailedEvent {
                        at_ms: entry
                            .split('-')
                            .next()
                            .and_then(|ms| ms.parse().ok())
                            .unwrap_or_default(),
                        job_id: f.get("jobId").cloned().unwrap_or_default(),
                        reason: f.get("failedReason").cloned().unwrap_or_default(),
                        entry,
                    })
                    .collect();
                EventBatch { failed, last }
            })
            .collect())
    }

    /// Append to the recent alerts log.
    pub async fn log(&self, record: &AlertRecord) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("XADD")
            .arg(self.key("log"))
            .arg("MAXLEN")
            .arg("~")
            .arg(LOG_MAX_LEN)
            .arg("*")
            .arg("record")
            .arg(serde_json::to_string(record).unwrap_or_default());
        let _: Vec<Value> = self.redis.write(&pipe).await?;
        Ok(())
    }

    /// The newest `count` alerts, newest first.
    pub async fn recent(&self, count: usize) -> Result<Vec<AlertRecord>> {
        let mut pipe = redis::pipe();
        pipe.cmd("XREVRANGE")
            .arg(self.key("log"))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count);
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(stream_entries(&replies[0])
            .into_iter()
            .filter_map(|(id, fields)| {
                let mut record: AlertRecord = serde_json::from_str(fields.get("record")?).ok()?;
                record.id = id;
                Some(record)
            })
            .collect())
    }

    /// The name and failed reason of jobs of any queues, in one round trip (`None` for a job
    /// or a field that is gone).
    pub async fn job_names(
        &self,
        jobs: &[(&QueueRef, &str)],
    ) -> Result<Vec<(Option<String>, Option<String>)>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (queue, id) in jobs {
            pipe.cmd("HMGET")
                .arg(queue.keys().job_key(id))
                .arg("name")
                .arg("failedReason");
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(replies
            .iter()
            .map(|v| {
                let mut fields = reply::<Vec<Option<String>>>(v)
                    .unwrap_or_default()
                    .into_iter();
                (fields.next().flatten(), fields.next().flatten())
            })
            .collect())
    }

    /// The timestamp of the oldest waiting job of each queue (`None`: none waiting), in one
    /// round trip plus one for the jobs' hashes.
    pub async fn oldest_waiting(&self, queues: &[QueueRef]) -> Result<Vec<Option<i64>>> {
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for queue in queues {
            // LPUSH adds on the left, so the oldest waiting job is the rightmost.
            pipe.cmd("LRANGE").arg(queue.keys().wait()).arg(-1).arg(-1);
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let ids: Vec<Option<String>> = replies
            .iter()
            .map(|v| strings(v).into_iter().next())
            .collect();
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (queue, id) in queues.iter().zip(&ids) {
            pipe.cmd("HGET")
                .arg(queue.keys().job_key(id.as_deref().unwrap_or("")))
                .arg("timestamp");
        }
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        Ok(ids
            .iter()
            .zip(&replies)
            .map(|(id, value)| {
                id.as_ref()?;
                reply::<Option<String>>(value).flatten()?.parse().ok()
            })
            .collect())
    }
}

/// `[[id, [field, value, ...]], ...]` of XRANGE / XREVRANGE.
fn stream_entries(value: &Value) -> Vec<(String, HashMap<String, String>)> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id: String = reply(pair.first()?)?;
            let flat: Vec<String> = strings(pair.get(1)?);
            let fields = flat
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| (c[0].clone(), c[1].clone()))
                .collect();
            Some((id, fields))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_set(entries: &[(&str, i64)]) -> Value {
        Value::Array(
            entries
                .iter()
                .flat_map(|(id, ms)| {
                    [
                        Value::BulkString(id.as_bytes().to_vec()),
                        Value::BulkString(ms.to_string().into_bytes()),
                    ]
                })
                .collect(),
        )
    }

    #[test]
    fn bull_positions_move_past_every_job_read() {
        let first = bull_failures(&failed_set(&[("1", 10), ("2", 20)]), None);
        assert!(first.failed.is_empty());
        assert_eq!(first.last.as_deref(), Some("21-0"));
        let empty = bull_failures(&failed_set(&[]), None);
        assert_eq!(empty.last.as_deref(), Some("0-0"));
        // Read from 21 with none of that ms seen: two jobs in ms 30, one in 25.
        let read = bull_failures(
            &failed_set(&[("a", 25), ("b", 30), ("c", 30)]),
            Some("21-0"),
        );
        assert_eq!(read.last.as_deref(), Some("30-2"));
        assert_eq!(read.failed[0].entry, "25-a");
        assert_eq!(read.failed[1].at_ms, 30);
        assert!(read.failed.iter().all(|f| f.reason.is_empty()));
        // Read again from 30 past the 2 seen: one more in ms 30, then nothing.
        let more = bull_failures(&failed_set(&[("d", 30)]), Some("30-2"));
        assert_eq!(more.last.as_deref(), Some("30-3"));
        let quiet = bull_failures(&failed_set(&[]), Some("30-3"));
        assert_eq!(quiet.last, None);
        assert_eq!(bull_position("oops"), (0, 0));
    }
}
