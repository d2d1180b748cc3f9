//! Authentication, roles, read-only mode, trusted proxies, the CSRF origin, the host names
//! answered and who may frame the pages: the `[auth]` table and its flags, checked together (a mode that needs users or proxies gets them, an
//! anonymous dashboard does not listen beyond loopback unless told so).

use std::net::SocketAddr;

use super::cli::Settings;
use super::error::{ConfigError, bad};
use super::file::FileConfig;
use super::values::{parse_bool, pick_list};
use crate::web::security::config::UnknownAuthMode;
use crate::web::security::headers::is_frame_origin;
use crate::web::security::host::parse_host;
use crate::web::security::{AuthMode, BasicUser, ProxyAuth, Role, Security};

/// The security settings the file gives, before flags and environment.
pub(super) fn file_security(file: &FileConfig) -> FileSecurity {
    FileSecurity {
        mode: file.auth.mode,
        anonymous_role: file.auth.anonymous_role,
        users: file.auth.users.clone(),
        proxy: file.auth.proxy.clone(),
        read_only: file.read_only,
        allow_anonymous: file.allow_anonymous,
        public_url: file.public_url.clone(),
        trusted_proxies: file.trusted_proxies.clone(),
        trust_forwarded_prefix: file.trust_forwarded_prefix,
        allowed_hosts: file.allowed_hosts.clone(),
        frame_ancestors: file.frame_ancestors.clone(),
    }
}

pub(super) struct FileSecurity {
    mode: Option<AuthMode>,
    anonymous_role: Option<Role>,
    users: Vec<BasicUser>,
    proxy: ProxyAuth,
    read_only: Option<bool>,
    allow_anonymous: Option<bool>,
    public_url: Option<String>,
    trusted_proxies: Vec<String>,
    trust_forwarded_prefix: Option<bool>,
    allowed_hosts: Vec<String>,
    frame_ancestors: Vec<String>,
}

pub(super) fn security(
    cli: &Settings,
    file: &mut FileSecurity,
    listen: SocketAddr,
) -> Result<Security, ConfigError> {
    let mode = match &cli.auth {
        Some(text) => text.parse().map_err(|e: UnknownAuthMode| {
            bad("--auth (BULLRING_AUTH / [auth] mode)", e.to_string())
        })?,
        None => file.mode.unwrap_or_default(),
    };
    let read_only = match &cli.read_only {
        Some(text) => parse_bool("--read-only (BULLRING_READ_ONLY)", text)?,
        None => file.read_only.unwrap_or(false),
    };
    let allow_anonymous = match &cli.allow_anonymous {
        Some(text) => parse_bool("--allow-anonymous (BULLRING_ALLOW_ANONYMOUS)", text)?,
        None => file.allow_anonymous.unwrap_or(false),
    };
    let public_url = cli.public_url.clone().or(file.public_url.take());
    if let Some(url) = &public_url {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && !url.trim_end_matches('/').contains(['?', '#', ' ']);
        if !ok {
            return Err(bad(
                "--public-url (BULLRING_PUBLIC_URL / public_url)",
                format!("{url:?} is not an origin such as https://ops.example.com"),
            ));
        }
    }
    let proxies_text = pick_list(
        &cli.trusted_proxies,
        file.trusted_proxies.clone(),
        Vec::new(),
    );
    let mut trusted_proxies = Vec::new();
    for text in &proxies_text {
        let ip: std::net::IpAddr = text.trim().parse().map_err(|e| {
            ConfigError::caused_by(
                "--trusted-proxy (BULLRING_TRUSTED_PROXIES / trusted_proxies)",
                format!("{text:?} is not an IP address"),
                e,
            )
        })?;
        trusted_proxies.push(ip);
    }
    let trust_forwarded_prefix = match &cli.trust_forwarded_prefix {
        Some(text) => parse_bool(
            "--trust-forwarded-prefix (BULLRING_TRUST_FORWARDED_PREFIX)",
            text,
        )?,
        None => file.trust_forwarded_prefix.unwrap_or(false),
    };
    if trust_forwarded_prefix && trusted_proxies.is_empty() {
        return Err(bad(
            "--trust-forwarded-prefix (BULLRING_TRUST_FORWARDED_PREFIX / trust_forwarded_prefix)",
            "X-Forwarded-Prefix is trusted only from configured proxy addresses; give at least one --trusted-proxy",
        ));
    }
    match mode {
        AuthMode::Basic if file.users.is_empty() => {
            return Err(bad(
                "--auth basic ([[auth.users]])",
                "basic authentication needs at least one [[auth.users]] entry with a password_hash from `bullring hash-password`",
            ));
        }
        AuthMode::Proxy if trusted_proxies.is_empty() => {
            return Err(bad(
                "--auth proxy (--trusted-proxy / trusted_proxies)",
                "proxy authentication trusts the user header only from configured proxy addresses; give at least one",
            ));
        }
        AuthMode::None if !listen.ip().is_loopback() && !allow_anonymous => {
            return Err(bad(
                "--listen (BULLRING_LISTEN / listen)",
                format!(
                    "{listen} is not a loopback address and --auth is none: anyone who can reach it could act on your queues. Set --auth basic or proxy, or pass --allow-anonymous (or --read-only with --allow-anonymous) if that is intended"
                ),
            ));
        }
        _ => {}
    }
    for user in &file.users {
        if !user.password_hash.starts_with("$argon2") {
            return Err(bad(
                &format!("[[auth.users]] {:?} password_hash", user.name),
                "expected an argon2 hash from `bullring hash-password`",
            ));
        }
    }
    let allowed_hosts = allowed_hosts(pick_list(
        &cli.allowed_hosts,
        file.allowed_hosts.clone(),
        Vec::new(),
    ))?;
    let frame_ancestors = pick_list(
        &cli.frame_ancestors,
        file.frame_ancestors.clone(),
        Vec::new(),
    );
    for origin in &frame_ancestors {
        if !is_frame_origin(origin) {
            return Err(bad(
                "--frame-ancestor (BULLRING_FRAME_ANCESTORS / frame_ancestors)",
                format!("{origin:?} is not an origin such as https://app.example.com"),
            ));
        }
    }
    Ok(Security {
        mode,
        users: file.users.clone(),
        proxy: file.proxy.clone(),
        anonymous_role: file.anonymous_role.unwrap_or(Role::Admin),
        read_only,
        public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
        trusted_proxies,
        trust_forwarded_prefix,
        allowed_hosts,
        listen: Some(listen),
        frame_ancestors,
        failed_logins: Default::default(),
    })
}

/// `allowed_hosts` as the Host check compares them: `*`, `*.domain`, or a host name or address
/// without its port, lowercase.
fn allowed_hosts(given: Vec<String>) -> Result<Vec<String>, ConfigError> {
    given
        .iter()
        .map(|text| {
            let text = text.trim();
            if text == "*" {
                return Ok(text.to_string());
            }
            let (wildcard, host) = match text.strip_prefix("*.") {
                Some(domain) => ("*.", domain),
                None => ("", text),
            };
            match parse_host(host) {
                Some(host) => Ok(format!("{wildcard}{host}")),
                None => Err(bad(
                    "--allowed-host (BULLRING_ALLOWED_HOSTS / allowed_hosts)",
                    format!(
                        "{text:?} is not a host name such as ops.example.com, *.example.com or *"
                    ),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::cli::Settings;
    use super::super::file::FileConfig;

    #[test]
    fn allowed_hosts_and_frame_ancestors_come_from_the_file_or_the_flags() {
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:4000\"\nallowed_hosts = [\"Dash.Internal:3000\", \"*.corp.example\"]\nframe_ancestors = [\"https://app.example.com\"]\n",
        )
        .unwrap();
        let security = Config::merge(&Settings::default(), file).unwrap().security;
        assert_eq!(security.allowed_hosts, ["dash.internal", "*.corp.example"]);
        assert_eq!(security.frame_ancestors, ["https://app.example.com"]);
        assert_eq!(security.listen, Some("127.0.0.1:4000".parse().unwrap()));
        let cli = Settings {
            allowed_hosts: vec!["ops.example.com".into()],
            ..Settings::default()
        };
        let security = Config::merge(&cli, FileConfig::default()).unwrap().security;
        assert_eq!(security.allowed_hosts, ["ops.example.com"]);
    }

    #[test]
    fn a_host_or_origin_that_is_not_one_stops_the_start() {
        let bad_host = Settings {
            allowed_hosts: vec!["https://ops.example.com/".into()],
            ..Settings::default()
        };
        let err = Config::merge(&bad_host, FileConfig::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid --allowed-host"),
            "{err}"
        );
        let bad_origin = Settings {
            frame_ancestors: vec!["https://a.example; script-src *".into()],
            ..Settings::default()
        };
        let err = Config::merge(&bad_origin, FileConfig::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid --frame-ancestor"),
            "{err}"
        );
    }
}
