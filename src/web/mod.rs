//! The dashboard: routes, shared state and middleware. It never builds a Redis key or sends a
//! Redis command: everything goes through [`crate::queue`].
//!
//! [`router`] is the single route table, relative to the mount point, for apps that nest the
//! dashboard in their own axum app; [`app`] mounts it at the configured base path.

pub mod assets;
pub mod charts;
pub mod error;
pub mod extract;
pub mod flash;
pub mod handlers;
pub mod i18n;
pub mod input;
pub mod links;
pub mod params;
pub mod public_base;
pub mod reply;
pub mod routes;
pub mod scope;
pub mod security;
pub mod state;
pub mod tasks;
pub mod theme;
pub mod views;

pub use routes::{app, metrics_router, router};
pub use state::AppState;
