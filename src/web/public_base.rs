//! The public base path of the request being served, when a trusted proxy strips a prefix
//! before forwarding (`X-Forwarded-Prefix`): set for the rest of the request by
//! `security::prefix::forwarded_prefix`, read by `AppState::base`.

use std::future::Future;

tokio::task_local! {
    static PUBLIC_BASE: String;
}

/// The public base path of the request being served, if a proxy prefix applies.
pub fn get() -> Option<String> {
    PUBLIC_BASE.try_with(Clone::clone).ok()
}

/// Run `future` (the rest of a request) with `base` as the public base path. A handler that
/// returns a streaming body should take `state.base()` / `state.links()` before returning.
pub async fn scope<F: Future>(base: String, future: F) -> F::Output {
    PUBLIC_BASE.scope(base, future).await
}
