//! The Host check against DNS rebinding: a page on another site can point its own name at
//! 127.0.0.1 and then talk to the dashboard as a same-origin page would, but the browser still
//! sends that name in `Host`. So every request must name a host this dashboard answers to:
//! loopback (`localhost`, `*.localhost`, 127.0.0.0/8, ::1), the listen address (any IP address
//! when it listens on all of them: an address cannot be rebound), `public_url`'s host and the
//! `allowed_hosts` setting (`*` answers any host). Anything else is a 421.
//!
//! From a trusted proxy, the host the browser used is in `X-Forwarded-Host` (the first of a
//! chain), and that is checked instead of `Host`. A request with no host at all (HTTP/1.0, or an
//! app or test calling the router with `oneshot`) passes: every browser sends one.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::config::{Secured, Security};
use super::proxy::from_trusted_proxy;
use crate::web::error::WebError;
use crate::web::i18n::said::Said;

/// The longest host name (DNS allows 253 characters).
const MAX_HOST: usize = 253;

/// Refuse, with a 421, a request for a host this dashboard does not answer to.
pub async fn check_host<S: Secured>(
    State(state): State<S>,
    request: Request,
    next: Next,
) -> Response {
    match host_problem(state.security(), &request) {
        None => next.run(request).await,
        Some(reason) => {
            tracing::warn!(path = %request.uri().path(), reason = %reason, "request for another host refused");
            WebError::MisdirectedRequest(reason).into_response()
        }
    }
}

/// A host in a request or a setting: an IP address, or a lowercase name without a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// `example.com`, `Example.COM.:8080`, `127.0.0.1:3000`, `[::1]:3000` → the host without its
/// port; `None` for anything that is not a host (a bare IPv6 address needs its brackets).
pub fn parse_host(text: &str) -> Option<Host> {
    let text = text.trim();
    let digits = |port: &str| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(digits);
        let ip: std::net::Ipv6Addr = inside.parse().ok()?;
        return port_ok.then_some(Host::Ip(IpAddr::V6(ip)));
    }
    let name = match text.rsplit_once(':') {
        Some((name, port)) if digits(port) => name,
        Some(_) => return None,
        None => text,
    };
    // One final dot is the root of DNS (`example.com.`); the address then reads as without it.
    let name = name.strip_suffix('.').unwrap_or(name);
    if let Ok(ip) = name.parse::<std::net::Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(ip)));
    }
    let name = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= MAX_HOST
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then_some(Host::Name(name))
}

/// The host of an origin such as `https://ops.example.com:8443`.
fn origin_host(url: &str) -> Option<Host> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    parse_host(rest.split('/').next()?)
}

/// Why this request may not be answered, or `None` when it may.
fn host_problem(security: &Security, request: &Request) -> Option<Said> {
    let headers = request.headers();
    if from_trusted_proxy(security, request)
        && let Some(forwarded) = headers.get("x-forwarded-host")
    {
        let first = forwarded
            .to_str()
            .ok()
            .and_then(|value| value.split(',').next());
        return problem(security, first, "X-Forwarded-Host");
    }
    let mut hosts = headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => Some(Said::new("security.host_many")),
        (Some(host), None) => problem(security, host.to_str().ok(), "Host"),
        // HTTP/2 carries the host in the request line (`:authority`); without either, the
        // request did not come from a browser.
        (None, _) => match request.uri().authority() {
            Some(authority) => problem(security, Some(authority.as_str()), "Host"),
            None => None,
        },
    }
}

fn problem(security: &Security, given: Option<&str>, header: &str) -> Option<Said> {
    let Some(host) = given.and_then(parse_host) else {
        return Some(Said::new("security.host_header_bad").with("header", header));
    };
    if answers_to(security, &host) {
        return None;
    }
    // Only the parsed host is repeated: it is made of host-name characters.
    Some(
        Said::new("security.host_other")
            .with("host", host)
            .with("header", header),
    )
}

/// Whether the dashboard answers to `host`.
pub fn answers_to(security: &Security, host: &Host) -> bool {
    let listen = security.listen.map(|addr| addr.ip().to_canonical());
    let named = |name: &str| {
        security.allowed_hosts.iter().any(|allowed| {
            allowed == "*"
                || allowed == name
                || allowed
                    .strip_prefix("*.")
                    .is_some_and(|domain| name.ends_with(&format!(".{domain}")))
        })
    };
    let public = security.public_url.as_deref().and_then(origin_host);
    if public.as_ref() == Some(host) {
        return true;
    }
    match host {
        Host::Ip(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback()
                || listen.is_some_and(|listen| listen == ip || listen.is_unspecified())
                || named(&ip.to_string())
        }
        Host::Name(name) => name == "localhost" || name.ends_with(".localhost") || named(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_with_or_without_ports() {
        let name = |n: &str| Some(Host::Name(n.into()));
        assert_eq!(parse_host("Example.COM.:8080"), name("example.com"));
        assert_eq!(parse_host("localhost"), name("localhost"));
        assert_eq!(
            parse_host("127.0.0.1:3000"),
            Some(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            parse_host("[::1]:3000"),
            Some(Host::Ip("::1".parse().unwrap()))
        );
        for bad in [
            "",
            "::1",
            "a b",
            "a..b",
            "[::1]x",
            "host:port",
            "ex/ample",
            ".x",
            "a..",
            "example.com..:80",
        ] {
            assert_eq!(parse_host(bad), None, "{bad:?}");
        }
        // An address with DNS's final dot is the address: a loopback one is still loopback.
        assert_eq!(
            parse_host("127.0.0.1.:3000"),
            Some(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        // What is parsed, written back, parses to itself.
        for text in ["Example.COM.", "a-b.c_d", "127.0.0.1.", "LOCALHOST."] {
            let host = parse_host(text).unwrap();
            assert_eq!(parse_host(&host.to_string()), Some(host), "{text:?}");
        }
    }

    #[test]
    fn loopback_the_listen_address_public_url_and_allowed_hosts_are_answered() {
        let security = Security {
            listen: Some("192.168.1.5:3000".parse().unwrap()),
            public_url: Some("https://ops.example.com".into()),
            allowed_hosts: vec!["dash.internal".into(), "*.corp.example".into()],
            ..Security::default()
        };
        for ok in [
            "localhost:3000",
            "app.localhost",
            "127.0.0.2",
            "[::1]:3000",
            "192.168.1.5:3000",
            "ops.example.com",
            "dash.internal:3000",
            "a.corp.example",
        ] {
            assert!(answers_to(&security, &parse_host(ok).unwrap()), "{ok}");
        }
        for refused in [
            "rebind.example.test:3000",
            "192.168.1.6",
            "example.com",
            "corp.example",
            "localhost.evil.example",
        ] {
            assert!(
                !answers_to(&security, &parse_host(refused).unwrap()),
                "{refused}"
            );
        }
        let everywhere = Security {
            listen: Some("0.0.0.0:3000".parse().unwrap()),
            ..Security::default()
        };
        assert!(answers_to(&everywhere, &parse_host("10.1.2.3").unwrap()));
        assert!(!answers_to(
            &everywhere,
            &parse_host("evil.example").unwrap()
        ));
        let any = Security {
            allowed_hosts: vec!["*".into()],
            ..Security::default()
        };
        assert!(answers_to(&any, &parse_host("evil.example").unwrap()));
    }
}
