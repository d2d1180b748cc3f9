//! Who is asking: the [`authenticate`] middleware puts the request's [`Principal`] in its
//! extensions (`none`, `basic` or `proxy`), and handlers take it as an extractor.

use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::basic::basic_principal;
use super::config::{AuthMode, Secured, Security};
use super::proxy::{client_address, proxy_principal};
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::i18n::said::Said;

/// Everyone is `anonymous` with the configured role under `--auth none`.
fn anonymous(security: &Security) -> Principal {
    Principal {
        user: "anonymous".into(),
        role: security.anonymous_role,
        read_only: security.read_only,
    }
}

impl<S: Secured> FromRequestParts<S> for Principal {
    type Rejection = WebError;

    /// The principal the authentication middleware found; without that middleware (a router
    /// used bare), only `--auth none` has one: anonymous with the configured role.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let security = state.security();
        match security.mode {
            AuthMode::None => Ok(anonymous(security)),
            _ => Err(WebError::Unauthorized(Said::new("security.sign_in"))),
        }
    }
}

/// Put the request's [`Principal`] in its extensions, or answer 401 / 403.
///
/// `{base}/healthz`, `{base}/readyz` and `{base}/static/...` pass without credentials: probes have
/// none, and the error page asking for them needs its stylesheet.
pub async fn authenticate<S: Secured>(
    State(state): State<S>,
    mut request: Request,
    next: Next,
) -> Response {
    let security = state.security();
    let principal = match security.mode {
        AuthMode::None => Ok(anonymous(security)),
        _ if is_public_path(&state, &request) => return next.run(request).await,
        AuthMode::Basic => {
            // Owned before any await: a borrowed request would make this future !Send.
            let header = request
                .headers()
                .get(header::AUTHORIZATION)
                .map(|value| value.as_bytes().to_vec());
            let client = client_address(security, &request);
            basic_principal(security, header, client).await
        }
        AuthMode::Proxy => proxy_principal(security, &request),
    };
    match principal {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

/// The path as the client sent it: inside a nested router the URI has lost the base path.
pub(super) fn full_path(request: &Request) -> &str {
    request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |uri| uri.path())
}

/// The path below the base path; `None` outside it. Taken from the full path, so it does not
/// matter whether these layers sit inside the nested router or outside it.
pub(super) fn relative_path<'r>(state: &impl Secured, request: &'r Request) -> Option<&'r str> {
    full_path(request).strip_prefix(state.mount_base())
}

/// Exact matches only: anything else (`/healthz/`, `//healthz`, a queue named `healthz`) needs
/// credentials, so a path trick can only make a public path private, never the other way round.
fn is_public_path(state: &impl Secured, request: &Request) -> bool {
    relative_path(state, request)
        .is_some_and(|path| path == "/healthz" || path == "/readyz" || path.starts_with("/static/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Mounted(Security, &'static str);

    impl Secured for Mounted {
        fn security(&self) -> &Security {
            &self.0
        }

        fn mount_base(&self) -> &str {
            self.1
        }
    }

    fn request(path: &str) -> Request {
        Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn only_probes_and_static_files_are_public_and_only_exactly() {
        let state = Mounted(Security::default(), "/admin");
        for public in ["/admin/healthz", "/admin/readyz", "/admin/static/app.css"] {
            assert!(is_public_path(&state, &request(public)), "{public}");
        }
        for private in [
            "/admin/healthz/",
            "/admin//healthz",
            "/admin/queues/healthz",
            "/healthz",
            "/admin",
        ] {
            assert!(!is_public_path(&state, &request(private)), "{private}");
        }
    }

    #[tokio::test]
    async fn without_the_middleware_only_no_auth_has_a_principal() {
        let none = Mounted(
            Security {
                anonymous_role: crate::queue::access::Role::Operator,
                ..Security::default()
            },
            "",
        );
        let (mut parts, _) = request("/").into_parts();
        let principal = Principal::from_request_parts(&mut parts, &none)
            .await
            .unwrap();
        assert_eq!(principal.user, "anonymous");
        assert_eq!(principal.role, crate::queue::access::Role::Operator);
        let basic = Mounted(
            Security {
                mode: AuthMode::Basic,
                ..Security::default()
            },
            "",
        );
        let (mut parts, _) = request("/").into_parts();
        let refused = Principal::from_request_parts(&mut parts, &basic).await;
        assert!(matches!(refused, Err(WebError::Unauthorized(_))));
    }
}
