//! Fields of a job hash that bullring writes itself, beside the engine: the stack trace entries
//! a Rust worker records per failed attempt (the engine records none, ENGINE.md gap 5), and a
//! failed job's stack traces and reason as a Node worker would have left them (the demo data).
//! Key names come from [`QueueRef::keys`].

use serde_json::Value;

use super::connection::Redis;
use super::error::Result;
use super::model::QueueRef;

/// Append `entry` to the job's `stacktrace` (a JSON array of strings, as Node writes it),
/// keeping the last `limit` entries (0 keeps them all). A job that is gone is left alone.
///
/// Read, then write: call it only for a job that nothing else writes meanwhile (an active job
/// locked by the caller's worker).
pub async fn append_stack_trace(
    redis: &Redis,
    queue: &QueueRef,
    id: &str,
    entry: String,
    limit: usize,
) -> Result<()> {
    let key = queue.keys().job_key(id);
    let mut pipe = redis::pipe();
    pipe.cmd("HGET").arg(&key).arg("stacktrace");
    pipe.cmd("EXISTS").arg(&key);
    let (current, exists): (Option<String>, bool) = redis.read(&pipe).await?;
    if !exists {
        return Ok(());
    }
    let mut entries: Vec<Value> = current
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    entries.push(Value::String(entry));
    if limit > 0 && entries.len() > limit {
        let cut = entries.len() - limit;
        entries.drain(..cut);
    }
    let mut pipe = redis::pipe();
    pipe.cmd("HSET")
        .arg(&key)
        .arg("stacktrace")
        .arg(Value::Array(entries).to_string())
        .ignore();
    redis.write(&pipe).await
}

/// Give a failed job one copy of `stack` per attempt it made (at least one) as its
/// `stacktrace`, and `reason` as its `failedReason`, which the engine does not keep on a job
/// waiting out a retry backoff (Node does).
pub async fn record_failure(
    redis: &Redis,
    queue: &QueueRef,
    id: &str,
    stack: &str,
    reason: &str,
) -> Result<()> {
    let key = queue.keys().job_key(id);
    let mut pipe = redis::pipe();
    pipe.cmd("HGET").arg(&key).arg("atm");
    let (attempts,): (Option<u32>,) = redis.read(&pipe).await?;
    let stacks = Value::from(vec![stack; attempts.unwrap_or(1).max(1) as usize]);
    let mut pipe = redis::pipe();
    pipe.cmd("HSET")
        .arg(&key)
        .arg("stacktrace")
        .arg(stacks.to_string())
        .arg("failedReason")
        .arg(reason)
        .ignore();
    redis.write(&pipe).await
}
