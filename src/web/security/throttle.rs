//! Limits on what a stranger can make the server do before signing in: failed basic logins per
//! client address ([`FailedLogins`]: a 429 once there were too many), and the queue of argon2
//! verifications waiting for a core ([`HashQueue`]: a 503 when it is full, never a wait without
//! end).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Failed logins an address may have in one [`FAILURE_WINDOW`] before it must wait.
pub const MAX_FAILURES: u32 = 10;
/// The window failed logins are counted in, from the first failure.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; past it, expired ones go, then the oldest.
pub const MAX_ADDRESSES: usize = 4096;

/// Failed basic logins by client address (`None`: a request whose address is unknown, as from a
/// router served without `ConnectInfo`). Clones share the table; it is state, not a setting, so
/// any two compare equal.
#[derive(Clone, Default)]
pub struct FailedLogins {
    table: Arc<Mutex<HashMap<Option<IpAddr>, Failures>>>,
}

struct Failures {
    count: u32,
    since: Instant,
}

impl std::fmt::Debug for FailedLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FailedLogins")
    }
}

impl PartialEq for FailedLogins {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for FailedLogins {}

impl FailedLogins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Option<IpAddr>, Failures>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `client` must wait before its next try, when it failed too often lately.
    pub fn wait(&self, client: Option<IpAddr>) -> Option<Duration> {
        let table = self.lock();
        let failures = table.get(&client)?;
        let elapsed = failures.since.elapsed();
        (elapsed < FAILURE_WINDOW && failures.count >= MAX_FAILURES)
            .then(|| FAILURE_WINDOW - elapsed)
    }

    /// Count one failed login of `client`.
    pub fn record_failure(&self, client: Option<IpAddr>) {
        let mut table = self.lock();
        if !table.contains_key(&client) && table.len() >= MAX_ADDRESSES {
            table.retain(|_, failures| failures.since.elapsed() < FAILURE_WINDOW);
            if table.len() >= MAX_ADDRESSES
                && let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, failures)| failures.since)
                    .map(|(address, _)| *address)
            {
                table.remove(&oldest);
            }
        }
        let failures = table.entry(client).or_insert(Failures {
            count: 0,
            since: Instant::now(),
        });
        if failures.since.elapsed() >= FAILURE_WINDOW {
            *failures = Failures {
                count: 0,
                since: Instant::now(),
            };
        }
        failures.count += 1;
    }

    /// A successful login starts `client` afresh.
    pub fn forget(&self, client: Option<IpAddr>) {
        self.lock().remove(&client);
    }

    /// Addresses remembered now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Seconds to tell a client to wait (`Retry-After`): `wait` rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis().div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// At most `permits` verifications at once, at most `max_waiting` more waiting for one, each
/// for at most `max_wait`.
pub struct HashQueue {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

/// The queue is full, or the wait for a turn ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Counts one waiter for as long as it waits, even when its request is dropped mid-wait.
struct Waiting<'q>(&'q AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashQueue {
    pub fn new(permits: usize, max_waiting: usize, max_wait: Duration) -> Self {
        HashQueue {
            permits: Semaphore::new(permits),
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        }
    }

    /// A turn: at once when a permit is free, else after waiting in line, or [`Busy`].
    pub async fn turn(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_too_many_failures_and_a_success_forgets_it() {
        let logins = FailedLogins::default();
        let ann: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        for _ in 0..MAX_FAILURES - 1 {
            logins.record_failure(ann);
        }
        assert_eq!(logins.wait(ann), None);
        logins.record_failure(ann);
        let wait = logins.wait(ann).expect("a wait");
        assert!(wait <= FAILURE_WINDOW && !wait.is_zero());
        assert_eq!(logins.wait(Some("10.0.0.2".parse().unwrap())), None);
        logins.forget(ann);
        assert_eq!(logins.wait(ann), None);
    }

    #[test]
    fn the_table_of_addresses_is_bounded() {
        let logins = FailedLogins::default();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            logins.record_failure(Some(IpAddr::from(i.to_be_bytes())));
        }
        assert_eq!(logins.len(), MAX_ADDRESSES);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let queue = HashQueue::new(1, 1, Duration::from_secs(600));
        let held = queue.turn().await.expect("the free permit");
        let waiter = queue.turn();
        tokio::pin!(waiter);
        // The first poll puts it in line (no free permit), where it stays.
        assert!(futures::poll!(waiter.as_mut()).is_pending());
        assert_eq!(queue.waiting(), 1);
        assert_eq!(queue.turn().await.map(drop), Err(Busy), "no room in line");
        drop(held);
        assert!(waiter.await.is_ok(), "the waiter gets the freed permit");
        assert_eq!(queue.waiting(), 0);
    }
}
