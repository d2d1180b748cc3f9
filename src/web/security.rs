//! Who may do what: roles, the principal of a request, and the security settings.
//!
//! Authentication (`basic` users with argon2 hashes, a `proxy` header from a trusted address, or
//! `none`), the CSRF check on state-changing requests and read-only mode are enforced by the
//! middleware in this module; handlers only ask [`Principal::may`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do. Ordered: each role may do everything the roles below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Browse every page.
    Viewer,
    /// Job actions, pause / resume, retry / promote all, add jobs.
    Operator,
    /// Clean, drain, obliterate, edit data.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{other:?} is not a role (viewer, operator or admin)"
            )),
        }
    }
}

/// Every action the dashboard can take, with the role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Retry,
    Promote,
    Remove,
    Duplicate,
    EditData,
    AddJob,
    Pause,
    Resume,
    PauseAll,
    ResumeAll,
    RetryFailed,
    PromoteDelayed,
    Clean,
    Drain,
    Obliterate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Promote => "promote",
            Action::Remove => "remove",
            Action::Duplicate => "duplicate",
            Action::EditData => "edit-data",
            Action::AddJob => "add-job",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::PauseAll => "pause-all",
            Action::ResumeAll => "resume-all",
            Action::RetryFailed => "retry-failed",
            Action::PromoteDelayed => "promote-delayed",
            Action::Clean => "clean",
            Action::Drain => "drain",
            Action::Obliterate => "obliterate",
        }
    }

    /// The least role allowed to take this action.
    pub fn required_role(self) -> Role {
        match self {
            Action::Clean | Action::Drain | Action::Obliterate | Action::EditData => Role::Admin,
            _ => Role::Operator,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user behind a request, put in the request's extensions by the authentication middleware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// Read-only mode: nobody may act, whatever their role.
    pub read_only: bool,
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        !self.read_only && self.role >= action.required_role()
    }
}

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

impl FromStr for AuthMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(AuthMode::None),
            "basic" => Ok(AuthMode::Basic),
            "proxy" => Ok(AuthMode::Proxy),
            other => Err(format!(
                "{other:?} is not an auth mode (none, basic or proxy)"
            )),
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
        }
    }
}

/// Hash a password for a `[[auth.users]]` entry (argon2id with a random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| format!("could not hash the password: {e}"))
}

/// Check a password against a PHC hash; the comparison inside argon2 is constant-time.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}
