//! One integration test binary. Every test talks to a real redis-server started by `support`,
//! under a key prefix of its own, so tests run in parallel.

mod actions;
mod alerts;
mod api;
mod binary;
mod browser;
mod bull;
mod cluster;
mod cost;
mod demo;
mod docker;
mod embed;
mod errors;
mod hardening;
mod http;
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
mod search;
mod secrets;
mod security;
mod support;
mod vocabulary;
