//! The one mapping from errors to responses.
//!
//! Handlers return [`WebError`]. Its `IntoResponse` only sets the status and stashes the error in
//! the response's extensions; the [`render_errors`] middleware (which knows the base path and the
//! title) then renders an HTML page, or JSON under `{base}/api/`. Bad input and unknown things are
//! 4xx with a message meant for the user; an unreachable Redis is a 503 naming the problem; any
//! other failure is a 500 whose details are logged once and never sent to the browser.
//!
//! Messages are in the reader's language (the JSON API's requests are always English,
//! `web::i18n::scope`): a plain `String` message is written in it where the error is made
//! (`i18n::t` / `tf` / `here`); a [`Said`] one, kept as its catalog key, is written when the
//! error is rendered, and in English for the log.
//!
//! The accept loop (`crate::listener`) refuses some requests before any handler runs (a full
//! server, too many event streams, a request over its time limit): it sends them through the
//! router marked [`Refused`], and [`render_errors`] answers them with that error, in the same
//! shape as every other.

use std::error::Error as StdError;
use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::i18n::{self, said::Said};
use super::security::config::AuthMode;
use super::state::AppState;
use super::views::Chrome;
use super::views::error::ErrorPage;
use crate::queue::error::{QueueError, chain};
use crate::queue::model::UnknownState;

/// Everything a request can fail with, by the status it maps to.
#[derive(Debug, Clone)]
pub enum WebError {
    /// 400: the request cannot be served as asked (bad state name, page 0 ...).
    BadRequest(String),
    /// 401: credentials are needed (basic authentication asks the browser for them).
    Unauthorized(Said),
    /// 403: the user may not do this (role, read-only mode, cross-site request).
    Forbidden(Said),
    /// 404: no such queue, job or page.
    NotFound(String),
    /// 405: a method the address does not take (anything but GET, HEAD and POST).
    MethodNotAllowed(String),
    /// 409: the action does not fit the job's or queue's state (promote a completed job ...).
    Conflict(Said),
    /// 413: the asked-for value is bigger than the server serves (a job field over the raw
    /// view's cap): it is never read into memory.
    TooLarge(String),
    /// 415: a body of a type the route does not take (the JSON API takes only JSON).
    UnsupportedMediaType(String),
    /// 421: the request names a host this dashboard does not answer to (DNS rebinding).
    MisdirectedRequest(Said),
    /// 429: too many failed sign-ins from this address; try again after `retry_after` seconds.
    TooManyRequests { message: Said, retry_after: u64 },
    /// 503: the server is too busy for this now (the queue of password checks is full); try again
    /// after `retry_after` seconds.
    Busy { message: Said, retry_after: u64 },
    /// 503: Redis cannot be reached; pages work again when it returns.
    Unavailable(Arc<QueueError>),
    /// 504: Redis is there but too slow to finish answering (a very large read).
    SlowRedis(Arc<QueueError>),
    /// 500: anything else. The error and its causes are logged, not shown.
    Internal(Arc<dyn StdError + Send + Sync>),
}

impl WebError {
    /// A 500 for `err`, which keeps its causes for the log.
    pub fn internal(err: impl StdError + Send + Sync + 'static) -> Self {
        WebError::Internal(Arc::new(err))
    }

    /// The 404 of an address no page is at.
    pub fn no_page() -> Self {
        WebError::NotFound(i18n::t("error.no_page").into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            WebError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable(_) | WebError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            WebError::SlowRedis(_) => StatusCode::GATEWAY_TIMEOUT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds to wait before trying again, for the errors that say so (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            WebError::TooManyRequests { retry_after, .. } | WebError::Busy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// What the user is told.
    pub fn public_message(&self) -> String {
        match self {
            WebError::BadRequest(m)
            | WebError::NotFound(m)
            | WebError::MethodNotAllowed(m)
            | WebError::TooLarge(m)
            | WebError::UnsupportedMediaType(m) => m.clone(),
            WebError::Unauthorized(said)
            | WebError::Forbidden(said)
            | WebError::Conflict(said)
            | WebError::MisdirectedRequest(said)
            | WebError::TooManyRequests { message: said, .. }
            | WebError::Busy { message: said, .. } => said.english(),
            WebError::Unavailable(err) | WebError::SlowRedis(err) => chain(err.as_ref()),
            WebError::Internal(_) => {
                "Something went wrong; the details are in the server log.".into()
            }
        }
    }

    /// The error page's heading, in the reader's language (`error.heading.*` of the catalogs).
    fn heading(&self) -> &'static str {
        let key = match self {
            WebError::BadRequest(_) => "bad_request",
            WebError::Unauthorized(_) => "unauthorized",
            WebError::Forbidden(_) => "forbidden",
            WebError::NotFound(_) => "not_found",
            WebError::MethodNotAllowed(_) => "method",
            WebError::Conflict(_) => "conflict",
            WebError::TooLarge(_) => "too_large",
            WebError::UnsupportedMediaType(_) => "unsupported",
            WebError::MisdirectedRequest(_) => "misdirected",
            WebError::TooManyRequests { .. } => "too_many",
            WebError::Busy { .. } => "busy",
            WebError::Unavailable(_) => "unavailable",
            WebError::SlowRedis(_) => "slow",
            WebError::Internal(_) => "internal",
        };
        i18n::t(&format!("error.heading.{key}"))
    }

    /// The message on the error page, in the reader's language: the texts kept as catalog keys
    /// ([`Said`]) written in it, the others as they were made (in it already).
    fn page_message(&self) -> String {
        match self {
            WebError::Internal(_) => i18n::t("error.internal").to_string(),
            WebError::Unavailable(err) | WebError::SlowRedis(err) => redis_trouble(err),
            WebError::Unauthorized(said)
            | WebError::Forbidden(said)
            | WebError::Conflict(said)
            | WebError::MisdirectedRequest(said)
            | WebError::TooManyRequests { message: said, .. }
            | WebError::Busy { message: said, .. } => i18n::here(said),
            _ => self.public_message(),
        }
    }
}

/// Why Redis could not answer, in the reader's language: the English is [`chain`]'s, word for
/// word (the JSON API's); Redis's own error text after it stays as Redis wrote it.
pub fn redis_trouble(err: &QueueError) -> String {
    let mut text = match err {
        QueueError::Unavailable { .. } | QueueError::Slow { .. } => i18n::here(&err.said()),
        other => return chain(other),
    };
    if let Some(source) = err.source() {
        let inner = chain(source);
        if !text.ends_with(&inner) {
            text.push_str(": ");
            text.push_str(&inner);
        }
    }
    text
}

/// What a background task that `err` stopped tells its reader, kept as a catalog text: its English
/// is the JSON API's message for `err`, its other languages Redis's trouble without Redis's own
/// words, or "something went wrong" for a failure that is not the user's (logged by the task).
pub fn said_of_task(err: &QueueError) -> Said {
    match err {
        QueueError::Unavailable { .. } | QueueError::Slow { .. } => {
            err.said().english_as(chain(err))
        }
        QueueError::Redis(_) | QueueError::Engine(_) => Said::new("error.internal"),
        other => other.said(),
    }
}

impl From<QueueError> for WebError {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::Unavailable { .. } => WebError::Unavailable(Arc::new(err)),
            QueueError::Slow { .. } => WebError::SlowRedis(Arc::new(err)),
            QueueError::QueueNotFound(_)
            | QueueError::GroupNotFound(_)
            | QueueError::JobNotFound { .. }
            | QueueError::SchedulerNotFound { .. } => WebError::NotFound(i18n::here(&err.said())),
            QueueError::Gone(source) => {
                WebError::NotFound(i18n::tf("error.gone", &[("detail", &chain(&source))]))
            }
            QueueError::InvalidInput(_) | QueueError::AmbiguousQueue { .. } => {
                WebError::BadRequest(i18n::here(&err.said()))
            }
            QueueError::Conflict(refusal) => WebError::Conflict(refusal.said()),
            QueueError::WrongState(_) => {
                WebError::Conflict(Said::new("refusal.wrong_state").english_as(chain(&err)))
            }
            other => WebError::internal(other),
        }
    }
}

impl From<UnknownState> for WebError {
    fn from(err: UnknownState) -> Self {
        WebError::BadRequest(i18n::here(&err.said()))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// A request the accept loop refuses: answered with this error, by [`render_errors`], before
/// any other middleware or handler runs.
#[derive(Debug, Clone)]
pub struct Refused(pub WebError);

/// Render a [`WebError`] stashed by a handler as a page or as JSON, and log server errors once.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Inside a nested router the URI has lost the base path; the original one still has it.
    let path = request.extensions().get::<OriginalUri>().map_or_else(
        || request.uri().path().to_string(),
        |uri| uri.path().to_string(),
    );
    let is_api = state.is_api_path(&path);
    let response = match request.extensions().get::<Refused>() {
        Some(Refused(err)) => err.clone().into_response(),
        None => next.run(request).await,
    };
    let Some(err) = response.extensions().get::<WebError>().cloned() else {
        return response;
    };
    match &err {
        WebError::Internal(detail) => {
            tracing::error!(%path, error = %chain(detail.as_ref()), "request failed")
        }
        WebError::Unavailable(detail) => {
            tracing::warn!(%path, error = %chain(detail.as_ref()), "redis unreachable")
        }
        WebError::SlowRedis(detail) => {
            tracing::warn!(%path, error = %chain(detail.as_ref()), "redis too slow")
        }
        _ => {}
    }
    let mut rendered = render(&state, &err, is_api);
    if let Some(seconds) = err.retry_after() {
        rendered
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if matches!(err, WebError::MethodNotAllowed(_)) {
        rendered
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
    }
    if matches!(err, WebError::Unauthorized(_)) && state.security().mode == AuthMode::Basic {
        rendered.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"bullring\", charset=\"UTF-8\""),
        );
    }
    rendered
}

fn render(state: &AppState, err: &WebError, is_api: bool) -> Response {
    let status = err.status();
    if is_api {
        let body = json!({ "error": err.public_message(), "status": status.as_u16() });
        return (status, axum::Json(body)).into_response();
    }
    let page = ErrorPage {
        chrome: Chrome::new(state),
        status: status.as_u16(),
        heading: err.heading(),
        message: err.page_message(),
    };
    match page.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        Err(render_err) => {
            tracing::error!(error = %render_err, "error page failed to render");
            (status, err.public_message()).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::model::QueueRef;
    use crate::web::i18n::{Lang, Locale, run_with};

    fn errors() -> Vec<QueueError> {
        let queue = QueueRef::new("bull", "mail");
        vec![
            QueueError::QueueNotFound("mail".into()),
            QueueError::GroupNotFound("billing".into()),
            QueueError::JobNotFound {
                queue: queue.clone(),
                id: "7".into(),
            },
            QueueError::SchedulerNotFound {
                queue,
                id: "nightly".into(),
            },
            QueueError::AmbiguousQueue {
                name: "mail".into(),
                prefixes: "a, b".into(),
            },
        ]
    }

    /// The message of a 404 or 400 for a "no such thing" error: the core's own words outside a
    /// French request (the JSON API's are always English), French for a French reader.
    #[tokio::test]
    async fn not_found_messages_are_the_cores_in_english_and_french_for_a_french_reader() {
        for err in errors() {
            let english = err.to_string();
            assert_eq!(WebError::from(err).public_message(), english);
        }
        let fr = Locale {
            lang: Lang::Fr,
            ..Locale::default()
        };
        let texts = run_with(fr, async {
            errors()
                .into_iter()
                .map(|err| WebError::from(err).page_message())
                .collect::<Vec<_>>()
        })
        .await;
        assert_eq!(texts[2], "la file bull:mail n’a pas de job d’id \"7\"");
        assert!(texts.iter().all(|t| !t.contains("queue ")), "{texts:?}");
    }

    fn redis_errors() -> Vec<QueueError> {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here");
        vec![
            redis::RedisError::from(io).into(),
            QueueError::unavailable(Said::new("error.no_answer").with("ms", 250)),
            QueueError::Slow { waited_ms: 900 },
        ]
    }

    /// Outside a French request (the JSON API, the logs) Redis's trouble is said in `chain`'s
    /// words; on a French page in French, with Redis's own text after it as it came.
    #[tokio::test]
    async fn redis_trouble_is_the_chain_in_english_and_french_for_a_french_reader() {
        for err in redis_errors() {
            assert_eq!(redis_trouble(&err), chain(&err));
        }
        let fr = Locale {
            lang: Lang::Fr,
            ..Locale::default()
        };
        let texts = run_with(fr, async {
            redis_errors().iter().map(redis_trouble).collect::<Vec<_>>()
        })
        .await;
        assert!(
            texts[0].starts_with("Redis est injoignable : la connexion a échoué: ")
                && texts[0].contains("refused here"),
            "{}",
            texts[0]
        );
        assert_eq!(texts[1], "Redis est injoignable : pas de réponse en 250 ms");
        assert!(
            texts[2].contains("900 ms") && texts[2].contains("pas fini"),
            "{}",
            texts[2]
        );
    }
}
