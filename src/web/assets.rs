//! Static files (CSS, the vendored htmx, a little JS), embedded into the binary by rust-embed.
//!
//! URLs carry the crate version (`?v=`), so browsers may cache them for a day; an `ETag` from the
//! embedded file's hash answers revalidations with 304.

use crate::web::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::error::WebError;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// `GET {base}/static/{*path}`
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    let file = Assets::get(&path).ok_or_else(|| {
        WebError::NotFound(crate::web::i18n::tf(
            "error.no_static_file",
            &[("path", &format!("{path:?}"))],
        ))
    })?;
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cache = HeaderValue::from_static("public, max-age=86400");
    let etag_value = HeaderValue::from_str(&etag).map_err(WebError::internal)?;
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        file.data.into_owned(),
    )
        .into_response())
}
