//! The overview (every queue with its counts) and a queue's page (tabs and a page of jobs).

use axum::extract::State;

use crate::web::extract::Query;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::search::SearchParams;
use super::{QueueAt, connections, render};
use crate::queue::access::Principal;
use crate::queue::model::{JobPage, JobState, Order, QueueRef, QueueSummary};
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::params::{ListQuery, OverviewQuery};
use crate::web::state::AppState;
use crate::web::views::overview::OverviewPage;
use crate::web::views::queue::QueuePage;
use crate::web::views::{Chrome, Perms};

/// `GET {base}/`: every known queue with its counts, last hour of throughput and connected
/// workers, in one Redis round trip.
pub async fn overview(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(query): Query<OverviewQuery>,
) -> Result<Html<String>, WebError> {
    let filter = query.q.unwrap_or_default().trim().to_string();
    let needle = filter.to_lowercase();
    let snapshot = state.discovery().snapshot();
    let queues: Vec<_> = snapshot
        .queues
        .into_iter()
        .filter(|q| needle.is_empty() || q.name.to_lowercase().contains(&needle))
        .filter(|q| {
            query
                .prefix
                .as_deref()
                .is_none_or(|p| p.is_empty() || q.prefix == p)
        })
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    // Active alerts cost one more round trip, only when alert rules are configured.
    let active = async {
        match state.alerts() {
            Some(store) => store.active().await,
            None => Ok(Vec::new()),
        }
    };
    // With other connections, each is read in parallel within its own time limit, and this
    // connection being down is one row of the table, not an error page.
    let started = std::time::Instant::now();
    let (read, active, others) = tokio::join!(
        state.reader().overview(&queues, now),
        active,
        connections::other_rows(&state)
    );
    let took = started.elapsed();
    let several = !state.others().is_empty();
    let ((rows, workers), own_row) = match read {
        Ok(read) if several => {
            let summaries: Vec<_> = read.0.iter().map(|(s, _)| s.clone()).collect();
            (read, Ok((summaries, took)))
        }
        Ok(read) => (read, Ok((Vec::new(), took))),
        Err(err) if several => {
            let error = crate::web::error::redis_trouble(&err);
            ((Vec::new(), None), Err(error))
        }
        Err(err) => return Err(err.into()),
    };
    let mut page = OverviewPage::new(
        Chrome::page(&state, &principal, flash),
        Perms::of(&principal),
        &state.links(),
        &rows,
        workers.as_deref(),
        filter,
        !snapshot.complete,
    );
    if let Some(delimiter) = state.delimiter() {
        page = page.grouped(delimiter, &state.links());
    }
    if several {
        page.connections = std::iter::once(connections::row(&state, &own_row))
            .chain(others)
            .collect();
    }
    let active = match active {
        Ok(active) => active,
        Err(_) if several => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    page.alerts = active
        .into_iter()
        .map(|a| (a.title, a.text, a.url))
        .collect();
    render(&page)
}

/// `GET {base}/queues/{queue}?state=&page=&per_page=&order=`: one tab of a queue, paged.
/// `?job=<id>` (the jump box) redirects to that job's page.
pub async fn queue_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    QueueAt(queue): QueueAt,
    Query(query): Query<ListQuery>,
    Query(search): Query<SearchParams>,
) -> Result<Response, WebError> {
    if search.active() {
        return super::search::queue_page(state, principal, flash, queue, query, search).await;
    }
    if let Some(id) = query
        .job
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        return Ok(Redirect::to(&state.links().job(&queue, id)).into_response());
    }
    if super::latest::asked(&query) {
        return super::latest::page(&state, &principal, flash, &queue, &query).await;
    }
    let (summary, page, order) = read_page(&state, &queue, &query).await?;
    let view = QueuePage::new(
        Chrome::page(&state, &principal, flash),
        Perms::of(&principal),
        &state.links(),
        &summary,
        &page,
        order,
    );
    Ok(render(&view)?.into_response())
}

/// One page of one tab of a queue, as `?state=&page=&per_page=&order=` ask (waiting first).
pub async fn read_page(
    state: &AppState,
    queue: &QueueRef,
    query: &ListQuery,
) -> Result<(QueueSummary, JobPage, Order), WebError> {
    let params = query.params(JobState::Waiting)?;
    let (summary, page) = state
        .reader()
        .job_page(
            queue,
            params.state,
            params.page,
            params.per_page,
            params.order,
        )
        .await?;
    Ok((summary, page, params.order))
}
