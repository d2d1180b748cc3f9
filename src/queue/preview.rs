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

/// The fields one job's page reads: a list's, and the two only Bull's `Job` has.
pub const JOB_FIELDS: [&str; 25] = {
    let mut all = [""; 25];
    let mut i = 0;
    while i < LIST_FIELDS.len() {
        all[i] = LIST_FIELDS[i];
        i += 1;
    }
    all[23] = "stalledCounter";
    all[24] = "retriedOn";
    all
};

/// The longest field one job's page reads (it shows 64 KiB of it); a longer one is only sized.
pub const JOB_FIELD_MAX: u64 = 2 * 1024 * 1024;
/// How many bytes of longer-than-[`ALWAYS_READ`] fields one job's page reads in all.
pub const JOB_BUDGET: u64 = 4 * 1024 * 1024;
/// The longest field the raw view serves; a longer one is refused with its size (a hash field
/// cannot be read in parts, so serving it would hold all of it in memory).
pub const RAW_FIELD_MAX: u64 = 8 * 1024 * 1024;

/// Split `fields` (with their stored `sizes`, in the same order) into those to read and those
/// cut, spending `budget` on the fields longer than [`ALWAYS_READ`], each at most [`FIELD_MAX`].
pub fn plan(
    fields: &[&'static str],
    sizes: &[u64],
    budget: &mut u64,
) -> (Vec<&'static str>, Vec<TruncatedField>) {
    plan_within(fields, sizes, FIELD_MAX, budget)
}

/// [`plan`] with fields of at most `field_max` bytes.
pub fn plan_within(
    fields: &[&'static str],
    sizes: &[u64],
    field_max: u64,
    budget: &mut u64,
) -> (Vec<&'static str>, Vec<TruncatedField>) {
    let mut read = Vec::with_capacity(fields.len());
    let mut cut = Vec::new();
    for (field, &size) in fields.iter().zip(sizes) {
        if size <= ALWAYS_READ {
            read.push(*field);
        } else if size <= field_max && size <= *budget {
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
