//! HTTP basic authentication: users with argon2 password hashes, verified off the async
//! threads, a bounded number at once with a bounded line waiting ([`HashQueue`]), failed logins
//! limited per client address ([`FailedLogins`]), and a short-lived cache of verified logins so
//! pages and assets do not each pay argon2.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::config::{BasicUser, Security};
use super::proxy::check_user_name;
use super::throttle::{Busy, HashQueue, retry_after_secs};
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::i18n::said::Said;

/// How long a successful basic login is remembered, so pages and assets do not each pay argon2.
const LOGIN_TTL: Duration = Duration::from_secs(60);
/// At most this many remembered logins; past it, expired ones go, then all of them.
const LOGIN_CACHE_MAX: usize = 1024;
/// Verifications waiting for a core at most; one more is a 503.
const HASH_QUEUE_MAX: usize = 64;
/// The longest a verification waits for a core before the request is a 503.
const HASH_WAIT_MAX: Duration = Duration::from_secs(10);
/// What a client that finds the line of password checks full is told to wait.
const BUSY_RETRY_SECS: u64 = 2;

/// A password that argon2 could not hash.
#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Hash a password for a `[[auth.users]]` entry (argon2id with a random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
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

/// The principal of an `Authorization` header (owned: a borrowed request would make the
/// caller's future !Send) sent from `client`, or 401; 400 for a user name with control
/// characters, 429 after too many failures from `client`, 503 when the line of password checks
/// is full.
pub(super) async fn basic_principal(
    security: &Security,
    header: Option<Vec<u8>>,
    client: Option<IpAddr>,
) -> Result<Principal, WebError> {
    let unauthorized = || WebError::Unauthorized(Said::new("security.sign_in"));
    let header = header.ok_or_else(unauthorized)?;
    if let Some(principal) = login_cache().lookup(&header, security) {
        return Ok(principal);
    }
    let (name, password) = parse_basic(&header).ok_or_else(unauthorized)?;
    check_user_name(&name)?;
    let failed = &security.failed_logins;
    if let Some(wait) = failed.wait(client) {
        return Err(WebError::TooManyRequests {
            message: Said::new("security.too_many"),
            retry_after: retry_after_secs(wait),
        });
    }
    let user = find_user(&security.users, &name);
    let verified = verify_off_thread(password, user.map(|u| u.password_hash.clone()))
        .await
        .map_err(|Busy| WebError::Busy {
            message: Said::new("busy.sign_ins"),
            retry_after: BUSY_RETRY_SECS,
        })?;
    match user {
        Some(user) if verified => {
            failed.forget(client);
            login_cache().store(header, user);
            Ok(Principal {
                user: user.name.clone(),
                role: user.role,
                read_only: security.read_only,
            })
        }
        _ => {
            failed.record_failure(client);
            tracing::info!(user = ?name, client = ?client, "basic authentication failed");
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
/// user, a dummy one, so unknown names cost as much as wrong passwords; [`Busy`] when the line
/// waiting for a turn is full or the wait runs out.
async fn verify_off_thread(password: String, hash: Option<String>) -> Result<bool, Busy> {
    // Each verification holds ~19 MiB for tens of milliseconds; without a bound, a flood of
    // bad logins would fill the blocking pool (512 threads) and the memory with them.
    let permit = hash_queue().turn().await?;
    let verified = tokio::task::spawn_blocking(move || {
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
    .unwrap_or(false);
    Ok(verified)
}

/// One verification per core at once, process-wide (argon2 needs the CPU, whichever
/// dashboard asks).
fn hash_queue() -> &'static HashQueue {
    static QUEUE: OnceLock<HashQueue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashQueue::new(cores, HASH_QUEUE_MAX, HASH_WAIT_MAX)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::access::Role;

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
