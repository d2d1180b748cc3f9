//! `[[connections]]`: more Redis servers shown in the same dashboard, each with its name, where
//! its Redis is (a URL, host / port / password / TLS, or cluster nodes), its prefixes, queues or
//! discovery, a label with a color, and what may be done there (`read_only`, `max_role`).
//!
//! Today's single-Redis settings are the connection `default`; the name is reserved for them.

use super::error::{ConfigError, bad};
use super::file::ConnectionFile;
use super::redis::{check_url, host_url, sentinel_settings};
use crate::queue::access::Role;
use crate::queue::connection::RedisSettings;
use crate::queue::connections::Connection;
use crate::queue::model::{DEFAULT_CONNECTION, DEFAULT_PREFIX};

/// One connection besides `default`, validated.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Its name, label, color, `read_only` and `max_role`.
    pub connection: Connection,
    pub redis: RedisSettings,
    pub prefixes: Vec<String>,
    pub queues: Vec<String>,
    pub discovery: bool,
    /// Groups its queues on its overview: its own `delimiter`, else the top-level one.
    pub delimiter: Option<String>,
}

/// Longest connection name (it is a URL segment and a Prometheus label value).
const MAX_NAME: usize = 40;

/// Validate the `[[connections]]` entries: names unique, plain and not `default`; one way to
/// reach Redis each; prefixes and queue names as the top-level settings take them.
pub(super) fn connections(
    entries: &[ConnectionFile],
    delimiter: &Option<String>,
) -> Result<Vec<ConnectionConfig>, ConfigError> {
    let mut out: Vec<ConnectionConfig> = Vec::new();
    for entry in entries {
        let setting = format!("[[connections]] {:?}", entry.name);
        let name = entry.name.trim();
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                &setting,
                "name must be 1 to 40 letters, digits, '-' or '_'",
            ));
        }
        if name == DEFAULT_CONNECTION {
            return Err(bad(
                &setting,
                "the name \"default\" is reserved for the top-level Redis settings",
            ));
        }
        if out.iter().any(|c| c.connection.name == name) {
            return Err(bad(&setting, "another connection has this name"));
        }
        let redis = redis(entry, &setting)?;
        let prefixes = if entry.prefixes.is_empty() {
            vec![DEFAULT_PREFIX.to_string()]
        } else {
            entry.prefixes.clone()
        };
        if prefixes.iter().any(|p| p.trim().is_empty()) {
            return Err(bad(&setting, "a prefix is empty"));
        }
        if let Some(queue) = entry
            .queues
            .iter()
            .find(|q| q.is_empty() || q.contains(':'))
        {
            return Err(bad(
                &setting,
                format!("{queue:?} is not a queue name (non-empty, no ':')"),
            ));
        }
        let delimiter =
            super::groups::connection_delimiter(&setting, entry.delimiter.clone(), delimiter)?;
        out.push(ConnectionConfig {
            delimiter,
            connection: Connection {
                name: name.to_string(),
                label: entry.label.clone().unwrap_or_default(),
                color: entry.color.unwrap_or_default(),
                read_only: entry.read_only.unwrap_or(false),
                max_role: entry.max_role.unwrap_or(Role::Admin),
            },
            redis,
            prefixes,
            queues: entry.queues.clone(),
            discovery: entry.discovery.unwrap_or(entry.queues.is_empty()),
        });
    }
    Ok(out)
}

/// Where one connection's Redis is: cluster nodes, a URL, or a host (exactly one of them).
fn redis(entry: &ConnectionFile, setting: &str) -> Result<RedisSettings, ConfigError> {
    let forms = [
        !entry.redis_cluster_nodes.is_empty(),
        entry.redis_url.is_some(),
        entry.redis_host.is_some(),
        entry.sentinel.is_some(),
    ];
    match forms.iter().filter(|f| **f).count() {
        0 => {
            return Err(bad(
                setting,
                "needs redis_url, redis_host, redis_cluster_nodes or sentinel",
            ));
        }
        1 => {}
        _ => {
            return Err(bad(
                setting,
                "give only one of redis_url, redis_host, redis_cluster_nodes and sentinel",
            ));
        }
    }
    if !entry.redis_cluster_nodes.is_empty() {
        for node in &entry.redis_cluster_nodes {
            check_url(&format!("{setting} redis_cluster_nodes"), node)?;
        }
        return Ok(RedisSettings {
            url: entry.redis_cluster_nodes[0].clone(),
            cluster_nodes: entry.redis_cluster_nodes.clone(),
            sentinel: None,
        });
    }
    if let Some(sentinel) = &entry.sentinel {
        let sentinel = sentinel_settings(
            &format!("{setting} sentinel"),
            sentinel.master.clone(),
            sentinel.nodes.clone(),
        )?
        .with_passwords(
            sentinel.password.clone(),
            sentinel.sentinel_password.clone(),
        );
        return Ok(RedisSettings::sentinel(sentinel));
    }
    if let Some(url) = &entry.redis_url {
        check_url(&format!("{setting} redis_url"), url)?;
        return Ok(RedisSettings::url(url.clone()));
    }
    let host = entry.redis_host.as_deref().unwrap_or_default();
    if entry.redis_port == Some(0) {
        return Err(bad(setting, "redis_port must be a port number"));
    }
    let url = host_url(
        host,
        entry.redis_port.unwrap_or(6379),
        entry.redis_password.as_deref(),
        entry.redis_tls.unwrap_or(false),
    );
    check_url(&format!("{setting} redis_host"), &url)?;
    Ok(RedisSettings::url(url))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn reads_connections() {
        let config = Config::from_toml(
            r#"
redis_url = "redis://127.0.0.1:1"
[[connections]]
name = "production"
redis_host = "cache"
redis_port = 6380
redis_password = "p@ss"
label = "production"
color = "red"
max_role = "operator"
[[connections]]
name = "staging"
redis_url = "redis://127.0.0.1:2"
prefixes = ["a", "b"]
queues = ["mail"]
read_only = true
"#,
        )
        .unwrap();
        let [production, staging] = &config.connections[..] else {
            panic!("two connections");
        };
        assert_eq!(production.redis.url, "redis://:p%40ss@cache:6380");
        assert_eq!(production.connection.label, "production");
        assert_eq!(production.connection.color.as_str(), "red");
        assert_eq!(production.connection.max_role.as_str(), "operator");
        assert!(production.discovery);
        assert_eq!(production.prefixes, vec!["bull"]);
        assert!(staging.connection.read_only && !staging.discovery);
        assert_eq!(staging.prefixes, vec!["a", "b"]);
        let on_staging = config.clone().on_connection("staging").unwrap();
        assert_eq!(on_staging.redis.unwrap().url, "redis://127.0.0.1:2");
        assert_eq!(on_staging.prefixes, vec!["a", "b"]);
        let default = config.clone().on_connection("default").unwrap();
        assert_eq!(default.redis.unwrap().url, "redis://127.0.0.1:1");
        let err = config.on_connection("nope").unwrap_err().to_string();
        assert!(err.contains("known: default, production, staging"), "{err}");
    }

    #[test]
    fn reads_sentinel_settings() {
        let config = Config::from_toml(
            r#"
sentinel = { master = "mymaster", nodes = ["127.0.0.1:26379", "10.0.0.2:26379"] }
[[connections]]
name = "eu"
sentinel = { master = "eu-master", nodes = ["s1:26379"], password = "pw", sentinel_password = "spw" }
"#,
        )
        .unwrap();
        let default = config.redis.clone().unwrap().sentinel.unwrap();
        assert_eq!(default.master, "mymaster");
        assert_eq!(default.nodes, vec!["127.0.0.1:26379", "10.0.0.2:26379"]);
        assert_eq!((default.password, default.sentinel_password), (None, None));
        let eu = config.connections[0].redis.sentinel.clone().unwrap();
        assert_eq!((eu.master.as_str(), eu.nodes.len()), ("eu-master", 1));
        assert_eq!(eu.password.as_deref(), Some("pw"));
        assert_eq!(eu.sentinel_password.as_deref(), Some("spw"));
        assert!(!format!("{config:?}").contains("spw"));
        let cases = [
            (
                "sentinel = { master = \"m\", nodes = [] }",
                "at least one sentinel",
            ),
            (
                "sentinel = { master = \"\", nodes = [\"h:1\"] }",
                "master name",
            ),
            (
                "sentinel = { master = \"m\", nodes = [\"h\"] }",
                "not a host:port",
            ),
            (
                "sentinel = { master = \"m\", nodes = [\"h:0\"] }",
                "not a host:port",
            ),
            ("sentinel = { master = \"m\", node = [\"h:1\"] }", "node"),
        ];
        for (line, expected) in cases {
            let err = Config::from_toml(line).unwrap_err().to_string();
            assert!(err.contains(expected), "{line}: {err}");
            let entry = format!("[[connections]]\nname = \"x\"\n{line}\n");
            let err = Config::from_toml(&entry).unwrap_err().to_string();
            assert!(err.contains(expected), "{entry}: {err}");
        }
        let both = "[[connections]]\nname = \"x\"\nredis_url = \"redis://h\"\nsentinel = { master = \"m\", nodes = [\"h:1\"] }\n";
        let err = Config::from_toml(both).unwrap_err().to_string();
        assert!(err.contains("only one"), "{err}");
    }

    #[test]
    fn wrong_connections_name_themselves() {
        let cases = [
            ("name = \"default\"\nredis_url = \"redis://h\"", "reserved"),
            ("name = \"a b\"\nredis_url = \"redis://h\"", "letters"),
            ("name = \"x\"", "needs redis_url"),
            (
                "name = \"x\"\nredis_url = \"redis://h\"\nredis_host = \"h\"",
                "only one",
            ),
            ("name = \"x\"\nredis_url = \"http://h\"", "redis://"),
            (
                "name = \"x\"\nredis_url = \"redis://h\"\ncolor = \"pink\"",
                "pink",
            ),
            (
                "name = \"x\"\nredis_url = \"redis://h\"\nmax_role = \"root\"",
                "root",
            ),
            (
                "name = \"x\"\nredis_url = \"redis://h\"\nqueues = [\"a:b\"]",
                "not a queue name",
            ),
        ];
        for (entry, expected) in cases {
            let err = Config::from_toml(&format!("[[connections]]\n{entry}\n")).unwrap_err();
            assert!(err.to_string().contains(expected), "{entry}: {err}");
        }
        let rule = "[alerts.webhooks.ops]\nurl = \"https://hooks.example/x\"\n[[alerts.rules]]\nid = \"r\"\nkind = \"backlog\"\nmax_waiting = 5\nwebhook = \"ops\"\nconnection = ";
        let err = Config::from_toml(&format!("{rule}\"eu\"\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("no [[connections]] entry is named \"eu\""),
            "{err}"
        );
        let config = Config::from_toml(&format!(
            "{rule}\"eu\"\n[[connections]]\nname = \"eu\"\nredis_url = \"redis://h\"\n"
        ))
        .unwrap();
        let alerts = config.alerts.unwrap();
        assert!(alerts.on_connection("eu").is_some());
        assert!(alerts.on_connection("default").is_none());
        let twice = "[[connections]]\nname = \"x\"\nredis_url = \"redis://h\"\n";
        let err = Config::from_toml(&format!("{twice}{twice}")).unwrap_err();
        assert!(err.to_string().contains("another connection"), "{err}");
    }
}
