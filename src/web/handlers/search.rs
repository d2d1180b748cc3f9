//! Search: `GET {base}/api/queues/{queue}/search` (JSON), and a queue page with `?q=` (the
//! matches in the job table, with the tab's row and bulk actions, and a link to continue).
//! The query is parsed and run by the core (`queue::search`); a bad query or cursor is a 400
//! naming what is wrong.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{QueueAt, render};
use crate::queue::access::Principal;
use crate::queue::model::{Job, JobPage, JobState, QueueRef};
use crate::queue::search::export::Export;
use crate::queue::search::query::Query as SearchQuery;
use crate::queue::search::{Outcome, Request};
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::flash::Flash;
use crate::web::i18n;
use crate::web::params::{ListParams, ListQuery};
use crate::web::state::AppState;
use crate::web::views::queue::QueuePage;
use crate::web::views::search::{SearchPage, SearchView};
use crate::web::views::{Chrome, Perms};

/// `?q=&cursor=` of a search, and the fields of the form that builds a query without
/// JavaScript (`b_name`, `b_data` ...), turned into `q` by [`SearchParams::built`].
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub b_name: Option<String>,
    pub b_id: Option<String>,
    pub b_data: Option<String>,
    pub b_reason: Option<String>,
    pub b_result: Option<String>,
    pub b_added_after: Option<String>,
    pub b_added_before: Option<String>,
    pub b_finished_after: Option<String>,
    pub b_finished_before: Option<String>,
    pub b_attempts: Option<String>,
}

/// A value as a query term writes it: quoted when it has spaces, quotes or backslashes (a
/// trailing `*` stays outside, a prefix).
fn quoted(value: &str) -> String {
    let (body, star) = match value.strip_suffix('*') {
        Some(body) => (body, "*"),
        None => (value, ""),
    };
    if body
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\')
        || body.is_empty()
    {
        let escaped = body.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"{star}")
    } else {
        format!("{body}{star}")
    }
}

impl SearchParams {
    fn text(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or("")
    }

    fn cursor(&self) -> Option<&str> {
        self.cursor
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// Whether the page is a search (a query or a cursor is given).
    pub fn active(&self) -> bool {
        !self.text().is_empty() || self.cursor().is_some() || self.built().is_some()
    }

    /// The query the form's fields build, after `q`; `None` when no field is filled.
    pub fn built(&self) -> Option<String> {
        let fields = [
            ("name:", &self.b_name),
            ("id:", &self.b_id),
            ("data:", &self.b_data),
            ("reason:", &self.b_reason),
            ("result:", &self.b_result),
            ("added>=", &self.b_added_after),
            ("added<", &self.b_added_before),
            ("finished>=", &self.b_finished_after),
            ("finished<", &self.b_finished_before),
            ("attempts>=", &self.b_attempts),
        ];
        let terms: Vec<String> = fields
            .iter()
            .filter_map(|(key, value)| {
                let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
                Some(format!("{key}{}", quoted(value)))
            })
            .collect();
        if terms.is_empty() {
            return None;
        }
        let mut all: Vec<String> = Vec::new();
        if !self.text().is_empty() {
            all.push(self.text().to_string());
        }
        all.extend(terms);
        Some(all.join(" "))
    }
}

/// Run one search request on `queues`: the query's states, else `tab`.
async fn run(
    state: &AppState,
    queues: &[QueueRef],
    tab: &ListParams,
    search: &SearchParams,
) -> Result<(Outcome, Vec<JobState>), WebError> {
    let query = SearchQuery::parse(search.text())
        .map_err(|err| WebError::BadRequest(i18n::here(&err.said())))?;
    let states = if query.states.is_empty() {
        vec![tab.state]
    } else {
        query.states.clone()
    };
    let request = Request {
        queues,
        states: states.clone(),
        order: tab.order,
        query: &query,
        cursor: search.cursor(),
        limit: usize::try_from(tab.per_page).unwrap_or(usize::MAX),
    };
    Ok((state.reader().search(request).await?, states))
}

/// `GET {base}/api/queues/{queue}/search?state=failed&q=<query>&cursor=<c>&per_page=&order=`:
/// `{"jobs": [...], "scanned": N, "total": N, "cursor": "<c>" | null}`.
pub async fn api(
    State(state): State<AppState>,
    QueueAt(queue): QueueAt,
    Query(list): Query<ListQuery>,
    Query(search): Query<SearchParams>,
) -> Result<Json<Value>, WebError> {
    let tab = list.params(JobState::Waiting)?;
    let (outcome, _) = run(&state, std::slice::from_ref(&queue), &tab, &search).await?;
    let jobs: Vec<&Job> = outcome.found.iter().map(|found| &found.job).collect();
    Ok(Json(json!({
        "jobs": jobs,
        "scanned": outcome.scanned,
        "total": outcome.total,
        "cursor": outcome.cursor,
    })))
}

/// `GET {base}/api/queues/{queue}/export?state=failed&q=<query>&order=`: every match, one job a
/// line (NDJSON, the job API's fields), streamed as it is read; offered as a download.
pub async fn export(
    State(state): State<AppState>,
    QueueAt(queue): QueueAt,
    Query(list): Query<ListQuery>,
    Query(search): Query<SearchParams>,
) -> Result<Response, WebError> {
    let tab = list.params(JobState::Waiting)?;
    let query = SearchQuery::parse(search.text())
        .map_err(|err| WebError::BadRequest(i18n::here(&err.said())))?;
    let states = if query.states.is_empty() {
        vec![tab.state]
    } else {
        query.states.clone()
    };
    let file = format!(
        "{}-{}.ndjson",
        queue
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            })
            .collect::<String>(),
        states
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("-")
    );
    let pieces = state.reader().export(Export {
        queues: vec![queue],
        states,
        order: tab.order,
        query,
    });
    let body = futures_util::stream::unfold(pieces, |mut pieces| async move {
        let piece = pieces.recv().await?;
        let piece = piece.map(Bytes::from).map_err(|err| {
            tracing::warn!(error = %crate::queue::error::chain(&err), "export stopped");
            std::io::Error::other(err.to_string())
        });
        Some((piece, pieces))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// `GET {base}/search?state=failed&q=<query>&prefix=&cursor=`: a search over every queue of a
/// prefix (the first configured one by default), the queues walked one after the other.
pub async fn everywhere(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(list): Query<ListQuery>,
    Query(search): Query<SearchParams>,
) -> Result<Response, WebError> {
    let tab = list.params(JobState::Failed)?;
    let links = state.links();
    let prefixes = state.discovery().prefixes().to_vec();
    let prefix = match list
        .prefix
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) if prefixes.iter().any(|known| known == p) => p.to_string(),
        Some(p) => {
            return Err(WebError::BadRequest(i18n::tf(
                "input.unknown_prefix",
                &[("prefix", &format!("{p:?}"))],
            )));
        }
        None => crate::queue::model::default_prefix(&prefixes).to_string(),
    };
    let queues: Vec<QueueRef> = state
        .discovery()
        .snapshot()
        .queues
        .into_iter()
        .filter(|q| q.prefix == prefix)
        .collect();
    if let Some(built) = search.built() {
        let to = format!(
            "{}search?state={}&prefix={}&q={}",
            links.home(),
            tab.state.as_str(),
            crate::web::links::encode(&prefix),
            crate::web::links::encode(&built)
        );
        return Ok(Redirect::to(&to).into_response());
    }
    let mut page = SearchPage {
        chrome: Chrome::page(&state, &principal, flash),
        q: search.text().to_string(),
        state: tab.state.as_str(),
        states: JobState::ALL.iter().map(|s| s.as_str()).collect(),
        prefix: prefix.clone(),
        prefixes,
        queues: queues.len(),
        active: false,
        scanned: String::new(),
        rows: Vec::new(),
        next: None,
    };
    if search.active() {
        let (outcome, states) = run(&state, &queues, &tab, &search).await?;
        page.active = true;
        page.scanned = SearchPage::scanned(outcome.scanned, outcome.total, &states);
        page.rows = SearchPage::rows(&links, &outcome.found);
        page.next = outcome.cursor.map(|cursor| {
            format!(
                "{}search?state={}{}&prefix={}&q={}&cursor={}",
                links.home(),
                tab.state.as_str(),
                tab.more(),
                crate::web::links::encode(&prefix),
                crate::web::links::encode(search.text()),
                crate::web::links::encode(&cursor)
            )
        });
    }
    Ok(render(&page)?.into_response())
}

/// A queue's page with `?q=`: the matches of one request in the tab's job table, with what was
/// scanned and a link to continue. The form's fields redirect to the query they build.
pub async fn queue_page(
    state: AppState,
    principal: Principal,
    flash: Flash,
    queue: QueueRef,
    list: ListQuery,
    search: SearchParams,
) -> Result<Response, WebError> {
    let tab = list.params(JobState::Waiting)?;
    let links = state.links();
    if let Some(built) = search.built() {
        return Ok(
            Redirect::to(&links.search(&queue, tab.state, &built, None, &tab.more()))
                .into_response(),
        );
    }
    let queues = std::slice::from_ref(&queue);
    let summary = state.reader().summary(&queue);
    let ((outcome, states), summary) =
        tokio::try_join!(run(&state, queues, &tab, &search), async {
            summary.await.map_err(WebError::from)
        })?;
    let shown = states.first().copied().unwrap_or(tab.state);
    let page = JobPage {
        library: queue.library,
        state: shown,
        page: 1,
        per_page: tab.per_page,
        total: outcome.total,
        jobs: outcome.found.into_iter().map(|found| found.job).collect(),
    };
    let mut view = QueuePage::new(
        Chrome::page(&state, &principal, flash),
        Perms::of(&principal),
        &links,
        &summary,
        &page,
        tab.order,
    );
    let here = links.search(
        &queue,
        tab.state,
        search.text(),
        search.cursor(),
        &tab.more(),
    );
    view.search = SearchView::found(
        &links,
        &queue,
        tab.state,
        &states,
        search.text(),
        (outcome.scanned, outcome.total, page.jobs.len()),
        outcome.cursor.as_deref().map(|cursor| {
            links.search(&queue, tab.state, search.text(), Some(cursor), &tab.more())
        }),
    );
    view.search.offer_apply(&principal, &queue, &states);
    view.back_to(&here);
    Ok(render(&view)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_builds_a_query_that_parses_back() {
        let params = SearchParams {
            q: Some("state:failed".into()),
            b_name: Some("send-*".into()),
            b_data: Some("ada \"lovelace\"".into()),
            b_added_after: Some("2026-11-01".into()),
            b_attempts: Some(" ".into()),
            ..SearchParams::default()
        };
        let built = params.built().unwrap();
        assert_eq!(
            built,
            r#"state:failed name:send-* data:"ada \"lovelace\"" added>=2026-11-01"#
        );
        let query = SearchQuery::parse(&built).unwrap();
        assert_eq!(query.terms.len(), 3);
        assert!(SearchParams::default().built().is_none());
        assert!(!SearchParams::default().active());
    }
}
