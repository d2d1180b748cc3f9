//! Which connection a request is about. Another connection's pages live under
//! `{base}/c/{name}/...`; `?connection=NAME` on any other address is routed there
//! ([`route_connection_query`]), so it works wherever `?prefix=` does. On those pages the
//! principal that authentication found is capped to what the connection allows (`max_role`,
//! `read_only`, [`cap_principal`]), so every page offers only the actions the core would take
//! (the core caps it again).

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

use crate::queue::access::Principal;
use crate::queue::model::DEFAULT_CONNECTION;
use crate::web::links::connection_base;
use crate::web::state::AppState;

/// Replace the request's principal by the one the connection of `state` sees.
pub async fn cap_principal(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(principal) = request.extensions_mut().get_mut::<Principal>() {
        *principal = state.connection().cap(principal);
    }
    next.run(request).await
}

/// `{base}{rest}?...connection=NAME...` → `{base}/c/{NAME}{rest}?...` when NAME is not `default`
/// and the path is not already a connection's; any other request is left as it is. An unknown
/// name then finds no page (404).
pub fn route_connection_query(mut request: Request, base: &str) -> Request {
    let uri = request.uri();
    let Some(name) = uri.query().and_then(connection_param) else {
        return request;
    };
    let path = uri.path();
    let Some(rest) = path.strip_prefix(base) else {
        return request;
    };
    if name == DEFAULT_CONNECTION || rest.starts_with("/c/") {
        return request;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target = format!("{}{rest}{query}", connection_base(base, &name));
    if let Ok(rewritten) = target.parse::<Uri>() {
        *request.uri_mut() = rewritten;
    }
    request
}

/// The value of `connection=` in a query string (names are plain: no decoding needed, and a
/// name with anything else in it names no connection).
fn connection_param(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("connection="))
        .filter(|name| !name.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(uri: &str, base: &str) -> String {
        let request = Request::builder().uri(uri).body(axum::body::Body::empty());
        route_connection_query(request.unwrap(), base)
            .uri()
            .to_string()
    }

    #[test]
    fn the_connection_query_routes_to_the_connections_pages() {
        assert_eq!(
            routed("/admin/api/queues?connection=prod", "/admin"),
            "/admin/c/prod/api/queues?connection=prod"
        );
        assert_eq!(
            routed("/admin?connection=prod&q=x", "/admin"),
            "/admin/c/prod/?connection=prod&q=x"
        );
        assert_eq!(
            routed("/queues/mail?prefix=b&connection=eu", ""),
            "/c/eu/queues/mail?prefix=b&connection=eu"
        );
        for same in [
            "/admin/api/queues?connection=default",
            "/admin/api/queues?prefix=bull",
            "/admin/c/prod/api/queues?connection=eu",
            "/elsewhere?connection=prod",
        ] {
            assert_eq!(routed(same, "/admin"), same);
        }
    }
}
