//! The workers connected to every queue (or one queue).

use askama::Template;

use super::format::seconds;
use super::{Chrome, Links};
use crate::queue::model::QueueRef;
use crate::queue::workers::WorkerClient;

pub struct WorkerRow {
    pub queue: String,
    pub queue_href: String,
    pub name: String,
    pub addr: String,
    pub age: String,
    pub idle: String,
}

#[derive(Template)]
#[template(path = "pages/workers.html")]
pub struct WorkersPage {
    pub chrome: Chrome,
    pub queue: Option<String>,
    pub queue_href: String,
    /// `None`: Redis refused `CLIENT LIST`, so workers are unknown.
    pub rows: Option<Vec<WorkerRow>>,
}

impl WorkersPage {
    /// `queue` is the queue the page is about, `None` for every queue; `found` is `None` when
    /// Redis refused `CLIENT LIST`.
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: Option<&QueueRef>,
        found: Option<Vec<WorkerClient>>,
    ) -> Self {
        let rows = found.map(|list| {
            list.into_iter()
                .map(|w| WorkerRow {
                    queue_href: links.queue(&QueueRef::new(&w.prefix, &w.queue)),
                    queue: w.queue,
                    name: w.name,
                    addr: w.addr,
                    age: seconds(w.age),
                    idle: seconds(w.idle),
                })
                .collect()
        });
        WorkersPage {
            chrome,
            queue_href: queue.map(|q| links.queue(q)).unwrap_or_default(),
            queue: queue.map(|q| q.name.clone()),
            rows,
        }
    }
}
