//! A connection's Redis page (`GET {base}/redis`) and its JSON twin (`GET {base}/api/redis`):
//! what the server says about itself, in one round trip (see `queue::redis_info`).

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::render;
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::redis_page::RedisPage;

/// Queues known per configured prefix, from discovery's registry.
fn prefixes(state: &AppState) -> Vec<(String, usize)> {
    let known = state.discovery().snapshot().queues;
    state
        .discovery()
        .prefixes()
        .iter()
        .map(|p| (p.clone(), known.iter().filter(|q| &q.prefix == p).count()))
        .collect()
}

/// `GET {base}/redis`
pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
) -> Result<Html<String>, WebError> {
    let info = state.queues().redis_info().await?;
    let view = RedisPage::new(
        Chrome::page(&state, &principal, flash),
        &info,
        prefixes(&state),
        state.queues().place(),
    );
    render(&view)
}

/// `GET {base}/api/redis`: `{"connection", "info": {...}, "prefixes": [{"prefix","queues"}]}`.
pub async fn api(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let info = state.queues().redis_info().await?;
    let prefixes: Vec<Value> = prefixes(&state)
        .into_iter()
        .map(|(prefix, queues)| json!({ "prefix": prefix, "queues": queues }))
        .collect();
    Ok(Json(json!({
        "connection": state.connection().name,
        "info": info,
        "prefixes": prefixes,
    })))
}
