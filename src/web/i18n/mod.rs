//! Languages and time zones: every text a page shows comes from a message catalog
//! (`locales/{lang}.toml`, see [`catalog`]), in the reader's language, and every time is shown
//! in the reader's time zone.
//!
//! [`scope`] (a middleware) picks both once per request: the language from the `bullring_lang`
//! cookie (the header's switch, `GET {base}/lang?lang=`), else the best of `Accept-Language`,
//! else English; the zone from the `bullring_tz` cookie (`GET {base}/tz?tz=`), else UTC. Code
//! that builds a page reads them with [`current`], [`t`] and [`tf`]; templates through `Chrome`.
//! The JSON API, Prometheus, the CLI and logs never call these: they stay English.
//!
//! Adding a language: one `locales/xx.toml` with every key of `en.toml`, one arm in [`Lang`]
//! (and its number and date formats in `views::format`).

pub use crate::text::{Lang, catalog, said};

use std::future::Future;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use chrono_tz::Tz;

use crate::web::state::AppState;

/// The cookie that keeps the language chosen with the switch.
pub const LANG_COOKIE: &str = "bullring_lang";
/// The cookie that keeps the time zone (an IANA name, `Europe/Paris`).
pub const TZ_COOKIE: &str = "bullring_tz";

/// The reader's language and time zone, for the request being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    pub lang: Lang,
    pub tz: Tz,
}

impl Default for Locale {
    fn default() -> Self {
        Locale {
            lang: Lang::En,
            tz: Tz::UTC,
        }
    }
}

/// The value of cookie `name` in a request's headers (the first that `accept` takes).
fn cookie<T>(headers: &HeaderMap, name: &str, accept: impl Fn(&str) -> Option<T>) -> Option<T> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .find_map(accept)
}

/// A time zone by its IANA name (`Europe/Paris`, `UTC`); `None` for anything else.
pub fn parse_tz(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    name.parse::<Tz>().ok()
}

impl Locale {
    /// The cookie wins, then `Accept-Language`, then English; the zone cookie, then UTC.
    pub fn from_headers(headers: &HeaderMap) -> Locale {
        let lang = cookie(headers, LANG_COOKIE, Lang::parse)
            .or_else(|| {
                headers
                    .get_all(header::ACCEPT_LANGUAGE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(Lang::from_accept)
            })
            .unwrap_or_default();
        let tz = cookie(headers, TZ_COOKIE, |v| {
            let decoded = v.replace("%2F", "/").replace("%2f", "/");
            parse_tz(&decoded)
        })
        .unwrap_or(Tz::UTC);
        Locale { lang, tz }
    }
}

tokio::task_local! {
    static CURRENT: Locale;
}

/// The locale of the request being answered (English and UTC outside of one).
pub fn current() -> Locale {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// Run `future` with `locale` as the current one.
pub async fn run_with<F: Future>(locale: Locale, future: F) -> F::Output {
    CURRENT.scope(locale, future).await
}

/// Middleware: answer the rest of the request in the reader's language and time zone; the JSON
/// API (`{base}/api/`) always in English and UTC.
pub async fn scope(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Inside a nested router the URI has lost the base path; the original one still has it.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |uri| uri.path());
    let locale = if state.is_api_path(path) {
        Locale::default()
    } else {
        Locale::from_headers(request.headers())
    };
    run_with(locale, next.run(request)).await
}

/// A [`said::Said`] text in the current language.
pub fn here(said: &said::Said) -> String {
    said.in_lang(current().lang)
}

/// The text of `key` in the current language.
pub fn t(key: &str) -> &'static str {
    catalog::text(current().lang, key)
}

/// The text of `key` in the current language, its `{name}` placeholders filled from `args`.
pub fn tf(key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    catalog::fill(t(key), args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn accept_language_is_read_with_its_weights() {
        assert_eq!(Lang::from_accept("fr-FR,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept("de, en;q=0.5, fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept("en-GB;q=0.9, fr;q=0"), Some(Lang::En));
        assert_eq!(Lang::from_accept("de, *"), None);
        assert_eq!(Lang::from_accept(""), None);
    }

    #[test]
    fn the_cookie_wins_over_the_browser_and_english_is_the_default() {
        let read = |pairs: &[(header::HeaderName, &str)]| Locale::from_headers(&headers(pairs));
        assert_eq!(read(&[]), Locale::default());
        assert_eq!(read(&[(header::ACCEPT_LANGUAGE, "fr-CA")]).lang, Lang::Fr);
        let both = read(&[
            (header::ACCEPT_LANGUAGE, "fr"),
            (header::COOKIE, "a=b; bullring_lang=en"),
        ]);
        assert_eq!(both.lang, Lang::En);
        let unknown = read(&[(header::COOKIE, "bullring_lang=xx; bullring_tz=Mars/Base")]);
        assert_eq!(unknown, Locale::default());
        let paris = read(&[(header::COOKIE, "bullring_tz=Europe%2FParis")]);
        assert_eq!(paris.tz, chrono_tz::Europe::Paris);
        assert_eq!(
            read(&[(header::COOKIE, "bullring_tz=Asia/Tokyo")]).tz,
            chrono_tz::Asia::Tokyo
        );
    }

    #[tokio::test]
    async fn the_scope_sets_the_current_locale() {
        assert_eq!(current(), Locale::default());
        let fr = Locale {
            lang: Lang::Fr,
            tz: Tz::UTC,
        };
        assert_eq!(run_with(fr, async { current().lang }).await, Lang::Fr);
    }
}
