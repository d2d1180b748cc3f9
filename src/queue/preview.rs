//! What a list of jobs reads of each job's hash: every field a row uses, but a big one only
//! while it fits a bound, so that a page of 1,000 jobs of 2 MB each costs kilobytes, not
//! gigabytes. The list first asks the size of each field (`HSTRLEN`), then reads the fields
//! [`plan`] keeps (`HMGET`); the others are reported as cut, with their size.

use super::model::TruncatedField;

/// The fields of a job hash that the decoder reads, so the fields a listed job may show.
pub const LIST_FIELDS: [&str; 23] = [
    "name",
    "data",
    "opts",
    "progress",
    "timestamp",
    "delay",
    "priority",
    "atm",
    "attemptsMade",
    "ats",
    "stc",
    "processedOn",
    "finishedOn",
    "failedReason",
    "stacktrace",
    "returnvalue",
    "pb",
    "parentKey",
    "parent",
    "rjk",
    "deid",
    "nrjid",
    "defa",
];

/// A field this short is always read (names, times, counters, ids).
pub const ALWAYS_READ: u64 = 256;
/// The longest field a listed job shows.
pub const FIELD_MAX: u64 = 16 * 1024;
/// How many bytes of longer-than-[`ALWAYS_READ`] fields one page reads in all; the rows past it
/// show their big fields as cut.
pub const PAGE_BUDGET: u64 = 1024 * 1024;

/// Split `fields` (with their stored `sizes`, in the same order) into those to read and those
/// cut, spending `budget` on the fields longer than [`ALWAYS_READ`].
pub fn plan(
    fields: &[&'static str],
    sizes: &[u64],
    budget: &mut u64,
) -> (Vec<&'static str>, Vec<TruncatedField>) {
    let mut read = Vec::with_capacity(fields.len());
    let mut cut = Vec::new();
    for (field, &size) in fields.iter().zip(sizes) {
        if size <= ALWAYS_READ {
            read.push(*field);
        } else if size <= FIELD_MAX && size <= *budget {
            *budget -= size;
            read.push(*field);
        } else {
            cut.push(TruncatedField {
                field: (*field).to_string(),
                bytes: size,
                raw: None,
            });
        }
    }
    (read, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_fields_and_cuts_big_ones_within_the_budget() {
        let fields = ["name", "data", "returnvalue", "stacktrace"];
        let mut budget = 10_000;
        let (read, cut) = plan(&fields, &[5, 2_000_000, 6_000, 6_000], &mut budget);
        assert_eq!(read, vec!["name", "returnvalue"]);
        let cut: Vec<_> = cut.iter().map(|c| (c.field.as_str(), c.bytes)).collect();
        assert_eq!(cut, vec![("data", 2_000_000), ("stacktrace", 6_000)]);
        assert_eq!(budget, 4_000);
        // Past the budget, short fields are still read.
        let (read, cut) = plan(&fields, &[5, 0, 300, 0], &mut 0);
        assert_eq!(read, vec!["name", "data", "stacktrace"]);
        assert_eq!(cut.len(), 1);
    }
}
