//! Who may act: the roles and the principal (the user behind a request) that every action is
//! checked against. Authentication itself (who the user is) belongs to the web layer.

use serde::Serialize;

use super::action::Action;
pub use super::role::{Role, UnknownRole};

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

/// Why a principal may not take an action; `Display` says it in English (the JSON API's and the
/// audit log's words), the web layer in the reader's language.
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
}
