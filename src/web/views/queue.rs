//! A queue's page: its actions, state tabs and one page of jobs.

use askama::Template;

use super::format::{excerpt, now_ms, number, progress_text, relative_time};
use super::label_of;
use super::search::SearchView;
use super::{Button, Chrome, FormLink, Links, Perms};
use crate::queue::action::Action;
use crate::queue::model::{Counts, Job, JobPage, JobState, Library, Order, QueueRef, QueueSummary};
use crate::web::i18n;

/// A state with its count and link, for tabs and overview cells.
#[derive(Debug, Clone)]
pub struct StateCell {
    pub state: &'static str,
    pub count: u64,
    pub href: String,
    pub active: bool,
}

/// The cells of `states` (the overview's columns: every state; a queue's tabs: its library's).
pub fn state_cells(
    links: &Links,
    queue: &QueueRef,
    counts: &Counts,
    states: &[JobState],
    current: Option<JobState>,
) -> Vec<StateCell> {
    states
        .iter()
        .map(|state| StateCell {
            state: state.as_str(),
            count: counts.get(*state),
            href: links.tab(queue, *state),
            active: current == Some(*state),
        })
        .collect()
}

pub struct JobRow {
    pub id: String,
    /// The state the job was listed in (shown on the `latest` tab, where states mix).
    pub state: &'static str,
    /// The start of its data, compact JSON on one line.
    pub data: String,
    pub href: String,
    /// Retry / promote (as the tab's state allows) and remove.
    pub buttons: Vec<Button>,
    pub name: String,
    pub added: String,
    pub processed: String,
    pub finished: String,
    pub attempts: i64,
    pub progress: String,
    pub reason: String,
    pub problem: bool,
    /// For parents in waiting-children: children still pending.
    pub pending_children: Option<u64>,
}

pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// One choice of the bulk form: the submit button sending `action=<value>`.
pub struct BulkChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "pages/queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub perms: Perms,
    /// Pause or resume, retry all failed, promote all delayed.
    pub buttons: Vec<Button>,
    /// Add a job, clean, drain, obliterate: pages that ask for details first.
    pub forms: Vec<FormLink>,
    /// Where forms come back to: this very page.
    pub back: String,
    pub bulk_url: String,
    /// Where the import form posts: admins, on BullMQ queues only.
    pub import_url: Option<String>,
    pub bulk_confirm: String,
    pub bulk: Vec<BulkChoice>,
    pub name: String,
    pub prefix: String,
    pub show_prefix: bool,
    pub paused: bool,
    pub global_concurrency: Option<u64>,
    /// Set or clear the global concurrency (BullMQ queues only).
    pub concurrency: Option<ConcurrencyForm>,
    pub scheduler_count: u64,
    pub version: String,
    /// The queue's library, with its major version when known ("BullMQ 6", "Bull").
    pub badge: String,
    pub library: &'static str,
    pub tabs: Vec<StateCell>,
    /// The `latest` tab: the newest jobs of every state merged by time (no bulk form, no pager).
    pub latest: bool,
    pub latest_href: String,
    /// Rows can be ticked for the bulk form.
    pub pickable: bool,
    pub state: &'static str,
    pub rows: Vec<JobRow>,
    pub total: u64,
    pub per_page: u64,
    pub newest_first: bool,
    pub pager: Pager,
    /// The first page of this tab (where the "n new jobs" of a later page lead).
    pub first_page_href: String,
    pub order_href: String,
    pub action: String,
    pub metrics_href: String,
    pub schedulers_href: String,
    pub workers_href: String,
    pub doctor_href: String,
    /// The search box, and a search's outcome when the page shows one.
    pub search: SearchView,
}

/// The global concurrency form: a number to set, and a button to clear it when it is set.
pub struct ConcurrencyForm {
    pub url: String,
    pub label: &'static str,
    pub back: String,
    pub clear: Option<Button>,
}

/// The global concurrency form of a BullMQ queue.
pub(super) fn concurrency_form(
    links: &Links,
    queue: &QueueRef,
    summary: &QueueSummary,
    back: &str,
) -> Option<ConcurrencyForm> {
    (queue.library == Library::BullMq).then(|| ConcurrencyForm {
        url: links.queue_action(queue, Action::SetConcurrency),
        label: label_of(Action::SetConcurrency),
        back: back.to_string(),
        clear: summary.global_concurrency.map(|_| {
            Button::new(
                Action::ClearConcurrency,
                links.queue_action(queue, Action::ClearConcurrency),
            )
            .with("back", back)
        }),
    })
}

/// The job actions a row of this tab offers: those that fit the tab's state in the queue's
/// library (a Bull queue's completed jobs are not retried).
fn row_actions(library: Library, state: JobState) -> impl Iterator<Item = Action> {
    Action::BULK
        .into_iter()
        .filter(move |action| action.fits_in(library, Some(state)))
}

impl QueuePage {
    pub fn new(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        summary: &QueueSummary,
        page: &JobPage,
        order: Order,
    ) -> Self {
        let queue = summary.queue();
        let now = now_ms();
        let pages = page.total.div_ceil(page.per_page).max(1);
        let tab = links.tab(&queue, page.state);
        let order_param = if order == Order::OldestFirst {
            "&order=oldest"
        } else {
            ""
        };
        let page_href = |n: u64| format!("{tab}&page={n}&per_page={}{order_param}", page.per_page);
        // Where forms come back to: this very page.
        let back = page_href(page.page);
        let rows = page
            .jobs
            .iter()
            .map(|job| job_row(links, &queue, job, page.state, &back, now))
            .collect();
        let pager = Pager {
            page: page.page,
            pages,
            prev: (page.page > 1).then(|| page_href(page.page - 1)),
            next: (page.page < pages).then(|| page_href(page.page + 1)),
        };
        let flipped = if order == Order::OldestFirst {
            ""
        } else {
            "&order=oldest"
        };
        QueuePage {
            concurrency: concurrency_form(links, &queue, summary, &back),
            buttons: queue_buttons(links, &queue, summary, &back),
            forms: form_links(&perms, links, &queue, page.state),
            pickable: perms.operator,
            import_url: import_url(&perms, links, &queue),
            chrome,
            perms,
            bulk_url: links.queue_action(&queue, Action::Bulk),
            back,
            bulk_confirm: i18n::t("queue.bulk_confirm").into(),
            bulk: row_actions(queue.library, page.state)
                .map(|action| BulkChoice {
                    value: action.name(),
                    label: label_of(action),
                    danger: action.destructive(),
                })
                .collect(),
            name: summary.name.clone(),
            prefix: summary.prefix.clone(),
            show_prefix: links.with_prefix,
            paused: summary.paused,
            global_concurrency: summary.global_concurrency,
            scheduler_count: summary.scheduler_count,
            version: summary.version.clone().unwrap_or_default(),
            badge: summary.badge(),
            library: queue.library.as_str(),
            tabs: state_cells(
                links,
                &queue,
                &summary.counts,
                queue.library.states(),
                Some(page.state),
            ),
            latest: false,
            latest_href: latest_href(links, &queue),
            state: page.state.as_str(),
            rows,
            total: page.total,
            per_page: page.per_page,
            newest_first: order == Order::NewestFirst,
            pager,
            first_page_href: page_href(1),
            order_href: format!("{tab}&per_page={}{flipped}", page.per_page),
            action: links.queue(&queue),
            metrics_href: links.queue_sub(&queue, "metrics"),
            schedulers_href: links.queue_sub(&queue, "schedulers"),
            workers_href: links.queue_sub(&queue, "workers"),
            doctor_href: links.queue_sub(&queue, "doctor"),
            search: SearchView::form(links, &queue, page.state),
        }
    }

    /// Forms on the page come back to `here` (a search, rather than a page of the tab).
    pub fn back_to(&mut self, here: &str) {
        self.back = here.to_string();
        let buttons = self.rows.iter_mut().flat_map(|row| row.buttons.iter_mut());
        for button in buttons.chain(self.buttons.iter_mut()) {
            for (name, value) in &mut button.fields {
                if *name == "back" {
                    *value = here.to_string();
                }
            }
        }
    }
}

/// The `latest` tab of `queue`.
pub fn latest_href(links: &Links, queue: &QueueRef) -> String {
    format!("{}{}state={LATEST}", links.queue(queue), links.sep())
}

/// The `state` value of the `latest` tab.
pub const LATEST: &str = "latest";

/// How long a row's data preview is, in characters.
const DATA_PREVIEW_CHARS: usize = 80;

/// A row of a job table: `state` is the state the job was listed in; its buttons come back to
/// `back`.
pub(super) fn job_row(
    links: &Links,
    queue: &QueueRef,
    job: &Job,
    state: JobState,
    back: &str,
    now: i64,
) -> JobRow {
    JobRow {
        id: job.id.clone(),
        state: state.as_str(),
        data: data_preview(job),
        href: links.job(queue, &job.id),
        buttons: row_actions(queue.library, state)
            .map(|action| {
                Button::new(action, links.job_action(queue, &job.id, action))
                    .asking(i18n::tf("queue.remove_confirm", &[("id", &job.id)]))
                    .with("back", back)
            })
            .collect(),
        name: job.name.clone().unwrap_or_default(),
        added: relative_time(job.timestamp, now),
        processed: relative_time(job.processed_on, now),
        finished: relative_time(job.finished_on, now),
        attempts: job.attempts_made,
        progress: progress_text(&job.progress),
        reason: reason(job),
        problem: !job.notes.is_empty(),
        pending_children: job.pending_children,
    }
}

/// The start of a job's data as compact JSON (empty for none), or its size when it was too
/// long to read for a list. Askama escapes it like every value.
fn data_preview(job: &Job) -> String {
    if let Some(cut) = job.truncated.iter().find(|c| c.field == "data") {
        return i18n::tf("queue.data_too_big", &[("n", &number(cut.bytes as i64))]);
    }
    match &job.data {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        data => excerpt(&data.to_string(), DATA_PREVIEW_CHARS),
    }
}

/// The start of a job's failure reason, or its size when it was too long to read for a list.
fn reason(job: &Job) -> String {
    if let Some(cut) = job.truncated.iter().find(|c| c.field == "failedReason") {
        return i18n::tf("queue.reason_too_big", &[("n", &number(cut.bytes as i64))]);
    }
    job.failed_reason
        .as_deref()
        .map(|r| excerpt(r, 120))
        .unwrap_or_default()
}

/// Pause or resume, and the all-jobs actions when there are jobs for them.
pub(super) fn queue_buttons(
    links: &Links,
    queue: &QueueRef,
    summary: &QueueSummary,
    back: &str,
) -> Vec<Button> {
    let counts = &summary.counts;
    let pause = if summary.paused {
        Action::Resume
    } else {
        Action::Pause
    };
    let all = [
        (
            Action::RetryFailed,
            counts.failed,
            "queue.retry_all_confirm",
        ),
        (
            Action::PromoteDelayed,
            counts.delayed,
            "queue.promote_all_confirm",
        ),
    ];
    let mut buttons = vec![Button::new(pause, links.queue_action(queue, pause))];
    for (action, count, question) in all.into_iter().filter(|(_, count, ..)| *count > 0) {
        buttons.push(
            Button::new(action, links.queue_action(queue, action))
                .labelled(format!("{} ({})", label_of(action), number(count as i64)))
                .asking(i18n::tf(question, &[("n", &number(count as i64))])),
        );
    }
    buttons
        .into_iter()
        .map(|button| button.with("back", back))
        .collect()
}

/// The pages that ask for an action's details, for the actions this user may take. Clean
/// starts on the tab's state when it can be cleaned.
pub(super) fn form_links(
    perms: &Perms,
    links: &Links,
    queue: &QueueRef,
    state: JobState,
) -> Vec<FormLink> {
    let clean_state = if Action::Clean.fits_in(queue.library, Some(state)) {
        state
    } else {
        JobState::Completed
    };
    [
        Action::AddJob,
        Action::Clean,
        Action::Drain,
        Action::Obliterate,
    ]
    .into_iter()
    .filter(|action| perms.may(*action))
    .map(|action| {
        let mut href = links.action_page(queue, action);
        if action == Action::Clean {
            href = format!("{href}{}state={}", links.sep(), clean_state.as_str());
        }
        let form = FormLink::new(action, href);
        if action == Action::AddJob {
            FormLink {
                label: label_of(action).to_string(),
                ..form
            }
        } else {
            form
        }
    })
    .collect()
}

/// Where the import form posts, for those who may import to a BullMQ queue.
pub(crate) fn import_url(perms: &Perms, links: &Links, queue: &QueueRef) -> Option<String> {
    (perms.may(Action::Import) && queue.library == Library::BullMq)
        .then(|| links.queue_action(queue, Action::Import))
}
