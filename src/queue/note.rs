//! [`Note`]: something unusual found while reading a job's hash (a missing field, a value that
//! is not the JSON or the number it should be). The job is still shown; the note says what was
//! wrong. `Display` (and the JSON API) give the English words; the web layer writes each in the
//! reader's language.

use std::fmt;

use serde::{Serialize, Serializer};

/// One unusual thing about a job's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The hash does not exist at all.
    MissingHash,
    /// A field every job has is not there.
    NoField(&'static str),
    /// A JSON field does not parse; its text is shown as stored.
    NotJson(&'static str),
    /// A number field holds something else (the text as stored).
    NotNumber { field: &'static str, text: String },
    /// `stacktrace` is not a JSON array.
    StacktraceNotArray,
    /// `parent` is not the JSON BullMQ writes.
    ParentNotBullMq,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::MissingHash => f.write_str(
                "the job's hash is missing: it was removed, or the id was written by hand",
            ),
            Note::NoField(field) => write!(f, "the job's hash has no {field} field"),
            Note::NotJson(field) => write!(f, "{field} is not valid JSON; shown as stored"),
            Note::NotNumber { field, text } => write!(f, "{field} is not a number: {text:?}"),
            Note::StacktraceNotArray => {
                f.write_str("stacktrace is not a JSON array; shown as stored")
            }
            Note::ParentNotBullMq => {
                f.write_str("parent is not the JSON BullMQ writes; shown as stored")
            }
        }
    }
}

/// In the JSON API, a note is its English text.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
