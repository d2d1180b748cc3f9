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
