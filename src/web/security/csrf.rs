//! Cross-site request forgery: state-changing requests a browser sent on behalf of another
//! site are refused, by `Sec-Fetch-Site` or else by comparing `Origin` / `Referer` with this
//! dashboard's own origin. Read-only mode refuses every state-changing request here too.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::full_path;
use super::config::{Secured, Security};
use super::proxy::from_trusted_proxy;
use crate::web::error::WebError;
use crate::web::i18n::{self, said::Said};

/// Refuse state-changing requests that a browser sent on behalf of another site, and every
/// state-changing request in read-only mode.
///
/// Only `POST` changes state (anything else but GET / HEAD / OPTIONS is 405). A browser says
/// where a request comes from in `Sec-Fetch-Site`; older ones only in `Origin` or `Referer`,
/// which must then match this server's origin. A request with none of the three did not come
/// from a browser page (curl, scripts using the JSON API), so there is no victim to protect.
pub async fn csrf<S: Secured>(State(state): State<S>, request: Request, next: Next) -> Response {
    let method = request.method();
    if method == Method::GET || method == Method::HEAD {
        return next.run(request).await;
    }
    let security = state.security();
    // Defence in depth: handlers check `Principal::may` too, but a route that forgot to would
    // still not reach Redis.
    if security.read_only {
        return refuse(&request, Said::new("security.read_only"));
    }
    if method == Method::OPTIONS {
        return next.run(request).await;
    }
    if method != Method::POST {
        return method_not_allowed(&request);
    }
    if let Err(reason) = same_origin(security, &request) {
        return refuse(&request, reason);
    }
    next.run(request).await
}

fn refuse(request: &Request, reason: Said) -> Response {
    tracing::warn!(method = %request.method(), path = %full_path(request), reason = %reason, "request refused");
    WebError::Forbidden(reason).into_response()
}

/// 405, rendered as every other error (with its `Allow` header).
fn method_not_allowed(request: &Request) -> Response {
    let message = i18n::tf("error.method", &[("method", request.method())]);
    WebError::MethodNotAllowed(message).into_response()
}

fn same_origin(security: &Security, request: &Request) -> Result<(), Said> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user started the request themselves (address bar, bookmark).
        return match site.to_str().map(str::trim) {
            Ok(site) if site.eq_ignore_ascii_case("same-origin") => Ok(()),
            Ok(site) if site.eq_ignore_ascii_case("none") => Ok(()),
            _ => Err(Said::new("security.cross_site")),
        };
    }
    let claimed = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return Ok(()),
    };
    // An unreadable or opaque origin (`Origin: null` from a sandboxed frame) cannot be shown
    // to be ours, so it is refused like a foreign one.
    let claimed = claimed.to_str().ok().and_then(normalize_origin);
    let own = own_origin(security, request);
    match (claimed, own) {
        (Some(claimed), Some(own)) if claimed == own => Ok(()),
        _ => Err(Said::new("security.cross_site_origin")),
    }
}

/// This server's origin as the browser sees it: the configured public URL; else, from a trusted
/// proxy, its `X-Forwarded-Proto` / `X-Forwarded-Host`; else plain http and the `Host` header.
fn own_origin(security: &Security, request: &Request) -> Option<String> {
    if let Some(url) = &security.public_url {
        return normalize_origin(url);
    }
    let headers = request.headers();
    let trusted = from_trusted_proxy(security, request);
    // A chain of proxies lists one value per hop; the first is what the browser used.
    let forwarded = |name: &str| {
        trusted
            .then(|| headers.get(name)?.to_str().ok())
            .flatten()
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
    let host = match forwarded("x-forwarded-host") {
        Some(host) => host,
        None => match headers.get(header::HOST) {
            Some(host) => host.to_str().ok()?,
            // HTTP/2 carries the host in the request line (`:authority`), not in `Host`.
            None => request.uri().authority()?.as_str(),
        },
    };
    normalize_origin(&format!("{scheme}://{host}"))
}

/// `HTTPS://Ops.Example.com:443/some/path` → `https://ops.example.com`: scheme and host in
/// lower case, the default port (80 for http, 443 for https) dropped, path, query and user
/// info dropped. `None` for anything that is not `scheme://host[:port]...`.
fn normalize_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let authority = authority.to_ascii_lowercase();
    let (host, port) = if authority.starts_with('[') {
        // An IPv6 literal: the port, if any, follows the closing bracket.
        let end = authority.find(']')?;
        let port = &authority[end + 1..];
        let port = if port.is_empty() {
            None
        } else {
            Some(port.strip_prefix(':')?)
        };
        (&authority[..=end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority.as_str(), None),
        }
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let port = match port.filter(|port| !port.is_empty()) {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(match port.filter(|port| Some(*port) != default_port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_case_default_ports_or_paths() {
        let same = [
            ("http://Example.com", "http://example.com:80"),
            ("HTTPS://example.com:443/a/b?c#d", "https://example.com"),
            ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
            ("http://[::1]:3000", "http://[::1]:3000/x"),
            ("https://user:pw@example.com", "https://example.com"),
            ("http://example.com:", "http://example.com"),
        ];
        for (a, b) in same {
            assert_eq!(normalize_origin(a), normalize_origin(b), "{a} vs {b}");
            assert!(normalize_origin(a).is_some(), "{a}");
        }
        let different = [
            ("http://example.com", "https://example.com"),
            ("http://example.com:8080", "http://example.com"),
            ("https://example.com:80", "https://example.com"),
            ("http://evil.example.com", "http://example.com"),
        ];
        for (a, b) in different {
            assert_ne!(normalize_origin(a), normalize_origin(b), "{a} vs {b}");
        }
        for bad in [
            "null",
            "",
            "example.com",
            "http://",
            "http://host:99999",
            "1http://x",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad:?}");
        }
    }
}
