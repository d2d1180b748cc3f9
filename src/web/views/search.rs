//! The search box of a queue's page (`templates/_search.html`): the query, the form that builds
//! one without JavaScript, and after a search what was scanned, with links to continue and to
//! export the matches.

use super::Links;
use crate::queue::model::{JobState, QueueRef};

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
}

/// A number with thousands separators.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

    /// After a search of `states` for `q` that scanned `(scanned, total, matches)` and stopped
    /// at `cursor`.
    pub fn found(
        links: &Links,
        queue: &QueueRef,
        tab: JobState,
        states: &[JobState],
        q: &str,
        (scanned, total, matches): (u64, u64, usize),
        cursor: Option<&str>,
    ) -> Self {
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        SearchView {
            active: true,
            q: q.to_string(),
            scanned: format!(
                "{} of {} {}",
                grouped(scanned),
                grouped(total),
                names.join(" and ")
            ),
            matches,
            next: cursor.map(|cursor| links.search(queue, tab, q, Some(cursor))),
            export: links.search_api(queue, "export", tab, q),
            api: links.search_api(queue, "search", tab, q),
            ..SearchView::form(links, queue, tab)
        }
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
