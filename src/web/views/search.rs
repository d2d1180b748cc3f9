//! The search box of a queue's page (`templates/_search.html`): the query, the form that builds
//! one without JavaScript, and after a search what was scanned, with links to continue and to
//! export the matches.

use crate::web::i18n;
use askama::Template;

use super::format::{excerpt, now_ms, relative_time};
use super::{Chrome, Links};
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::model::{JobState, QueueRef};
use crate::queue::search::Found;

#[derive(Debug, Clone, Default)]
pub struct SearchView {
    /// The page shows a search's matches (not a page of the tab).
    pub active: bool,
    /// Where the form is sent (the queue's page).
    pub action: String,
    /// The tab searched by default, and the prefix (sent again by the form).
    pub state: &'static str,
    pub prefix: Option<String>,
    pub q: String,
    /// "12,000 of 1,000,000 failed jobs".
    pub scanned: String,
    pub matches: usize,
    /// The next request's page, while the states are not searched to their end.
    pub next: Option<String>,
    /// The matches as NDJSON, and as JSON.
    pub export: String,
    pub api: String,
    /// "Apply to every match": the confirmation page, and the actions offered (none for a
    /// reader who may not take them).
    pub apply_url: String,
    pub apply: Vec<ApplyChoice>,
}

/// One action "apply to every match" offers: the button sending `action=<value>`.
#[derive(Debug, Clone)]
pub struct ApplyChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub danger: bool,
}

/// A number with thousands separators.
fn grouped(n: u64) -> String {
    super::format::number(i64::try_from(n).unwrap_or(i64::MAX))
}

impl SearchView {
    /// The empty search box of a tab.
    pub fn form(links: &Links, queue: &QueueRef, state: JobState) -> Self {
        SearchView {
            action: links.queue(queue),
            state: state.as_str(),
            prefix: links.with_prefix.then(|| queue.prefix.clone()),
            ..SearchView::default()
        }
    }

    /// After a search of `states` for `q` that scanned `(scanned, total, matches)` and goes on
    /// at `next` (the page that continues it).
    pub fn found(
        links: &Links,
        queue: &QueueRef,
        tab: JobState,
        states: &[JobState],
        q: &str,
        (scanned, total, matches): (u64, u64, usize),
        next: Option<String>,
    ) -> Self {
        SearchView {
            active: true,
            q: q.to_string(),
            scanned: SearchPage::scanned(scanned, total, states),
            matches,
            next,
            export: links.search_api(queue, "export", tab, q),
            api: links.search_api(queue, "search", tab, q),
            apply_url: links.queue_sub(queue, "search/apply"),
            ..SearchView::form(links, queue, tab)
        }
    }

    /// Offer "apply to every match" with the actions `principal` may take that fit one of the
    /// `states` searched in `queue`'s library (as the rows' buttons do).
    pub fn offer_apply(&mut self, principal: &Principal, queue: &QueueRef, states: &[JobState]) {
        self.apply = Action::BULK
            .into_iter()
            .filter(|action| principal.may(*action))
            .filter(|action| {
                states
                    .iter()
                    .any(|state| action.fits_in(queue.library, Some(*state)))
            })
            .map(|action| ApplyChoice {
                value: action.name(),
                label: super::label_of(action),
                danger: action.destructive(),
            })
            .collect();
    }
}

/// One match of a search over several queues.
pub struct FoundRow {
    pub queue: String,
    pub queue_href: String,
    pub id: String,
    pub href: String,
    pub name: String,
    pub added: String,
    pub finished: String,
    pub attempts: i64,
    pub reason: String,
}

/// `GET {base}/search`: a search over every queue of a prefix, from the overview.
#[derive(Template)]
#[template(path = "pages/search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub state: &'static str,
    pub states: Vec<&'static str>,
    pub prefix: String,
    pub prefixes: Vec<String>,
    pub queues: usize,
    /// After a search: what was scanned, the matches, and the next request's page.
    pub active: bool,
    pub scanned: String,
    pub rows: Vec<FoundRow>,
    pub next: Option<String>,
}

impl SearchPage {
    pub fn rows(links: &Links, found: &[Found]) -> Vec<FoundRow> {
        let now = now_ms();
        found
            .iter()
            .map(|found| {
                let job = &found.job;
                FoundRow {
                    queue: found.queue.name.clone(),
                    queue_href: links.queue(&found.queue),
                    id: job.id.clone(),
                    href: links.job(&found.queue, &job.id),
                    name: job.name.clone().unwrap_or_default(),
                    added: relative_time(job.timestamp, now),
                    finished: relative_time(job.finished_on, now),
                    attempts: job.attempts_made,
                    reason: job
                        .failed_reason
                        .as_deref()
                        .map(|r| excerpt(r, 120))
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// "20,000 of 1,000,000 failed".
    pub fn scanned(scanned: u64, total: u64, states: &[JobState]) -> String {
        let lang = i18n::current().lang;
        let names: Vec<&str> = states
            .iter()
            .map(|s| {
                i18n::catalog::lookup(lang, &format!("state.{}", s.as_str())).unwrap_or(s.as_str())
            })
            .collect();
        i18n::tf(
            "search.scanned",
            &[
                ("scanned", &grouped(scanned)),
                ("total", &grouped(total)),
                (
                    "states",
                    &names.join(&format!(" {} ", i18n::t("search.and"))),
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(20_000), "20,000");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }
}
