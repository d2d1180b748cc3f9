//! The headers every response carries: a Content-Security-Policy that allows only this
//! dashboard's own files (no inline script or style, no frames unless `frame_ancestors` names
//! who may frame it, forms posting only here), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: same-origin`, and `Cache-Control: no-store` on everything that does not set
//! its own caching (pages and JSON carry job data; the static files keep theirs).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::config::{Secured, Security};

/// Add the security headers to every response.
pub async fn security_headers<S: Secured>(
    State(state): State<S>,
    request: Request,
    next: Next,
) -> Response {
    let security = state.security();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(security)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if security.frame_ancestors.is_empty() {
        // For browsers that predate `frame-ancestors`.
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The policy: this dashboard's own files only, and framing only by `frame_ancestors` (which
/// `config` checked are origins, so they cannot end the directive).
pub fn content_security_policy(security: &Security) -> String {
    let ancestors = if security.frame_ancestors.is_empty() {
        "'none'".to_string()
    } else {
        security.frame_ancestors.join(" ")
    };
    format!(
        "default-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors {ancestors}"
    )
}

/// Whether `text` is an origin that may go into `frame-ancestors`: `http(s)://host[:port]`, made
/// only of host characters (nothing that would end the directive or the header).
pub fn is_frame_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let rest = rest.strip_prefix("*.").unwrap_or(rest);
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_refused_unless_origins_are_named() {
        let policy = content_security_policy(&Security::default());
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let framed = Security {
            frame_ancestors: vec!["https://app.example.com".into()],
            ..Security::default()
        };
        assert!(
            content_security_policy(&framed).ends_with("frame-ancestors https://app.example.com")
        );
    }

    #[test]
    fn only_origins_may_frame() {
        for ok in [
            "https://app.example.com",
            "http://localhost:8080",
            "https://*.example.com",
        ] {
            assert!(is_frame_origin(ok), "{ok}");
        }
        for bad in [
            "app.example.com",
            "https://a.example; script-src *",
            "https://a.example/path",
            "'self'",
            "https://",
            "https://a b",
        ] {
            assert!(!is_frame_origin(bad), "{bad}");
        }
    }
}
