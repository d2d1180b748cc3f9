//! The job-hash decoders (src/queue/decode.rs for BullMQ, the Bull layout's): any hash, as
//! Redis may hold it (written by hand, by an old library, cut short), decodes into a `Job`
//! that keeps what it was given and serializes to JSON, never a panic.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// A hash to decode: which library's decoder, the job's id, fields (each name picked from
/// `properties::FIELDS` by its byte) and the fields a bounded read left out with their sizes.
#[derive(Debug, Arbitrary)]
struct Input {
    bull: bool,
    id: String,
    fields: Vec<(u8, String)>,
    cut: Vec<(u8, u64)>,
}

fuzz_target!(|input: Input| {
    bullring::fuzzing::properties::job_hash(input.bull, &input.id, input.fields, input.cut)
});
