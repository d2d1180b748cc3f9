//! The action routes: parse the route's segment and the input (an HTML form or a JSON body)
//! into a [`crate::queue::command::Command`], have the core perform it
//! ([`crate::queue::command::Dispatcher::perform`]: role, library, audit), and answer: a 303
//! back to the page with a one-line message (forms), or JSON with what changed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::commands::{action, all_command, job_command, queue_command, scheduler_command};
use super::{pages, resolve};
use crate::queue::access::Principal;
use crate::queue::action::{Action, Target};
use crate::queue::command::Command;
use crate::web::error::WebError;
use crate::web::extract::{Path, Query};
use crate::web::input::{Input, api_input};
use crate::web::params::ActionQuery;
use crate::web::reply::{back_to, json_outcome, redirect_with};
use crate::web::state::AppState;

/// `POST {base}/queues/{queue}/jobs/{id}/{action}` (form)
pub async fn job_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, segment)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let action = action(Target::Job, &segment)?;
    let input = Input::form(&body);
    let command = match job_command(action, queue.clone(), &id, &input, false) {
        // The data editor comes back with the text as typed and the reason.
        Err(WebError::BadRequest(reason))
            if action == Action::EditData && principal.may(action) =>
        {
            let typed = input.text("data").unwrap_or_default();
            return Ok(pages::edit_form_again(
                &state, &principal, &queue, &id, typed, reason,
            ));
        }
        other => other?,
    };
    let links = state.links();
    let outcome = state.commands().perform(&principal, command).await?;
    let to = match (action, outcome.jobs.first()) {
        (Action::Remove, _) => links.queue(&queue),
        (Action::Duplicate, Some(copy)) => links.job(&queue, copy),
        _ => back_to(&state, &input, links.job(&queue, &id)),
    };
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// `POST {base}/queues/{queue}/{action}` (form)
pub async fn queue_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let action = action(Target::Queue, &segment)?;
    let input = Input::form(&body);
    let parsed = queue_command(action, queue.clone(), &input);
    if action == Action::AddJob && principal.may(action) {
        return add_form(&state, &principal, &queue, &input, parsed, &headers).await;
    }
    let command = parsed?;
    if action == Action::Obliterate && input.text("confirm").as_deref() != Some(queue.name.as_str())
    {
        return Err(WebError::BadRequest(format!(
            "confirm: type the queue's name ({}) to obliterate it",
            queue.name
        )));
    }
    let outcome = state.commands().perform(&principal, command).await?;
    let links = state.links();
    let to = match action {
        Action::Obliterate => links.home(),
        _ => back_to(&state, &input, links.queue(&queue)),
    };
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// The add-job form: on to the job's page (the new one, or the one that had the id already),
/// or back with what was typed when the input or the options are refused.
async fn add_form(
    state: &AppState,
    principal: &Principal,
    queue: &crate::queue::model::QueueRef,
    input: &Input,
    parsed: Result<Command, WebError>,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let performed = match parsed {
        Ok(command) => state.commands().perform(principal, command).await,
        Err(err) => return refused_add(state, principal, queue, input, err),
    };
    match performed.map_err(WebError::from) {
        Ok(outcome) => {
            let id = outcome.jobs.first().map_or("", String::as_str);
            let to = state.links().job(queue, id);
            Ok(redirect_with(&outcome.message, &to, state, headers))
        }
        Err(err) => refused_add(state, principal, queue, input, err),
    }
}

fn refused_add(
    state: &AppState,
    principal: &Principal,
    queue: &crate::queue::model::QueueRef,
    input: &Input,
    err: WebError,
) -> Result<Response, WebError> {
    match err {
        WebError::BadRequest(reason) => Ok(pages::add_form_again(
            state,
            principal,
            queue,
            input.fields(),
            reason,
        )),
        other => Err(other),
    }
}

/// `POST {base}/queues/{queue}/schedulers/{id}/{action}` (form)
pub async fn scheduler_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, segment)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let command = scheduler_command(action(Target::Scheduler, &segment)?, queue.clone(), &id)?;
    let outcome = state.commands().perform(&principal, command).await?;
    let to = state.links().queue_sub(&queue, "schedulers");
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// `POST {base}/pause-all` and `{base}/resume-all` (form)
pub async fn all_form(
    State(state): State<AppState>,
    principal: Principal,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let command = all_command(action(Target::AllQueues, &segment)?)?;
    let outcome = state.commands().perform(&principal, command).await?;
    let to = state.links().home();
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

// ---------------------------------------------------------------------------------------------
// JSON API.

/// `POST {base}/api/queues/{queue}/jobs/{id}/{action}`; for `data` the body is the new data.
pub async fn job_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, segment)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let action = action(Target::Job, &segment)?;
    let input = api_input(&headers, &body)?;
    let command = job_command(action, queue, &id, &input, true)?;
    let outcome = state.commands().perform(&principal, command).await?;
    Ok(json_outcome(outcome))
}

/// `POST {base}/api/queues/{queue}/{action}` (and `.../jobs` to add a job).
pub async fn queue_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, segment)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let action = action(Target::Queue, &segment)?;
    let input = api_input(&headers, &body)?;
    let command = queue_command(action, queue, &input)?;
    let outcome = state.commands().perform(&principal, command).await?;
    Ok(json_outcome(outcome))
}

/// `POST {base}/api/queues/{queue}/jobs`: adding a job posts to the job list.
pub async fn add_job_api(
    state: State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    query: Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let path = Path((name, Action::AddJob.segment().to_string()));
    queue_api(state, principal, path, query, headers, body).await
}

/// `POST {base}/api/queues/{queue}/schedulers/{id}/{action}`
pub async fn scheduler_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, segment)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let command = scheduler_command(action(Target::Scheduler, &segment)?, queue, &id)?;
    let outcome = state.commands().perform(&principal, command).await?;
    Ok(json_outcome(outcome))
}

/// `POST {base}/api/pause-all` and `{base}/api/resume-all`
pub async fn all_api(
    State(state): State<AppState>,
    principal: Principal,
    Path(segment): Path<String>,
) -> Result<Response, WebError> {
    let command = all_command(action(Target::AllQueues, &segment)?)?;
    let outcome = state.commands().perform(&principal, command).await?;
    Ok(json_outcome(outcome))
}
