//! One integration test binary. Every test talks to a real redis-server started by `support`,
//! under a key prefix of its own, so tests run in parallel.

mod actions;
mod alerts;
mod api;
mod binary;
mod browser;
mod bull;
mod bull_actions;
mod bull_alerts;
mod bull_views;
mod cluster;
mod connections;
mod cost;
mod demo;
mod docker;
mod embed;
mod errors;
mod hardening;
mod http;
mod huge;
mod inline;
mod interop;
mod layout;
mod limits;
mod live;
mod observe;
mod pages;
mod proxy;
mod reads;
mod runner;
mod secrets;
mod security;
mod soak;
mod support;
mod ux;
mod vocabulary;
