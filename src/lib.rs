//! bullring: a fast, server-rendered dashboard for BullMQ queues on Redis, and a runner for
//! configured BullMQ workers and job schedulers.
pub mod alerts;
pub mod config;
pub mod demo;
#[doc(hidden)]
pub mod fuzzing;
pub mod healthcheck;
pub mod http;
pub mod listener;
pub mod queue;
pub mod runner;
pub mod server;
pub mod text;
pub mod web;
