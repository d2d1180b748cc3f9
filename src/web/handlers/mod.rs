//! Request handlers, one file per resource. Each parses its input, asks [`crate::queue`], and
//! renders a view; none touches Redis.

pub mod actions;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod commands;
pub mod connections;
pub mod doctor;
pub mod flows;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod latest;
pub mod live;
pub mod locale;
pub mod metrics;
pub mod pages;
pub mod prometheus;
pub mod queues;
pub mod redis_page;
pub mod schedulers;
pub mod search;
pub mod tasks;
pub mod theme;

use askama::Template;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::Html;

use super::error::WebError;
use super::extract::Query;
use super::params::ActionQuery;
use super::state::AppState;
use crate::queue::error::QueueError;
use crate::queue::model::QueueRef;
use crate::web::i18n;

/// Find the queue a URL names. A name known under one prefix costs nothing; a name found under
/// several prefixes without `?prefix=` costs one round trip to pick the first that exists.
pub async fn resolve(
    state: &AppState,
    name: &str,
    prefix: Option<&str>,
) -> Result<QueueRef, WebError> {
    lookup(state, name, prefix, false).await
}

/// [`resolve`], asking Redis even for a name under a single prefix when `must_exist` (one round
/// trip): for views that would otherwise show a queue that does not exist as an empty list.
async fn lookup(
    state: &AppState,
    name: &str,
    prefix: Option<&str>,
    must_exist: bool,
) -> Result<QueueRef, WebError> {
    let prefix = prefix.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = prefix
        && !state.discovery().prefixes().iter().any(|known| known == p)
    {
        return Err(WebError::BadRequest(i18n::tf(
            "input.unknown_prefix",
            &[("prefix", &format!("{p:?}"))],
        )));
    }
    if name.is_empty() || name.contains(':') {
        return Err(no_queue(name));
    }
    let mut candidates = state.discovery().candidates(name, prefix);
    if candidates.len() == 1 && !must_exist {
        return Ok(candidates.remove(0));
    }
    let existing = state.reader().summaries(&candidates).await?;
    existing
        .first()
        .map(|s| s.queue())
        .ok_or_else(|| no_queue(name))
}

/// The 404 of a queue that is not there, worded as the core words it.
fn no_queue(name: &str) -> WebError {
    QueueError::QueueNotFound(name.to_string()).into()
}

/// The queue a view is scoped to: `Some` on a `/queues/{queue}/...` route (found as
/// [`resolve`] does, `?prefix=` included, and checked to exist), `None` on the matching
/// all-queues route. One handler serves both, e.g. `GET {base}/schedulers` and
/// `GET {base}/queues/{queue}/schedulers`. A queue that does not exist is a 404, an unknown
/// `?prefix=` a 400.
pub struct Scope(pub Option<QueueRef>);

impl FromRequestParts<AppState> for Scope {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Some(name) = path_param(parts, state, "queue").await? else {
            return Ok(Scope(None));
        };
        let Query(query) = Query::<ActionQuery>::from_request_parts(parts, state).await?;
        // A scoped list of a queue that does not exist would be an empty 200: check it exists.
        let queue = lookup(state, &name, query.prefix.as_deref(), true).await?;
        Ok(Scope(Some(queue)))
    }
}

/// A path parameter of the route, percent-decoded; `None` when the route has no such parameter,
/// a 400 when the parameter is not UTF-8.
pub async fn path_param(
    parts: &mut Parts,
    state: &AppState,
    name: &str,
) -> Result<Option<String>, WebError> {
    use axum::extract::rejection::RawPathParamsRejection;
    let params = match RawPathParams::from_request_parts(parts, state).await {
        Ok(params) => params,
        // A route without parameters has none to read.
        Err(RawPathParamsRejection::MissingPathParams(_)) => return Ok(None),
        Err(rejection) => {
            return Err(WebError::BadRequest(i18n::tf(
                "input.bad_address",
                &[("detail", &rejection.body_text())],
            )));
        }
    };
    Ok(params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string()))
}

/// The queue a `/queues/{queue}/...` route names, found as [`resolve`] finds it (`?prefix=`
/// included).
pub struct QueueAt(pub QueueRef);

impl FromRequestParts<AppState> for QueueAt {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let name = path_param(parts, state, "queue")
            .await?
            .ok_or_else(WebError::no_page)?;
        let Query(query) = Query::<ActionQuery>::from_request_parts(parts, state).await?;
        Ok(QueueAt(
            resolve(state, &name, query.prefix.as_deref()).await?,
        ))
    }
}

/// The job a `/queues/{queue}/jobs/{id}/...` route names, in the queue [`QueueAt`] finds.
pub struct JobAt {
    pub queue: QueueRef,
    pub id: String,
}

impl FromRequestParts<AppState> for JobAt {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let QueueAt(queue) = QueueAt::from_request_parts(parts, state).await?;
        let id = path_param(parts, state, "id")
            .await?
            .ok_or_else(WebError::no_page)?;
        Ok(JobAt { queue, id })
    }
}

/// Render a template, mapping a render failure to a logged 500.
pub fn render<T: Template>(template: &T) -> Result<Html<String>, WebError> {
    template.render().map(Html).map_err(WebError::internal)
}
