//! Who may act: the roles and the principal (the user behind a request) that every action is
//! checked against. Authentication itself (who the user is) belongs to the web layer.

use serde::Serialize;

use super::action::Action;
pub use super::role::{Role, UnknownRole};
use crate::text::{Lang, Said, catalog};

/// The user behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// Read-only mode: nobody may act, whatever their role.
    pub read_only: bool,
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        self.refusal(action).is_none()
    }

    /// Why this principal may not take `action`; `None` when they may.
    pub fn refusal(&self, action: Action) -> Option<Denial> {
        if self.read_only {
            Some(Denial::ReadOnly)
        } else if self.role < action.required_role() {
            Some(Denial::Role {
                action,
                needs: action.required_role(),
                is: self.role,
            })
        } else {
            None
        }
    }
}

/// Why a principal may not take an action: "Not allowed: …", a catalog text ([`Denial::said`]),
/// which the JSON API says in English and the web layer's pages in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Read-only mode: nobody may act.
    ReadOnly,
    /// The action needs a higher role than the principal's.
    Role {
        action: Action,
        needs: Role,
        is: Role,
    },
}

impl Denial {
    /// The refusal as a catalog text: the action's name translated, the roles as configured.
    pub fn said(&self) -> Said {
        match self {
            Denial::ReadOnly => Said::new("refusal.denied_read_only"),
            Denial::Role { action, needs, is } => Said::new("refusal.denied_role")
                .with_each("action", |lang| match lang {
                    Lang::En => action.name().to_string(),
                    _ => catalog::text(lang, &format!("action.{}", action.name())).to_string(),
                })
                .with("needs", needs)
                .with("role", is),
        }
    }
}

/// The reason alone, in English, as the audit trail records it (the API says
/// [`Denial::said`], "Not allowed: …").
impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denial::ReadOnly => f.write_str("the dashboard is read-only"),
            Denial::Role { action, needs, is } => {
                write!(f, "{action} needs the {needs} role; you are {is}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_read_only_refuses_everyone() {
        let ann = |role, read_only| Principal {
            user: "ann".into(),
            role,
            read_only,
        };
        assert!(ann(Role::Operator, false).may(Action::Retry));
        assert!(!ann(Role::Operator, false).may(Action::Clean));
        assert!(ann(Role::Admin, false).may(Action::Obliterate));
        assert!(!ann(Role::Viewer, false).may(Action::Pause));
        assert_eq!(
            ann(Role::Operator, false)
                .refusal(Action::Drain)
                .map(|d| d.to_string())
                .as_deref(),
            Some("drain needs the admin role; you are operator")
        );
        assert_eq!(
            ann(Role::Admin, true)
                .refusal(Action::Retry)
                .map(|d| d.to_string())
                .as_deref(),
            Some("the dashboard is read-only")
        );
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn denials_say_the_apis_words_in_english_and_french_otherwise() {
        let role = Denial::Role {
            action: Action::Drain,
            needs: Role::Admin,
            is: Role::Viewer,
        };
        for denial in [role, Denial::ReadOnly] {
            let refused = crate::queue::command::CommandError::Forbidden(denial);
            assert_eq!(denial.said().english(), refused.to_string());
            let fr = denial.said().in_lang(Lang::Fr);
            assert!(!fr.contains("Not allowed") && !fr.contains("needs"), "{fr}");
        }
    }
}
