//! Who may act: the roles and the principal (the user behind a request) that every action is
//! checked against. Authentication itself (who the user is) belongs to the web layer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::action::Action;

/// What a user may do. Ordered: each role may do everything the roles below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Browse every page.
    Viewer,
    /// Job actions, pause / resume, retry / promote all, add jobs.
    Operator,
    /// Clean, drain, obliterate, edit data.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role (viewer, operator or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

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
