//! Request handlers, one file per resource. Each parses its input, asks [`crate::queue`], and
//! renders a view; none touches Redis.

pub mod actions;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod flows;
pub mod health;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod prometheus;
pub mod queues;
pub mod schedulers;

use super::AppState;
use super::error::WebError;
use crate::queue::model::QueueRef;

/// Find the queue a URL names. A name known under one prefix costs nothing; a name found under
/// several prefixes without `?prefix=` costs one round trip to pick the first that exists.
pub async fn resolve(
    state: &AppState,
    name: &str,
    prefix: Option<&str>,
) -> Result<QueueRef, WebError> {
    let prefix = prefix.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = prefix
        && !state.discovery().prefixes().iter().any(|known| known == p)
    {
        return Err(WebError::BadRequest(format!(
            "prefix {p:?} is not one of the configured prefixes"
        )));
    }
    if name.is_empty() || name.contains(':') {
        return Err(WebError::NotFound(format!("no queue named {name:?}")));
    }
    let mut candidates = state.discovery().candidates(name, prefix);
    if candidates.len() == 1 {
        return Ok(candidates.remove(0));
    }
    let existing = state.reader().summaries(&candidates).await?;
    existing
        .first()
        .map(|s| s.queue())
        .ok_or_else(|| WebError::NotFound(format!("no queue named {name:?}")))
}
