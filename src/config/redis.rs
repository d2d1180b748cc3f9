//! Where Redis is: cluster seed nodes, a URL, or host, port, password and TLS flags, turned into
//! one [`RedisSettings`] and checked as redis-rs will parse it.

use redis::IntoConnectionInfo;

use super::cli::Settings;
use super::error::{ConfigError, bad};
use super::file::FileConfig;
use super::values::{parse_bool, pick_list};
use crate::queue::connection::{RedisSettings, SentinelSettings};

/// Where Redis is, from (in order) cluster nodes, a URL, or host/port/password/TLS.
pub(super) fn redis_settings(
    cli: &Settings,
    file: &FileConfig,
) -> Result<Option<RedisSettings>, ConfigError> {
    let nodes = pick_list(
        &cli.redis_cluster_nodes,
        file.redis_cluster_nodes.clone(),
        Vec::new(),
    );
    if !nodes.is_empty() {
        for node in &nodes {
            check_url(
                "--redis-cluster-nodes (BULLRING_REDIS_CLUSTER_NODES / redis_cluster_nodes)",
                node,
            )?;
        }
        return Ok(Some(RedisSettings {
            url: nodes[0].clone(),
            cluster_nodes: nodes,
            sentinel: None,
        }));
    }
    let master = cli
        .redis_sentinel_master
        .clone()
        .or(file.sentinel.as_ref().map(|s| s.master.clone()));
    let sentinel_nodes = pick_list(
        &cli.redis_sentinel_nodes,
        file.sentinel
            .as_ref()
            .map(|s| s.nodes.clone())
            .unwrap_or_default(),
        Vec::new(),
    );
    if master.is_some() || !sentinel_nodes.is_empty() {
        let setting = "--redis-sentinel-master and --redis-sentinel-nodes \
             (BULLRING_REDIS_SENTINEL_MASTER / _NODES, sentinel = { master, nodes })";
        let file = file.sentinel.as_ref();
        let sentinel = sentinel_settings(setting, master.unwrap_or_default(), sentinel_nodes)?
            .with_passwords(
                cli.redis_password
                    .clone()
                    .or(file.and_then(|s| s.password.clone())),
                cli.redis_sentinel_password
                    .clone()
                    .or(file.and_then(|s| s.sentinel_password.clone())),
            );
        return Ok(Some(RedisSettings::sentinel(sentinel)));
    }
    if let Some(url) = cli.redis_url.clone().or(file.redis_url.clone()) {
        check_url("--redis-url (REDIS_URL / redis_url)", &url)?;
        return Ok(Some(RedisSettings::url(url)));
    }
    let Some(host) = cli.redis_host.clone().or(file.redis_host.clone()) else {
        return Ok(None);
    };
    let port = match &cli.redis_port {
        Some(text) => {
            let setting = "--redis-port (REDIS_PORT)";
            let problem = format!("{text:?} is not a port number");
            match text.trim().parse::<u16>() {
                Ok(0) => return Err(bad(setting, problem)),
                Ok(port) => port,
                Err(e) => return Err(ConfigError::caused_by(setting, problem, e)),
            }
        }
        None => file.redis_port.unwrap_or(6379),
    };
    let tls = match &cli.redis_tls {
        Some(text) => parse_bool("--redis-tls (REDIS_TLS)", text)?,
        None => file.redis_tls.unwrap_or(false),
    };
    let password = cli.redis_password.clone().or(file.redis_password.clone());
    let url = host_url(&host, port, password.as_deref(), tls);
    check_url("--redis-host (REDIS_HOST)", &url)?;
    Ok(Some(RedisSettings::url(url)))
}

/// The URL of the host form: `redis[s]://[:password@]host:port`, an IPv6 host bracketed.
pub(super) fn host_url(host: &str, port: u16, password: Option<&str>, tls: bool) -> String {
    let scheme = if tls { "rediss" } else { "redis" };
    let auth = password
        .map(|p| format!(":{}@", crate::web::views::encode(p)))
        .unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("{scheme}://{auth}{host}:{port}")
}

pub(super) fn check_url(setting: &str, url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !["redis", "rediss", "redis+unix", "unix"].contains(&scheme) {
        return Err(bad(
            setting,
            "expected a redis://, rediss:// or redis+unix:// URL",
        ));
    }
    url.into_connection_info()
        .map(|_| ())
        .map_err(|e| ConfigError::caused_by(setting, RedisSettings::url(url).redacted(), e))
}

/// A master name and its sentinels, checked: a name, at least one sentinel, each `host:port`.
pub(super) fn sentinel_settings(
    setting: &str,
    master: String,
    nodes: Vec<String>,
) -> Result<SentinelSettings, ConfigError> {
    if master.trim().is_empty() {
        return Err(bad(setting, "the Sentinel master name is missing"));
    }
    if nodes.is_empty() {
        return Err(bad(setting, "at least one sentinel (host:port) is needed"));
    }
    for node in &nodes {
        let port = node
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        match port {
            Some((host, Ok(port))) if !host.is_empty() && port != 0 => {}
            _ => return Err(bad(setting, format!("{node:?} is not a host:port"))),
        }
    }
    Ok(SentinelSettings::new(master, nodes))
}
