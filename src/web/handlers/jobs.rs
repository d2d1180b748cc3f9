//! A job's page, and the raw stored value of one of its fields.

use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::{JobAt, render, resolve};
use crate::queue::access::Principal;
use crate::queue::model::JobDetail;
use crate::queue::preview::RAW_FIELD_MAX;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::i18n;
use crate::web::params::JobQuery;
use crate::web::state::AppState;
use crate::web::views::job::{JobPageView, size_text};
use crate::web::views::{Chrome, Perms};

/// The job with one page of its logs, as `?logs_page=&logs_per_page=` ask.
pub async fn read_job(
    state: &AppState,
    at: &JobAt,
    query: &JobQuery,
) -> Result<(JobDetail, u64), WebError> {
    let (logs_page, logs_per_page) = query.logs()?;
    let (_summary, detail) = state
        .reader()
        .job(&at.queue, &at.id, logs_page, logs_per_page)
        .await?;
    Ok((detail, logs_per_page))
}

/// `GET {base}/queues/{queue}/jobs/{id}`: every field of one job, in one Redis round trip.
pub async fn job_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    at: JobAt,
    Query(query): Query<JobQuery>,
) -> Result<Html<String>, WebError> {
    let (detail, logs_per_page) = read_job(&state, &at, &query).await?;
    let links = state.links();
    let view = JobPageView::new(
        Chrome::page(&state, &principal, flash),
        Perms::of(&principal),
        &links,
        &at.queue,
        &detail,
        (links.job(&at.queue, &at.id), logs_per_page),
    );
    render(&view)
}

/// Fields of a job hash that may be read raw.
/// The fields the raw view serves.
pub(super) const RAW_FIELDS: [&str; 6] = [
    "data",
    "returnvalue",
    "opts",
    "progress",
    "stacktrace",
    "failedReason",
];

/// `GET {base}/api/queues/{queue}/jobs/{id}/raw?field=data`: the field exactly as stored, up to
/// [`RAW_FIELD_MAX`] bytes; a longer one is a 413 giving its size, and is never read.
pub async fn raw_field(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<JobQuery>,
) -> Result<Response, WebError> {
    let field = query.field.as_deref().unwrap_or("data");
    if !RAW_FIELDS.contains(&field) {
        return Err(WebError::BadRequest(i18n::tf(
            "input.raw_field",
            &[
                ("fields", &RAW_FIELDS.join(", ")),
                ("field", &format!("{field:?}")),
            ],
        )));
    }
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let text = state
        .reader()
        .raw_field_within(&queue, &id, field, RAW_FIELD_MAX)
        .await?
        .map_err(|bytes| {
            WebError::TooLarge(i18n::tf(
                "input.raw_too_large",
                &[
                    ("field", &field),
                    ("id", &id),
                    ("bytes", &bytes),
                    ("size", &size_text(bytes)),
                    ("max", &size_text(RAW_FIELD_MAX)),
                ],
            ))
        })?;
    let content_type = if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
