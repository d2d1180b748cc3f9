//! Pages that ask for an action's details before it runs: clean (with a preview of how many jobs
//! it would remove), drain, obliterate (type the queue's name), add a job, edit a job's data.
//! Their forms post to the action routes; a form with bad input comes back with what was typed
//! and the reason next to it.

use askama::Template;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::queues::render;
use super::resolve;
use crate::queue::model::{JobState, QueueRef, QueueSummary};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::params::{ActionPageQuery, JobQuery, bounded};
use crate::web::security::{Action, Principal};
use crate::web::views::Chrome;

/// Default grace of the clean form: jobs finished more than an hour ago.
const DEFAULT_GRACE_MS: u64 = 3_600_000;
const DEFAULT_CLEAN_LIMIT: u64 = 1000;

fn require(principal: &Principal, action: Action) -> Result<(), WebError> {
    if principal.may(action) {
        Ok(())
    } else if principal.read_only {
        Err(WebError::Forbidden(
            "Not allowed: the dashboard is read-only.".into(),
        ))
    } else {
        Err(WebError::Forbidden(format!(
            "Not allowed: {action} needs the {} role; you are {}.",
            action.required_role(),
            principal.role
        )))
    }
}

#[derive(Template)]
#[template(path = "pages/clean.html")]
pub struct CleanPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub preview_action: String,
    pub post_action: String,
    pub prefix: Option<String>,
    pub states: Vec<&'static str>,
    pub state: &'static str,
    pub grace_ms: u64,
    pub limit: u64,
    pub count: u64,
    pub exact: bool,
}

#[derive(Template)]
#[template(path = "pages/drain.html")]
pub struct DrainPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub summary: QueueSummary,
}

#[derive(Template)]
#[template(path = "pages/obliterate.html")]
pub struct ObliteratePage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub pause_action: String,
    pub back: String,
    pub summary: QueueSummary,
}

/// The add-job form, blank or as the user filled it in.
#[derive(Template)]
#[template(path = "pages/add.html")]
pub struct AddPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub error: String,
    /// The form field the error is about ("" when it is about the whole form).
    pub error_field: &'static str,
    pub values: AddValues,
}

/// The add form's fields, and the names its errors start with ("attempts: ...", "jobId: ...").
const ADD_FIELDS: [(&str, &str); 10] = [
    ("name", "name"),
    ("data", "data"),
    ("job_id", "jobId"),
    ("delay_ms", "delay"),
    ("priority", "priority"),
    ("attempts", "attempts"),
    ("backoff_type", "backoff"),
    ("backoff_delay_ms", "backoff_delay_ms"),
    ("remove_on_complete", "removeOnComplete"),
    ("remove_on_fail", "removeOnFail"),
];

/// Which field of the add form an error message is about.
fn error_field(error: &str) -> &'static str {
    let Some((head, _)) = error.split_once(':') else {
        return "";
    };
    ADD_FIELDS
        .iter()
        .find(|(field, option)| head == *field || head == *option)
        .map_or("", |(field, _)| field)
}

#[derive(Default)]
pub struct AddValues {
    pub name: String,
    pub data: String,
    pub job_id: String,
    pub delay_ms: String,
    pub priority: String,
    pub attempts: String,
    pub backoff_type: String,
    pub backoff_delay_ms: String,
    pub remove_on_complete: String,
    pub remove_on_fail: String,
}

#[derive(Template)]
#[template(path = "pages/edit.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub job_id: String,
    pub job_href: String,
    pub post_action: String,
    pub error: String,
    pub data: String,
}

/// `GET {base}/queues/{queue}/actions/{action}`: the form of `clean`, `drain`, `obliterate`, `add`.
pub async fn action_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Path((name, action)): Path<(String, String)>,
    Query(query): Query<ActionPageQuery>,
) -> Result<Html<String>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let links = state.links();
    let chrome = Chrome::page(&state, &principal, flash);
    let queue_href = links.queue(&queue);
    match action.as_str() {
        "clean" => {
            require(&principal, Action::Clean)?;
            let clean_state: JobState = match query.state.as_deref() {
                Some(text) if !text.is_empty() => text.parse()?,
                _ => JobState::Completed,
            };
            crate::queue::actions::check_cleanable(clean_state)?;
            let grace_ms = match query.grace_ms.as_deref().map(str::trim) {
                None | Some("") => DEFAULT_GRACE_MS,
                Some(text) => text.parse().map_err(|_| {
                    WebError::BadRequest(format!("grace_ms: {text:?} is not a whole number"))
                })?,
            };
            let limit = match query.limit.as_deref().map(str::trim) {
                Some("0") => 0,
                other => bounded("limit", other, DEFAULT_CLEAN_LIMIT, u32::MAX as u64)?,
            };
            let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
            let (count, exact) = state
                .reader()
                .clean_preview(&queue, clean_state, grace_ms, limit, now)
                .await?;
            render(&CleanPage {
                chrome,
                queue_name: queue.name.clone(),
                queue_href,
                preview_action: links.action_page(&queue, "clean"),
                post_action: links.queue_action(&queue, "clean"),
                prefix: links.with_prefix.then(|| queue.prefix.clone()),
                states: crate::queue::actions::CLEANABLE
                    .map(|s| s.as_str())
                    .to_vec(),
                state: clean_state.as_str(),
                grace_ms,
                limit,
                count,
                exact,
            })
        }
        "drain" => {
            require(&principal, Action::Drain)?;
            let summary = state.reader().summary(&queue).await?;
            render(&DrainPage {
                chrome,
                queue_name: queue.name.clone(),
                queue_href,
                post_action: links.queue_action(&queue, "drain"),
                summary,
            })
        }
        "obliterate" => {
            require(&principal, Action::Obliterate)?;
            let summary = state.reader().summary(&queue).await?;
            render(&ObliteratePage {
                chrome,
                queue_name: queue.name.clone(),
                queue_href,
                post_action: links.queue_action(&queue, "obliterate"),
                pause_action: links.queue_action(&queue, "pause"),
                back: links.action_page(&queue, "obliterate"),
                summary,
            })
        }
        "add" => {
            require(&principal, Action::AddJob)?;
            render(&add_page(
                chrome,
                &state,
                &queue,
                String::new(),
                AddValues {
                    data: "{}".into(),
                    ..AddValues::default()
                },
            ))
        }
        other => Err(WebError::NotFound(format!("no action page {other:?}"))),
    }
}

fn add_page(
    chrome: Chrome,
    state: &AppState,
    queue: &QueueRef,
    error: String,
    values: AddValues,
) -> AddPage {
    let links = state.links();
    AddPage {
        chrome,
        queue_name: queue.name.clone(),
        queue_href: links.queue(queue),
        post_action: links.queue_action(queue, "jobs"),
        error_field: error_field(&error),
        error,
        values,
    }
}

/// The add-job form again, with what was typed and why it was refused (400).
pub fn add_form_again(
    state: &AppState,
    principal: &Principal,
    queue: &QueueRef,
    fields: &[(String, String)],
    error: String,
) -> Response {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let values = AddValues {
        name: get("name"),
        data: get("data"),
        job_id: get("job_id"),
        delay_ms: get("delay_ms"),
        priority: get("priority"),
        attempts: get("attempts"),
        backoff_type: get("backoff_type"),
        backoff_delay_ms: get("backoff_delay_ms"),
        remove_on_complete: get("remove_on_complete"),
        remove_on_fail: get("remove_on_fail"),
    };
    let chrome = Chrome::page(state, principal, Flash::default());
    form_again(render(&add_page(chrome, state, queue, error, values)))
}

/// `GET {base}/queues/{queue}/jobs/{id}/edit`: the job's data in a text area.
pub async fn edit_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<JobQuery>,
) -> Result<Html<String>, WebError> {
    require(&principal, Action::EditData)?;
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let (_, detail) = state.reader().job(&queue, &id, 1, 1).await?;
    let data = serde_json::to_string_pretty(&detail.job.data).unwrap_or_default();
    render(&edit_view(
        Chrome::page(&state, &principal, flash),
        &state,
        &queue,
        &id,
        String::new(),
        data,
    ))
}

fn edit_view(
    chrome: Chrome,
    state: &AppState,
    queue: &QueueRef,
    id: &str,
    error: String,
    data: String,
) -> EditPage {
    let links = state.links();
    EditPage {
        chrome,
        queue_name: queue.name.clone(),
        queue_href: links.queue(queue),
        job_id: id.to_string(),
        job_href: links.job(queue, id),
        post_action: links.job_action(queue, id, "data"),
        error,
        data,
    }
}

/// The edit form again, with the text as typed and why it was refused (400).
pub fn edit_form_again(
    state: &AppState,
    principal: &Principal,
    queue: &QueueRef,
    id: &str,
    typed: String,
    error: String,
) -> Response {
    let chrome = Chrome::page(state, principal, Flash::default());
    form_again(render(&edit_view(chrome, state, queue, id, error, typed)))
}

fn form_again(page: Result<Html<String>, WebError>) -> Response {
    match page {
        Ok(html) => (StatusCode::BAD_REQUEST, html).into_response(),
        Err(err) => err.into_response(),
    }
}
