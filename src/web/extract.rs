//! axum's `Path` and `Query` extractors with their rejections sent through the one error mapping
//! ([`WebError`]): a bad path segment or a repeated query key is a 400 page, or JSON under
//! `{base}/api/`, like every other error, instead of axum's plain text.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::WebError;

/// Path parameters, deserialized as [`axum::extract::Path`] does.
#[derive(Debug)]
pub struct Path<T>(pub T);

/// The query string, deserialized as [`axum::extract::Query`] does.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                WebError::BadRequest(crate::web::i18n::tf(
                    "input.bad_address",
                    &[("detail", &rejection.body_text())],
                ))
            })
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, WebError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                WebError::BadRequest(crate::web::i18n::tf(
                    "input.bad_query",
                    &[("detail", &rejection.body_text())],
                ))
            })
    }
}
