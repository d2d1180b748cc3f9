//! The data editor of a job, blank or with the text as typed and why it was refused.

use askama::Template;

use super::{Chrome, Links};
use crate::queue::action::Action;
use crate::queue::model::QueueRef;

#[derive(Template)]
#[template(path = "pages/edit.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub job_id: String,
    pub job_href: String,
    pub post_action: String,
    pub error: String,
    pub data: String,
}

impl EditPage {
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: &QueueRef,
        id: &str,
        error: String,
        data: String,
    ) -> Self {
        EditPage {
            chrome,
            queue_name: queue.name.clone(),
            queue_href: links.queue(queue),
            job_id: id.to_string(),
            job_href: links.job(queue, id),
            post_action: links.job_action(queue, id, Action::EditData),
            error,
            data,
        }
    }
}
