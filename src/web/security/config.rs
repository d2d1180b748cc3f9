//! The security settings, as `config` validates them: how users are identified, the basic
//! users, the proxy's headers, read-only mode, which proxies are trusted, which host names the
//! dashboard answers to and who may frame it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde::Deserialize;

use super::throttle::FailedLogins;
use crate::queue::access::Role;

/// How users are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Everyone is `anonymous` with `anonymous_role`; only on loopback unless allowed.
    #[default]
    None,
    /// HTTP basic authentication against users with argon2 password hashes.
    Basic,
    /// A user header set by a reverse proxy, trusted only from `trusted_proxies`.
    Proxy,
}

/// A name that is not an [`AuthMode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not an auth mode (none, basic or proxy)")]
pub struct UnknownAuthMode {
    pub given: String,
}

impl FromStr for AuthMode {
    type Err = UnknownAuthMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(AuthMode::None),
            "basic" => Ok(AuthMode::Basic),
            "proxy" => Ok(AuthMode::Proxy),
            other => Err(UnknownAuthMode {
                given: other.to_string(),
            }),
        }
    }
}

/// A `[[auth.users]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicUser {
    pub name: String,
    /// An argon2 PHC string, as printed by `bullring hash-password`.
    pub password_hash: String,
    pub role: Role,
}

/// `[auth.proxy]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyAuth {
    pub user_header: String,
    pub groups_header: Option<String>,
    /// Role of a proxied user whose groups map to no role.
    pub default_role: Role,
    /// Group name → role; a user gets the highest role of their groups.
    pub group_roles: std::collections::BTreeMap<String, Role>,
}

impl Default for ProxyAuth {
    fn default() -> Self {
        ProxyAuth {
            user_header: "X-Forwarded-User".into(),
            groups_header: None,
            default_role: Role::Viewer,
            group_roles: Default::default(),
        }
    }
}

/// Everything the security middleware needs, validated by `config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    pub mode: AuthMode,
    pub users: Vec<BasicUser>,
    pub proxy: ProxyAuth,
    /// Role of everyone when `mode` is `none`.
    pub anonymous_role: Role,
    pub read_only: bool,
    /// The public origin (`https://ops.example.com`) when behind a proxy; used by the CSRF check.
    pub public_url: Option<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-*` and user headers are trusted.
    pub trusted_proxies: Vec<IpAddr>,
    /// Honour `X-Forwarded-Prefix` from `trusted_proxies`: the proxy strips that prefix before
    /// forwarding, so every link, form action, asset URL, redirect and cookie path gets it back.
    pub trust_forwarded_prefix: bool,
    /// Host names the dashboard answers to besides loopback, the listen address and
    /// `public_url`'s host (`web::security::host`); `*` answers any host.
    pub allowed_hosts: Vec<String>,
    /// The address the server listens on; `None` for a router an app serves itself.
    pub listen: Option<SocketAddr>,
    /// Origins allowed to show the pages in a frame (CSP `frame-ancestors`); empty: nobody.
    pub frame_ancestors: Vec<String>,
    /// Failed basic logins by client address (state, not a setting: shared by clones).
    pub failed_logins: FailedLogins,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            mode: AuthMode::None,
            users: Vec::new(),
            proxy: ProxyAuth::default(),
            anonymous_role: Role::Admin,
            read_only: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            trust_forwarded_prefix: false,
            allowed_hosts: Vec::new(),
            listen: None,
            frame_ancestors: Vec::new(),
            failed_logins: FailedLogins::default(),
        }
    }
}

/// State the security middleware and the [`crate::queue::access::Principal`] extractor run
/// with: the settings, and the path the dashboard is mounted at.
pub trait Secured: Clone + Send + Sync + 'static {
    fn security(&self) -> &Security;
    /// The base path this server itself is mounted at ("" or "/admin/queues").
    fn mount_base(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_no_auth_with_everyone_admin() {
        let security = Security::default();
        assert_eq!(security.mode, AuthMode::None);
        assert_eq!(security.anonymous_role, Role::Admin);
        assert!(!security.read_only && !security.trust_forwarded_prefix);
        assert_eq!(ProxyAuth::default().user_header, "X-Forwarded-User");
        assert_eq!(ProxyAuth::default().default_role, Role::Viewer);
    }

    #[test]
    fn auth_modes_parse_without_case() {
        assert_eq!(" Basic ".parse::<AuthMode>(), Ok(AuthMode::Basic));
        assert_eq!("proxy".parse::<AuthMode>(), Ok(AuthMode::Proxy));
        assert_eq!("NONE".parse::<AuthMode>(), Ok(AuthMode::None));
        assert!("oauth".parse::<AuthMode>().is_err());
    }
}
