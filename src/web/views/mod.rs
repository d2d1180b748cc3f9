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
pub mod metrics;
pub mod obliterate;
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
}

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
        }
    }

    pub fn page(state: &AppState, principal: &Principal, flash: Flash) -> Self {
        Chrome {
            flash: flash.0,
            user: format!("{} ({})", principal.user, principal.role),
            ..Chrome::new(state)
        }
    }
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
            label: action.label().to_string(),
            confirm: action
                .asks_confirmation()
                .then(|| format!("{}?", action.label())),
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
            label: format!("{}…", action.label()),
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
