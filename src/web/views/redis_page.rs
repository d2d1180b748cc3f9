//! The Redis page of a connection: what its server says about itself, in display strings.

use askama::Template;

use super::Chrome;
use super::format::{decimal, number, seconds};
use crate::queue::redis_info::RedisInfo;
use crate::web::i18n::{self, Lang};

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
    let units: [&str; 5] = match i18n::current().lang {
        Lang::En => ["B", "KiB", "MiB", "GiB", "TiB"],
        Lang::Fr => ["o", "Kio", "Mio", "Gio", "Tio"],
    };
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} {}", number(n as i64), units[0])
    } else {
        format!("{} {}", decimal(value, 1), units[unit])
    }
}

impl RedisPage {
    pub fn new(
        chrome: Chrome,
        info: &RedisInfo,
        prefixes: Vec<(String, usize)>,
        place: String,
    ) -> Self {
        let or_unknown = |v: Option<String>| v.unwrap_or_else(|| i18n::t("redis.unknown").into());
        let maxmemory = info.maxmemory.map(|m| {
            if m == 0 {
                i18n::t("redis.no_limit").to_string()
            } else {
                bytes(m)
            }
        });
        let mode = match (&info.sentinel_master, &info.master_address) {
            (Some(master), address) => Some(format!(
                "sentinel: master {master:?} {} {}",
                i18n::t("redis.at"),
                address.as_deref().unwrap_or(i18n::t("redis.not_found_yet"))
            )),
            _ => info.mode.clone(),
        };
        let rows = vec![
            (i18n::t("redis.version"), or_unknown(info.version.clone())),
            (i18n::t("redis.mode"), or_unknown(mode)),
            (i18n::t("redis.role"), or_unknown(info.role.clone())),
            (
                i18n::t("redis.memory"),
                or_unknown(info.used_memory.map(bytes)),
            ),
            (
                i18n::t("redis.memory_peak"),
                or_unknown(info.used_memory_peak.map(bytes)),
            ),
            (
                i18n::t("redis.fragmentation"),
                or_unknown(info.fragmentation.map(|f| decimal(f, 2))),
            ),
            ("maxmemory", or_unknown(maxmemory)),
            (
                "maxmemory-policy",
                or_unknown(info.maxmemory_policy.clone()),
            ),
            (
                i18n::t("redis.clients"),
                or_unknown(info.connected_clients.map(|c| number(c as i64))),
            ),
            (
                i18n::t("redis.uptime"),
                or_unknown(info.uptime_secs.map(seconds)),
            ),
            (
                i18n::t("redis.ops"),
                or_unknown(info.ops_per_sec.map(|o| number(o as i64))),
            ),
            (i18n::t("redis.keys_dbsize"), number(info.keys as i64)),
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
