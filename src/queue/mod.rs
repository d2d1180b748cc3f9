//! The queue core: every Redis command and every key name of bullring lives here.
//!
//! Reads compose typed pipelines ([`batch`]) from the commands of the queue's library
//! ([`layout`], one dispatch on `QueueRef::library`), one round trip per batch; they never write
//! (a `bullmq::Queue` writes its meta hash when created, so it is opened only for actions).
//! Actions go through the engine so Node BullMQ sees exactly what it expects. [`service`] bundles
//! what the dashboard needs, so the web layer never holds a Redis connection.
pub mod access;
pub mod action;
pub mod actions;
pub mod alerts;
pub mod audit;
pub(crate) mod batch;
pub mod bull;
pub mod command;
pub mod connection;
pub mod connections;
pub mod decode;
pub mod discovery;
pub mod doctor;
pub mod embedded;
pub mod error;
pub mod flows;
pub mod groups;
pub mod job_fields;
pub mod latest;
pub(crate) mod layout;
pub mod metrics;
pub mod model;
pub mod ndjson;
pub mod note;
pub mod op;
pub mod preview;
pub mod read;
pub mod redis_info;
pub mod refusal;
pub mod role;
pub(crate) mod rows;
pub mod sampler;
pub mod schedule_edit;
pub mod scheduler_actions;
pub mod schedulers;
pub mod search;
pub mod seed;
pub mod service;
pub mod survey;
pub mod workers;
