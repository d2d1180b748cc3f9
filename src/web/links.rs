//! Every URL the dashboard writes, built in one place so each carries the base path, encoded
//! segments and `?prefix=` when several prefixes are configured. Action URLs come from the
//! [`Action`] vocabulary, so a link and the route that parses it cannot disagree.

use crate::queue::action::{Action, Target};
use crate::queue::model::{DEFAULT_CONNECTION, JobState, QueueRef};

/// Builds the URLs of pages and actions.
#[derive(Debug, Clone)]
pub struct Links {
    pub base: String,
    /// Add `?prefix=` to queue links (more than one prefix is configured).
    pub with_prefix: bool,
}

impl Links {
    /// `{base}/queues/{queue}{rest}` with the prefix query, `rest` already encoded.
    fn under_queue(&self, queue: &QueueRef, rest: &str) -> String {
        format!(
            "{}/queues/{}{rest}{}",
            self.base,
            encode(&queue.name),
            self.prefix_query(queue, '?')
        )
    }

    /// `{base}/queues/{queue}/jobs/{id}{rest}` with the prefix query.
    fn under_job(&self, queue: &QueueRef, id: &str, rest: &str) -> String {
        self.under_queue(queue, &format!("/jobs/{}{rest}", encode(id)))
    }

    /// The overview.
    pub fn home(&self) -> String {
        format!("{}/", self.base)
    }

    pub fn queue(&self, queue: &QueueRef) -> String {
        self.under_queue(queue, "")
    }

    /// One tab of a queue's page.
    pub fn tab(&self, queue: &QueueRef, state: JobState) -> String {
        format!(
            "{}{}state={}",
            self.queue(queue),
            self.sep(),
            state.as_str()
        )
    }

    pub fn job(&self, queue: &QueueRef, id: &str) -> String {
        self.under_job(queue, id, "")
    }

    /// A page about one queue: `metrics`, `schedulers`, `workers`.
    pub fn queue_sub(&self, queue: &QueueRef, page: &str) -> String {
        self.under_queue(queue, &format!("/{page}"))
    }

    /// `POST` target of an action on every queue (`pause-all`, `resume-all`).
    pub fn all_action(&self, action: Action) -> String {
        debug_assert_eq!(action.target(), Target::AllQueues, "{action}");
        format!("{}/{}", self.base, action.segment())
    }

    /// `POST` target of an action on a queue group (`pause`, `resume`, `retry-failed`).
    pub fn group_action(&self, group: &str, action: Action) -> String {
        format!(
            "{}/groups/{}/{}",
            self.base,
            encode(group),
            action.segment()
        )
    }

    /// `POST` target of a queue action (`pause`, `clean`, `jobs` to add ...).
    pub fn queue_action(&self, queue: &QueueRef, action: Action) -> String {
        debug_assert_eq!(action.target(), Target::Queue, "{action}");
        self.under_queue(queue, &format!("/{}", action.segment()))
    }

    /// `POST` target of a job action (`retry`, `promote`, `remove`, `duplicate`, `data`).
    pub fn job_action(&self, queue: &QueueRef, id: &str, action: Action) -> String {
        debug_assert_eq!(action.target(), Target::Job, "{action}");
        self.under_job(queue, id, &format!("/{}", action.segment()))
    }

    /// `POST` target of a job scheduler action.
    pub fn scheduler_action(&self, queue: &QueueRef, id: &str, action: Action) -> String {
        debug_assert_eq!(action.target(), Target::Scheduler, "{action}");
        let rest = format!("/schedulers/{}/{}", encode(id), action.segment());
        self.under_queue(queue, &rest)
    }

    /// The page that asks for a queue action's details (`clean`, `drain`, `obliterate`, `add`).
    pub fn action_page(&self, queue: &QueueRef, action: Action) -> String {
        let page = action.form_page().unwrap_or(action.segment());
        self.under_queue(queue, &format!("/actions/{page}"))
    }

    /// The job's data editor, the page of [`Action::EditData`].
    pub fn edit(&self, queue: &QueueRef, id: &str) -> String {
        let page = Action::EditData.form_page().unwrap_or("edit");
        self.under_job(queue, id, &format!("/{page}"))
    }

    /// The flow page of a job: from its root, or (`from_self`) the tree below it.
    pub fn flow(&self, queue: &QueueRef, id: &str, from_self: bool) -> String {
        let link = self.under_job(queue, id, "/flow");
        if from_self {
            format!("{link}{}from=self", self.sep())
        } else {
            link
        }
    }

    pub fn raw(&self, queue: &QueueRef, id: &str, field: &str) -> String {
        format!(
            "{}/api/queues/{}/jobs/{}/raw?field={field}{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '&')
        )
    }

    /// A search of one tab of a queue (`cursor`: where to continue; `more`: the order and page
    /// size parameters, `&`-joined, that continue it alike).
    pub fn search(
        &self,
        queue: &QueueRef,
        state: JobState,
        q: &str,
        cursor: Option<&str>,
        more: &str,
    ) -> String {
        let mut link = format!("{}&q={}{more}", self.tab(queue, state), encode(q));
        if let Some(cursor) = cursor {
            link.push_str(&format!("&cursor={}", encode(cursor)));
        }
        link
    }

    /// `{base}/api/queues/{queue}/{what}?state=..&q=..`: the search and export APIs.
    pub fn search_api(&self, queue: &QueueRef, what: &str, state: JobState, q: &str) -> String {
        format!(
            "{}/api/queues/{}/{what}?state={}&q={}{}",
            self.base,
            encode(&queue.name),
            state.as_str(),
            encode(q),
            self.prefix_query(queue, '&')
        )
    }

    /// What joins one more query parameter to a queue link.
    pub fn sep(&self) -> char {
        if self.with_prefix { '&' } else { '?' }
    }

    fn prefix_query(&self, queue: &QueueRef, sep: char) -> String {
        if self.with_prefix {
            format!("{sep}prefix={}", encode(&queue.prefix))
        } else {
            String::new()
        }
    }
}

/// The base of a connection's pages: `root` for `default`, else `{root}/c/{name}`.
pub fn connection_base(root: &str, connection: &str) -> String {
    if connection == DEFAULT_CONNECTION {
        root.to_string()
    } else {
        format!("{root}/c/{}", encode(connection))
    }
}

/// Percent-encode a path segment or query value (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_connections_live_under_their_name() {
        assert_eq!(connection_base("/admin", "default"), "/admin");
        assert_eq!(connection_base("/admin", "prod-eu"), "/admin/c/prod-eu");
        assert_eq!(connection_base("", "staging"), "/c/staging");
    }

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("repeat:a b/c"), "repeat%3Aa%20b%2Fc");
        assert_eq!(encode("attachment-42"), "attachment-42");
    }

    #[test]
    fn action_links_end_with_the_segment_their_route_parses() {
        let one = Links {
            base: "/admin".into(),
            with_prefix: false,
        };
        let two = Links {
            base: String::new(),
            with_prefix: true,
        };
        let queue = QueueRef::new("bull", "mail box");
        assert_eq!(
            one.queue_action(&queue, Action::AddJob),
            "/admin/queues/mail%20box/jobs"
        );
        assert_eq!(
            one.job_action(&queue, "a/b", Action::EditData),
            "/admin/queues/mail%20box/jobs/a%2Fb/data"
        );
        assert_eq!(
            two.scheduler_action(&queue, "s:1", Action::RemoveScheduler),
            "/queues/mail%20box/schedulers/s%3A1/remove?prefix=bull"
        );
        assert_eq!(one.all_action(Action::PauseAll), "/admin/pause-all");
        assert_eq!(
            one.action_page(&queue, Action::AddJob),
            "/admin/queues/mail%20box/actions/add"
        );
        assert_eq!(
            two.edit(&queue, "7"),
            "/queues/mail%20box/jobs/7/edit?prefix=bull"
        );
        assert_eq!(
            one.flow(&queue, "7", true),
            "/admin/queues/mail%20box/jobs/7/flow?from=self"
        );
        assert_eq!(
            two.flow(&queue, "7", true),
            "/queues/mail%20box/jobs/7/flow?prefix=bull&from=self"
        );
        assert_eq!(
            two.tab(&queue, JobState::Failed),
            "/queues/mail%20box?prefix=bull&state=failed"
        );
        for action in Action::ALL {
            let link = match action.target() {
                Target::Job => one.job_action(&queue, "7", action),
                Target::Queue => one.queue_action(&queue, action),
                Target::AllQueues => one.all_action(action),
                Target::Scheduler => one.scheduler_action(&queue, "7", action),
            };
            let segment = link.rsplit('/').next().unwrap_or_default();
            assert_eq!(
                Action::parse(action.target(), segment),
                Some(action),
                "{link}"
            );
        }
    }
}
