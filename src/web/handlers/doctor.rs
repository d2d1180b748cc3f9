//! The doctor of one queue: its page and its JSON.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::Scope;
use super::render;
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::model::QueueRef;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::doctor::DoctorPage;

/// The queue of a `/queues/{queue}/doctor` route.
fn the_queue(scope: Scope) -> Result<QueueRef, WebError> {
    scope.0.ok_or_else(WebError::no_page)
}

/// `GET {base}/queues/{queue}/doctor`
pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    scope: Scope,
) -> Result<Html<String>, WebError> {
    let queue = the_queue(scope)?;
    let report = state.reader().doctor(&queue).await?;
    render(&DoctorPage::new(
        Chrome::page(&state, &principal, flash),
        &state.links(),
        &queue,
        report,
        principal.may(Action::RemoveOrphans),
    ))
}

/// `GET {base}/api/queues/{queue}/doctor`
pub async fn api(State(state): State<AppState>, scope: Scope) -> Result<Json<Value>, WebError> {
    let queue = the_queue(scope)?;
    let report = state.reader().doctor(&queue).await?;
    Ok(Json(json!(report)))
}
