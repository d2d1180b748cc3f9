//! The Redis connections a dashboard shows: each one's name, its label and color, what may be
//! done there (`read_only`, the highest role anyone gets), and its health as a probe sees it.
//!
//! The connection `default` is the one today's single-Redis settings describe; the others come
//! from `[[connections]]`. Each connection has its own reads, actions and discovery
//! ([`super::service::Queues`]); this module holds what is said about a connection as a whole.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::access::{Principal, Role};
use super::connection::Redis;
use super::model::DEFAULT_CONNECTION;

/// The colors a connection's label badge may have (a class of the stylesheet each: the
/// Content-Security-Policy allows no inline style, so no free-form color).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    #[default]
    Gray,
}

impl Color {
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Orange => "orange",
            Color::Yellow => "yellow",
            Color::Green => "green",
            Color::Blue => "blue",
            Color::Purple => "purple",
            Color::Gray => "gray",
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One connection as the configuration describes it (without where its Redis is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `default`, or the `[[connections]] name` (letters, digits, `-` and `_`).
    pub name: String,
    /// The badge shown on every page of the connection ("production"); empty: no badge.
    pub label: String,
    pub color: Color,
    /// Nobody acts on this connection's queues, whatever their role.
    pub read_only: bool,
    /// The highest role anyone gets on this connection (a principal's role is capped to it).
    pub max_role: Role,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            name: DEFAULT_CONNECTION.into(),
            label: String::new(),
            color: Color::default(),
            read_only: false,
            max_role: Role::Admin,
        }
    }
}

impl Connection {
    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_CONNECTION
    }

    /// The principal as this connection sees it: its role capped to `max_role`, and read-only
    /// when the connection is.
    pub fn cap(&self, principal: &Principal) -> Principal {
        Principal {
            user: principal.user.clone(),
            role: principal.role.min(self.max_role),
            read_only: principal.read_only || self.read_only,
        }
    }
}

/// Whether a connection's Redis answered its probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Up,
    Down,
}

/// What a probe of one connection found: `PING`'s round trip, and from `INFO` (when the user may
/// run it: the read-only ACL user of the README may not) the server's version and eviction policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub status: Status,
    pub latency_ms: Option<f64>,
    /// Why the connection is down (the password never appears: errors carry redacted URLs).
    pub error: Option<String>,
    pub redis_version: Option<String>,
    pub maxmemory_policy: Option<String>,
}

impl Health {
    /// Evictions silently lose jobs: BullMQ asks for `noeviction`. Unknown is no warning.
    pub fn evicts(&self) -> bool {
        self.maxmemory_policy
            .as_deref()
            .is_some_and(|p| p != "noeviction")
    }
}

/// Probe `redis` within `timeout`: one `PING`, then (its answer not counted in the latency) one
/// `INFO server` + `INFO memory`, whose refusal is not a failure.
pub async fn probe(redis: &Redis, timeout: Duration) -> Health {
    let started = Instant::now();
    let down = |error: String| Health {
        status: Status::Down,
        latency_ms: None,
        error: Some(error),
        redis_version: None,
        maxmemory_policy: None,
    };
    match tokio::time::timeout(timeout, redis.ping()).await {
        Err(_) => return down(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(err)) => return down(super::error::chain(&err)),
        Ok(Ok(())) => {}
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let info = tokio::time::timeout(timeout, info(redis)).await;
    let text = match info {
        Ok(Ok(text)) => text,
        _ => String::new(),
    };
    Health {
        status: Status::Up,
        latency_ms: Some((latency_ms * 100.0).round() / 100.0),
        error: None,
        redis_version: info_field(&text, "redis_version"),
        maxmemory_policy: info_field(&text, "maxmemory_policy"),
    }
}

/// The last `maxmemory-policy` seen on a connection, refreshed in the background, so every page
/// of the connection can warn about evictions without a round trip of its own.
#[derive(Debug, Clone, Default)]
pub struct PolicyWatch(Arc<RwLock<Option<String>>>);

impl PolicyWatch {
    /// The policy last read (`None`: not read yet, or `INFO` is not allowed).
    pub fn get(&self) -> Option<String> {
        self.0.read().ok().and_then(|p| p.clone())
    }

    /// Whether the last policy read lets Redis evict keys (anything but `noeviction`).
    pub fn evicts(&self) -> bool {
        self.get().is_some_and(|p| p != "noeviction")
    }

    /// Read the policy now and then every `every` on `redis`, until `cancel` fires. A failed
    /// read keeps the last policy.
    pub fn spawn(
        &self,
        redis: Redis,
        every: Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) {
        let watch = self.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(text) = info(&redis).await
                    && let Some(policy) = info_field(&text, "maxmemory_policy")
                    && let Ok(mut slot) = watch.0.write()
                {
                    *slot = Some(policy);
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
    }
}

/// `INFO server` and `INFO memory` in one round trip, as one text (a user without `INFO`, such
/// as the README's read-only ACL user, gets an error).
async fn info(redis: &Redis) -> super::error::Result<String> {
    let mut pipe = redis::pipe();
    pipe.cmd("INFO").arg("server").cmd("INFO").arg("memory");
    let (server, memory): (String, String) = redis.read(&pipe).await?;
    Ok(format!("{server}\r\n{memory}"))
}

/// One `field:value` line of an `INFO` reply.
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines().find_map(|line| {
        let (key, value) = line.trim_end().split_once(':')?;
        (key == field).then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_the_role_and_read_only() {
        let production = Connection {
            name: "production".into(),
            max_role: Role::Operator,
            ..Connection::default()
        };
        let admin = Principal {
            user: "ann".into(),
            role: Role::Admin,
            read_only: false,
        };
        assert_eq!(production.cap(&admin).role, Role::Operator);
        let viewer = Principal {
            role: Role::Viewer,
            ..admin.clone()
        };
        assert_eq!(production.cap(&viewer).role, Role::Viewer);
        let frozen = Connection {
            read_only: true,
            ..production
        };
        assert!(frozen.cap(&admin).read_only);
        assert!(Connection::default().is_default());
    }

    #[test]
    fn reads_info_fields_and_warns_on_eviction() {
        let info =
            "# Server\r\nredis_version:7.0.15\r\n# Memory\r\nmaxmemory_policy:allkeys-lru\r\n";
        assert_eq!(info_field(info, "redis_version").as_deref(), Some("7.0.15"));
        assert_eq!(info_field(info, "redis_mode"), None);
        let health = Health {
            status: Status::Up,
            latency_ms: Some(0.1),
            error: None,
            redis_version: None,
            maxmemory_policy: info_field(info, "maxmemory_policy"),
        };
        assert!(health.evicts());
    }
}
