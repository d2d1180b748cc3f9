//! Query strings and form bodies (src/web/params.rs, src/web/input.rs, as the `Query` extractor
//! deserializes them): whatever arrives, the answer is parameters within their bounds or a 400,
//! never a panic or a 500.
#![no_main]

use axum::http::Uri;
use bullring::fuzzing::{Input, JobQuery, ListQuery, MAX_PER_PAGE, WebError};
use bullring::queue::model::JobState;
use libfuzzer_sys::fuzz_target;

fn is_400(err: &WebError) -> bool {
    matches!(err, WebError::BadRequest(_))
}

fuzz_target!(|text: &str| {
    if let Ok(uri) = format!("/q?{text}").parse::<Uri>() {
        if let Some(list) = bullring::fuzzing::query::<ListQuery>(&uri) {
            match list.params(JobState::Waiting) {
                Ok(params) => {
                    assert!((1..=MAX_PER_PAGE).contains(&params.per_page));
                    assert!(params.page >= 1);
                    // The first position of the page fits in Redis's i64 ranges.
                    let first = (params.page - 1).checked_mul(params.per_page).expect("overflow");
                    assert!(i64::try_from(first).is_ok());
                }
                Err(err) => assert!(is_400(&err), "{err:?}"),
            }
        }
        if let Some(job) = bullring::fuzzing::query::<JobQuery>(&uri) {
            match job.logs() {
                Ok((page, per_page)) => {
                    assert!(page >= 1 && (1..=MAX_PER_PAGE).contains(&per_page));
                }
                Err(err) => assert!(is_400(&err), "{err:?}"),
            }
        }
    }
    // The same text as a form body and as a JSON body.
    let inputs = [Some(Input::form(text.as_bytes())), Input::json(text.as_bytes()).ok()];
    for input in inputs.into_iter().flatten() {
        for name in ["name", "data", "limit", "grace_ms", "state", "jobs"] {
            let text = input.text(name);
            if let Some(t) = &text {
                assert!(!t.is_empty());
            }
            match input.number(name, 7) {
                Ok(n) => match &text {
                    None => assert_eq!(n, 7),
                    Some(t) => assert_eq!(t.parse::<u64>().ok(), Some(n)),
                },
                Err(err) => assert!(is_400(&err), "{err:?}"),
            }
            if let Err(err) = input.json_value(name) {
                assert!(is_400(&err), "{err:?}");
            }
            let _ = input.all(name);
            let _ = input.flag(name);
        }
    }
});
