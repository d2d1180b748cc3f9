//! The audit trail page and its JSON twin: the newest actions first, 100 per page.

use axum::Json;
use axum::extract::State;

use crate::web::extract::Query;
use axum::response::Html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::render;
use crate::queue::access::Principal;
use crate::queue::audit::AuditEntry;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::audit::{AuditPage, AuditRow};

const PER_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Show entries older than this stream id.
    pub before: Option<String>,
}

fn checked_before(query: &AuditQuery) -> Result<Option<&str>, WebError> {
    match query.before.as_deref().filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(id)
            if id
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Ok(Some(id))
        }
        Some(other) => Err(WebError::BadRequest(crate::web::i18n::tf(
            "input.audit_before",
            &[("given", &format!("{other:?}"))],
        ))),
    }
}

async fn entries(state: &AppState, query: &AuditQuery) -> Result<Vec<AuditEntry>, WebError> {
    Ok(state
        .audit()
        .recent(PER_PAGE, checked_before(query)?)
        .await?)
}

/// `GET {base}/audit?before=<id>`
pub async fn audit_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(query): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let list = entries(&state, &query).await?;
    let older = (list.len() == PER_PAGE)
        .then(|| {
            list.last()
                .map(|e| format!("{}/audit?before={}", state.base(), e.id))
        })
        .flatten();
    let rows = list.into_iter().map(AuditRow::of).collect();
    render(&AuditPage {
        chrome: Chrome::page(&state, &principal, flash),
        key: state.audit().key().to_string(),
        rows,
        older,
        read_only: state.security().read_only,
    })
}

/// `GET {base}/api/audit?before=<id>`
pub async fn audit_api(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Value>, WebError> {
    let list = entries(&state, &query).await?;
    Ok(Json(json!({ "entries": list })))
}
