//! The doctor's report on one queue: each finding with what it means, what to do, the first ids
//! concerned, and its fix for those allowed to take it.

use askama::Template;

use super::{Button, Chrome, Links};
use crate::queue::action::Action;
use crate::queue::doctor::{Finding, Report, SAMPLE};
use crate::queue::model::QueueRef;
use crate::web::i18n;

/// Ids listed under a finding (its count says how many the sample holds).
const SHOWN: usize = 50;

pub struct FindingView {
    pub kind: &'static str,
    pub title: String,
    pub meaning: String,
    pub advice: String,
    pub count: usize,
    pub jobs: Vec<String>,
    pub more: usize,
    pub fix: Option<Button>,
}

#[derive(Template)]
#[template(path = "pages/doctor.html")]
pub struct DoctorPage {
    pub chrome: Chrome,
    pub queue: String,
    pub queue_href: String,
    pub checked: bool,
    pub library: &'static str,
    pub sample: usize,
    pub sampled: Vec<(&'static str, usize)>,
    /// `None`: Redis refused `CLIENT LIST`.
    pub workers: Option<usize>,
    pub findings: Vec<FindingView>,
}

impl DoctorPage {
    /// `may_fix`: the reader may take the doctor's fixes.
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: &QueueRef,
        report: Report,
        may_fix: bool,
    ) -> Self {
        let back = links.queue_sub(queue, "doctor");
        let findings = report
            .findings
            .into_iter()
            .map(|f: Finding| {
                // The core's English texts are the JSON API's; pages say them in the reader's
                // language, by the finding's kind.
                let kind = kind_name(&f);
                let text = |part: &str| format!("doctor.{kind}.{part}");
                FindingView {
                    kind,
                    fix: f.fix.filter(|_| may_fix).map(|action: Action| {
                        Button::new(action, links.queue_action(queue, action))
                            .asking(i18n::tf(
                                "doctor.fix_confirm",
                                &[("n", &f.count), ("queue", &queue.name)],
                            ))
                            .with("back", back.clone())
                    }),
                    more: f.jobs.len().saturating_sub(SHOWN),
                    jobs: f.jobs.into_iter().take(SHOWN).collect(),
                    title: i18n::t(&text("title")).to_string(),
                    meaning: i18n::tf(&text("meaning"), &[("n", &f.count)]),
                    advice: i18n::t(&text("advice")).to_string(),
                    count: f.count,
                }
            })
            .collect();
        DoctorPage {
            chrome,
            queue: queue.name.clone(),
            queue_href: links.queue(queue),
            checked: report.checked,
            library: report.library,
            sample: SAMPLE,
            sampled: report
                .sampled
                .into_iter()
                .map(|(s, n)| (s.as_str(), n))
                .collect(),
            workers: report.workers,
            findings,
        }
    }
}

/// The finding's kind as its JSON names it (a CSS hook and a test anchor).
fn kind_name(f: &Finding) -> &'static str {
    use crate::queue::doctor::Kind;
    match f.kind {
        Kind::Orphans => "orphans",
        Kind::ExpiredLocks => "expired-locks",
        Kind::StuckParents => "stuck-parents",
        Kind::OverdueDelayed => "overdue-delayed",
        Kind::PausedWithWorkers => "paused-with-workers",
    }
}
