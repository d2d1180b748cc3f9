//! bullring: a fast, server-rendered dashboard for BullMQ queues on Redis.
pub mod config;
pub mod demo;
pub mod healthcheck;
pub mod queue;
pub mod server;
pub mod web;
