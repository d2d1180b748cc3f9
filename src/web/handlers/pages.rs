//! Pages that ask for an action's details before it runs: clean (with a preview of how many jobs
//! it would remove), drain, obliterate (type the queue's name), add a job, edit a job's data.
//! Their forms post to the action routes; a form with bad input comes back with what was typed
//! and the reason next to it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::{JobAt, render, resolve};
use crate::queue::access::Principal;
use crate::queue::action::{Action, check_cleanable_in, cleanable};
use crate::queue::command::CommandError;
use crate::queue::model::{JobState, Library, QueueRef};
use crate::web::error::WebError;
use crate::web::extract::{Path, Query};
use crate::web::flash::Flash;
use crate::web::params::{ActionPageQuery, bounded};
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::add::{AddPage, AddValues};
use crate::web::views::clean::CleanPage;
use crate::web::views::drain::DrainPage;
use crate::web::views::edit::EditPage;
use crate::web::views::obliterate::ObliteratePage;

/// Default grace of the clean form: jobs finished more than an hour ago.
const DEFAULT_GRACE_MS: u64 = 3_600_000;
const DEFAULT_CLEAN_LIMIT: u64 = 1000;

/// A 403 naming why, unless the principal may take `action`.
pub fn require(principal: &Principal, action: Action) -> Result<(), WebError> {
    match principal.refusal(action) {
        None => Ok(()),
        Some(why) => Err(CommandError::Forbidden(why).into()),
    }
}

/// `GET {base}/queues/{queue}/actions/{page}`: the form of `clean`, `drain`, `obliterate`, `add`.
pub async fn action_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Path((name, page)): Path<(String, String)>,
    Query(query): Query<ActionPageQuery>,
) -> Result<Html<String>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let action = Action::from_form_page(&page).ok_or_else(|| {
        WebError::NotFound(crate::web::i18n::tf(
            "error.no_action_page",
            &[("page", &format!("{page:?}"))],
        ))
    })?;
    require(&principal, action)?;
    let links = state.links();
    let chrome = Chrome::page(&state, &principal, flash);
    let queue_href = links.queue(&queue);
    let post_action = links.queue_action(&queue, action);
    match action {
        Action::Clean => {
            let (clean_state, grace_ms, limit) = clean_query(&query, queue.library)?;
            let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
            let (count, exact) = state
                .reader()
                .clean_preview(&queue, clean_state, grace_ms, limit, now)
                .await?;
            render(&CleanPage {
                chrome,
                queue_name: queue.name.clone(),
                queue_href,
                preview_action: links.action_page(&queue, action),
                post_action,
                prefix: links.with_prefix.then(|| queue.prefix.clone()),
                states: cleanable(queue.library)
                    .iter()
                    .map(|s| s.as_str())
                    .collect(),
                state: clean_state.as_str(),
                grace_ms,
                limit,
                count,
                exact,
            })
        }
        Action::Drain => render(&DrainPage {
            chrome,
            queue_name: queue.name.clone(),
            queue_href,
            post_action,
            summary: state.reader().summary(&queue).await?,
        }),
        Action::Obliterate => render(&ObliteratePage {
            chrome,
            queue_name: queue.name.clone(),
            queue_href,
            post_action,
            pause_action: links.queue_action(&queue, Action::Pause),
            back: links.action_page(&queue, action),
            summary: state.reader().summary(&queue).await?,
        }),
        _ => render(&AddPage::new(
            chrome,
            &links,
            &queue,
            String::new(),
            AddValues::blank(),
        )),
    }
}

/// The clean page's state, grace and limit, with their defaults.
fn clean_query(
    query: &ActionPageQuery,
    library: Library,
) -> Result<(JobState, u64, u64), WebError> {
    let clean_state: JobState = match query.state.as_deref() {
        Some(text) if !text.is_empty() => text.parse()?,
        _ => JobState::Completed,
    };
    check_cleanable_in(library, clean_state)?;
    let grace_ms = match query.grace_ms.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_GRACE_MS,
        Some(text) => text.parse().map_err(|_| {
            WebError::BadRequest(crate::web::i18n::tf(
                "input.not_whole",
                &[("name", &"grace_ms"), ("text", &format!("{text:?}"))],
            ))
        })?,
    };
    let limit = match query.limit.as_deref().map(str::trim) {
        Some("0") => 0,
        other => bounded("limit", other, DEFAULT_CLEAN_LIMIT, u32::MAX as u64)?,
    };
    Ok((clean_state, grace_ms, limit))
}

/// The add-job form again, with what was typed and why it was refused (400).
pub fn add_form_again(
    state: &AppState,
    principal: &Principal,
    queue: &QueueRef,
    fields: &[(String, String)],
    error: String,
) -> Response {
    let chrome = Chrome::page(state, principal, Flash::default());
    let page = AddPage::new(
        chrome,
        &state.links(),
        queue,
        error,
        AddValues::typed(fields),
    );
    form_again(render(&page))
}

/// `GET {base}/queues/{queue}/jobs/{id}/edit`: the job's data in a text area.
pub async fn edit_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    at: JobAt,
) -> Result<Html<String>, WebError> {
    require(&principal, Action::EditData)?;
    let (_, detail) = state.reader().job(&at.queue, &at.id, 1, 1).await?;
    // Data too big to be read for the page cannot be edited here (saving would replace it).
    if let Some(cut) = detail.job.truncated.iter().find(|c| c.field == "data") {
        return Err(WebError::TooLarge(crate::web::i18n::tf(
            "input.too_big_to_edit",
            &[("id", &at.id), ("n", &cut.bytes)],
        )));
    }
    let data = serde_json::to_string_pretty(&detail.job.data).unwrap_or_default();
    let chrome = Chrome::page(&state, &principal, flash);
    render(&EditPage::new(
        chrome,
        &state.links(),
        &at.queue,
        &at.id,
        String::new(),
        data,
    ))
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
    let page = EditPage::new(chrome, &state.links(), queue, id, error, typed);
    form_again(render(&page))
}

fn form_again(page: Result<Html<String>, WebError>) -> Response {
    match page {
        Ok(html) => (StatusCode::BAD_REQUEST, html).into_response(),
        Err(err) => err.into_response(),
    }
}
