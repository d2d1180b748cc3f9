//! The dashboard: routes, shared state and middleware. It never builds a Redis key or sends a
//! Redis command: everything goes through [`crate::queue`].
//!
//! [`router`] is the single route table, relative to the mount point, for apps that nest the
//! dashboard in their own axum app; [`app`] mounts it at the configured base path.

pub mod assets;
pub mod error;
pub mod handlers;
pub mod params;
pub mod security;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;

use crate::queue::discovery::Discovery;
use crate::queue::read::Reader;
use error::WebError;
use handlers::{api, health, jobs, queues};
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
}

impl AppState {
    /// `base` is the path the dashboard is mounted at ("" for the root, else "/admin/queues").
    pub fn new(reader: Reader, discovery: Discovery, base: &str, title: &str) -> Self {
        AppState {
            inner: Arc::new(Inner {
                reader,
                discovery,
                base: base.trim_end_matches('/').to_string(),
                title: title.to_string(),
                security: Security::default(),
            }),
        }
    }

    /// The same state with these security settings (default: `--auth none`, everyone admin).
    pub fn with_security(self, security: Security) -> Self {
        self.rebuild(|inner| inner.security = security)
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
            },
        };
        change(&mut inner);
        AppState {
            inner: Arc::new(inner),
        }
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

    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub fn title(&self) -> &str {
        &self.inner.title
    }

    pub fn links(&self) -> Links {
        Links {
            base: self.inner.base.clone(),
            with_prefix: self.inner.discovery.prefixes().len() > 1,
        }
    }
}

/// Every route of the dashboard, relative to where it is mounted.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(queues::overview))
        .route("/queues/{queue}", get(queues::queue_page))
        .route("/queues/{queue}/jobs/{id}", get(jobs::job_page))
        .route("/api/queues", get(api::queues))
        .route("/api/queues/{queue}/jobs", get(api::jobs))
        .route("/api/queues/{queue}/jobs/{id}", get(api::job))
        .route("/api/queues/{queue}/jobs/{id}/raw", get(jobs::raw_field))
        .route("/healthz", get(health::healthz))
        .route("/static/{*path}", get(assets::serve))
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), error::render_errors))
        .with_state(state)
}

/// The dashboard mounted at the state's base path; `{base}` and `{base}/` both show the overview.
pub fn app(state: AppState) -> Router {
    let base = state.base().to_string();
    if base.is_empty() {
        return router(state);
    }
    let slash = Router::new()
        .route(&format!("{base}/"), get(queues::overview))
        .layer(from_fn_with_state(state.clone(), error::render_errors))
        .with_state(state.clone());
    Router::new().nest(&base, router(state)).merge(slash)
}

async fn not_found() -> WebError {
    WebError::NotFound("There is no page at this address.".into())
}
