//! The queue core.
pub mod actions;
pub mod audit;
pub mod connection;
pub mod decode;
pub mod discovery;
pub mod embedded;
pub mod error;
pub mod flows;
pub mod metrics;
pub mod model;
pub mod read;
pub mod schedulers;
pub mod workers;
