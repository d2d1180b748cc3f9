//! Which queues exist: a bounded background `SCAN` per prefix, merged with configured queues.
//!
//! Pages never wait on a scan: they read the last snapshot. A background task walks the key space
//! with `SCAN ... MATCH <prefix>:*:[mi][ed]* COUNT 1000` (never `KEYS`), a bounded number of calls
//! per tick, keeps its cursor between ticks, and publishes a new snapshot when a pass ends. On a
//! Redis Cluster a pass scans every primary in turn (each holds only its own slots' keys), with
//! the list of primaries read again at the start of each pass. A queue is any
//! `<prefix>:<name>:meta` (written by every `Queue`) or `<prefix>:<name>:id` (written by every
//! add) key whose `<name>` has no ':'.
//!
//! Each queue carries its library: the one `[[queues]] library` declares, else the one its keys
//! say, read for every queue found at the end of a pass (one pipelined batch, in the
//! background: pages never pay for it), else BullMQ.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::batch::{Batch, Slot};
use super::connection::{Redis, ScanNode};
use super::error::Result;
use super::layout::detect;
use super::model::{DEFAULT_CONNECTION, Library, QueueRef};

/// Keys examined per `SCAN` call, and calls per tick: at most a million keys a tick, whatever
/// the number of cluster nodes.
const SCAN_COUNT: u64 = 1000;
const CALLS_PER_TICK: usize = 1000;

/// Where an unfinished pass stands: the nodes it visits (empty until the pass starts), and the
/// prefix, node and cursor of its next `SCAN`.
#[derive(Debug, Default)]
struct Position {
    nodes: Vec<ScanNode>,
    prefix: usize,
    node: usize,
    cursor: u64,
}

/// What discovery knows now.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every known queue, sorted by name then prefix.
    pub queues: Vec<QueueRef>,
    /// False until the first full pass over the key space has ended.
    pub complete: bool,
}

/// The set of known queues, shared between the scanner and the pages.
#[derive(Clone)]
pub struct Discovery {
    snapshot: Arc<RwLock<Snapshot>>,
    prefixes: Vec<String>,
    configured: Vec<String>,
    /// The library `[[queues]] library` declares, by queue name.
    declared: Arc<BTreeMap<String, Library>>,
    scan: bool,
    /// The connection its queues are on (their [`QueueRef::connection`]).
    connection: String,
}

impl Discovery {
    /// `configured` queue names are shown under every prefix; with `scan` off they are all.
    pub fn new(prefixes: Vec<String>, configured: Vec<String>, scan: bool) -> Self {
        let discovery = Discovery {
            snapshot: Arc::new(RwLock::new(Snapshot::default())),
            prefixes,
            configured,
            declared: Arc::default(),
            scan,
            connection: DEFAULT_CONNECTION.to_string(),
        };
        discovery.publish(BTreeSet::new(), !scan);
        discovery
    }

    /// The same discovery, with the libraries the configuration declares (queue name, library):
    /// they win over what the keys say.
    pub fn declaring(mut self, declared: impl IntoIterator<Item = (String, Library)>) -> Self {
        self.declared = Arc::new(declared.into_iter().collect());
        let snapshot = self.snapshot();
        let known = snapshot.queues.into_iter().collect();
        self.publish(known, snapshot.complete);
        self
    }

    /// The same discovery for the queues of the connection `name` (`default` otherwise): every
    /// queue it names says so.
    pub fn on_connection(mut self, name: &str) -> Self {
        self.connection = name.to_string();
        let snapshot = self.snapshot();
        let known = snapshot.queues.into_iter().collect();
        self.publish(known, snapshot.complete);
        self
    }

    /// The library the configuration declares for queues called `name`, if any.
    pub fn declared(&self, name: &str) -> Option<Library> {
        self.declared.get(name).copied()
    }

    /// `queue` on this discovery's connection, taken for the library declared for it, if any.
    fn as_declared(&self, queue: QueueRef) -> QueueRef {
        let queue = queue.on(self.connection.as_str());
        match self.declared(&queue.name) {
            Some(library) => queue.with_library(library),
            None => queue,
        }
    }

    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// The current snapshot (cheap: a clone of a vector of names).
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Known queues called `name`, under `prefix` if given. A name that is not known yet (created
    /// since the last pass) is tried under every configured prefix, so new queues open at once.
    pub fn candidates(&self, name: &str, prefix: Option<&str>) -> Vec<QueueRef> {
        let known: Vec<QueueRef> = self
            .snapshot()
            .queues
            .into_iter()
            .filter(|q| q.name == name && prefix.is_none_or(|p| q.prefix == p))
            .collect();
        if !known.is_empty() {
            return known;
        }
        let fresh = |p: &str| self.as_declared(QueueRef::new(p, name));
        match prefix {
            Some(p) => vec![fresh(p)],
            None => self.prefixes.iter().map(|p| fresh(p)).collect(),
        }
    }

    fn publish(&self, found: BTreeSet<QueueRef>, complete: bool) {
        let mut all = found;
        for prefix in &self.prefixes {
            for name in &self.configured {
                all.insert(QueueRef::new(prefix, name));
            }
        }
        let mut queues: Vec<QueueRef> = all.into_iter().map(|q| self.as_declared(q)).collect();
        queues.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.prefix.cmp(&b.prefix)));
        let mut slot = self
            .snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Snapshot { queues, complete };
    }

    /// Run one full pass now (used at start-up by tests and by the background task).
    pub async fn refresh(&self, redis: &Redis) -> Result<()> {
        let mut found = BTreeSet::new();
        let nodes = redis.scan_nodes().await?;
        for prefix in &self.prefixes {
            for node in &nodes {
                let mut cursor = 0u64;
                loop {
                    cursor = scan_step(redis, node, prefix, cursor, &mut found).await?;
                    if cursor == 0 {
                        break;
                    }
                }
            }
        }
        self.merge_and_publish(redis, found).await
    }

    /// Publish the queues of a finished pass, each with the library its keys say (one batch).
    async fn merge_and_publish(&self, redis: &Redis, found: BTreeSet<QueueRef>) -> Result<()> {
        let found = libraries(redis, found).await?;
        self.publish(found, true);
        Ok(())
    }

    /// Scan in the background every `interval` until `cancel` fires. Errors (Redis down) are
    /// logged and the pass restarts on the next tick.
    pub fn spawn(&self, redis: Redis, interval: Duration, cancel: CancellationToken) {
        if !self.scan {
            return;
        }
        let discovery = self.clone();
        tokio::spawn(async move {
            let mut pass: BTreeSet<QueueRef> = BTreeSet::new();
            let mut position = Position::default();
            loop {
                let ticked = match discovery.tick(&redis, &mut pass, &mut position).await {
                    Ok(true) => {
                        let found = std::mem::take(&mut pass);
                        discovery
                            .merge_and_publish(&redis, found)
                            .await
                            .map(|_| true)
                    }
                    other => other,
                };
                match ticked {
                    Ok(true) => {}
                    Ok(false) => {
                        // Show what the unfinished pass found so far, next to what was known
                        // (whose libraries are known).
                        let mut partial: BTreeSet<QueueRef> =
                            discovery.snapshot().queues.into_iter().collect();
                        partial.extend(pass.iter().cloned());
                        let complete = discovery.snapshot().complete;
                        discovery.publish(partial, complete);
                        continue_now(&cancel).await;
                        if cancel.is_cancelled() {
                            break;
                        }
                        continue;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "queue discovery failed; retrying");
                        pass.clear();
                        position = Position::default();
                    }
                }
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        });
    }

    /// Advance the pass by at most `CALLS_PER_TICK` SCAN calls; true when the pass is complete.
    async fn tick(
        &self,
        redis: &Redis,
        found: &mut BTreeSet<QueueRef>,
        position: &mut Position,
    ) -> Result<bool> {
        if position.nodes.is_empty() {
            // A new pass: ask which nodes hold keys now, since slots may have moved since the last.
            position.nodes = redis.scan_nodes().await?;
        }
        for _ in 0..CALLS_PER_TICK {
            let (Some(prefix), Some(node)) = (
                self.prefixes.get(position.prefix),
                position.nodes.get(position.node),
            ) else {
                *position = Position::default();
                return Ok(true);
            };
            position.cursor = scan_step(redis, node, prefix, position.cursor, found).await?;
            if position.cursor == 0 {
                position.node += 1;
                if position.node == position.nodes.len() {
                    position.node = 0;
                    position.prefix += 1;
                }
            }
        }
        Ok(false)
    }
}

/// The queues with the library their keys say (BullMQ when they say neither), read in one
/// pipelined batch.
async fn libraries(redis: &Redis, queues: BTreeSet<QueueRef>) -> Result<BTreeSet<QueueRef>> {
    let mut batch = Batch::new();
    let slots: Vec<(QueueRef, Slot<Option<Library>>)> = queues
        .into_iter()
        .map(|queue| {
            let slot = detect::push(&mut batch, &queue);
            (queue, slot)
        })
        .collect();
    let replies = batch.send(redis).await?;
    slots
        .into_iter()
        .map(|(queue, slot)| {
            let library = replies.take(slot)?.unwrap_or_default();
            Ok(queue.with_library(library))
        })
        .collect()
}

/// Yield between ticks of a long pass so the scanner does not hog Redis.
async fn continue_now(cancel: &CancellationToken) {
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_millis(10)) => {}
    }
}

/// One `SCAN` call on one node; returns that node's next cursor.
async fn scan_step(
    redis: &Redis,
    node: &ScanNode,
    prefix: &str,
    cursor: u64,
    found: &mut BTreeSet<QueueRef>,
) -> Result<u64> {
    let pattern = format!("{}:*:[mi][ed]*", glob_escape(prefix));
    let (next, keys) = redis.scan(node, cursor, &pattern, SCAN_COUNT).await?;
    for key in keys {
        if let Some(name) = queue_name_of(&key, prefix) {
            found.insert(QueueRef::new(prefix, name));
        }
    }
    Ok(next)
}

/// The queue name in `<prefix>:<name>:meta` or `<prefix>:<name>:id`, if the key is one of those.
fn queue_name_of<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let rest = key.strip_prefix(prefix)?.strip_prefix(':')?;
    let name = rest
        .strip_suffix(":meta")
        .or_else(|| rest.strip_suffix(":id"))?;
    (!name.is_empty() && !name.contains(':')).then_some(name)
}

/// Escape Redis glob characters so a prefix matches itself only.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_queue_keys_only() {
        assert_eq!(queue_name_of("bull:mail:meta", "bull"), Some("mail"));
        assert_eq!(queue_name_of("bull:mail:id", "bull"), Some("mail"));
        assert_eq!(queue_name_of("{b}:q:meta", "{b}"), Some("q"));
        assert_eq!(queue_name_of("bull:mail:metrics:completed", "bull"), None);
        assert_eq!(queue_name_of("bull:mail:repeat:x:id", "bull"), None);
        assert_eq!(queue_name_of("bullx:mail:meta", "bull"), None);
        assert_eq!(queue_name_of("a:b:q:meta", "a:b"), Some("q"));
    }

    #[test]
    fn escapes_glob_characters() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(glob_escape("{bull}"), "{bull}");
    }

    #[test]
    fn configured_queues_show_under_every_prefix() {
        let d = Discovery::new(vec!["a".into(), "b".into()], vec!["q".into()], false);
        let snap = d.snapshot();
        assert!(snap.complete);
        assert_eq!(snap.queues.len(), 2);
        assert_eq!(d.candidates("q", Some("b")), vec![QueueRef::new("b", "q")]);
        assert_eq!(d.candidates("new", None).len(), 2);
    }

    #[test]
    fn queues_of_another_connection_say_so() {
        let d = Discovery::new(vec!["b".into()], vec!["q".into()], false).on_connection("eu");
        assert!(d.snapshot().queues.iter().all(|q| q.connection == "eu"));
        assert_eq!(d.candidates("q", None)[0].connection, "eu");
        assert_eq!(d.candidates("new", Some("b"))[0].connection, "eu");
    }
}
