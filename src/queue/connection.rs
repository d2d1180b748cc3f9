//! The Redis connection the read side uses, and the settings that describe where Redis is.
//!
//! Reads do not go through the engine's `RedisConnection`: its reconnect policy waits up to
//! minutes, while a dashboard must answer "Redis is down" in a second or two. This module keeps
//! one lazily opened, auto-reconnecting multiplexed connection (standalone or cluster), bounds
//! every call with a timeout, retries an idempotent read once after a stale socket (ENGINE.md
//! gap 7), and counts round trips so tests and benchmarks can see what a page costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bullmq::redis_connection::AnyConnection;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Pipeline};
use tokio::sync::Mutex;

use super::error::{QueueError, Result, is_connection_error};

/// How long one Redis call may take before the page gives up and says Redis is unreachable.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
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
    conn: Mutex<Option<AnyConnection>>,
    round_trips: AtomicU64,
}

impl Redis {
    /// A handle that connects on first use, so the dashboard starts (and shows a 503 page) even
    /// while Redis is down.
    pub fn new(settings: RedisSettings) -> Self {
        Redis {
            inner: Arc::new(Inner {
                settings,
                conn: Mutex::new(None),
                round_trips: AtomicU64::new(0),
            }),
        }
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    /// Round trips sent so far through this handle.
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
            .map_err(|_| QueueError::Unavailable("timed out connecting".into()))??;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> Result<AnyConnection> {
        let settings = &self.inner.settings;
        if !settings.cluster_nodes.is_empty() {
            let client = redis::cluster::ClusterClient::builder(settings.cluster_nodes.clone())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(CALL_TIMEOUT)
                .retries(1)
                .build()?;
            return Ok(AnyConnection::Cluster(client.get_async_connection().await?));
        }
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        Ok(AnyConnection::Single(
            ConnectionManager::new_with_config(client, config).await?,
        ))
    }

    /// Send a pipeline of read commands in one round trip. Reads are idempotent, so a call that
    /// fails on a dead socket is sent once more (the connection has reconnected by then).
    pub async fn read<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        match self.send(pipe).await {
            Err(QueueError::Unavailable(_)) => self.send(pipe).await,
            other => other,
        }
    }

    async fn send<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        let mut conn = self.connection().await?;
        self.inner.round_trips.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(CALL_TIMEOUT, pipe.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                if is_connection_error(&err) {
                    tracing::debug!(error = %err, "redis read failed on the connection");
                }
                Err(err.into())
            }
            Err(_) => Err(QueueError::Unavailable(format!(
                "no answer within {} s",
                CALL_TIMEOUT.as_secs()
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
}
