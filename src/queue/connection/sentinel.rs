//! Redis Sentinel: which sentinels to ask, and the question itself. A master watched by
//! sentinels is found with `SENTINEL get-master-addr-by-name`, asked of each sentinel in turn
//! until one answers; after a failover the same question names the promoted replica.

use std::time::Duration;

use crate::queue::error::{QueueError, Result};

/// How long one sentinel may take to accept a connection and answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

/// A master watched by Redis Sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelSettings {
    /// The name the sentinels monitor the master under (`mymaster`).
    pub master: String,
    /// The sentinels, each `host:port`.
    pub nodes: Vec<String>,
}

impl SentinelSettings {
    /// The master's current address (`host:port`), from the first sentinel that knows it.
    pub async fn master_address(&self) -> Result<String> {
        let mut problems = Vec::new();
        for node in &self.nodes {
            match tokio::time::timeout(ASK_TIMEOUT, ask(node, &self.master)).await {
                Ok(Ok(Some(address))) => return Ok(address),
                Ok(Ok(None)) => problems.push(format!("{node}: does not know {:?}", self.master)),
                Ok(Err(err)) => problems.push(format!("{node}: {err}")),
                Err(_) => problems.push(format!("{node}: no answer")),
            }
        }
        Err(QueueError::unavailable(format!(
            "no sentinel named the master {:?} ({})",
            self.master,
            problems.join("; ")
        )))
    }
}

/// One sentinel's answer: the master's `host:port`, or `None` when it monitors no such master.
async fn ask(node: &str, master: &str) -> redis::RedisResult<Option<String>> {
    let client = redis::Client::open(format!("redis://{node}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_an_ipv6_master() {
        assert_eq!(address("127.0.0.1", 6380), "127.0.0.1:6380");
        assert_eq!(address("::1", 6380), "[::1]:6380");
    }

    #[tokio::test]
    async fn says_why_no_sentinel_answered() {
        let settings = SentinelSettings {
            master: "mymaster".into(),
            nodes: vec!["127.0.0.1:1".into()],
        };
        let err = settings.master_address().await.unwrap_err();
        assert!(err.is_unavailable());
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }
}
