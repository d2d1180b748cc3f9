//! A job's page: its fields, data, logs, parent and children, and its actions.

use askama::Template;

use super::format::{
    DISPLAY_LIMIT, decimal, excerpt, format_time, now_ms, number, pretty, relative_time,
};
use super::{Button, Chrome, FormLink, Links, Perms};
use crate::queue::action::Action;
use crate::queue::model::{ChildRef, Job, JobDetail, ParentRef, QueueRef};
use crate::queue::note::Note;
use crate::queue::preview::RAW_FIELD_MAX;
use crate::web::i18n;

pub struct Field {
    pub label: &'static str,
    pub value: String,
}

pub struct JsonBlock {
    pub label: &'static str,
    pub text: String,
    pub truncated: bool,
    pub raw_href: String,
    /// Too big to be read for this page: what is said instead of the value.
    pub too_big: Option<TooBig>,
}

/// A field left out of the job's read for its size (`queue::preview::JOB_FIELD_MAX`).
pub struct TooBig {
    /// "50.0 MiB".
    pub size: String,
    /// The raw view, when the field is within what it serves.
    pub raw_href: Option<String>,
}

/// "812 bytes", "16.0 KiB", "50.0 MiB".
pub fn size_text(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        i18n::tf("size.bytes", &[("n", &bytes)])
    } else if b < KIB * KIB {
        format!("{} {}", decimal(b / KIB, 1), i18n::t("size.kib"))
    } else {
        format!("{} {}", decimal(b / (KIB * KIB), 1), i18n::t("size.mib"))
    }
}

pub struct ChildLink {
    pub label: String,
    pub href: String,
    pub detail: String,
}

pub struct LogView {
    pub lines: Vec<String>,
    pub total: u64,
    pub first_line: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/job.html")]
pub struct JobPageView {
    pub chrome: Chrome,
    pub perms: Perms,
    /// Retry or promote (as the job's state allows) and duplicate.
    pub buttons: Vec<Button>,
    /// The data editor, for those who may edit data.
    pub edit: Option<FormLink>,
    /// Remove; with children, remove with or without them.
    pub remove: Vec<Button>,
    pub queue_name: String,
    pub queue_href: String,
    pub id: String,
    pub name: String,
    pub state: String,
    pub state_href: String,
    pub fields: Vec<Field>,
    pub blocks: Vec<JsonBlock>,
    pub failed_reason: String,
    /// The failed reason, when it was too big to read.
    pub failed_reason_too_big: Option<TooBig>,
    pub stacktrace: Vec<String>,
    /// Added, delayed until, each attempt, finished (`views::timeline`).
    pub timeline: Vec<super::timeline::Step>,
    /// The stack trace, when it was too big to read.
    pub stacktrace_too_big: Option<TooBig>,
    pub notes: Vec<String>,
    pub logs: LogView,
    pub parent: Option<ChildLink>,
    /// The parent's state ("unknown" when the parent is gone).
    pub parent_state: String,
    /// The flow page, for jobs with a parent or children.
    pub flow_href: Option<String>,
    pub pending: Vec<ChildLink>,
    pub processed: Vec<ChildLink>,
    pub failed: Vec<ChildLink>,
    pub pending_count: u64,
    pub processed_count: u64,
    pub failed_count: u64,
}

fn child_link(links: &Links, child: &ChildRef, detail: String) -> ChildLink {
    let queue = QueueRef::new(&child.prefix, &child.queue);
    ChildLink {
        label: format!("{} / {}", child.queue, child.id),
        href: links.job(&queue, &child.id),
        detail,
    }
}

fn parent_link(links: &Links, parent: &ParentRef) -> ChildLink {
    let queue = QueueRef::new(&parent.prefix, &parent.queue);
    ChildLink {
        label: format!("{} / {}", parent.queue, parent.id),
        href: links.job(&queue, &parent.id),
        detail: String::new(),
    }
}

fn job_fields(job: &Job, now: i64) -> Vec<Field> {
    let time = |ms: Option<i64>| match ms {
        Some(_) => format!("{} ({})", format_time(ms), relative_time(ms, now)),
        None => String::new(),
    };
    let mut fields = vec![
        Field {
            label: i18n::t("job.added"),
            value: time(job.timestamp),
        },
        Field {
            label: i18n::t("job.processed"),
            value: time(job.processed_on),
        },
        Field {
            label: i18n::t("job.finished"),
            value: time(job.finished_on),
        },
        Field {
            label: i18n::t("job.attempts_made"),
            value: job.attempts_made.to_string(),
        },
        Field {
            label: i18n::t("job.attempts_started"),
            value: job.attempts_started.to_string(),
        },
    ];
    let optional = [
        (
            i18n::t("job.delay"),
            (job.delay != 0).then(|| format!("{} ms", number(job.delay))),
        ),
        (
            i18n::t("job.priority"),
            (job.priority != 0).then(|| job.priority.to_string()),
        ),
        (
            i18n::t("job.stalled"),
            (job.stalled_counter != 0).then(|| job.stalled_counter.to_string()),
        ),
        (
            i18n::t("job.retried"),
            job.retried_on.map(|at| time(Some(at))),
        ),
        (i18n::t("job.processed_by"), job.processed_by.clone()),
        (i18n::t("job.scheduler"), job.repeat_job_key.clone()),
        (
            i18n::t("job.deduplication_id"),
            job.deduplication_id.clone(),
        ),
        (
            i18n::t("job.next_scheduled"),
            job.next_repeatable_job_id.clone(),
        ),
        (
            i18n::t("job.deferred_failure"),
            job.deferred_failure.clone(),
        ),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            fields.push(Field { label, value });
        }
    }
    fields
}

impl JobPageView {
    pub fn new(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        queue: &QueueRef,
        detail: &JobDetail,
        log_pages: (String, u64),
    ) -> Self {
        let job = &detail.job;
        let now = now_ms();
        let too_big = |field: &str| {
            let cut = job.truncated.iter().find(|c| c.field == field)?;
            Some(TooBig {
                size: size_text(cut.bytes),
                raw_href: (cut.bytes <= RAW_FIELD_MAX).then(|| links.raw(queue, &job.id, field)),
            })
        };
        let block = |label, value, stored_len: usize, field| {
            let too_big = too_big(field);
            let (text, cut) = if too_big.is_some() {
                (String::new(), false)
            } else {
                pretty(value)
            };
            JsonBlock {
                label,
                text,
                truncated: too_big.is_none() && (cut || stored_len > DISPLAY_LIMIT),
                raw_href: links.raw(queue, &job.id, field),
                too_big,
            }
        };
        let mut blocks = vec![block(i18n::t("job.data"), &job.data, job.data_len, "data")];
        if job.returnvalue_len > 0 {
            let len = job.returnvalue_len;
            blocks.push(block(
                i18n::t("job.return_value"),
                &job.returnvalue,
                len,
                "returnvalue",
            ));
        }
        blocks.push(block(i18n::t("job.progress"), &job.progress, 0, "progress"));
        blocks.push(block(i18n::t("job.options"), &job.opts, 0, "opts"));

        let (log_base, per_page) = log_pages;
        let logs = &detail.logs;
        let log_pages_total = logs.total.div_ceil(per_page).max(1);
        let log_href = |n: u64| {
            let sep = if log_base.contains('?') { '&' } else { '?' };
            format!("{log_base}{sep}logs_page={n}#logs")
        };
        let state = detail
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".into());
        let id = &job.id;
        JobPageView {
            chrome,
            buttons: job_buttons(&perms, links, queue, detail),
            edit: perms
                .may(Action::EditData)
                .then(|| FormLink::new(Action::EditData, links.edit(queue, id))),
            remove: remove_buttons(&perms, links, queue, detail),
            perms,
            queue_name: queue.name.clone(),
            queue_href: links.queue(queue),
            id: job.id.clone(),
            name: job.name.clone().unwrap_or_default(),
            state_href: detail
                .state
                .map(|s| links.tab(queue, s))
                .unwrap_or_default(),
            state,
            fields: job_fields(job, now),
            blocks,
            failed_reason: job.failed_reason.clone().unwrap_or_default(),
            failed_reason_too_big: too_big("failedReason"),
            stacktrace: job.stacktrace.clone(),
            timeline: super::timeline::timeline(job, detail.state),
            stacktrace_too_big: too_big("stacktrace"),
            notes: job.notes.iter().map(note_text).collect(),
            logs: LogView {
                lines: logs.lines.clone(),
                total: logs.total,
                first_line: (logs.page - 1) * logs.per_page + 1,
                prev: (logs.page > 1).then(|| log_href(logs.page - 1)),
                next: (logs.page < log_pages_total).then(|| log_href(logs.page + 1)),
            },
            parent: job.parent.as_ref().map(|p| parent_link(links, p)),
            parent_state: detail
                .parent_state
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            flow_href: (job.parent.is_some() || !detail.children.is_empty())
                .then(|| links.flow(queue, id, false)),
            pending: detail
                .children
                .pending
                .iter()
                .map(|c| child_link(links, c, String::new()))
                .collect(),
            processed: detail
                .children
                .processed
                .iter()
                .map(|c| {
                    let rv = c
                        .returnvalue
                        .as_ref()
                        .map(|v| excerpt(&v.to_string(), 120))
                        .unwrap_or_default();
                    child_link(links, c, rv)
                })
                .collect(),
            failed: detail
                .children
                .failed
                .iter()
                .map(|c| child_link(links, c, c.failed_reason.clone().unwrap_or_default()))
                .collect(),
            pending_count: detail.children.pending_count,
            processed_count: detail.children.processed_count,
            failed_count: detail.children.failed_count,
        }
    }

    pub fn has_children(&self) -> bool {
        self.pending_count + self.processed_count + self.failed_count > 0
    }
}

/// Retry, promote (when the job's state fits) and duplicate, for those who may.
fn job_buttons(perms: &Perms, links: &Links, queue: &QueueRef, detail: &JobDetail) -> Vec<Button> {
    let id = &detail.job.id;
    [Action::Retry, Action::Promote, Action::Duplicate]
        .into_iter()
        .filter(|action| perms.may(*action) && action.fits_in(queue.library, detail.state))
        .map(|action| Button::new(action, links.job_action(queue, id, action)))
        .collect()
}

/// Remove; a job with children offers to remove them too, or to keep them.
fn remove_buttons(
    perms: &Perms,
    links: &Links,
    queue: &QueueRef,
    detail: &JobDetail,
) -> Vec<Button> {
    let action = Action::Remove;
    if !perms.may(action) {
        return Vec::new();
    }
    let id = &detail.job.id;
    let button = || Button::new(action, links.job_action(queue, id, action));
    let children = &detail.children;
    let count = children.pending_count + children.processed_count + children.failed_count;
    if count == 0 {
        return vec![button().asking(i18n::tf("job.remove_confirm", &[("id", &id)]))];
    }
    vec![
        button()
            .labelled(i18n::t("job.remove_with_children"))
            .asking(i18n::tf(
                "job.remove_with_children_confirm",
                &[("id", &id), ("n", &count)],
            ))
            .with("children", "1"),
        button()
            .labelled(i18n::t("job.remove_keep_children"))
            .asking(i18n::tf("job.remove_keep_children_confirm", &[("id", &id)]))
            .with("children", "0"),
    ]
}

/// A note about the job's hash in the reader's language (the JSON API keeps the English words).
fn note_text(note: &Note) -> String {
    match note {
        Note::MissingHash => i18n::t("job.note.missing_hash").to_string(),
        Note::NoField(field) => i18n::tf("job.note.no_field", &[("field", field)]),
        Note::NotJson(field) => i18n::tf("job.note.not_json", &[("field", field)]),
        Note::NotNumber { field, text } => i18n::tf(
            "job.note.not_number",
            &[("field", field), ("text", &format!("{text:?}"))],
        ),
        Note::StacktraceNotArray => i18n::t("job.note.stacktrace").to_string(),
        Note::ParentNotBullMq => i18n::t("job.note.parent").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{Lang, Locale, run_with};

    fn notes() -> Vec<Note> {
        vec![
            Note::MissingHash,
            Note::NoField("name"),
            Note::NotJson("data"),
            Note::NotNumber {
                field: "delay",
                text: "soon".into(),
            },
            Note::StacktraceNotArray,
            Note::ParentNotBullMq,
        ]
    }

    /// In English the page says what the JSON API says; in French, none of it.
    #[tokio::test]
    async fn notes_are_the_apis_words_in_english_and_french_in_french() {
        for note in notes() {
            assert_eq!(note_text(&note), note.to_string());
        }
        let fr = Locale {
            lang: Lang::Fr,
            ..Locale::default()
        };
        let french = run_with(fr, async {
            notes().iter().map(note_text).collect::<Vec<_>>()
        })
        .await;
        for (text, note) in french.iter().zip(notes()) {
            assert_ne!(*text, note.to_string());
            assert!(
                !text.contains(" is ") && !text.contains("hash has"),
                "{text}"
            );
        }
    }
}
