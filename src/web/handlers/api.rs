//! The JSON API: the same data as the pages, with Node BullMQ's field names, for scripts.

use axum::Json;
use axum::extract::State;

use crate::web::extract::Query;
use serde_json::{Value, json};

use super::connections::{CONNECTION_TIMEOUT, summaries};
use super::jobs::{RAW_FIELDS, read_job};
use super::queues::read_page;
use super::{JobAt, QueueAt};
use crate::queue::error::chain;
use crate::queue::groups::group_of;
use crate::queue::model::{JobDetail, JobPage, QueueSummary};
use crate::queue::preview::RAW_FIELD_MAX;
use crate::web::error::WebError;
use crate::web::params::{JobQuery, ListQuery, OverviewQuery};
use crate::web::state::AppState;

/// `GET {base}/api/queues`: every queue with its counts and its `connection`. With several
/// connections, every connection's queues, read in parallel (each within its own time limit);
/// those that could not be read are named in `unavailable` with the error. `?connection=NAME`
/// (routed to `{base}/c/{name}/api/queues`) lists one connection's.
pub async fn queues(
    State(state): State<AppState>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Value>, WebError> {
    let prefix = query.prefix.as_deref().filter(|p| !p.is_empty());
    let of = |each: &AppState| -> Vec<_> {
        each.discovery()
            .snapshot()
            .queues
            .into_iter()
            .filter(|q| prefix.is_none_or(|p| q.prefix == p))
            .collect()
    };
    if state.others().is_empty() {
        let summaries = state.reader().summaries(&of(&state)).await?;
        let name = &state.connection().name;
        let listed = with_connection(name, state.delimiter(), summaries);
        return Ok(Json(json!({ "queues": listed })));
    }
    let reads = state.every_connection().map(|each| {
        let queues = of(each);
        async move {
            let read = tokio::time::timeout(CONNECTION_TIMEOUT, summaries(each, &queues));
            let name = each.connection().name.clone();
            match read.await {
                Ok(Ok(summaries)) => Ok(with_connection(&name, each.delimiter(), summaries)),
                Ok(Err(err)) => Err(json!({ "connection": name, "error": chain(&err) })),
                Err(_) => Err(json!({
                    "connection": name,
                    "error": format!("no answer within {} ms", CONNECTION_TIMEOUT.as_millis()),
                })),
            }
        }
    });
    let (mut queues, mut unavailable) = (Vec::new(), Vec::new());
    for read in futures::future::join_all(reads).await {
        match read {
            Ok(list) => queues.extend(list),
            Err(down) => unavailable.push(down),
        }
    }
    Ok(Json(
        json!({ "queues": queues, "unavailable": unavailable }),
    ))
}

/// Each summary as JSON, with the connection it is on and, when queues are grouped by a
/// `delimiter`, its `group` (`null` for a queue in no group).
fn with_connection(
    connection: &str,
    delimiter: Option<&str>,
    summaries: Vec<QueueSummary>,
) -> Vec<Value> {
    summaries
        .into_iter()
        .map(|summary| {
            let group = delimiter.map(|d| group_of(&summary.name, d).map(String::from));
            let mut value = json!(summary);
            if let Some(fields) = value.as_object_mut() {
                fields.insert("connection".into(), json!(connection));
                if let Some(group) = group {
                    fields.insert("group".into(), json!(group));
                }
            }
            value
        })
        .collect()
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
