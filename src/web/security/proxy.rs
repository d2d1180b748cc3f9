//! Requests through a reverse proxy: whether the connection comes from a trusted proxy, and
//! `--auth proxy`, where that proxy names the user (and their groups) in headers.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request};

use super::config::Security;
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::i18n::said::Said;

pub(super) fn proxy_principal(
    security: &Security,
    request: &Request,
) -> Result<Principal, WebError> {
    // Anyone who can reach the port directly could set the user header, so it means nothing
    // unless the connection itself comes from a configured proxy.
    if !from_trusted_proxy(security, request) {
        return Err(WebError::Forbidden(Said::new("security.proxy_only")));
    }
    let headers = request.headers();
    let proxy = &security.proxy;
    // Two user headers mean something in between added one: which is true cannot be told.
    let mut users = headers.get_all(proxy.user_header.as_str()).iter();
    let user = match (users.next(), users.next()) {
        (_, Some(_)) => {
            return Err(WebError::BadRequest(i18n::tf(
                "security.proxy_user_twice",
                &[("header", &proxy.user_header)],
            )));
        }
        (user, None) => user,
    };
    let user = user
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|user| !user.is_empty())
        .ok_or_else(|| WebError::Unauthorized(Said::new("security.proxy_sign_in")))?;
    check_user_name(user)?;
    let group_values = match &proxy.groups_header {
        Some(name) => {
            let values: Vec<_> = headers.get_all(name.as_str()).iter().collect();
            if values.len() > 1 {
                return Err(WebError::BadRequest(i18n::tf(
                    "security.proxy_groups_twice",
                    &[("header", &name)],
                )));
            }
            values
        }
        None => Vec::new(),
    };
    let groups = group_values
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
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

/// A user name (from basic authentication or the proxy) is refused when it has control
/// characters: a newline in it would forge lines in the log and the audit trail.
pub(super) fn check_user_name(name: &str) -> Result<(), WebError> {
    if name.chars().any(char::is_control) {
        return Err(WebError::BadRequest(
            i18n::t("security.user_control_chars").into(),
        ));
    }
    Ok(())
}

/// The address of the connection's peer; `None` without `ConnectInfo` (a router served
/// without `into_make_service_with_connect_info`).
fn peer_address(request: &Request) -> Option<IpAddr> {
    // `MockConnectInfo` is what tests (and apps serving through `oneshot`) provide instead.
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer)
        .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0))?;
    // On a dual-stack listener an IPv4 proxy shows up as ::ffff:a.b.c.d.
    Some(peer.ip().to_canonical())
}

/// The connection's peer is one of `trusted_proxies`. Without a known peer nobody is trusted.
pub(super) fn from_trusted_proxy(security: &Security, request: &Request) -> bool {
    peer_address(request).is_some_and(|peer| {
        security
            .trusted_proxies
            .iter()
            .any(|proxy| proxy.to_canonical() == peer)
    })
}

/// The client's address, for limits per client: the peer's, or from a trusted proxy the last
/// address of `X-Forwarded-For` (the one that proxy saw; any earlier one the client could
/// have written itself).
pub(super) fn client_address(security: &Security, request: &Request) -> Option<IpAddr> {
    let peer = peer_address(request);
    if !from_trusted_proxy(security, request) {
        return peer;
    }
    request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .or(peer)
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

    #[test]
    fn two_user_or_group_headers_and_control_characters_are_refused() {
        let security = security();
        let refused = |headers: &[(&str, &str)]| {
            matches!(
                proxy_principal(&security, &request("10.0.0.1:1", headers)),
                Err(WebError::BadRequest(_))
            )
        };
        assert!(refused(&[
            ("X-Forwarded-User", "ann"),
            ("X-Forwarded-User", "eve")
        ]));
        assert!(refused(&[
            ("X-Forwarded-User", "ann"),
            ("X-Groups", "dev"),
            ("X-Groups", "admins")
        ]));
        assert!(refused(&[("X-Forwarded-User", "ann\tadmin")]));
        assert!(!refused(&[
            ("X-Forwarded-User", "ann"),
            ("X-Groups", "dev")
        ]));
    }

    #[test]
    fn the_client_is_the_peer_or_the_address_a_trusted_proxy_saw() {
        let security = security();
        let forwarded = [("X-Forwarded-For", "1.1.1.1, 192.0.2.7")];
        let via_proxy = request("10.0.0.1:1", &forwarded);
        assert_eq!(
            client_address(&security, &via_proxy),
            Some("192.0.2.7".parse().unwrap())
        );
        let direct = request("10.0.0.9:1", &forwarded);
        assert_eq!(
            client_address(&security, &direct),
            Some("10.0.0.9".parse().unwrap())
        );
    }
}
