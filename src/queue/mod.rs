//! The queue core: every Redis access of bullring lives here. Reads build their own pipelined
//! commands from BullMQ's key names (a `bullmq::Queue` writes its meta hash when created, so it is
//! opened only for actions); actions go through the engine so Node BullMQ sees what it expects.
pub mod access;
pub mod action;
pub mod actions;
pub mod alerts;
pub mod audit;
pub mod command;
pub mod connection;
pub mod decode;
pub mod discovery;
pub mod embedded;
pub mod error;
pub mod flows;
pub mod metrics;
pub mod model;
pub mod op;
pub mod read;
pub mod role;
pub mod sampler;
pub mod schedulers;
pub mod workers;
