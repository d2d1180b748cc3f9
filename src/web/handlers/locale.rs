//! `GET {base}/lang?lang=en|fr` and `GET {base}/tz?tz=Europe/Paris`: keep the reader's language
//! and time zone in cookies (`web::i18n`) and go back to the page the switch was on, like the
//! colour theme's switch (GETs that change nothing in Redis, working without JavaScript).
//! Without a choice, either shows a page offering both.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::render;
use super::theme::remember;
use crate::queue::access::Principal;
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::flash::Flash;
use crate::web::i18n::{self, LANG_COOKIE, Lang, TZ_COOKIE};
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::locale::LocalePage;

/// `?lang=` of the language switch.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// `?tz=` of the time zone switch.
#[derive(Debug, Default, Deserialize)]
pub struct TzQuery {
    pub tz: Option<String>,
}

/// The page offering both switches.
fn page(state: &AppState, principal: &Principal, flash: Flash) -> Result<Response, WebError> {
    let page = LocalePage {
        chrome: Chrome::page(state, principal, flash),
    };
    Ok(render(&page)?.into_response())
}

/// `GET {base}/lang?lang=`: keep the language and go back.
pub async fn choose_lang(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(asked) = query.lang else {
        return page(&state, &principal, flash);
    };
    let lang = Lang::parse(&asked)
        .filter(|l| l.as_str() == asked.trim().to_ascii_lowercase())
        .ok_or_else(|| {
            WebError::BadRequest(i18n::tf(
                "lang.unknown",
                &[("lang", &format!("{asked:?}")), ("known", &known_langs())],
            ))
        })?;
    remember(&state, &headers, LANG_COOKIE, lang.as_str())
}

fn known_langs() -> String {
    Lang::ALL.map(Lang::as_str).join(", ")
}

/// `GET {base}/tz?tz=`: keep the time zone (an IANA name) and go back.
pub async fn choose_tz(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Query(query): Query<TzQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(asked) = query.tz else {
        return page(&state, &principal, flash);
    };
    let tz = i18n::parse_tz(&asked).ok_or_else(|| {
        WebError::BadRequest(i18n::tf("tz.unknown", &[("tz", &format!("{asked:?}"))]))
    })?;
    remember(&state, &headers, TZ_COOKIE, tz.name())
}
