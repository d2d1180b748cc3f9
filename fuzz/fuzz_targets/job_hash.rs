//! The job-hash decoders (src/queue/decode.rs for BullMQ, the Bull layout's): any hash, as
//! Redis may hold it (written by hand, by an old library, cut short), decodes into a `Job`
//! that keeps what it was given and serializes to JSON, never a panic.
#![no_main]

use bullring::fuzzing::{Library, RawJob, TruncatedField, decode_job};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// The fields BullMQ and Bull write, so the fuzzer reaches them without guessing their names.
const FIELDS: [&str; 26] = [
    "name", "data", "opts", "progress", "timestamp", "delay", "priority", "atm", "attemptsMade",
    "ats", "stc", "stalledCounter", "retriedOn", "processedOn", "finishedOn", "failedReason",
    "stacktrace", "returnvalue", "pb", "parentKey", "parent", "rjk", "deid", "nrjid", "defa", "x",
];

#[derive(Debug, Arbitrary)]
struct Input {
    bull: bool,
    id: String,
    fields: Vec<(u8, String)>,
    cut: Vec<(u8, u64)>,
}

fuzz_target!(|input: Input| {
    let raw: RawJob = input
        .fields
        .into_iter()
        .map(|(k, v)| (FIELDS[usize::from(k) % FIELDS.len()].to_string(), v))
        .collect();
    let mut cut: Vec<TruncatedField> = Vec::new();
    for (k, bytes) in input.cut {
        let field = FIELDS[usize::from(k) % FIELDS.len()].to_string();
        if !cut.iter().any(|c| c.field == field) && !raw.contains_key(&field) {
            cut.push(TruncatedField { field, bytes, raw: None });
        }
    }
    let library = if input.bull { Library::Bull } else { Library::BullMq };
    let job = decode_job(library, &input.id, &raw, cut.clone());
    assert_eq!(job.id, input.id);
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
});
