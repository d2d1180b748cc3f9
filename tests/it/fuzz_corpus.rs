//! The fuzz corpus (`fuzz/corpus/<target>`, kept from the coverage-guided runs of README,
//! Fuzzing) replayed on every test run through the properties the fuzz targets check
//! (`bullring::fuzzing::properties`): an input that once broke a parser, or that reaches a
//! corner of it, keeps being checked without building the fuzzer.

use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use bullring::fuzzing::properties;

/// Every input of one target's corpus.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("a corpus file"))
        .collect()
}

/// A text target's property.
type TextCheck = fn(&str);

/// The job-hash target's input, decoded from bytes as libFuzzer hands them to it.
#[derive(Debug, Arbitrary)]
struct JobInput {
    bull: bool,
    id: String,
    fields: Vec<(u8, String)>,
    cut: Vec<(u8, u64)>,
}

#[test]
fn every_text_target_keeps_its_properties_over_its_corpus() {
    let targets: [(&str, TextCheck); 4] = [
        ("config", properties::config),
        ("host", properties::host),
        ("prefix", properties::prefix),
        ("query", properties::query),
    ];
    for (target, check) in targets {
        let inputs = corpus(target);
        // libFuzzer hands a `&str` target only the inputs that are UTF-8.
        let texts: Vec<&str> = inputs
            .iter()
            .filter_map(|bytes| std::str::from_utf8(bytes).ok())
            .collect();
        assert!(
            texts.len() >= 3,
            "{target}: {} texts in its corpus",
            texts.len()
        );
        for text in texts {
            check(text);
        }
    }
}

#[test]
fn the_job_hash_target_keeps_its_properties_over_its_corpus() {
    let inputs = corpus("job_hash");
    let mut decoded = 0;
    for bytes in &inputs {
        if let Ok(input) = JobInput::arbitrary_take_rest(Unstructured::new(bytes)) {
            properties::job_hash(input.bull, &input.id, input.fields, input.cut);
            decoded += 1;
        }
    }
    assert!(decoded >= 3, "{decoded} of {} inputs decoded", inputs.len());
}
