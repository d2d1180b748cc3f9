//! What the Redis page shows about one connection's server, from one `INFO` and one `DBSIZE`
//! (one round trip; never `KEYS` nor a scan): version, mode and role, memory used and peak,
//! fragmentation, `maxmemory` and its policy, clients, uptime, commands per second, keys.
//!
//! A user without `INFO` (the read-only ACL user of the README: `INFO` is not a `@read`
//! command) still gets `DBSIZE`; [`RedisInfo::info_refused`] says the rest could not be read.

use serde::Serialize;

use super::connection::Redis;
use super::connections::info_field;
use super::error::{QueueError, Result};

/// The server as `INFO` describes it; `None` for what it did not say (or was not allowed to).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RedisInfo {
    pub version: Option<String>,
    /// `standalone`, `cluster` (`redis_mode`), or `sentinel` when the connection finds its
    /// master through Redis Sentinel.
    pub mode: Option<String>,
    /// The master name the sentinels watch (Sentinel connections only).
    pub sentinel_master: Option<String>,
    /// The address of the master the sentinels last named (Sentinel connections only).
    pub master_address: Option<String>,
    /// `master` or `slave` (`role`).
    pub role: Option<String>,
    pub used_memory: Option<u64>,
    pub used_memory_peak: Option<u64>,
    pub fragmentation: Option<f64>,
    /// 0: no limit.
    pub maxmemory: Option<u64>,
    pub maxmemory_policy: Option<String>,
    pub connected_clients: Option<u64>,
    pub uptime_secs: Option<u64>,
    pub ops_per_sec: Option<u64>,
    /// Keys of the connection's database (`DBSIZE`): every key, not only the queues'.
    pub keys: u64,
    /// Why `INFO` could not be read (a user without the command), when it could not.
    pub info_refused: Option<String>,
}

impl RedisInfo {
    /// Evictions silently lose jobs: BullMQ asks for `noeviction`.
    pub fn evicts(&self) -> bool {
        self.maxmemory_policy
            .as_deref()
            .is_some_and(|p| p != "noeviction")
    }

    fn from_info(text: &str, keys: u64) -> Self {
        let number = |field: &str| info_field(text, field).and_then(|v| v.trim().parse().ok());
        RedisInfo {
            version: info_field(text, "redis_version"),
            mode: info_field(text, "redis_mode"),
            sentinel_master: None,
            master_address: None,
            role: info_field(text, "role"),
            used_memory: number("used_memory"),
            used_memory_peak: number("used_memory_peak"),
            fragmentation: info_field(text, "mem_fragmentation_ratio")
                .and_then(|v| v.trim().parse().ok()),
            maxmemory: number("maxmemory"),
            maxmemory_policy: info_field(text, "maxmemory_policy"),
            connected_clients: number("connected_clients"),
            uptime_secs: number("uptime_in_seconds"),
            ops_per_sec: number("instantaneous_ops_per_sec"),
            keys,
            info_refused: None,
        }
    }
}

/// Read the server's description: `INFO` and `DBSIZE` in one round trip; when `INFO` is refused,
/// `DBSIZE` alone (a second round trip) and the refusal.
pub async fn read(redis: &Redis) -> Result<RedisInfo> {
    let mut info = read_server(redis).await?;
    if let Some(sentinel) = &redis.settings().sentinel {
        info.mode = Some("sentinel".into());
        info.sentinel_master = Some(sentinel.master.clone());
        info.master_address = redis.master_address();
    }
    Ok(info)
}

async fn read_server(redis: &Redis) -> Result<RedisInfo> {
    let mut pipe = redis::pipe();
    pipe.cmd("INFO").cmd("DBSIZE");
    match redis.read::<(String, u64)>(&pipe).await {
        Ok((text, keys)) => Ok(RedisInfo::from_info(&text, keys)),
        Err(QueueError::Redis(err)) => {
            let mut pipe = redis::pipe();
            pipe.cmd("DBSIZE");
            let (keys,): (u64,) = redis.read(&pipe).await?;
            Ok(RedisInfo {
                keys,
                info_refused: Some(err.to_string()),
                ..RedisInfo::default()
            })
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_it_shows() {
        let text = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nuptime_in_seconds:42\r\n\
                    # Clients\r\nconnected_clients:3\r\n# Memory\r\nused_memory:1048576\r\n\
                    used_memory_peak:2097152\r\nmaxmemory:0\r\nmaxmemory_policy:allkeys-lru\r\n\
                    mem_fragmentation_ratio:1.25\r\n# Stats\r\ninstantaneous_ops_per_sec:17\r\n\
                    # Replication\r\nrole:master\r\n";
        let info = RedisInfo::from_info(text, 9);
        assert_eq!(info.version.as_deref(), Some("7.0.15"));
        assert_eq!(info.mode.as_deref(), Some("standalone"));
        assert_eq!(info.role.as_deref(), Some("master"));
        assert_eq!(info.used_memory, Some(1_048_576));
        assert_eq!(info.used_memory_peak, Some(2_097_152));
        assert_eq!(info.fragmentation, Some(1.25));
        assert_eq!(info.maxmemory, Some(0));
        assert_eq!(info.connected_clients, Some(3));
        assert_eq!(info.uptime_secs, Some(42));
        assert_eq!(info.ops_per_sec, Some(17));
        assert_eq!(info.keys, 9);
        assert!(info.evicts());
    }
}
