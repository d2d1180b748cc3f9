//! Where Redis is: one URL, the seed nodes of a cluster, or the sentinels that know a master,
//! and the redaction that keeps a password out of logs and pages.

use super::sentinel::{SentinelSettings, url_with_password};
use crate::queue::error::Result;

/// Where Redis is: one URL, the seed nodes of a cluster, or a Sentinel-watched master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://`, `rediss://` or `redis+unix://` URL, user and password included.
    pub url: String,
    /// Seed nodes of a Redis Cluster; when not empty, `url` is ignored.
    pub cluster_nodes: Vec<String>,
    /// The sentinels to ask where the master is; when set, `url` and `cluster_nodes` are
    /// ignored and the master's address is asked again after a failover.
    pub sentinel: Option<SentinelSettings>,
}

impl RedisSettings {
    pub fn url(url: impl Into<String>) -> Self {
        RedisSettings {
            url: url.into(),
            cluster_nodes: Vec::new(),
            sentinel: None,
        }
    }

    /// A master watched by Redis Sentinel.
    pub fn sentinel(sentinel: SentinelSettings) -> Self {
        RedisSettings {
            url: String::new(),
            cluster_nodes: Vec::new(),
            sentinel: Some(sentinel),
        }
    }

    /// The master a sentinel named, as plain settings for one server at `address` (`host:port`),
    /// with the master's password.
    pub fn at_master(&self, address: &str) -> Self {
        let password = self.sentinel.as_ref().and_then(|s| s.password.as_deref());
        RedisSettings::url(url_with_password(address, password))
    }

    /// Where to connect now: under Sentinel, plain settings for the master the sentinels name
    /// (one short round trip to them, an error when none answers); otherwise these settings.
    /// For what opens an engine connection, which cannot follow a failover by itself.
    pub async fn resolve(&self) -> Result<RedisSettings> {
        match &self.sentinel {
            Some(sentinel) => Ok(self.at_master(&sentinel.master_address().await?)),
            None => Ok(self.clone()),
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
        if let Some(sentinel) = &self.sentinel {
            format!(
                "sentinel master {} via {}",
                sentinel.master,
                sentinel.nodes.join(",")
            )
        } else if self.cluster_nodes.is_empty() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_url_carries_the_password_encoded_and_redacted() {
        let sentinel = SentinelSettings::new("m", vec!["s:26379".into()])
            .with_passwords(Some("p@ss:w/rd".into()), None);
        let at = RedisSettings::sentinel(sentinel).at_master("10.0.0.2:6380");
        assert_eq!(at.url, "redis://:p%40ss%3Aw%2Frd@10.0.0.2:6380");
        assert_eq!(at.redacted(), "redis://***@10.0.0.2:6380");
        let info = redis::IntoConnectionInfo::into_connection_info(at.url.as_str()).unwrap();
        assert_eq!(info.redis_settings().password(), Some("p@ss:w/rd"));
        assert_eq!(url_with_password("h:1", None), "redis://h:1");
    }

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
