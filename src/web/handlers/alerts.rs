//! The Alerts page: active alerts and the recent messages the alerts engine sent.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::render;
use crate::queue::access::Principal;
use crate::queue::alerts::AlertRecord;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::alerts::{AlertRow, AlertsPage};

/// Recent messages shown.
const RECENT: usize = 100;

async fn read(state: &AppState) -> Result<(Vec<AlertRecord>, Vec<AlertRecord>), WebError> {
    match state.alerts() {
        Some(store) => Ok(tokio::try_join!(store.active(), store.recent(RECENT))?),
        None => Ok((Vec::new(), Vec::new())),
    }
}

/// `GET {base}/alerts`
pub async fn alerts_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
) -> Result<Html<String>, WebError> {
    let (active, recent) = read(&state).await?;
    render(&AlertsPage {
        chrome: Chrome::page(&state, &principal, flash),
        configured: state.alerts().is_some(),
        active: active.into_iter().map(AlertRow::from).collect(),
        recent: recent.into_iter().map(AlertRow::from).collect(),
    })
}

/// `GET {base}/api/alerts`
pub async fn alerts_api(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let (active, recent) = read(&state).await?;
    Ok(Json(json!({
        "configured": state.alerts().is_some(),
        "active": active,
        "recent": recent,
    })))
}
