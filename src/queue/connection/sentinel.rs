//! Redis Sentinel: which sentinels to ask, and the question itself. A master watched by
//! sentinels is found with `SENTINEL get-master-addr-by-name`, asked of each sentinel in turn
//! until one answers; after a failover the same question names the promoted replica. The
//! sentinels may have a password of their own (`requirepass` on the sentinel), and the master
//! another; neither is ever shown (`Debug` hides them).

use std::time::Duration;

use crate::queue::error::{QueueError, Result};
use crate::text::Said;

/// How long one sentinel may take to accept a connection and answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

/// A master watched by Redis Sentinel.
#[derive(Clone, PartialEq, Eq)]
pub struct SentinelSettings {
    /// The name the sentinels monitor the master under (`mymaster`).
    pub master: String,
    /// The sentinels, each `host:port`.
    pub nodes: Vec<String>,
    /// The master's (and its replicas') password.
    pub password: Option<String>,
    /// The sentinels' own password.
    pub sentinel_password: Option<String>,
}

impl std::fmt::Debug for SentinelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |p: &Option<String>| p.as_ref().map(|_| "***");
        f.debug_struct("SentinelSettings")
            .field("master", &self.master)
            .field("nodes", &self.nodes)
            .field("password", &hidden(&self.password))
            .field("sentinel_password", &hidden(&self.sentinel_password))
            .finish()
    }
}

impl SentinelSettings {
    /// The master `master`, known to the sentinels `nodes` (`host:port` each), no password.
    pub fn new(master: impl Into<String>, nodes: Vec<String>) -> Self {
        SentinelSettings {
            master: master.into(),
            nodes,
            password: None,
            sentinel_password: None,
        }
    }

    /// The same, with the master's password and the sentinels' own (each when given).
    pub fn with_passwords(
        self,
        password: Option<String>,
        sentinel_password: Option<String>,
    ) -> Self {
        SentinelSettings {
            password,
            sentinel_password,
            ..self
        }
    }

    /// The master's current address (`host:port`), from the first sentinel that knows it.
    pub async fn master_address(&self) -> Result<String> {
        let mut problems = Vec::new();
        for node in &self.nodes {
            let asked = ask(node, self.sentinel_password.as_deref(), &self.master);
            match tokio::time::timeout(ASK_TIMEOUT, asked).await {
                Ok(Ok(Some(address))) => return Ok(address),
                Ok(Ok(None)) => problems.push(
                    Said::new("error.sentinel.unknown_master")
                        .with("node", node)
                        .with("master", format!("{:?}", self.master)),
                ),
                Ok(Err(err)) => problems.push(Said::plain(format!("{node}: {err}"))),
                Err(_) => problems.push(Said::new("error.sentinel.no_answer").with("node", node)),
            }
        }
        Err(QueueError::unavailable(
            Said::new("error.sentinel.no_master")
                .with("master", format!("{:?}", self.master))
                .with_each("problems", move |lang| {
                    let each: Vec<String> = problems.iter().map(|p| p.in_lang(lang)).collect();
                    each.join("; ")
                }),
        ))
    }
}

/// One sentinel's answer: the master's `host:port`, or `None` when it monitors no such master.
async fn ask(
    node: &str,
    password: Option<&str>,
    master: &str,
) -> redis::RedisResult<Option<String>> {
    let client = redis::Client::open(url_with_password(node, password))?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let reply: Option<(String, u16)> = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(master)
        .query_async(&mut conn)
        .await?;
    Ok(reply.map(|(host, port)| address(&host, port)))
}

/// `host:port`, an IPv6 host bracketed.
fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `redis://[:password@]address`, the password percent-encoded (any byte but unreserved ones),
/// so a password with `@`, `:` or `/` stays one.
pub(super) fn url_with_password(address: &str, password: Option<&str>) -> String {
    let Some(password) = password else {
        return format!("redis://{address}");
    };
    let mut encoded = String::with_capacity(password.len());
    for byte in password.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("redis://:{encoded}@{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_passwords() {
        let settings = SentinelSettings::new("m", vec!["s:26379".into()])
            .with_passwords(Some("master-pw".into()), Some("sentinel-pw".into()));
        let text = format!("{settings:?}");
        assert!(
            !text.contains("master-pw") && !text.contains("sentinel-pw"),
            "{text}"
        );
        assert!(text.contains("***"), "{text}");
    }

    #[test]
    fn brackets_an_ipv6_master() {
        assert_eq!(address("127.0.0.1", 6380), "127.0.0.1:6380");
        assert_eq!(address("::1", 6380), "[::1]:6380");
    }

    #[tokio::test]
    async fn says_why_no_sentinel_answered() {
        let settings = SentinelSettings::new("mymaster", vec!["127.0.0.1:1".into()]);
        let err = settings.master_address().await.unwrap_err();
        assert!(err.is_unavailable());
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }
}
