//! The properties the fuzz targets check (`fuzz/fuzz_targets/*`, one function each): whatever
//! the input, a parser or decoder answers without a panic, and what it accepts keeps its
//! promises. `tests/it/fuzz_corpus.rs` replays the committed corpus (`fuzz/corpus`) through the
//! same functions in every test run; `fuzz/run.sh` runs the coverage-guided fuzzer on them.

use axum::http::Uri;

use super::{
    Config, Host, Input, JobQuery, Library, ListQuery, MAX_PER_PAGE, RawJob, TruncatedField,
    WebError, decode_job, parse_host, parse_prefix,
};
use crate::queue::model::JobState;
use crate::queue::preview::JOB_FIELDS;

fn is_400(err: &WebError) -> bool {
    matches!(err, WebError::BadRequest(_))
}

/// The job fields BullMQ and Bull write (those a job's page reads) and one neither writes, so a
/// fuzzer reaches them without guessing their names.
pub const FIELDS: [&str; JOB_FIELDS.len() + 1] = {
    let mut all = [""; JOB_FIELDS.len() + 1];
    let mut i = 0;
    while i < JOB_FIELDS.len() {
        all[i] = JOB_FIELDS[i];
        i += 1;
    }
    all[JOB_FIELDS.len()] = "x";
    all
};

/// The configuration file: any TOML text is a `Config` or an error naming what is wrong; an
/// accepted one keeps its promises.
pub fn config(text: &str) {
    match Config::from_toml(text) {
        Ok(config) => {
            assert!(!config.prefixes.is_empty());
            assert!(config.prefixes.iter().all(|p| !p.trim().is_empty()));
            assert!(config.base_path.is_empty() || config.base_path.starts_with('/'));
            assert!(!config.base_path.ends_with('/'), "{:?}", config.base_path);
            assert!(config.limits.max_connections >= 1 && config.limits.max_event_streams >= 1);
            for worker in &config.runner.workers {
                assert!(worker.concurrency >= 1);
            }
        }
        Err(err) => assert!(!err.to_string().trim().is_empty()),
    }
}

/// The Host check's parser: a parsed host is an IP address or a lowercase name of safe
/// characters, written back it parses to itself, and a port never changes what it names.
pub fn host(text: &str) {
    let Some(host) = parse_host(text) else {
        return;
    };
    let shown = host.to_string();
    match &host {
        Host::Name(name) => {
            assert!(!name.is_empty() && name.len() <= 253, "{name:?}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b)),
                "{name:?}"
            );
            assert!(
                !name.starts_with('.') && !name.ends_with('.') && !name.contains(".."),
                "{name:?}"
            );
            assert_eq!(parse_host(&shown), Some(host.clone()), "{text:?}");
            assert_eq!(
                parse_host(&format!("{shown}:8080")),
                Some(host.clone()),
                "{text:?}"
            );
        }
        Host::Ip(ip) => {
            let written = if ip.is_ipv6() {
                format!("[{ip}]")
            } else {
                shown.clone()
            };
            assert_eq!(parse_host(&written), Some(host.clone()), "{text:?}");
            assert_eq!(
                parse_host(&format!("{written}:3000")),
                Some(host.clone()),
                "{text:?}"
            );
        }
    }
    // Case never matters.
    assert_eq!(
        parse_host(&text.to_ascii_uppercase()),
        Some(host.clone()),
        "{text:?}"
    );
}

/// `X-Forwarded-Prefix`: an accepted prefix is a plain path that cannot leave the site or an
/// HTML attribute, and parsing it again gives it back.
pub fn prefix(text: &str) {
    let Ok(prefix) = parse_prefix(text) else {
        return;
    };
    // Empty means "/" (the root); anything else starts with one '/' and does not end with one.
    if !prefix.is_empty() {
        assert!(prefix.starts_with('/'), "{prefix:?}");
        assert!(!prefix.ends_with('/'), "{prefix:?}");
    }
    assert!(!prefix.contains("//"), "{prefix:?}");
    assert!(prefix.len() <= 256, "{prefix:?}");
    for segment in prefix.split('/').skip(1) {
        assert!(
            segment != ".." && segment != "." && !segment.is_empty(),
            "{prefix:?}"
        );
    }
    for c in ['"', '\'', '<', '>', '\\', '?', '#', ' ', '\t', '\n', '\r'] {
        assert!(!prefix.contains(c), "{prefix:?} has {c:?}");
    }
    // Round trip: the prefix is accepted as it is (the root written as "/"), and with the
    // slash the proxy may add.
    let written = if prefix.is_empty() {
        "/"
    } else {
        prefix.as_str()
    };
    assert_eq!(parse_prefix(written).as_deref(), Ok(prefix.as_str()));
    // With the slash, as long as the header still fits in its bound (256 bytes, slash counted).
    if prefix.len() < 256 {
        assert_eq!(
            parse_prefix(&format!("{prefix}/")).as_deref(),
            Ok(prefix.as_str())
        );
    }
}

/// Query strings and form or JSON bodies: parameters within their bounds or a 400, never a
/// panic or a 500.
pub fn query(text: &str) {
    if let Ok(uri) = format!("/q?{text}").parse::<Uri>() {
        if let Some(list) = super::query::<ListQuery>(&uri) {
            match list.params(JobState::Waiting) {
                Ok(params) => {
                    assert!((1..=MAX_PER_PAGE).contains(&params.per_page));
                    assert!(params.page >= 1);
                    // The first position of the page fits in Redis's i64 ranges.
                    let first = (params.page - 1)
                        .checked_mul(params.per_page)
                        .expect("overflow");
                    assert!(i64::try_from(first).is_ok());
                }
                Err(err) => assert!(is_400(&err), "{err:?}"),
            }
        }
        if let Some(job) = super::query::<JobQuery>(&uri) {
            match job.logs() {
                Ok((page, per_page)) => {
                    assert!(page >= 1 && (1..=MAX_PER_PAGE).contains(&per_page));
                }
                Err(err) => assert!(is_400(&err), "{err:?}"),
            }
        }
    }
    // The same text as a form body and as a JSON body.
    let inputs = [
        Some(Input::form(text.as_bytes())),
        Input::json(text.as_bytes()).ok(),
    ];
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
}

/// The job-hash decoders: any hash, as Redis may hold it (written by hand, by an old library,
/// cut short), decodes into a `Job` that keeps what it was given and serializes to JSON.
pub fn job_hash(bull: bool, id: &str, fields: Vec<(u8, String)>, cuts: Vec<(u8, u64)>) {
    let raw: RawJob = fields
        .into_iter()
        .map(|(k, v)| (FIELDS[usize::from(k) % FIELDS.len()].to_string(), v))
        .collect();
    let mut cut: Vec<TruncatedField> = Vec::new();
    for (k, bytes) in cuts {
        let field = FIELDS[usize::from(k) % FIELDS.len()].to_string();
        if !cut.iter().any(|c| c.field == field) && !raw.contains_key(&field) {
            cut.push(TruncatedField {
                field,
                bytes,
                raw: None,
            });
        }
    }
    let library = if bull { Library::Bull } else { Library::BullMq };
    let job = decode_job(library, id, &raw, cut.clone());
    assert_eq!(job.id, id);
    assert_eq!(job.name, raw.get("name").cloned());
    assert_eq!(job.failed_reason, raw.get("failedReason").cloned());
    assert_eq!(job.truncated.len(), cut.len());
    let data_len = cut
        .iter()
        .find(|c| c.field == "data")
        .map(|c| usize::try_from(c.bytes).unwrap_or(usize::MAX))
        .unwrap_or_else(|| raw.get("data").map_or(0, String::len));
    assert_eq!(job.data_len, data_len);
    if let Some(text) = raw.get("data") {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => assert_eq!(job.data, value),
            Err(_) => assert_eq!(job.data, serde_json::Value::String(text.clone())),
        }
    }
    if let Some(Ok(ts)) = raw.get("timestamp").map(|t| t.trim().parse::<i64>()) {
        assert_eq!(job.timestamp, Some(ts));
    }
    if raw.is_empty() && cut.is_empty() {
        assert!(!job.notes.is_empty(), "a missing hash must say so");
    }
    serde_json::to_string(&job).expect("a decoded job serializes");
}
