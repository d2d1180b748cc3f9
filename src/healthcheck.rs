//! `bullring healthcheck`: ask a running dashboard's `{base}/healthz` whether it and its Redis
//! are up, for container health checks in images that have no curl.
//!
//! It speaks just enough plain HTTP/1.1 for that one request: the health route is served on the
//! listen address inside the container, never through TLS.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Config;

/// How long the whole check may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of the answer read: the status line and a short body.
const MAX_ANSWER: u64 = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("{0} is not a URL such as http://127.0.0.1:3000/admin/queues/healthz")]
    BadUrl(String),
    #[error("cannot reach {url}")]
    Unreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} did not answer within {TIMEOUT:?}")]
    Timeout { url: String },
    #[error("{url} answered {status}: {body}")]
    Unhealthy {
        url: String,
        status: String,
        body: String,
    },
}

/// The health URL of the dashboard this config serves: its listen port on loopback when it
/// listens on every address (0.0.0.0 or ::), and its base path.
pub fn url(config: &Config) -> String {
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        let loopback: std::net::IpAddr = if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        addr = SocketAddr::new(loopback, addr.port());
    }
    format!("http://{addr}{}/healthz", config.base_path)
}

/// GET `url`; `Ok` only for a 200 answer.
pub async fn check(url: &str) -> Result<(), HealthError> {
    match tokio::time::timeout(TIMEOUT, get(url)).await {
        Ok(result) => result,
        Err(_) => Err(HealthError::Timeout { url: url.into() }),
    }
}

async fn get(url: &str) -> Result<(), HealthError> {
    let bad_url = || HealthError::BadUrl(url.into());
    let rest = url.strip_prefix("http://").ok_or_else(bad_url)?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
        return Err(bad_url());
    }
    let unreachable = |source| HealthError::Unreachable {
        url: url.into(),
        source,
    };
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:80")
    } else {
        authority.to_string()
    };
    let mut stream = TcpStream::connect(with_port.as_str())
        .await
        .map_err(unreachable)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(unreachable)?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .await
        .map_err(unreachable)?;
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status == "200" {
        return Ok(());
    }
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .trim();
    Err(HealthError::Unhealthy {
        url: url.into(),
        status: if status.is_empty() {
            "no HTTP status".into()
        } else {
            status.into()
        },
        body: body.chars().take(200).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_uses_loopback_for_a_wildcard_listen_address() {
        let mut config = Config::default();
        assert_eq!(url(&config), "http://127.0.0.1:3000/admin/queues/healthz");
        config.listen = "0.0.0.0:8080".parse().unwrap();
        config.base_path = String::new();
        assert_eq!(url(&config), "http://127.0.0.1:8080/healthz");
        config.listen = "[::]:3000".parse().unwrap();
        assert_eq!(url(&config), "http://[::1]:3000/healthz");
    }

    #[tokio::test]
    async fn bad_urls_are_named() {
        for bad in ["https://x/healthz", "ftp://x", "http://", "http://a b/"] {
            let err = check(bad).await.unwrap_err();
            assert!(matches!(err, HealthError::BadUrl(_)), "{bad}: {err}");
        }
    }
}
