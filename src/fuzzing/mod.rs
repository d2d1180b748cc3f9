//! What the fuzz targets in `fuzz/` reach: the pure parsers and decoders that take text from
//! outside (Redis, a request, a config file), callable without a server or Redis. Not a stable
//! API (hidden from the docs); only `fuzz/fuzz_targets/*` and `tests/it/fuzz_corpus.rs` use it.

pub mod properties;

use axum::http::Uri;

pub use crate::config::Config;
pub use crate::queue::model::{Job, Library, RawJob, TruncatedField};
pub use crate::queue::read::MAX_PER_PAGE;
pub use crate::web::error::WebError;
pub use crate::web::input::Input;
pub use crate::web::params::{JobQuery, ListParams, ListQuery};
pub use crate::web::security::host::{Host, parse_host};
pub use crate::web::security::prefix::parse_prefix;

/// Decode a job hash as a list or job page does for a queue of `library`; `cut` names the fields
/// left out of the read for their size.
pub fn decode_job(library: Library, id: &str, raw: &RawJob, cut: Vec<TruncatedField>) -> Job {
    crate::queue::layout::decoder(library)(id, raw, cut)
}

/// Deserialize the query string of `uri` as the `Query` extractor does (`None`: a bad query
/// string, answered 400 by the extractor).
pub fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Option<T> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .ok()
        .map(|axum::extract::Query(value)| value)
}
