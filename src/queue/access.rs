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
    pub fn refusal(&self, action: Action) -> Option<String> {
        if self.read_only {
            Some("the dashboard is read-only".into())
        } else if self.role < action.required_role() {
            Some(format!(
                "{action} needs the {} role; you are {}",
                action.required_role(),
                self.role
            ))
        } else {
            None
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
            ann(Role::Operator, false).refusal(Action::Drain).as_deref(),
            Some("drain needs the admin role; you are operator")
        );
        assert_eq!(
            ann(Role::Admin, true).refusal(Action::Retry).as_deref(),
            Some("the dashboard is read-only")
        );
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
