//! What every handler can reach: the queue core's services, the settings, the base path.
//!
//! One `AppState` per Redis connection: the `default` one is mounted at the base path, each other
//! connection's at `{base}/c/{name}` (see [`crate::web::links::connection_base`]), and the
//! default state also holds the others, for the pages about every connection.

use std::sync::Arc;

use crate::queue::actions::Actions;
use crate::queue::alerts::AlertStore;
use crate::queue::audit::AuditLog;
use crate::queue::command::Dispatcher;
use crate::queue::connections::Connection;
use crate::queue::discovery::Discovery;
use crate::queue::model::default_prefix;
use crate::queue::read::Reader;
use crate::queue::sampler::Sampler;
use crate::queue::service::Queues;
use crate::runner::health::RunnerHealth;
use crate::web::links::{Links, connection_base};
use crate::web::public_base;
use crate::web::security::config::{Secured, Security};
use crate::web::tasks::Tasks;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    queues: Queues,
    discovery: Discovery,
    base: String,
    title: String,
    security: Security,
    audit: AuditLog,
    sampler: Sampler,
    /// Where alerts are kept, when alert rules are configured.
    alerts: Option<AlertStore>,
    /// The states of the other connections (on the default connection's state only).
    others: Vec<AppState>,
    /// Groups the overview's queues whose names share a prefix up to it (`None`: off).
    delimiter: Option<String>,
    /// The runner of this process (`bullring start`), for `/healthz` and `/metrics`.
    runner: Option<RunnerHealth>,
    /// The background tasks of this connection (apply to every match).
    tasks: Tasks,
}

impl AppState {
    /// `base` is the path the dashboard is mounted at ("" for the root, else "/admin/queues").
    pub fn new(reader: Reader, discovery: Discovery, base: &str, title: &str) -> Self {
        let queues = Queues::new(reader);
        let audit = audit_log(&queues, &discovery, AUDIT_MAX_LEN, false);
        AppState {
            inner: Arc::new(Inner {
                discovery,
                base: base.trim_end_matches('/').to_string(),
                title: title.to_string(),
                security: Security::default(),
                audit,
                queues,
                sampler: Sampler::new(None),
                alerts: None,
                others: Vec::new(),
                delimiter: None,
                runner: None,
                tasks: Tasks::default(),
            }),
        }
    }

    /// The same state with these security settings (default: `--auth none`, everyone admin).
    pub fn with_security(self, security: Security) -> Self {
        self.rebuild(|inner| {
            inner.audit = audit_log(
                &inner.queues,
                &inner.discovery,
                AUDIT_MAX_LEN,
                security.read_only,
            );
            inner.security = security;
        })
    }

    /// The same state adding jobs to Bull queues over each declared queue's `[queues.defaults]`
    /// (queue name -> the defaults).
    pub fn with_job_defaults(self, defaults: &[(String, bullmq::JobOptions)]) -> Self {
        self.rebuild(|inner| inner.queues = inner.queues.clone().with_bull_defaults(defaults))
    }

    /// The same state with the audit stream trimmed to `max_len` entries.
    pub fn with_audit_max_len(self, max_len: usize) -> Self {
        self.rebuild(|inner| {
            inner.audit = audit_log(
                &inner.queues,
                &inner.discovery,
                max_len,
                inner.security.read_only,
            );
        })
    }

    /// The same state with live updates every `interval` (`None`: off): starts the one sampler
    /// of this state, which stops when `cancel` fires.
    pub fn with_live_updates(
        self,
        interval: Option<std::time::Duration>,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Self {
        let sampler = Sampler::new(interval);
        sampler.spawn(
            self.inner.queues.reader().clone(),
            self.inner.discovery.clone(),
            cancel.clone(),
        );
        self.rebuild(|inner| inner.sampler = sampler)
    }

    /// The same state showing alerts (active ones on the overview, the Alerts page in the
    /// navigation) when `enabled`; they live under the first prefix, as the engine keeps them.
    pub fn with_alerts(self, enabled: bool) -> Self {
        let store = enabled.then(|| {
            let prefix = default_prefix(self.inner.discovery.prefixes());
            self.inner.queues.alert_store(prefix)
        });
        self.rebuild(|inner| inner.alerts = store)
    }

    /// The same state for the connection `connection` describes (its name, label, read-only
    /// mode and highest role): its pages live under `{base}/c/{name}`.
    pub fn on_connection(self, connection: Connection) -> Self {
        self.rebuild(|inner| inner.queues = inner.queues.clone().on(connection))
    }

    /// The same state showing `others` (the states of the other connections) beside its own.
    pub fn with_others(self, others: Vec<AppState>) -> Self {
        self.rebuild(|inner| inner.others = others)
    }

    /// The same state grouping queues by `delimiter` (see [`crate::queue::groups`]).
    pub fn with_delimiter(self, delimiter: Option<String>) -> Self {
        self.rebuild(|inner| inner.delimiter = delimiter)
    }

    /// The queue groups' delimiter, when queues are grouped.
    pub fn delimiter(&self) -> Option<&str> {
        self.inner.delimiter.as_deref()
    }

    /// The same state saying how the runner of this process is (`bullring start`).
    pub fn with_runner(self, runner: RunnerHealth) -> Self {
        self.rebuild(|inner| inner.runner = Some(runner))
    }

    /// The runner of this process, when it runs one.
    pub fn runner(&self) -> Option<&RunnerHealth> {
        self.inner.runner.as_ref()
    }

    /// The states of the other connections (empty on theirs, and with one connection).
    pub fn others(&self) -> &[AppState] {
        &self.inner.others
    }

    /// This state and the others', the default connection first.
    pub fn every_connection(&self) -> impl Iterator<Item = &AppState> {
        std::iter::once(self).chain(self.inner.others.iter())
    }

    /// The connection this state's queues are on.
    pub fn connection(&self) -> &Connection {
        self.inner.queues.connection()
    }

    /// Whether `path` (as the client sent it) is under the JSON API: `{base}/api/...`, or
    /// `{base}/c/{name}/api/...` of this state's connection or of one of the others.
    pub fn is_api_path(&self, path: &str) -> bool {
        let base = &self.inner.base;
        std::iter::once(base.clone())
            .chain(std::iter::once(self.connection_mount()))
            .chain(self.inner.others.iter().map(AppState::connection_mount))
            .any(|mount| path.starts_with(&format!("{mount}/api/")))
    }

    pub fn alerts(&self) -> Option<&AlertStore> {
        self.inner.alerts.as_ref()
    }

    pub fn sampler(&self) -> &Sampler {
        &self.inner.sampler
    }

    pub fn audit(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// The background tasks of this connection.
    pub fn tasks(&self) -> &Tasks {
        &self.inner.tasks
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                queues: shared.queues.clone(),
                discovery: shared.discovery.clone(),
                base: shared.base.clone(),
                title: shared.title.clone(),
                security: shared.security.clone(),
                audit: shared.audit.clone(),
                sampler: shared.sampler.clone(),
                alerts: shared.alerts.clone(),
                others: shared.others.clone(),
                delimiter: shared.delimiter.clone(),
                runner: shared.runner.clone(),
                tasks: shared.tasks.clone(),
            },
        };
        change(&mut inner);
        AppState {
            inner: Arc::new(inner),
        }
    }

    pub fn actions(&self) -> &Actions {
        self.inner.queues.actions()
    }

    /// The queue core's services (reads, actions, readiness).
    pub fn queues(&self) -> &Queues {
        &self.inner.queues
    }

    /// Performs commands: checks the role, acts through the queue's library, records the audit.
    pub fn commands(&self) -> Dispatcher<'_> {
        Dispatcher {
            bullmq: self.inner.queues.actions(),
            bull: self.inner.queues.bull_actions(),
            reader: self.inner.queues.reader(),
            discovery: &self.inner.discovery,
            audit: &self.inner.audit,
            connection: self.inner.queues.connection(),
        }
    }

    pub fn security(&self) -> &Security {
        &self.inner.security
    }

    pub fn reader(&self) -> &Reader {
        self.inner.queues.reader()
    }

    pub fn discovery(&self) -> &Discovery {
        &self.inner.discovery
    }

    /// The base path as the browser sees it, for every URL the dashboard writes (links, form
    /// actions, assets, redirects, cookie paths): the configured base, behind a trusted
    /// `X-Forwarded-Prefix` with that prefix in front (see `security::prefix::forwarded_prefix`).
    /// On another connection's state, its pages' base: `{base}/c/{name}`.
    pub fn base(&self) -> String {
        connection_base(&self.root(), &self.connection().name)
    }

    /// The base path of the whole dashboard as the browser sees it (the default connection's
    /// base), for what every connection shares: assets, cookies, the list of connections.
    pub fn root(&self) -> String {
        public_base::get().unwrap_or_else(|| self.inner.base.clone())
    }

    /// The base path this server itself is mounted at, for matching request paths.
    pub fn mount_base(&self) -> &str {
        &self.inner.base
    }

    /// Where this connection's pages are mounted on this server (request paths, not links):
    /// the mount base, plus `/c/{name}` on another connection's state.
    pub fn connection_mount(&self) -> String {
        connection_base(&self.inner.base, &self.connection().name)
    }

    pub fn title(&self) -> &str {
        &self.inner.title
    }

    pub fn links(&self) -> Links {
        Links {
            base: self.base(),
            with_prefix: self.inner.discovery.prefixes().len() > 1,
        }
    }
}

const AUDIT_MAX_LEN: usize = 10_000;

/// The audit trail lives under the first configured prefix.
fn audit_log(queues: &Queues, discovery: &Discovery, max_len: usize, read_only: bool) -> AuditLog {
    queues.audit_log(default_prefix(discovery.prefixes()), max_len, read_only)
}

impl Secured for AppState {
    fn security(&self) -> &Security {
        AppState::security(self)
    }

    fn mount_base(&self) -> &str {
        AppState::mount_base(self)
    }
}
