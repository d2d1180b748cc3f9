//! The audit trail: every action, allowed or refused, with who, what, where and how it ended.
//!
//! Each entry is logged as a structured `tracing` event (target `bullring::audit`) and, unless
//! the dashboard is read-only, appended to the capped stream `<prefix>:bullring:audit`
//! (`XADD ... MAXLEN ~ n`). Writing the stream never fails an action: an error is logged instead.

use std::collections::HashMap;

use redis::Value;
use serde::Serialize;

use super::connection::Redis;
use super::decode::reply;
use super::error::Result;
use super::model::DEFAULT_CONNECTION;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Stream entry id (`<ms>-<seq>`), empty until stored.
    pub id: String,
    pub time_ms: i64,
    pub user: String,
    pub role: String,
    pub action: String,
    /// The connection acted on (`default`, or a `[[connections]]` name; `default` for entries
    /// recorded before connections were named).
    pub connection: String,
    pub prefix: String,
    pub queue: String,
    pub jobs: Vec<String>,
    /// `ok`, `refused` (role, read-only, CSRF), `failed`, or `cancelled` (a task stopped part way).
    pub outcome: String,
    /// The one-line result or reason.
    pub detail: String,
}

/// Where audit entries go. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    redis: Redis,
    key: String,
    max_len: usize,
    read_only: bool,
}

impl AuditLog {
    /// The stream `<prefix>:bullring:audit`; with `read_only` entries are only logged.
    pub fn new(redis: Redis, prefix: &str, max_len: usize, read_only: bool) -> Self {
        AuditLog {
            redis,
            key: format!("{prefix}:bullring:audit"),
            max_len,
            read_only,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Log the entry, and append it to the stream unless read-only.
    pub async fn record(&self, entry: &AuditEntry) {
        tracing::info!(
            target: "bullring::audit",
            user = %entry.user,
            role = %entry.role,
            action = %entry.action,
            connection = %entry.connection,
            prefix = %entry.prefix,
            queue = %entry.queue,
            jobs = %entry.jobs.join(","),
            outcome = %entry.outcome,
            detail = %entry.detail,
            "audit"
        );
        if self.read_only {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.cmd("XADD")
            .arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*")
            .arg("time")
            .arg(entry.time_ms)
            .arg("user")
            .arg(&entry.user)
            .arg("role")
            .arg(&entry.role)
            .arg("action")
            .arg(&entry.action)
            .arg("connection")
            .arg(&entry.connection)
            .arg("prefix")
            .arg(&entry.prefix)
            .arg("queue")
            .arg(&entry.queue)
            .arg("jobs")
            .arg(entry.jobs.join(","))
            .arg("outcome")
            .arg(&entry.outcome)
            .arg("detail")
            .arg(&entry.detail);
        if let Err(err) = self.redis.write::<Value>(&pipe).await {
            tracing::warn!(error = %err, key = %self.key, "could not append to the audit stream");
        }
    }

    /// The newest entries first, `count` of them, older than entry id `before` if given.
    pub async fn recent(&self, count: usize, before: Option<&str>) -> Result<Vec<AuditEntry>> {
        let end = match before {
            Some(id) => format!("({id}"),
            None => "+".to_string(),
        };
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("XREVRANGE")
            .arg(&self.key)
            .arg(end)
            .arg("-")
            .arg("COUNT")
            .arg(count);
        let replies: Vec<Value> = self.redis.read(&pipe).await?;
        let raw: Vec<(String, HashMap<String, String>)> = reply(&replies[0]).unwrap_or_default();
        Ok(raw
            .into_iter()
            .map(|(id, f)| {
                let get = |k: &str| f.get(k).cloned().unwrap_or_default();
                AuditEntry {
                    time_ms: get("time").parse().unwrap_or(0),
                    user: get("user"),
                    role: get("role"),
                    action: get("action"),
                    connection: f
                        .get("connection")
                        .cloned()
                        .unwrap_or_else(|| DEFAULT_CONNECTION.to_string()),
                    prefix: get("prefix"),
                    queue: get("queue"),
                    jobs: get("jobs")
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    outcome: get("outcome"),
                    detail: get("detail"),
                    id,
                }
            })
            .collect())
    }
}
