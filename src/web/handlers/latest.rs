//! `GET {base}/queues/{queue}?state=latest`: the queue page's `latest` tab, the newest jobs of
//! every state merged by the time they were added (`queue::latest`).

use axum::response::{IntoResponse, Response};

use super::render;
use crate::queue::access::Principal;
use crate::queue::model::QueueRef;
use crate::queue::read::MAX_PER_PAGE;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::params::{ListQuery, bounded};
use crate::web::state::AppState;
use crate::web::views::queue::QueuePage;
use crate::web::views::{Chrome, Perms};

/// How many jobs of each state the tab reads (and shows in all), unless `per_page` says.
pub const DEFAULT_PER_STATE: u64 = 20;

/// Whether the query asks for the `latest` tab.
pub fn asked(query: &ListQuery) -> bool {
    query.state.as_deref().map(str::trim) == Some(crate::web::views::queue::LATEST)
}

pub async fn page(
    state: &AppState,
    principal: &Principal,
    flash: Flash,
    queue: &QueueRef,
    query: &ListQuery,
) -> Result<Response, WebError> {
    let per_state = bounded(
        "per_page",
        query.per_page.as_deref(),
        DEFAULT_PER_STATE,
        MAX_PER_PAGE,
    )?;
    let (summary, latest) = state.reader().latest(queue, per_state).await?;
    let view = QueuePage::latest(
        Chrome::page(state, principal, flash),
        Perms::of(principal),
        &state.links(),
        &summary,
        &latest,
    );
    Ok(render(&view)?.into_response())
}
