//! The add-job form, blank or as the user filled it in, with the reason a refused one came back.

use askama::Template;

use super::{Chrome, Links};
use crate::queue::action::Action;
use crate::queue::model::QueueRef;

/// The add-job form, blank or as the user filled it in.
#[derive(Template)]
#[template(path = "pages/add.html")]
pub struct AddPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub post_action: String,
    pub error: String,
    /// The form field the error is about ("" when it is about the whole form).
    pub error_field: &'static str,
    pub values: AddValues,
}

/// The add form's fields, and the names its errors start with ("attempts: ...", "jobId: ...").
const ADD_FIELDS: [(&str, &str); 10] = [
    ("name", "name"),
    ("data", "data"),
    ("job_id", "jobId"),
    ("delay_ms", "delay"),
    ("priority", "priority"),
    ("attempts", "attempts"),
    ("backoff_type", "backoff"),
    ("backoff_delay_ms", "backoff_delay_ms"),
    ("remove_on_complete", "removeOnComplete"),
    ("remove_on_fail", "removeOnFail"),
];

/// Which field of the add form an error message is about.
fn error_field(error: &str) -> &'static str {
    let Some((head, _)) = error.split_once(':') else {
        return "";
    };
    ADD_FIELDS
        .iter()
        .find(|(field, option)| head == *field || head == *option)
        .map_or("", |(field, _)| field)
}

#[derive(Default)]
pub struct AddValues {
    pub name: String,
    pub data: String,
    pub job_id: String,
    pub delay_ms: String,
    pub priority: String,
    pub attempts: String,
    pub backoff_type: String,
    pub backoff_delay_ms: String,
    pub remove_on_complete: String,
    pub remove_on_fail: String,
}

impl AddValues {
    /// The form's fields as they were typed.
    pub fn typed(fields: &[(String, String)]) -> Self {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        AddValues {
            name: get("name"),
            data: get("data"),
            job_id: get("job_id"),
            delay_ms: get("delay_ms"),
            priority: get("priority"),
            attempts: get("attempts"),
            backoff_type: get("backoff_type"),
            backoff_delay_ms: get("backoff_delay_ms"),
            remove_on_complete: get("remove_on_complete"),
            remove_on_fail: get("remove_on_fail"),
        }
    }

    /// A blank form: no fields but empty data.
    pub fn blank() -> Self {
        AddValues {
            data: "{}".into(),
            ..AddValues::default()
        }
    }
}

impl AddPage {
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: &QueueRef,
        error: String,
        values: AddValues,
    ) -> Self {
        AddPage {
            chrome,
            queue_name: queue.name.clone(),
            queue_href: links.queue(queue),
            post_action: links.queue_action(queue, Action::AddJob),
            error_field: error_field(&error),
            error,
            values,
        }
    }
}
