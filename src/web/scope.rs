//! The middleware of another connection's pages (`{base}/c/{name}/...`): the principal that
//! authentication found is capped to what the connection allows (`max_role`, `read_only`), so
//! every page offers only the actions the core would take (the core caps it again).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::queue::access::Principal;
use crate::web::state::AppState;

/// Replace the request's principal by the one the connection of `state` sees.
pub async fn cap_principal(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(principal) = request.extensions_mut().get_mut::<Principal>() {
        *principal = state.connection().cap(principal);
    }
    next.run(request).await
}
