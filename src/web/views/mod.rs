//! Askama templates and the view models they render, one module per page; this module holds
//! what every page shares (the layout's [`Chrome`], permissions, action buttons).
//!
//! View models hold display-ready strings (formatted times, pretty JSON, URLs with the base path
//! and percent-encoded segments), so templates stay free of logic. Askama escapes every value;
//! no template uses `|safe` on job data (only on the SVG charts of `charts`, built from numbers).
//! Handlers read from the core and hand the result to a page's constructor.

pub mod add;
pub mod alerts;
pub mod audit;
pub mod clean;
pub mod doctor;
pub mod drain;
pub mod edit;
pub mod error;
pub mod flow;
pub mod format;
pub mod job;
pub mod latest;
pub mod locale;
pub mod metrics;
pub mod obliterate;
pub mod outcome;
pub mod overview;
pub mod queue;
pub mod redis_page;
pub mod schedulers;
pub mod search;
pub mod task;
pub mod theme;
pub mod timeline;
pub mod workers;

pub use crate::web::links::{Links, encode};
pub use format::{format_time, relative_time};

/// The vendored htmx file under `static/`, with its version in the name.
pub const HTMX: &str = "vendor/htmx-2.0.11.min.js";

use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::web::flash::Flash;
use crate::web::i18n::{self, Lang};
use crate::web::state::AppState;

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The base of this connection's pages (`{root}/c/{name}` on another connection).
    pub base: String,
    /// The base of the whole dashboard: assets, and the overview of every connection.
    pub root: String,
    /// The connection's name when there are several ("" with one: nothing is said).
    pub connection: String,
    /// The connection's label badge ("production") and its color class; empty: no badge.
    pub label: String,
    pub color: &'static str,
    pub title: String,
    pub version: &'static str,
    pub htmx: &'static str,
    /// The result of the action that redirected here.
    pub flash: Option<String>,
    /// "alice (operator)", empty when nobody is signed in.
    pub user: String,
    pub read_only: bool,
    /// Live updates are on: the page subscribes to `{base}/events` (when JavaScript runs).
    pub live: bool,
    /// Alert rules are configured: the navigation links to the Alerts page.
    pub alerts: bool,
    /// The reader's colour theme (`light`, `dark`, `system`), the `data-theme` of `<html>`.
    pub theme: &'static str,
    /// The connection's eviction policy when it is not `noeviction` (a warning on every page).
    pub evicting: Option<String>,
    /// The reader's language: `<html lang>`, and every text through [`Chrome::t`].
    pub lang: Lang,
    /// The reader's time zone (IANA name), every time shown is in it.
    pub tz: String,
}

/// A few common time zones offered by the header's switch (any IANA name is accepted).
pub const ZONES: [&str; 12] = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
];

impl Chrome {
    /// For pages that know nobody (error pages).
    pub fn new(state: &AppState) -> Self {
        let connection = state.connection();
        let several = !connection.is_default() || !state.others().is_empty();
        Chrome {
            base: state.base(),
            root: state.root(),
            connection: if several {
                connection.name.clone()
            } else {
                String::new()
            },
            label: connection.label.clone(),
            color: connection.color.as_str(),
            title: state.title().to_string(),
            version: env!("CARGO_PKG_VERSION"),
            htmx: HTMX,
            flash: None,
            user: String::new(),
            read_only: state.security().read_only || connection.read_only,
            live: state.sampler().interval().is_some(),
            alerts: state.alerts().is_some(),
            theme: crate::web::theme::current().as_str(),
            evicting: state.queues().policy().get().filter(|p| p != "noeviction"),
            lang: i18n::current().lang,
            tz: i18n::current().tz.name().to_string(),
        }
    }

    /// The text of `key` in the reader's language (`locales/*.toml`).
    pub fn t(&self, key: &str) -> &'static str {
        i18n::catalog::text(self.lang, key)
    }

    /// The text of `key` with its placeholder `name` filled with `value`.
    pub fn t1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        i18n::catalog::fill(self.t(key), &[(name, &value)])
    }

    /// The text of `key` with two placeholders filled.
    pub fn t2(
        &self,
        key: &str,
        a: &str,
        va: impl std::fmt::Display,
        b: &str,
        vb: impl std::fmt::Display,
    ) -> String {
        i18n::catalog::fill(self.t(key), &[(a, &va), (b, &vb)])
    }

    /// A job state's name for people ("failed" / "échoué"); the URL and class keep `name`.
    pub fn state(&self, name: &str) -> String {
        i18n::catalog::lookup(self.lang, &format!("state.{name}"))
            .map_or_else(|| name.to_string(), str::to_string)
    }

    /// "12 failed job(s) · page 1 of 3", above a job list.
    pub fn list_bar(
        &self,
        total: impl Count,
        state: &str,
        page: impl Count,
        pages: impl Count,
    ) -> String {
        i18n::catalog::fill(
            self.t("queue.list_bar"),
            &[
                ("n", &self.n(total)),
                ("state", &self.state(state)),
                ("page", &self.n(page)),
                ("pages", &self.n(pages)),
            ],
        )
    }

    /// A count with the language's thousands separator.
    pub fn n(&self, value: impl Count) -> String {
        format::number(value.count())
    }

    /// The texts `static/app.js` shows, as a JSON object for `<body data-texts>` (the CSP
    /// allows no inline script): its keys are the catalog's without `layout.` / `live.`.
    pub fn script_texts(&self) -> String {
        const KEYS: [&str; 12] = [
            "layout.live",
            "layout.live_title",
            "layout.paused",
            "layout.paused_title",
            "layout.unavailable",
            "layout.show_them",
            "layout.show_again",
            "live.reconnecting",
            "live.new_one",
            "live.new_many",
            "live.left_one",
            "live.left_many",
        ];
        let texts: serde_json::Map<String, serde_json::Value> = KEYS
            .iter()
            .map(|key| {
                let short = key.split_once('.').map_or(*key, |(_, k)| k);
                (short.to_string(), self.t(key).into())
            })
            .collect();
        serde_json::Value::Object(texts).to_string()
    }

    /// The thousands separator of the reader's language (app.js formats live counts with it).
    pub fn thousands(&self) -> &'static str {
        match self.lang {
            Lang::En => ",",
            Lang::Fr => "\u{202F}",
        }
    }

    /// The languages of the switch: (tag, own name, chosen).
    pub fn langs(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.as_str(), l.name(), *l == self.lang))
            .collect()
    }

    /// The zones of the switch: the common ones, and the reader's own when it is not one.
    pub fn zones(&self) -> Vec<(String, bool)> {
        let mut zones: Vec<(String, bool)> = ZONES
            .iter()
            .map(|z| (z.to_string(), *z == self.tz))
            .collect();
        if !ZONES.contains(&self.tz.as_str()) {
            zones.insert(0, (self.tz.clone(), true));
        }
        zones
    }

    pub fn page(state: &AppState, principal: &Principal, flash: Flash) -> Self {
        Chrome {
            flash: flash.0,
            user: format!("{} ({})", principal.user, principal.role),
            ..Chrome::new(state)
        }
    }
}

/// A whole number a page shows (a count), by value or by reference as templates pass them.
pub trait Count {
    fn count(&self) -> i64;
}

macro_rules! count_of {
    ($($t:ty),*) => {$(
        impl Count for $t {
            fn count(&self) -> i64 {
                i64::try_from(*self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
count_of!(u64, usize, u32, i64, i32);

impl<T: Count> Count for &T {
    fn count(&self) -> i64 {
        (*self).count()
    }
}

/// An action's name on its button ("Retry" / "Relancer"), in the reader's language.
pub fn label_of(action: Action) -> &'static str {
    i18n::t(&format!("action.{}", action.name()))
}

/// Which actions a page offers.
#[derive(Debug, Clone)]
pub struct Perms {
    /// Job and queue actions (shows the action columns and bars).
    pub operator: bool,
    /// Clean, drain, obliterate, edit data.
    pub admin: bool,
    principal: Principal,
}

impl Perms {
    pub fn of(principal: &Principal) -> Self {
        Perms {
            operator: principal.may(Action::Retry),
            admin: principal.may(Action::Clean),
            principal: principal.clone(),
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.principal.may(action)
    }
}

/// A form with one button that posts an action; `templates/_macros.html` draws it.
#[derive(Debug, Clone)]
pub struct Button {
    pub url: String,
    pub label: String,
    /// The question asked first (`hx-confirm`), for actions that ask.
    pub confirm: Option<String>,
    /// Drawn as dangerous: the action deletes something.
    pub danger: bool,
    /// Hidden fields sent with it (`back`, `children` ...).
    pub fields: Vec<(&'static str, String)>,
}

impl Button {
    /// The button of `action`, posting to `url` (from [`Links`]).
    pub fn new(action: Action, url: String) -> Self {
        Button {
            url,
            label: label_of(action).to_string(),
            confirm: action
                .asks_confirmation()
                .then(|| format!("{}?", label_of(action))),
            danger: action.destructive(),
            fields: Vec::new(),
        }
    }

    /// The question to ask, if the action asks one.
    pub fn asking(mut self, question: String) -> Self {
        if self.confirm.is_some() {
            self.confirm = Some(question);
        }
        self
    }

    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Send a hidden field with it.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }
}

/// A link to the page that asks for an action's details first ("Clean…").
#[derive(Debug, Clone)]
pub struct FormLink {
    pub href: String,
    pub label: String,
    pub danger: bool,
}

impl FormLink {
    pub fn new(action: Action, href: String) -> Self {
        FormLink {
            href,
            label: format!("{}…", label_of(action)),
            danger: action == Action::Obliterate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_ask_and_warn_as_their_action_says() {
        let retry = Button::new(Action::Retry, "/r".into()).asking("Really?".into());
        assert_eq!(
            (retry.label.as_str(), retry.confirm, retry.danger),
            ("Retry", None, false)
        );
        let remove = Button::new(Action::Remove, "/x".into()).asking("Remove job 7?".into());
        assert_eq!(remove.confirm.as_deref(), Some("Remove job 7?"));
        assert!(remove.danger);
        assert_eq!(FormLink::new(Action::Clean, String::new()).label, "Clean…");
    }
}
