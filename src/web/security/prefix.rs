//! `X-Forwarded-Prefix`: a trusted proxy that strips a path prefix before forwarding says so,
//! and every URL the dashboard writes for that request gets the prefix back.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::config::Secured;
use super::proxy::from_trusted_proxy;
use crate::web::public_base;

/// The longest `X-Forwarded-Prefix` accepted.
const MAX_FORWARDED_PREFIX: usize = 256;

/// Serve the request with the public base path the proxy in front says it strips: with
/// `trust_forwarded_prefix` on and the peer a trusted proxy, a valid `X-Forwarded-Prefix`
/// becomes part of the base path (`web::public_base`) for the whole request (page, error page, redirect).
/// From anyone else the header is ignored; an invalid one from a trusted proxy is a 400.
pub async fn forwarded_prefix<S: Secured>(
    State(state): State<S>,
    request: Request,
    next: Next,
) -> Response {
    let security = state.security();
    if !security.trust_forwarded_prefix || !from_trusted_proxy(security, &request) {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get("x-forwarded-prefix") else {
        return next.run(request).await;
    };
    match value
        .to_str()
        .map_err(|_| "it is not ASCII text")
        .and_then(parse_prefix)
    {
        Ok(prefix) => {
            let public = format!("{prefix}{}", state.mount_base());
            public_base::scope(public, next.run(request)).await
        }
        Err(problem) => {
            tracing::warn!(problem, "bad X-Forwarded-Prefix from a trusted proxy");
            // Plain text: an error page would write links with a base path nobody can trust.
            let message =
                format!("The proxy sent an unusable X-Forwarded-Prefix header: {problem}.\n");
            (StatusCode::BAD_REQUEST, message).into_response()
        }
    }
}

/// `/admin/queues/` → `/admin/queues`; `/` → ``. A path of plain segments, nothing that could
/// leave the site or an HTML attribute.
pub fn parse_prefix(text: &str) -> Result<String, &'static str> {
    let text = text.trim();
    if text.len() > MAX_FORWARDED_PREFIX {
        return Err("it is longer than 256 bytes");
    }
    if !text.starts_with('/') {
        return Err("it must start with /");
    }
    if text.contains("//") {
        return Err("it must not contain //");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~%!$&()*+,;=:@".contains(c);
    if !text.chars().all(allowed) {
        return Err("only path characters are allowed (no quotes, <, >, \\, ?, # or spaces)");
    }
    if text
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err("it must not contain . or .. segments");
    }
    Ok(text.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_prefixes_are_plain_paths() {
        assert_eq!(parse_prefix("/admin/queues"), Ok("/admin/queues".into()));
        assert_eq!(parse_prefix("/admin/queues/"), Ok("/admin/queues".into()));
        assert_eq!(parse_prefix(" /ops "), Ok("/ops".into()));
        assert_eq!(parse_prefix("/"), Ok(String::new()));
        let long = format!("/{}", "a".repeat(MAX_FORWARDED_PREFIX));
        for bad in [
            "",
            "admin",
            "//evil.example.com",
            "/a//b",
            "/a\"<script>",
            "/a'b",
            "/a<b",
            "/a>b",
            "/a b",
            "/a?x=1",
            "/a#x",
            "/a\\b",
            "/a/../b",
            "/./a",
            long.as_str(),
        ] {
            assert!(parse_prefix(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
