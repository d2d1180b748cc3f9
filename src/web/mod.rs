//! The dashboard: routes, shared state and middleware. It never builds a Redis key or sends a
//! Redis command: everything goes through [`crate::queue`].
//!
//! [`router`] is the single route table, relative to the mount point, for apps that nest the
//! dashboard in their own axum app; [`app`] mounts it at the configured base path.

pub mod assets;
pub mod charts;
pub mod error;
pub mod extract;
pub mod flash;
pub mod handlers;
pub mod params;
pub mod security;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::queue::actions::Actions;
use crate::queue::alerts::AlertStore;
use crate::queue::audit::AuditLog;
use crate::queue::discovery::Discovery;
use crate::queue::model::default_prefix;
use crate::queue::read::Reader;
use crate::queue::sampler::Sampler;
use error::WebError;
use handlers::{
    actions, alerts, api, audit, flows, health, jobs, live, metrics, pages, prometheus, queues,
    schedulers,
};
use security::Security;
use views::Links;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    reader: Reader,
    discovery: Discovery,
    base: String,
    title: String,
    security: Security,
    actions: Actions,
    audit: AuditLog,
    sampler: Sampler,
    /// Where alerts are kept, when alert rules are configured.
    alerts: Option<AlertStore>,
}

impl AppState {
    /// `base` is the path the dashboard is mounted at ("" for the root, else "/admin/queues").
    pub fn new(reader: Reader, discovery: Discovery, base: &str, title: &str) -> Self {
        let audit = audit_log(&reader, &discovery, AUDIT_MAX_LEN, false);
        AppState {
            inner: Arc::new(Inner {
                discovery,
                base: base.trim_end_matches('/').to_string(),
                title: title.to_string(),
                security: Security::default(),
                actions: Actions::new(reader.redis().settings().clone(), reader.clone()),
                audit,
                reader,
                sampler: Sampler::new(None),
                alerts: None,
            }),
        }
    }

    /// The same state with these security settings (default: `--auth none`, everyone admin).
    pub fn with_security(self, security: Security) -> Self {
        self.rebuild(|inner| {
            inner.audit = audit_log(
                &inner.reader,
                &inner.discovery,
                AUDIT_MAX_LEN,
                security.read_only,
            );
            inner.security = security;
        })
    }

    /// The same state with the audit stream trimmed to `max_len` entries.
    pub fn with_audit_max_len(self, max_len: usize) -> Self {
        self.rebuild(|inner| {
            inner.audit = audit_log(
                &inner.reader,
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
            self.inner.reader.clone(),
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
            AlertStore::new(self.inner.reader.redis().clone(), prefix)
        });
        self.rebuild(|inner| inner.alerts = store)
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

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                reader: shared.reader.clone(),
                discovery: shared.discovery.clone(),
                base: shared.base.clone(),
                title: shared.title.clone(),
                security: shared.security.clone(),
                actions: shared.actions.clone(),
                audit: shared.audit.clone(),
                sampler: shared.sampler.clone(),
                alerts: shared.alerts.clone(),
            },
        };
        change(&mut inner);
        AppState {
            inner: Arc::new(inner),
        }
    }

    pub fn actions(&self) -> &Actions {
        &self.inner.actions
    }

    pub fn security(&self) -> &Security {
        &self.inner.security
    }

    pub fn reader(&self) -> &Reader {
        &self.inner.reader
    }

    pub fn discovery(&self) -> &Discovery {
        &self.inner.discovery
    }

    /// The base path as the browser sees it, for every URL the dashboard writes (links, form
    /// actions, assets, redirects, cookie paths): the configured base, behind a trusted
    /// `X-Forwarded-Prefix` with that prefix in front (see [`security::forwarded_prefix`]).
    pub fn base(&self) -> String {
        PUBLIC_BASE
            .try_with(Clone::clone)
            .unwrap_or_else(|_| self.inner.base.clone())
    }

    /// The base path this server itself is mounted at, for matching request paths.
    pub fn mount_base(&self) -> &str {
        &self.inner.base
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

tokio::task_local! {
    /// The public base path of the request being served, when a proxy prefix applies.
    static PUBLIC_BASE: String;
}

/// Run `future` (the rest of a request) with `base` as [`AppState::base`]. A handler that
/// returns a streaming body should take `state.base()` / `state.links()` before returning.
async fn with_public_base<F: std::future::Future>(base: String, future: F) -> F::Output {
    PUBLIC_BASE.scope(base, future).await
}

/// The audit stream lives under the first configured prefix: `<prefix>:bullring:audit`.
fn audit_log(reader: &Reader, discovery: &Discovery, max_len: usize, read_only: bool) -> AuditLog {
    let prefix = default_prefix(discovery.prefixes());
    AuditLog::new(
        reader.redis().clone(),
        prefix,
        max_len,
        read_only,
    )
}

/// Every route of the dashboard, relative to where it is mounted.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(queues::overview))
        .route("/{action}", post(actions::all_form))
        .route("/queues/{queue}", get(queues::queue_page))
        .route("/queues/{queue}/{action}", post(actions::queue_form))
        .route("/queues/{queue}/actions/{action}", get(pages::action_page))
        .route("/queues/{queue}/jobs/{id}", get(jobs::job_page))
        .route("/queues/{queue}/jobs/{id}/edit", get(pages::edit_page))
        .route(
            "/queues/{queue}/jobs/{id}/{action}",
            post(actions::job_form),
        )
        .route("/alerts", get(alerts::alerts_page))
        .route("/api/alerts", get(alerts::alerts_api))
        .route("/audit", get(audit::audit_page))
        .route("/api/audit", get(audit::audit_api))
        .route("/api/{action}", post(actions::all_api))
        .route("/api/queues", get(api::queues))
        .route("/api/queues/{queue}/jobs", get(api::jobs).post(add_job_api))
        .route("/api/queues/{queue}/{action}", post(actions::queue_api))
        .route("/api/queues/{queue}/jobs/{id}", get(api::job))
        .route("/api/queues/{queue}/jobs/{id}/raw", get(jobs::raw_field))
        .route(
            "/api/queues/{queue}/jobs/{id}/{action}",
            post(actions::job_api),
        )
        .route("/queues/{queue}/jobs/{id}/flow", get(flows::flow_page))
        .route("/queues/{queue}/metrics", get(metrics::metrics_page))
        .route("/queues/{queue}/workers", get(metrics::workers_page))
        .route("/queues/{queue}/schedulers", get(schedulers::page))
        .route(
            "/queues/{queue}/schedulers/{id}/remove",
            post(actions::scheduler_form),
        )
        .route("/schedulers", get(schedulers::page))
        .route("/workers", get(metrics::workers_page))
        .route("/events", get(live::events))
        .route("/metrics", get(prometheus::metrics))
        .route("/api/schedulers", get(schedulers::api))
        .route("/api/workers", get(metrics::workers_api))
        .route("/api/queues/{queue}/jobs/{id}/flow", get(flows::flow_api))
        .route("/api/queues/{queue}/metrics", get(metrics::metrics_api))
        .route("/api/queues/{queue}/workers", get(metrics::workers_api))
        .route("/api/queues/{queue}/schedulers", get(schedulers::api))
        .route(
            "/api/queues/{queue}/schedulers/{id}/remove",
            post(actions::scheduler_api),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(assets::serve))
        .fallback(not_found);
    with_layers(routes, state)
}

/// Only `GET /metrics` (Prometheus), without authentication, for a second listener that only a
/// scraper reaches (`--metrics-listen`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(prometheus::metrics))
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "only /metrics is served here\n",
            )
        })
        .with_state(state)
}

/// The middleware every dashboard route goes through.
fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(from_fn_with_state(state.clone(), flash::clear))
        // The last layer runs first: errors render outermost, so the 401 / 403 of the
        // security layers become pages or JSON; csrf runs after authentication.
        .layer(from_fn_with_state(state.clone(), security::csrf))
        .layer(from_fn_with_state(state.clone(), security::authenticate))
        .layer(from_fn_with_state(state.clone(), error::render_errors))
        // Outermost, so error pages carry the proxy's prefix too.
        .layer(from_fn_with_state(
            state.clone(),
            security::forwarded_prefix,
        ))
        .with_state(state)
}

/// `POST {base}/api/queues/{queue}/jobs`: the list route's path, so it needs its own entry.
async fn add_job_api(
    state: axum::extract::State<AppState>,
    principal: security::Principal,
    extract::Path(name): extract::Path<String>,
    query: extract::Query<params::ActionQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, WebError> {
    let path = extract::Path((name, "jobs".to_string()));
    actions::queue_api(state, principal, path, query, headers, body).await
}

/// The dashboard mounted at the state's base path; `{base}` and `{base}/` both show the overview.
pub fn app(state: AppState) -> Router {
    let base = state.mount_base().to_string();
    if base.is_empty() {
        return router(state);
    }
    let slash = with_layers(
        Router::new().route(&format!("{base}/"), get(queues::overview)),
        state.clone(),
    );
    Router::new().nest(&base, router(state)).merge(slash)
}

async fn not_found() -> WebError {
    WebError::NotFound("There is no page at this address.".into())
}
