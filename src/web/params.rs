//! Query parameters, parsed by hand so every bad value gets a 400 naming the parameter (axum's
//! own rejections would answer with text of their own).

use serde::Deserialize;

use super::error::WebError;
use crate::queue::model::{JobState, Order};
use crate::queue::read::MAX_PER_PAGE;

/// `?state=&page=&per_page=&order=&prefix=&job=` of the queue page and the jobs API.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub state: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    pub order: Option<String>,
    pub prefix: Option<String>,
    pub job: Option<String>,
}

/// `?prefix=&logs_page=&logs_per_page=&field=` of a job.
#[derive(Debug, Default, Deserialize)]
pub struct JobQuery {
    pub prefix: Option<String>,
    pub logs_page: Option<String>,
    pub logs_per_page: Option<String>,
    pub field: Option<String>,
}

/// `?prefix=` of an action.
#[derive(Debug, Default, Deserialize)]
pub struct ActionQuery {
    pub prefix: Option<String>,
}

/// `?state=&grace_ms=&limit=&prefix=` of the action pages (clean preview, add job ...).
#[derive(Debug, Default, Deserialize)]
pub struct ActionPageQuery {
    pub prefix: Option<String>,
    pub state: Option<String>,
    pub grace_ms: Option<String>,
    pub limit: Option<String>,
}

/// `?q=` of the overview.
#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    pub q: Option<String>,
    pub prefix: Option<String>,
}

pub struct ListParams {
    pub state: JobState,
    pub page: u64,
    pub per_page: u64,
    pub order: Order,
}

pub const DEFAULT_PER_PAGE: u64 = 50;
pub const DEFAULT_LOGS_PER_PAGE: u64 = 100;

/// A positive whole number within `1..=max`, or a 400 naming the parameter.
pub fn bounded(name: &str, value: Option<&str>, default: u64, max: u64) -> Result<u64, WebError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    match text.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(WebError::BadRequest(crate::web::i18n::tf(
            "input.bounded",
            &[
                ("name", &name),
                ("max", &max),
                ("text", &format!("{text:?}")),
            ],
        ))),
    }
}

impl ListQuery {
    /// The state defaults to `default_state` (the queue page picks a useful tab).
    pub fn params(&self, default_state: JobState) -> Result<ListParams, WebError> {
        let state = match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(text) => text.parse()?,
            None => default_state,
        };
        let order = match self.order.as_deref().map(str::trim) {
            None | Some("") | Some("newest") | Some("desc") => Order::NewestFirst,
            Some("oldest") | Some("asc") => Order::OldestFirst,
            Some(other) => {
                return Err(WebError::BadRequest(crate::web::i18n::tf(
                    "input.order",
                    &[("text", &format!("{other:?}"))],
                )));
            }
        };
        Ok(ListParams {
            state,
            page: bounded("page", self.page.as_deref(), 1, u64::MAX / MAX_PER_PAGE)?,
            per_page: bounded(
                "per_page",
                self.per_page.as_deref(),
                DEFAULT_PER_PAGE,
                MAX_PER_PAGE,
            )?,
            order,
        })
    }
}

impl ListParams {
    /// `&per_page=..` and `&order=oldest` when they are not the defaults: what a link needs to
    /// show the same list again (a search's continue link).
    pub fn more(&self) -> String {
        let mut more = String::new();
        if self.per_page != DEFAULT_PER_PAGE {
            more.push_str(&format!("&per_page={}", self.per_page));
        }
        if self.order == Order::OldestFirst {
            more.push_str("&order=oldest");
        }
        more
    }
}

impl JobQuery {
    pub fn logs(&self) -> Result<(u64, u64), WebError> {
        Ok((
            bounded(
                "logs_page",
                self.logs_page.as_deref(),
                1,
                u64::MAX / MAX_PER_PAGE,
            )?,
            bounded(
                "logs_per_page",
                self.logs_per_page.as_deref(),
                DEFAULT_LOGS_PER_PAGE,
                MAX_PER_PAGE,
            )?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_pages() {
        assert!(bounded("page", Some("0"), 1, 10).is_err());
        assert!(bounded("per_page", Some("100000"), 50, 1000).is_err());
        assert!(bounded("page", Some("x"), 1, 10).is_err());
        assert_eq!(bounded("page", None, 1, 10).unwrap(), 1);
        let q = ListQuery {
            state: Some("nope".into()),
            ..Default::default()
        };
        assert!(q.params(JobState::Waiting).is_err());
    }
}
