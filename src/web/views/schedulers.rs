//! The job schedulers of every queue (or one queue), with their next run and template.

use askama::Template;

use super::format::{format_time, now_ms, number, relative_time};
use super::label_of;
use super::{Button, Chrome, Links};
use crate::queue::action::Action;
use crate::queue::model::{Library, QueueRef};
use crate::queue::schedulers::Scheduler;
use crate::web::i18n;

pub struct SchedulerRow {
    pub id: String,
    /// The queue's library (`bullmq`, `bull`) and its badge.
    pub library: &'static str,
    pub badge: String,
    /// A Bull repeatable job's custom job id.
    pub job_id: String,
    pub queue: String,
    pub queue_href: String,
    pub schedule: String,
    pub tz: String,
    pub next: String,
    pub next_relative: String,
    pub next_job_href: String,
    pub iterations: String,
    pub limits: String,
    pub job_name: String,
    pub data: String,
    pub legacy: bool,
    /// Remove, for those who may.
    pub remove: Option<Button>,
    /// Run now, for those who may (BullMQ job schedulers only).
    pub run: Option<Button>,
    /// The edit form, prefilled, for those who may (BullMQ job schedulers only).
    pub edit: Option<EditForm>,
}

/// A job scheduler's edit form, prefilled with its schedule.
pub struct EditForm {
    pub url: String,
    pub label: &'static str,
    pub pattern: String,
    pub every: String,
    pub tz: String,
    pub limit: String,
    /// RFC 3339, UTC.
    pub end_date: String,
}

impl EditForm {
    fn of(url: String, s: &Scheduler) -> Self {
        let text = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        EditForm {
            url,
            label: label_of(Action::EditScheduler),
            pattern: s.pattern.clone().unwrap_or_default(),
            every: text(s.every),
            tz: s.tz.clone().unwrap_or_default(),
            limit: text(s.limit),
            end_date: s
                .end_date
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/schedulers.html")]
pub struct SchedulersPage {
    pub chrome: Chrome,
    pub queue: Option<String>,
    pub queue_href: String,
    pub rows: Vec<SchedulerRow>,
    pub can_remove: bool,
}

fn human_every(ms: i64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => every("schedulers.every_d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => every("schedulers.every_h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => every("schedulers.every_min", ms / 60_000),
        ms if ms % 1000 == 0 => every("schedulers.every_s", ms / 1000),
        ms => every("schedulers.every_ms", ms),
    }
}

fn every(key: &str, n: i64) -> String {
    i18n::tf(key, &[("n", &number(n))])
}

/// The question before removing `key`, in the words of its library.
fn remove_question(library: Library, key: &str) -> String {
    let which = match library {
        Library::BullMq => "schedulers.remove_confirm",
        Library::Bull => "schedulers.remove_repeatable_confirm",
    };
    i18n::tf(which, &[("id", &key)])
}

impl SchedulersPage {
    /// `queue` is the queue the page is about, `None` for every queue.
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: Option<&QueueRef>,
        list: Vec<Scheduler>,
        can_remove: bool,
    ) -> Self {
        let now = now_ms();
        let rows: Vec<SchedulerRow> = list
            .into_iter()
            .map(|s| {
                let q = QueueRef::new(&s.prefix, &s.queue).with_library(s.library);
                let mut limits = Vec::new();
                if let Some(limit) = s.limit {
                    limits.push(i18n::tf("schedulers.limit_n", &[("n", &limit)]));
                }
                if let Some(end) = s.end_date {
                    limits.push(i18n::tf(
                        "schedulers.ends",
                        &[("time", &format_time(Some(end)))],
                    ));
                }
                if let Some(start) = s.start_date {
                    limits.push(i18n::tf(
                        "schedulers.starts",
                        &[("time", &format_time(Some(start)))],
                    ));
                }
                SchedulerRow {
                    queue_href: links.queue(&q),
                    schedule: match (&s.pattern, s.every) {
                        (Some(p), _) => p.clone(),
                        (None, Some(every)) => human_every(every),
                        _ => String::new(),
                    },
                    tz: s.tz.clone().unwrap_or_default(),
                    next: format_time(s.next),
                    next_relative: relative_time(s.next, now),
                    next_job_href: s
                        .next_job_id
                        .as_deref()
                        .map(|id| links.job(&q, id))
                        .unwrap_or_default(),
                    iterations: s.iteration_count.map(number).unwrap_or_default(),
                    limits: limits.join(", "),
                    job_name: s.name.clone(),
                    data: s.template.data.to_string(),
                    legacy: s.legacy,
                    library: s.library.as_str(),
                    badge: s.library.badge(None),
                    job_id: s.job_id.clone().unwrap_or_default(),
                    remove: can_remove.then(|| {
                        let url = links.scheduler_action(&q, &s.key, Action::RemoveScheduler);
                        Button::new(Action::RemoveScheduler, url)
                            .asking(remove_question(s.library, &s.key))
                    }),
                    run: (can_remove && s.library == Library::BullMq).then(|| {
                        let url = links.scheduler_action(&q, &s.key, Action::RunScheduler);
                        Button::new(Action::RunScheduler, url)
                    }),
                    edit: (can_remove && s.library == Library::BullMq).then(|| {
                        let url = links.scheduler_action(&q, &s.key, Action::EditScheduler);
                        EditForm::of(url, &s)
                    }),
                    queue: s.queue,
                    id: s.key,
                }
            })
            .collect();
        SchedulersPage {
            chrome,
            queue_href: queue.map(|q| links.queue(q)).unwrap_or_default(),
            queue: queue.map(|q| q.name.clone()),
            rows,
            can_remove,
        }
    }
}
