//! The Redis page of a connection: what its server says about itself, in display strings.

use askama::Template;

use super::Chrome;
use super::format::seconds;
use crate::queue::redis_info::RedisInfo;

#[derive(Template)]
#[template(path = "pages/redis.html")]
pub struct RedisPage {
    pub chrome: Chrome,
    /// Label and value, in the order shown.
    pub rows: Vec<(&'static str, String)>,
    /// The eviction policy is not `noeviction`.
    pub evicts: bool,
    pub policy: String,
    /// Why `INFO` could not be read; empty when it could.
    pub refused: String,
    /// Queues known per prefix (discovery's registry: no key is counted).
    pub prefixes: Vec<(String, usize)>,
    /// Where the connection's Redis is (password hidden), and the cluster's seed nodes.
    pub place: String,
}

/// `1048576` → `1.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl RedisPage {
    pub fn new(
        chrome: Chrome,
        info: &RedisInfo,
        prefixes: Vec<(String, usize)>,
        place: String,
    ) -> Self {
        let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
        let maxmemory = info.maxmemory.map(|m| {
            if m == 0 {
                "no limit".to_string()
            } else {
                bytes(m)
            }
        });
        let mode = match (&info.sentinel_master, &info.master_address) {
            (Some(master), address) => Some(format!(
                "sentinel: master {master:?} at {}",
                address.as_deref().unwrap_or("(not yet found)")
            )),
            _ => info.mode.clone(),
        };
        let rows = vec![
            ("Version", or_unknown(info.version.clone())),
            ("Mode", or_unknown(mode)),
            ("Role", or_unknown(info.role.clone())),
            ("Memory used", or_unknown(info.used_memory.map(bytes))),
            ("Memory peak", or_unknown(info.used_memory_peak.map(bytes))),
            (
                "Fragmentation ratio",
                or_unknown(info.fragmentation.map(|f| format!("{f:.2}"))),
            ),
            ("maxmemory", or_unknown(maxmemory)),
            (
                "maxmemory-policy",
                or_unknown(info.maxmemory_policy.clone()),
            ),
            (
                "Connected clients",
                or_unknown(info.connected_clients.map(|c| c.to_string())),
            ),
            ("Uptime", or_unknown(info.uptime_secs.map(seconds))),
            (
                "Commands per second",
                or_unknown(info.ops_per_sec.map(|o| o.to_string())),
            ),
            (
                "Keys (DBSIZE: every key of the database)",
                info.keys.to_string(),
            ),
        ];
        RedisPage {
            chrome,
            rows,
            evicts: info.evicts(),
            policy: info.maxmemory_policy.clone().unwrap_or_default(),
            refused: info.info_refused.clone().unwrap_or_default(),
            prefixes,
            place,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_048_576), "1.0 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
