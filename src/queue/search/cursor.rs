//! Where a search stopped, as an opaque text for the URL: which container of the walk (and a
//! hash of its key, so a cursor is not applied to another container), and the position in it.
//!
//! A list position is the index of the next job plus the id of the last one scanned (found again
//! near that index, so jobs pushed or taken meanwhile shift nothing); a sorted-set position is
//! the last score and id plus how many jobs of that score were scanned (so jobs scored alike are
//! neither repeated nor skipped).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::queue::error::QueueError;
use crate::text::Said;

/// A position within one container of the walk.
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    /// A list: `next` is the index of the next job in walk order, `last` the last id scanned.
    List { next: u64, last: String },
    /// A sorted set: the last score scanned (as Redis wrote it), how many jobs with that score
    /// were scanned, and the last id.
    Set {
        score: String,
        ties: u64,
        last: String,
    },
}

/// Where a search resumes: container `segment` of the walk (whose key hashes to `key_hash`), at
/// `anchor` (`None`: its start).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub segment: usize,
    pub key_hash: u64,
    pub anchor: Option<Anchor>,
}

/// A stable hash of a key (FNV-1a), to tell a cursor's container from another.
pub fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn bad(detail: &str) -> QueueError {
    QueueError::InvalidInput(Said::new("check.search.bad_cursor").with("detail", detail))
}

impl Cursor {
    /// The cursor as URL-safe text.
    pub fn encode(&self) -> String {
        let anchor = match &self.anchor {
            None => "s".to_string(),
            Some(Anchor::List { next, last }) => format!("l\n{next}\n{last}"),
            Some(Anchor::Set { score, ties, last }) => format!("z\n{score}\n{ties}\n{last}"),
        };
        let text = format!("1\n{}\n{:x}\n{anchor}", self.segment, self.key_hash);
        URL_SAFE_NO_PAD.encode(text)
    }

    /// A cursor from its text; anything this server did not write is `InvalidInput`.
    pub fn decode(text: &str) -> Result<Cursor, QueueError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| bad("not base64url"))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("not text"))?;
        let mut parts = text.splitn(4, '\n');
        let mut next = |what: &str| parts.next().ok_or_else(|| bad(what));
        if next("version")? != "1" {
            return Err(bad("unknown version"));
        }
        let segment = next("segment")?.parse().map_err(|_| bad("segment"))?;
        let key_hash = u64::from_str_radix(next("key")?, 16).map_err(|_| bad("key"))?;
        let anchor = next("position")?;
        let anchor = match anchor.split_once('\n') {
            None if anchor == "s" => None,
            Some(("l", rest)) => {
                let (next, last) = rest.split_once('\n').ok_or_else(|| bad("list position"))?;
                Some(Anchor::List {
                    next: next.parse().map_err(|_| bad("list index"))?,
                    last: last.to_string(),
                })
            }
            Some(("z", rest)) => {
                let mut parts = rest.splitn(3, '\n');
                let (score, ties, last) = match (parts.next(), parts.next(), parts.next()) {
                    (Some(s), Some(t), Some(l)) => (s, t, l),
                    _ => return Err(bad("set position")),
                };
                if score.parse::<f64>().is_err() || score.starts_with('(') {
                    return Err(bad("score"));
                }
                Some(Anchor::Set {
                    score: score.to_string(),
                    ties: ties.parse().map_err(|_| bad("ties"))?,
                    last: last.to_string(),
                })
            }
            _ => return Err(bad("position")),
        };
        Ok(Cursor {
            segment,
            key_hash,
            anchor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_anything_else() {
        for anchor in [
            None,
            Some(Anchor::List {
                next: 40,
                last: "a:b\nc".into(),
            }),
            Some(Anchor::Set {
                score: "1700000000000".into(),
                ties: 3,
                last: "job 7".into(),
            }),
        ] {
            let cursor = Cursor {
                segment: 2,
                key_hash: key_hash("bull:q:failed"),
                anchor,
            };
            let text = cursor.encode();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
            assert_eq!(Cursor::decode(&text).unwrap(), cursor);
        }
        for text in [
            "",
            "!!",
            "MQ",
            &URL_SAFE_NO_PAD.encode("1\n0\nff\nz\n(5\n0\nx"),
        ] {
            let err = Cursor::decode(text).unwrap_err();
            assert!(matches!(err, QueueError::InvalidInput(_)), "{text}");
            assert!(err.to_string().starts_with("cursor "), "{err}");
        }
        assert_ne!(key_hash("a"), key_hash("b"));
    }
}
