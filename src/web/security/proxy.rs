//! Requests through a reverse proxy: whether the connection comes from a trusted proxy, and
//! `--auth proxy`, where that proxy names the user (and their groups) in headers.

use std::net::SocketAddr;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request};

use super::config::Security;
use crate::queue::access::Principal;
use crate::web::error::WebError;

pub(super) fn proxy_principal(
    security: &Security,
    request: &Request,
) -> Result<Principal, WebError> {
    // Anyone who can reach the port directly could set the user header, so it means nothing
    // unless the connection itself comes from a configured proxy.
    if !from_trusted_proxy(security, request) {
        return Err(WebError::Forbidden(
            "This dashboard only accepts requests through its configured proxy.".into(),
        ));
    }
    let headers = request.headers();
    let proxy = &security.proxy;
    let user = headers
        .get(proxy.user_header.as_str())
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|user| !user.is_empty())
        .ok_or_else(|| {
            WebError::Unauthorized(
                "Sign in through the proxy in front of this dashboard; it did not say who you are."
                    .into(),
            )
        })?;
    let groups = proxy.groups_header.as_deref().into_iter().flat_map(|name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
    });
    let role = groups
        .filter_map(|group| proxy.group_roles.get(group).copied())
        .max()
        .unwrap_or(proxy.default_role);
    Ok(Principal {
        user: user.to_string(),
        role,
        read_only: security.read_only,
    })
}

/// The connection's peer is one of `trusted_proxies`. Without `ConnectInfo` (a router served
/// without `into_make_service_with_connect_info`) nobody is trusted.
pub(super) fn from_trusted_proxy(security: &Security, request: &Request) -> bool {
    // `MockConnectInfo` is what tests (and apps serving through `oneshot`) provide instead.
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer)
        .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0));
    let Some(peer) = peer else {
        return false;
    };
    // On a dual-stack listener an IPv4 proxy shows up as ::ffff:a.b.c.d.
    let peer = peer.ip().to_canonical();
    security
        .trusted_proxies
        .iter()
        .any(|proxy| proxy.to_canonical() == peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::access::Role;
    use crate::web::security::config::ProxyAuth;

    fn security() -> Security {
        let mut proxy = ProxyAuth {
            groups_header: Some("X-Groups".into()),
            ..ProxyAuth::default()
        };
        proxy.group_roles.insert("ops".into(), Role::Operator);
        proxy.group_roles.insert("admins".into(), Role::Admin);
        Security {
            trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
            proxy,
            ..Security::default()
        }
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(axum::body::Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    #[test]
    fn only_a_configured_proxy_is_trusted_ipv4_mapped_included() {
        let security = security();
        assert!(from_trusted_proxy(
            &security,
            &request("10.0.0.1:4000", &[])
        ));
        assert!(from_trusted_proxy(
            &security,
            &request("[::ffff:10.0.0.1]:4000", &[])
        ));
        assert!(!from_trusted_proxy(
            &security,
            &request("10.0.0.2:4000", &[])
        ));
        let bare = Request::builder().body(axum::body::Body::empty()).unwrap();
        assert!(!from_trusted_proxy(&security, &bare), "no peer, no trust");
    }

    #[test]
    fn the_proxy_names_the_user_and_the_highest_role_of_their_groups() {
        let security = security();
        let user = [("X-Forwarded-User", "ann"), ("X-Groups", "dev, ops,admins")];
        let ann = proxy_principal(&security, &request("10.0.0.1:1", &user)).unwrap();
        assert_eq!((ann.user.as_str(), ann.role), ("ann", Role::Admin));
        let plain = [("X-Forwarded-User", "bob")];
        let bob = proxy_principal(&security, &request("10.0.0.1:1", &plain)).unwrap();
        assert_eq!(bob.role, Role::Viewer);
        let nobody = proxy_principal(&security, &request("10.0.0.1:1", &[]));
        assert!(matches!(nobody, Err(WebError::Unauthorized(_))));
        let direct = proxy_principal(&security, &request("10.0.0.9:1", &user));
        assert!(matches!(direct, Err(WebError::Forbidden(_))));
    }
}
