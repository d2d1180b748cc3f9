//! Who may do what: roles, the principal of a request, and the security settings.
//!
//! Authentication (`basic` users with argon2 hashes, a `proxy` header from a trusted address, or
//! `none`), the CSRF check on state-changing requests and read-only mode are enforced by the
//! middleware in this module; handlers only ask [`Principal::may`].

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use tokio::sync::Semaphore;

use super::AppState;
use super::error::WebError;

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
    RemoveScheduler,
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
            Action::RemoveScheduler => "remove-scheduler",
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
    /// Honour `X-Forwarded-Prefix` from `trusted_proxies`: the proxy strips that prefix before
    /// forwarding, so every link, form action, asset URL, redirect and cookie path gets it back.
    pub trust_forwarded_prefix: bool,
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

impl axum::extract::FromRequestParts<crate::web::AppState> for Principal {
    type Rejection = crate::web::error::WebError;

    /// The principal the authentication middleware found; without that middleware (a router
    /// used bare), only `--auth none` has one: anonymous with the configured role.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::web::AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let security = state.security();
        match security.mode {
            AuthMode::None => Ok(Principal {
                user: "anonymous".into(),
                role: security.anonymous_role,
                read_only: security.read_only,
            }),
            _ => Err(crate::web::error::WebError::Unauthorized(
                "Sign in to use the dashboard.".into(),
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Middleware. `router()` layers them as render_errors(authenticate(csrf(handler))), so a refusal
// here is a `WebError` that still becomes an HTML page or, under `{base}/api/`, JSON.
// ---------------------------------------------------------------------------------------------

/// Said by every 401 of basic authentication (the browser then asks for a user and password).
const SIGN_IN: &str = "Sign in to use the dashboard.";
/// How long a successful basic login is remembered, so pages and assets do not each pay argon2.
const LOGIN_TTL: Duration = Duration::from_secs(60);
/// At most this many remembered logins; past it, expired ones go, then all of them.
const LOGIN_CACHE_MAX: usize = 1024;

/// Put the request's [`Principal`] in its extensions, or answer 401 / 403.
///
/// `{base}/healthz`, `{base}/readyz` and `{base}/static/...` pass without credentials: probes have
/// none, and the error page asking for them needs its stylesheet.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let security = state.security();
    let principal = match security.mode {
        AuthMode::None => Ok(Principal {
            user: "anonymous".into(),
            role: security.anonymous_role,
            read_only: security.read_only,
        }),
        _ if is_public_path(&state, &request) => return next.run(request).await,
        AuthMode::Basic => {
            // Owned before any await: a borrowed request would make this future !Send.
            let header = request
                .headers()
                .get(header::AUTHORIZATION)
                .map(|value| value.as_bytes().to_vec());
            basic_principal(security, header).await
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

/// Refuse state-changing requests that a browser sent on behalf of another site, and every
/// state-changing request in read-only mode.
///
/// Only `POST` changes state (anything else but GET / HEAD / OPTIONS is 405). A browser says
/// where a request comes from in `Sec-Fetch-Site`; older ones only in `Origin` or `Referer`,
/// which must then match this server's origin. A request with none of the three did not come
/// from a browser page (curl, scripts using the JSON API), so there is no victim to protect.
pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method();
    if method == Method::GET || method == Method::HEAD {
        return next.run(request).await;
    }
    let security = state.security();
    // Defence in depth: handlers check `Principal::may` too, but a route that forgot to would
    // still not reach Redis.
    if security.read_only {
        return refuse(
            &request,
            "The dashboard is in read-only mode: no action can be taken.",
        );
    }
    if method == Method::OPTIONS {
        return next.run(request).await;
    }
    if method != Method::POST {
        return method_not_allowed(&state, &request);
    }
    if let Err(reason) = same_origin(security, &request) {
        return refuse(&request, reason);
    }
    next.run(request).await
}

fn refuse(request: &Request, reason: &str) -> Response {
    tracing::warn!(method = %request.method(), path = %full_path(request), reason, "request refused");
    WebError::Forbidden(reason.to_string()).into_response()
}

/// 405, in the shape of the other errors (`WebError` has no variant for it).
fn method_not_allowed(state: &AppState, request: &Request) -> Response {
    let message = format!(
        "{} is not accepted here; actions are POST requests.",
        request.method()
    );
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let allow = [(header::ALLOW, "GET, HEAD, POST")];
    let is_api = relative_path(state, request).is_some_and(|path| path.starts_with("/api/"));
    if is_api {
        let body = serde_json::json!({ "error": message, "status": status.as_u16() });
        (status, allow, axum::Json(body)).into_response()
    } else {
        (status, allow, message).into_response()
    }
}

/// The path as the client sent it: inside a nested router the URI has lost the base path.
fn full_path(request: &Request) -> &str {
    request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |uri| uri.path())
}

/// The path below the base path; `None` outside it. Taken from the full path, so it does not
/// matter whether these layers sit inside the nested router or outside it.
fn relative_path<'r>(state: &AppState, request: &'r Request) -> Option<&'r str> {
    full_path(request).strip_prefix(state.mount_base())
}

/// Exact matches only: anything else (`/healthz/`, `//healthz`, a queue named `healthz`) needs
/// credentials, so a path trick can only make a public path private, never the other way round.
fn is_public_path(state: &AppState, request: &Request) -> bool {
    relative_path(state, request)
        .is_some_and(|path| path == "/healthz" || path == "/readyz" || path.starts_with("/static/"))
}

// --- basic -----------------------------------------------------------------------------------

async fn basic_principal(
    security: &Security,
    header: Option<Vec<u8>>,
) -> Result<Principal, WebError> {
    let unauthorized = || WebError::Unauthorized(SIGN_IN.into());
    let header = header.ok_or_else(unauthorized)?;
    if let Some(principal) = login_cache().lookup(&header, security) {
        return Ok(principal);
    }
    let (name, password) = parse_basic(&header).ok_or_else(unauthorized)?;
    let user = find_user(&security.users, &name);
    let verified = verify_off_thread(password, user.map(|u| u.password_hash.clone())).await;
    match user {
        Some(user) if verified => {
            login_cache().store(header, user);
            Ok(Principal {
                user: user.name.clone(),
                role: user.role,
                read_only: security.read_only,
            })
        }
        _ => {
            tracing::info!(user = %name, "basic authentication failed");
            Err(unauthorized())
        }
    }
}

/// `Basic base64(user:password)` → (user, password). The scheme name is case-insensitive.
fn parse_basic(header: &[u8]) -> Option<(String, String)> {
    use base64::Engine;
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

/// The user with this name, looking at every user the same way whichever matches, so the time
/// taken does not tell which names exist. (`ct_eq` returns early on a length difference; that
/// is lost in the noise of the argon2 verification that always follows.)
fn find_user<'u>(users: &'u [BasicUser], name: &str) -> Option<&'u BasicUser> {
    let mut index = 0u64;
    let mut found = Choice::from(0);
    for (i, user) in users.iter().enumerate() {
        let same = user.name.as_bytes().ct_eq(name.as_bytes());
        index.conditional_assign(&(i as u64), same & !found);
        found |= same;
    }
    bool::from(found).then(|| &users[index as usize])
}

/// One argon2 verification on the blocking pool, against the user's hash or, for an unknown
/// user, a dummy one, so unknown names cost as much as wrong passwords.
async fn verify_off_thread(password: String, hash: Option<String>) -> bool {
    // Each verification holds ~19 MiB for tens of milliseconds; without a bound, a flood of
    // bad logins would fill the blocking pool (512 threads) and the memory with them.
    let Ok(permit) = argon2_permits().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                verify_password(&password, dummy_hash());
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

fn argon2_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new(cores)
    })
}

/// A hash with the same parameters as `bullring hash-password` makes, of a password nobody
/// uses; computed once, on first use (on the blocking pool, like every verification).
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("bullring: no such user").unwrap_or_default())
}

/// Recently verified `Authorization` headers. Process-wide (tests build several dashboards), so
/// an entry also records which user and hash it was verified against, and a hit counts only
/// where the current settings still have that exact user and hash: a header verified by one
/// dashboard never logs in to another with different users, and a changed hash ends it at once.
struct LoginCache {
    entries: Mutex<HashMap<Vec<u8>, CachedLogin>>,
}

struct CachedLogin {
    at: Instant,
    user: String,
    password_hash: String,
}

fn login_cache() -> &'static LoginCache {
    static CACHE: OnceLock<LoginCache> = OnceLock::new();
    CACHE.get_or_init(|| LoginCache {
        entries: Mutex::new(HashMap::new()),
    })
}

impl LoginCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, CachedLogin>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lookup(&self, header: &[u8], security: &Security) -> Option<Principal> {
        let mut entries = self.lock();
        let entry = entries.get(header)?;
        if entry.at.elapsed() >= LOGIN_TTL {
            entries.remove(header);
            return None;
        }
        let user = security
            .users
            .iter()
            .find(|u| u.name == entry.user && u.password_hash == entry.password_hash)?;
        Some(Principal {
            user: user.name.clone(),
            role: user.role,
            read_only: security.read_only,
        })
    }

    fn store(&self, header: Vec<u8>, user: &BasicUser) {
        let mut entries = self.lock();
        if entries.len() >= LOGIN_CACHE_MAX {
            entries.retain(|_, login| login.at.elapsed() < LOGIN_TTL);
            if entries.len() >= LOGIN_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(
            header,
            CachedLogin {
                at: Instant::now(),
                user: user.name.clone(),
                password_hash: user.password_hash.clone(),
            },
        );
    }
}

// --- proxy -----------------------------------------------------------------------------------

fn proxy_principal(security: &Security, request: &Request) -> Result<Principal, WebError> {
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
fn from_trusted_proxy(security: &Security, request: &Request) -> bool {
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

// --- forwarded prefix ------------------------------------------------------------------------

/// The longest `X-Forwarded-Prefix` accepted.
const MAX_FORWARDED_PREFIX: usize = 256;

/// Serve the request with the public base path the proxy in front says it strips: with
/// `trust_forwarded_prefix` on and the peer a trusted proxy, a valid `X-Forwarded-Prefix`
/// becomes part of [`AppState::base`] for the whole request (page, error page, redirect).
/// From anyone else the header is ignored; an invalid one from a trusted proxy is a 400.
pub async fn forwarded_prefix(
    State(state): State<AppState>,
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
            super::with_public_base(public, next.run(request)).await
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
fn parse_prefix(text: &str) -> Result<String, &'static str> {
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

// --- CSRF ------------------------------------------------------------------------------------

fn same_origin(security: &Security, request: &Request) -> Result<(), &'static str> {
    const CROSS_SITE: &str = "cross-site request refused";
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the user started the request themselves (address bar, bookmark).
        return match site.to_str().map(str::trim) {
            Ok(site) if site.eq_ignore_ascii_case("same-origin") => Ok(()),
            Ok(site) if site.eq_ignore_ascii_case("none") => Ok(()),
            _ => Err(CROSS_SITE),
        };
    }
    let claimed = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return Ok(()),
    };
    // An unreadable or opaque origin (`Origin: null` from a sandboxed frame) cannot be shown
    // to be ours, so it is refused like a foreign one.
    let claimed = claimed.to_str().ok().and_then(normalize_origin);
    let own = own_origin(security, request);
    match (claimed, own) {
        (Some(claimed), Some(own)) if claimed == own => Ok(()),
        _ => Err(
            "cross-site request refused: its Origin does not match this dashboard's address (behind a proxy, set --public-url or --trusted-proxy)",
        ),
    }
}

/// This server's origin as the browser sees it: the configured public URL; else, from a trusted
/// proxy, its `X-Forwarded-Proto` / `X-Forwarded-Host`; else plain http and the `Host` header.
fn own_origin(security: &Security, request: &Request) -> Option<String> {
    if let Some(url) = &security.public_url {
        return normalize_origin(url);
    }
    let headers = request.headers();
    let trusted = from_trusted_proxy(security, request);
    // A chain of proxies lists one value per hop; the first is what the browser used.
    let forwarded = |name: &str| {
        trusted
            .then(|| headers.get(name)?.to_str().ok())
            .flatten()
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
    let host = match forwarded("x-forwarded-host") {
        Some(host) => host,
        None => match headers.get(header::HOST) {
            Some(host) => host.to_str().ok()?,
            // HTTP/2 carries the host in the request line (`:authority`), not in `Host`.
            None => request.uri().authority()?.as_str(),
        },
    };
    normalize_origin(&format!("{scheme}://{host}"))
}

/// `HTTPS://Ops.Example.com:443/some/path` → `https://ops.example.com`: scheme and host in
/// lower case, the default port (80 for http, 443 for https) dropped, path, query and user
/// info dropped. `None` for anything that is not `scheme://host[:port]...`.
fn normalize_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let authority = authority.to_ascii_lowercase();
    let (host, port) = if authority.starts_with('[') {
        // An IPv6 literal: the port, if any, follows the closing bracket.
        let end = authority.find(']')?;
        let port = &authority[end + 1..];
        let port = if port.is_empty() {
            None
        } else {
            Some(port.strip_prefix(':')?)
        };
        (&authority[..=end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority.as_str(), None),
        }
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let port = match port.filter(|port| !port.is_empty()) {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(match port.filter(|port| Some(*port) != default_port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_case_default_ports_or_paths() {
        let same = [
            ("http://Example.com", "http://example.com:80"),
            ("HTTPS://example.com:443/a/b?c#d", "https://example.com"),
            ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
            ("http://[::1]:3000", "http://[::1]:3000/x"),
            ("https://user:pw@example.com", "https://example.com"),
            ("http://example.com:", "http://example.com"),
        ];
        for (a, b) in same {
            assert_eq!(normalize_origin(a), normalize_origin(b), "{a} vs {b}");
            assert!(normalize_origin(a).is_some(), "{a}");
        }
        let different = [
            ("http://example.com", "https://example.com"),
            ("http://example.com:8080", "http://example.com"),
            ("https://example.com:80", "https://example.com"),
            ("http://evil.example.com", "http://example.com"),
        ];
        for (a, b) in different {
            assert_ne!(normalize_origin(a), normalize_origin(b), "{a} vs {b}");
        }
        for bad in [
            "null",
            "",
            "example.com",
            "http://",
            "http://host:99999",
            "1http://x",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad:?}");
        }
    }

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

    #[test]
    fn basic_headers_parse() {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode("ann:pa:ss");
        assert_eq!(
            parse_basic(format!("basic {encoded}").as_bytes()),
            Some(("ann".into(), "pa:ss".into()))
        );
        assert_eq!(parse_basic(b"Bearer abc"), None);
        assert_eq!(parse_basic(b"Basic !!!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("ann");
        assert_eq!(parse_basic(format!("Basic {no_colon}").as_bytes()), None);
    }

    #[test]
    fn users_are_found_by_exact_name_first_match_wins() {
        let user = |name: &str, role| BasicUser {
            name: name.into(),
            password_hash: format!("$argon2id$x-{name}"),
            role,
        };
        let users = [
            user("ann", Role::Viewer),
            user("bob", Role::Admin),
            user("bob", Role::Viewer),
        ];
        assert_eq!(find_user(&users, "bob").map(|u| u.role), Some(Role::Admin));
        assert_eq!(find_user(&users, "ann").map(|u| u.role), Some(Role::Viewer));
        assert!(find_user(&users, "an").is_none());
        assert!(find_user(&users, "Ann").is_none());
        assert!(find_user(&[], "ann").is_none());
    }
}
