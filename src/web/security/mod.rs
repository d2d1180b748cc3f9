//! Who may do what, and the middleware that finds out, one job per module: the settings
//! ([`config`]), authentication ([`auth`], with [`basic`] users and [`proxy`] headers), the
//! CSRF check ([`mod@csrf`]), the proxy's forwarded prefix ([`prefix`]), the Host check against
//! DNS rebinding ([`host`]), the response headers ([`headers`]) and the limits on failed logins
//! ([`throttle`]). Roles, principals and
//! actions belong to the core ([`crate::queue::access`], [`crate::queue::action`]); handlers
//! only ask [`Principal::may`].

pub mod auth;
pub mod basic;
pub mod config;
pub mod csrf;
pub mod headers;
pub mod host;
pub mod prefix;
pub mod proxy;
pub mod throttle;

pub use crate::queue::access::{Principal, Role};
pub use crate::queue::action::Action;
pub use auth::authenticate;
pub use basic::{HashError, hash_password, verify_password};
pub use config::{AuthMode, BasicUser, ProxyAuth, Secured, Security};
pub use csrf::csrf;
pub use headers::security_headers;
pub use host::check_host;
pub use prefix::forwarded_prefix;
