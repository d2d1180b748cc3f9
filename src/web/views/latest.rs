//! A queue's `latest` tab: its newest jobs of every state merged by the time they were added
//! (`queue::latest`), drawn by the queue page's template with each row's own state and actions.

use super::format::now_ms;
use super::queue::{
    LATEST, Pager, QueuePage, concurrency_form, form_links, import_url, job_row, latest_href,
    queue_buttons, state_cells,
};
use super::{Chrome, Links, Perms};
use crate::queue::latest::LatestJobs;
use crate::queue::model::{JobState, QueueSummary};

impl QueuePage {
    pub fn latest(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        summary: &QueueSummary,
        latest: &LatestJobs,
    ) -> Self {
        let queue = summary.queue();
        let now = now_ms();
        let href = latest_href(links, &queue);
        let back = format!("{href}&per_page={}", latest.per_state);
        let rows = latest
            .jobs
            .iter()
            .map(|(state, job)| job_row(links, &queue, job, *state, &back, now))
            .collect();
        QueuePage {
            // The latest tab spans every state; a search is made from a state's tab.
            search: Default::default(),
            buttons: queue_buttons(links, &queue, summary, &back),
            forms: form_links(&perms, links, &queue, JobState::Completed),
            import_url: import_url(&perms, links, &queue),
            chrome,
            perms,
            bulk_url: String::new(),
            bulk_confirm: String::new(),
            bulk: Vec::new(),
            name: summary.name.clone(),
            prefix: summary.prefix.clone(),
            show_prefix: links.with_prefix,
            paused: summary.paused,
            global_concurrency: summary.global_concurrency,
            concurrency: concurrency_form(links, &queue, summary, &back),
            scheduler_count: summary.scheduler_count,
            version: summary.version.clone().unwrap_or_default(),
            badge: summary.badge(),
            library: queue.library.as_str(),
            tabs: state_cells(links, &queue, &summary.counts, queue.library.states(), None),
            latest: true,
            latest_href: href.clone(),
            pickable: false,
            state: LATEST,
            rows,
            total: latest.jobs.len() as u64,
            per_page: latest.per_state,
            newest_first: true,
            pager: Pager {
                page: 1,
                pages: 1,
                prev: None,
                next: None,
            },
            first_page_href: back.clone(),
            order_href: String::new(),
            back,
            action: links.queue(&queue),
            metrics_href: links.queue_sub(&queue, "metrics"),
            schedulers_href: links.queue_sub(&queue, "schedulers"),
            workers_href: links.queue_sub(&queue, "workers"),
            doctor_href: links.queue_sub(&queue, "doctor"),
        }
    }
}
