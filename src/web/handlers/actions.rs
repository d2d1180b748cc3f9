//! The action routes: parse the route ([`ActionRoute`]) and the input (an HTML form or a JSON
//! body) into a [`Command`], have the core perform it
//! ([`crate::queue::command::Dispatcher::perform`]: role, library, audit), and answer: a 303
//! back to the page with a one-line message (forms), or JSON with what changed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::commands::{ActionRoute, command};
use super::pages;
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::actions::Outcome;
use crate::queue::command::Command;
use crate::queue::model::QueueRef;
use crate::web::error::WebError;
use crate::web::input::{Input, body_input};
use crate::web::reply::{back_to, json_outcome, redirect_with};
use crate::web::state::AppState;

/// `POST` of every action route: JSON under `{base}/api/`, else an HTML form.
pub async fn post(
    State(state): State<AppState>,
    principal: Principal,
    route: ActionRoute,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = body_input(route.api, &headers, &body)?;
    if route.api {
        let command = command(&route, &input, true)?;
        let outcome = state.commands().perform(&principal, command).await?;
        return Ok(json_outcome(outcome));
    }
    let parsed = command(&route, &input, false);
    if let Some(queue) = &route.queue
        && principal.may(route.action)
    {
        // The add and edit forms come back with what was typed and why it was refused.
        match (route.action, &parsed, &route.id) {
            (Action::EditData, Err(WebError::BadRequest(reason)), Some(id)) => {
                let typed = input.text("data").unwrap_or_default();
                let reason = reason.clone();
                return Ok(pages::edit_form_again(
                    &state, &principal, queue, id, typed, reason,
                ));
            }
            (Action::AddJob, ..) => {
                return add_form(&state, &principal, queue, &input, parsed, &headers).await;
            }
            _ => {}
        }
    }
    let command = parsed?;
    if let Some(queue) = &route.queue
        && route.action == Action::Obliterate
        && input.text("confirm").as_deref() != Some(queue.name.as_str())
    {
        return Err(WebError::BadRequest(crate::web::i18n::tf(
            "input.obliterate_confirm",
            &[("queue", &queue.name)],
        )));
    }
    let outcome = state.commands().perform(&principal, command).await?;
    let to = after(&state, &route, &outcome, &input);
    Ok(redirect_with(
        &crate::web::views::outcome::flash_message(&outcome),
        &to,
        &state,
        &headers,
    ))
}

/// Where a form goes once its action is done: the form's `back` page when it gave one, else
/// the job's or the queue's page; a removed job's queue; a duplicate's copy.
fn after(state: &AppState, route: &ActionRoute, outcome: &Outcome, input: &Input) -> String {
    let links = state.links();
    match (route.action, &route.queue, &route.id) {
        (Action::Remove, Some(queue), _) => links.queue(queue),
        (Action::Duplicate | Action::AddJob, Some(queue), _) if !outcome.jobs.is_empty() => {
            links.job(queue, &outcome.jobs[0])
        }
        (Action::RemoveScheduler, Some(queue), _) => links.queue_sub(queue, "schedulers"),
        (Action::EditScheduler | Action::RunScheduler, Some(queue), _) => {
            back_to(state, input, links.queue_sub(queue, "schedulers"))
        }
        (Action::Obliterate, ..) | (_, None, _) => links.home(),
        (_, Some(queue), Some(id)) => back_to(state, input, links.job(queue, id)),
        (_, Some(queue), None) => back_to(state, input, links.queue(queue)),
    }
}

/// The add-job form: on to the job's page (the new one, or the one that had the id already),
/// or back with what was typed when the input or the options are refused.
async fn add_form(
    state: &AppState,
    principal: &Principal,
    queue: &QueueRef,
    input: &Input,
    parsed: Result<Command, WebError>,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let performed = match parsed {
        Ok(command) => state
            .commands()
            .perform(principal, command)
            .await
            .map_err(WebError::from),
        Err(err) => Err(err),
    };
    match performed {
        Ok(outcome) => {
            let id = outcome.jobs.first().map_or("", String::as_str);
            let to = state.links().job(queue, id);
            Ok(redirect_with(
                &crate::web::views::outcome::flash_message(&outcome),
                &to,
                state,
                headers,
            ))
        }
        Err(WebError::BadRequest(reason)) => Ok(pages::add_form_again(
            state,
            principal,
            queue,
            input.fields(),
            reason,
        )),
        Err(other) => Err(other),
    }
}
