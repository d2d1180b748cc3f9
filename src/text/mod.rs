//! Texts the user is told, in English or French: the message catalogs ([`catalog`],
//! `locales/{lang}.toml`), the languages they are written in ([`Lang`]), and [`Said`], a text kept
//! as its catalog key and arguments so that whoever shows it picks the language.
//!
//! The queue core words its refusals of bad input as [`Said`] texts: the JSON API, the CLI and the
//! logs show them in English (the English catalog's words), the web layer's pages in the reader's
//! language (`web::i18n`, which also knows the request's language and time zone).

pub mod catalog;
pub mod lang;
pub mod said;

pub use lang::Lang;
pub use said::Said;
