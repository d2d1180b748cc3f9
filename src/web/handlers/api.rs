//! The JSON API: the same data as the pages, with Node BullMQ's field names, for scripts.

use axum::Json;
use axum::extract::State;

use crate::web::extract::Query;
use serde_json::{Value, json};

use super::jobs::{RAW_FIELDS, read_job};
use super::queues::read_page;
use super::{JobAt, QueueAt};
use crate::queue::model::{JobDetail, JobPage};
use crate::queue::preview::RAW_FIELD_MAX;
use crate::web::error::WebError;
use crate::web::params::{JobQuery, ListQuery, OverviewQuery};
use crate::web::state::AppState;

/// `GET {base}/api/queues`: every queue with its counts.
pub async fn queues(
    State(state): State<AppState>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Value>, WebError> {
    let queues: Vec<_> = state
        .discovery()
        .snapshot()
        .queues
        .into_iter()
        .filter(|q| query.prefix.as_deref().is_none_or(|p| q.prefix == p))
        .collect();
    let summaries = state.reader().summaries(&queues).await?;
    Ok(Json(json!({ "queues": summaries })))
}

/// `GET {base}/api/queues/{queue}/jobs?state=failed&page=1&per_page=50&order=newest`: a page of
/// jobs; a field too big for a list is `null` (or absent) and named in the job's `truncated`,
/// with its size and a link to read it whole.
pub async fn jobs(
    State(state): State<AppState>,
    QueueAt(queue): QueueAt,
    Query(query): Query<ListQuery>,
) -> Result<Json<JobPage>, WebError> {
    let (_summary, mut page, _order) = read_page(&state, &queue, &query).await?;
    // A field left out for its size links to where it can be read whole.
    let links = state.links();
    for job in &mut page.jobs {
        for cut in &mut job.truncated {
            if RAW_FIELDS.contains(&cut.field.as_str()) {
                cut.raw = Some(links.raw(&queue, &job.id, &cut.field));
            }
        }
    }
    Ok(Json(page))
}

/// `GET {base}/api/queues/{queue}/jobs/{id}`: the whole job, with state, logs and children.
pub async fn job(
    State(state): State<AppState>,
    at: JobAt,
    Query(query): Query<JobQuery>,
) -> Result<Json<JobDetail>, WebError> {
    let mut detail = read_job(&state, &at, &query).await?.0;
    // A field left out for its size links to where it can be read whole, when it can.
    let links = state.links();
    for cut in &mut detail.job.truncated {
        if RAW_FIELDS.contains(&cut.field.as_str()) && cut.bytes <= RAW_FIELD_MAX {
            cut.raw = Some(links.raw(&at.queue, &at.id, &cut.field));
        }
    }
    Ok(Json(detail))
}
