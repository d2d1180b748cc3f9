//! Bull 3/4's repeatable jobs, as `Queue#getRepeatableJobs` reports them. Bull keeps no hash per
//! repeatable: everything is in the member of the `repeat` sorted set,
//! `name:jobId:endDate:tz:cron` (or `name:jobId:endDate:every`), scored by the next run in ms.
//! The delayed job armed for that run has the id `repeat:` + md5(name + jobId + `:` +
//! md5(member)) + `:` + next run, which is how Bull itself finds it to remove it.

use super::md5;

/// The name Bull gives a job added without one.
const DEFAULT_NAME: &str = "__default__";

/// One member of a Bull queue's `repeat` set, read as Bull reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BullRepeatable {
    /// The member itself (Bull's `key`).
    pub key: String,
    pub name: String,
    /// The `jobId` the repeatable was added with.
    pub id: Option<String>,
    pub end_date: Option<i64>,
    /// Only for a cron repeatable (Bull reports none for an `every` one).
    pub tz: Option<String>,
    pub cron: Option<String>,
    pub every: Option<i64>,
    /// The next run (the member's score), ms.
    pub next: i64,
}

/// JavaScript's `parseInt(text, 10)`: leading blanks, a sign, then as many digits as there are;
/// `None` where JavaScript gives `NaN`.
fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i64>().ok().map(|n| sign * n)
}

impl BullRepeatable {
    /// `Queue#_keyToData` and `getRepeatableJobs` on one member and its score.
    pub(crate) fn parse(key: &str, score: f64) -> Self {
        let parts: Vec<&str> = key.split(':').collect();
        let part = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
        let cron = part(4).map(str::to_string);
        let tz = part(3);
        BullRepeatable {
            key: key.to_string(),
            name: parts.first().copied().unwrap_or_default().to_string(),
            id: part(1).map(str::to_string),
            end_date: part(2).and_then(parse_int).filter(|ms| *ms != 0),
            every: if cron.is_none() {
                tz.and_then(parse_int)
            } else {
                None
            },
            tz: cron.as_ref().and(tz).map(str::to_string),
            cron,
            next: score as i64,
        }
    }

    /// The id of the delayed job Bull armed for the next run.
    pub(crate) fn armed_job_id(&self) -> String {
        let name = if self.name.is_empty() {
            DEFAULT_NAME
        } else {
            &self.name
        };
        let job_id = match &self.id {
            Some(id) => format!("{id}:"),
            None => ":".to_string(),
        };
        let namespace = md5::hex(self.key.as_bytes());
        let digest = md5::hex(format!("{name}{job_id}{namespace}").as_bytes());
        format!("repeat:{digest}:{}", self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_as_bull_does() {
        // Members and ids written by bull@4.16.5.
        let every = BullRepeatable::parse("heartbeat:::90000", 1_795_956_840_000.0);
        assert_eq!(every.every, Some(90_000));
        assert_eq!((every.tz.as_deref(), every.cron.as_deref()), (None, None));
        assert_eq!(every.id, None);
        assert_eq!(
            every.armed_job_id(),
            "repeat:d11f29e08ea9db62d60c87eb2f6e00ac:1795956840000"
        );
        let cron = BullRepeatable::parse("hourly:sweep:4070908800000::15 * * * *", 1.795_958_1e12);
        assert_eq!(cron.id.as_deref(), Some("sweep"));
        assert_eq!(cron.end_date, Some(4_070_908_800_000));
        assert_eq!(cron.cron.as_deref(), Some("15 * * * *"));
        assert_eq!((cron.tz.as_deref(), cron.every), (None, None));
        assert_eq!(
            cron.armed_job_id(),
            "repeat:1065314aed22c3e3cf23af5489f15423:1795958100000"
        );
        let zoned = BullRepeatable::parse("nightly:::Europe/Paris:0 3 * * *", 0.0);
        assert_eq!(zoned.tz.as_deref(), Some("Europe/Paris"));
        let plain = BullRepeatable::parse("__default__::4070908800000:3600000", 1.7959572e12);
        assert_eq!(plain.every, Some(3_600_000));
        assert_eq!(
            plain.armed_job_id(),
            "repeat:f6b80a344450eec991a89b3f65c143b5:1795957200000"
        );
        assert_eq!(parse_int(" 12ab"), Some(12));
        assert_eq!(parse_int("x"), None);
    }
}
