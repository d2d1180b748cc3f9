//! A typed pipeline: commands pushed into a [`Batch`] each hand back a [`Slot`] that knows which
//! reply is its own and how to decode it, so a read never counts replies by position.
//!
//! A batch is sent in one round trip (none when it is empty) and answers with [`Replies`], from
//! which slots are taken back. A slot taken from the replies of another batch, or from replies
//! fewer than the commands pushed, is an error, never a slice panic. Slots combine
//! ([`Slot::map`], [`Batch::combine`]) into slots of whole values (a queue's summary, a job's
//! children), and a [`Step`] is a value that may need one more batch (a list scanned only when the
//! cheap checks found nothing): [`finish`] sends the second batch of many steps at once.
//! This is the only module of the read path that indexes reply vectors (the cluster transport in
//! `connection` only puts a split pipeline's replies back in order).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use redis::{
    Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, ServerErrorKind, ToRedisArgs, Value,
};

use super::connection::Redis;
use super::decode::{count, hash, reply, strings};
use super::error::{QueueError, Result};

/// Tells batches apart, so a slot cannot be read from another batch's replies.
static BATCHES: AtomicU64 = AtomicU64::new(1);

/// One command with its arguments (a tuple, a slice or a single value).
pub(crate) fn cmd(name: &str, args: impl ToRedisArgs) -> Cmd {
    let mut cmd = redis::cmd(name);
    cmd.arg(args);
    cmd
}

type Read<T> = Box<dyn FnOnce(&Replies) -> Result<T> + Send>;

/// A value the replies of one batch will give.
#[must_use = "a slot is read back from the replies of its batch"]
pub(crate) struct Slot<T> {
    batch: u64,
    read: Read<T>,
}

impl<T: 'static> Slot<T> {
    /// The same replies, decoded further.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Slot<U> {
        let read = self.read;
        Slot {
            batch: self.batch,
            read: Box::new(move |replies| read(replies).map(f)),
        }
    }
}

/// Read commands to send together, each with the slot its reply decodes into.
pub(crate) struct Batch {
    id: u64,
    pipe: Pipeline,
}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

impl Batch {
    pub(crate) fn new() -> Self {
        let mut pipe = redis::pipe();
        // A malformed key answers an error for its own reply only; slots decode it as empty.
        pipe.ignore_errors();
        Batch {
            id: BATCHES.fetch_add(1, Ordering::Relaxed),
            pipe,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pipe.len() == 0
    }

    /// Push one command; its reply becomes a `T` through `decode`.
    pub(crate) fn push<T: 'static>(&mut self, command: Cmd, decode: fn(&Value) -> T) -> Slot<T> {
        let index = self.pipe.len();
        self.pipe.add_command(command);
        Slot {
            batch: self.id,
            read: Box::new(move |replies| replies.value(index).map(decode)),
        }
    }

    /// An integer reply (errors and nil count as 0).
    pub(crate) fn count(&mut self, command: Cmd) -> Slot<u64> {
        self.push(command, count)
    }

    /// A list of strings (anything else is empty).
    pub(crate) fn strings(&mut self, command: Cmd) -> Slot<Vec<String>> {
        self.push(command, strings)
    }

    /// A hash (anything else is empty).
    pub(crate) fn hash(&mut self, command: Cmd) -> Slot<HashMap<String, String>> {
        self.push(command, hash)
    }

    /// Whether the reply is a value (not nil, not an error): ZSCORE, LPOS.
    pub(crate) fn found(&mut self, command: Cmd) -> Slot<bool> {
        self.push(command, |value| {
            !matches!(value, Value::Nil | Value::ServerError(_))
        })
    }

    /// A reply of any type, `None` when it is an error or of another type.
    pub(crate) fn value<T: FromRedisValue + 'static>(&mut self, command: Cmd) -> Slot<Option<T>> {
        self.push(command, reply::<T>)
    }

    /// A slot made of other slots of this batch: `read` takes them back from the replies.
    pub(crate) fn combine<T>(
        &self,
        read: impl FnOnce(&Replies) -> Result<T> + Send + 'static,
    ) -> Slot<T> {
        Slot {
            batch: self.id,
            read: Box::new(read),
        }
    }

    /// Many slots of this batch as one.
    pub(crate) fn all<T: Send + 'static>(&self, slots: Vec<Slot<T>>) -> Slot<Vec<T>> {
        self.combine(move |replies| slots.into_iter().map(|s| replies.take(s)).collect())
    }

    /// Send every command in one round trip (none for an empty batch).
    pub(crate) async fn send(self, redis: &Redis) -> Result<Replies> {
        if self.is_empty() {
            return self.answer(Vec::new());
        }
        let values: Vec<Value> = redis.read(&self.pipe).await?;
        self.answer(values)
    }

    /// The replies to this batch's commands, checked to be one per command ([`Batch::send`]
    /// gets them from Redis; tests give their own).
    pub(crate) fn answer(self, values: Vec<Value>) -> Result<Replies> {
        // A restarted Redis answers every command `LOADING` until its data set is back (and a
        // replica without its primary `MASTERDOWN`): Redis is not there yet, it has not emptied.
        if let Some(code) = values.iter().find_map(not_ready) {
            return Err(QueueError::unavailable(
                crate::text::Said::new("error.redis.not_ready").with("code", code),
            ));
        }
        if values.len() != self.pipe.len() {
            return Err(mismatch(format!(
                "{} replies to a batch of {} commands",
                values.len(),
                self.pipe.len()
            )));
        }
        Ok(Replies {
            batch: self.id,
            values,
        })
    }
}

/// The code of a reply that means "not serving yet" (`LOADING`, `MASTERDOWN`).
fn not_ready(value: &Value) -> Option<String> {
    match value {
        Value::ServerError(err)
            if matches!(
                err.kind(),
                Some(ServerErrorKind::BusyLoading | ServerErrorKind::MasterDown)
            ) =>
        {
            Some(err.code().to_string())
        }
        _ => None,
    }
}

fn mismatch(detail: String) -> QueueError {
    QueueError::Redis(RedisError::from((
        ErrorKind::Client,
        "pipelined replies do not match their commands",
        detail,
    )))
}

/// The replies of one sent batch.
pub(crate) struct Replies {
    batch: u64,
    values: Vec<Value>,
}

impl Replies {
    /// The value `slot` stands for; an error when the slot is another batch's.
    pub(crate) fn take<T>(&self, slot: Slot<T>) -> Result<T> {
        if slot.batch != self.batch {
            return Err(mismatch(format!(
                "a slot of batch {} read from the replies of batch {}",
                slot.batch, self.batch
            )));
        }
        (slot.read)(self)
    }

    fn value(&self, index: usize) -> Result<&Value> {
        self.values.get(index).ok_or_else(|| {
            mismatch(format!(
                "reply {index} asked of {} replies",
                self.values.len()
            ))
        })
    }
}

/// What one more batch must push to finish a value.
type Next<T> = Box<dyn FnOnce(&mut Batch) -> Slot<T> + Send>;

/// A value known after the first batch, or one that needs the replies of a second.
pub(crate) enum Step<T> {
    Done(T),
    Then(Next<T>),
}

impl<T> Step<T> {
    pub(crate) fn then(next: impl FnOnce(&mut Batch) -> Slot<T> + Send + 'static) -> Self {
        Step::Then(Box::new(next))
    }
}

/// Finish `steps`: the ones that need more share one batch, so this costs one round trip at
/// most, none when every step is done.
pub(crate) async fn finish<T: Send + 'static>(
    redis: &Redis,
    steps: Vec<Step<T>>,
) -> Result<Vec<T>> {
    let mut batch = Batch::new();
    let pending: Vec<std::result::Result<T, Slot<T>>> = steps
        .into_iter()
        .map(|step| match step {
            Step::Done(value) => Ok(value),
            Step::Then(next) => Err(next(&mut batch)),
        })
        .collect();
    let replies = batch.send(redis).await?;
    pending
        .into_iter()
        .map(|known| match known {
            Ok(value) => Ok(value),
            Err(slot) => replies.take(slot),
        })
        .collect()
}

/// [`finish`] for one step.
pub(crate) async fn finish_one<T: Send + 'static>(redis: &Redis, step: Step<T>) -> Result<T> {
    match step {
        Step::Done(value) => Ok(value),
        next => {
            let mut done = finish(redis, vec![next]).await?;
            done.pop()
                .ok_or_else(|| mismatch("a step finished empty".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn a_redis_still_loading_its_data_is_unavailable_not_empty() {
        for reply in [
            &b"-LOADING Redis is loading the dataset in memory\r\n"[..],
            &b"-MASTERDOWN Link with MASTER is down\r\n"[..],
        ] {
            let loading = redis::parse_redis_value(reply).unwrap();
            let mut batch = Batch::new();
            let _ = batch.count(cmd("LLEN", "a"));
            let _ = batch.hash(cmd("HGETALL", "b"));
            let err = batch.answer(vec![int(0), loading]).err().expect("an error");
            assert!(err.is_unavailable(), "{err}");
        }
        // Other errors stay the slot's own (decoded as "nothing there").
        let other = redis::parse_redis_value(b"-WRONGTYPE Operation against a key\r\n").unwrap();
        let mut batch = Batch::new();
        let a = batch.count(cmd("LLEN", "a"));
        let replies = batch.answer(vec![other]).unwrap();
        assert_eq!(replies.take(a).unwrap(), 0);
    }

    #[test]
    fn each_slot_decodes_its_own_reply() {
        let mut batch = Batch::new();
        let a = batch.count(cmd("LLEN", "a"));
        let b = batch.found(cmd("ZSCORE", ("z", "1")));
        let c = batch.strings(cmd("LRANGE", ("l", 0, 1)));
        let both = batch.combine(move |r| Ok((r.take(a)?, r.take(b)?)));
        let replies = batch
            .answer(vec![
                int(3),
                Value::Nil,
                Value::Array(vec![Value::BulkString(b"x".to_vec())]),
            ])
            .unwrap();
        assert_eq!(replies.take(c).unwrap(), vec!["x".to_string()]);
        assert_eq!(replies.take(both).unwrap(), (3, false));
    }

    #[test]
    fn too_few_or_too_many_replies_are_an_error_not_a_panic() {
        let mut batch = Batch::new();
        let _ = batch.count(cmd("LLEN", "a"));
        let _ = batch.count(cmd("LLEN", "b"));
        assert!(matches!(
            batch.answer(vec![int(1)]),
            Err(QueueError::Redis(_))
        ));
        let mut batch = Batch::new();
        let _ = batch.count(cmd("LLEN", "a"));
        assert!(batch.answer(vec![int(1), int(2)]).is_err());
    }

    #[test]
    fn a_slot_of_another_batch_is_refused() {
        let mut first = Batch::new();
        let mine = first.count(cmd("LLEN", "a"));
        let mut second = Batch::new();
        let theirs = second.count(cmd("LLEN", "b"));
        let replies = first.answer(vec![int(7)]).unwrap();
        assert!(replies.take(theirs).is_err());
        assert_eq!(replies.take(mine).unwrap(), 7);
    }

    #[test]
    fn server_errors_decode_as_empty() {
        let mut batch = Batch::new();
        let n = batch.count(cmd("LLEN", "a"));
        let h = batch.hash(cmd("HGETALL", "h"));
        let v = batch.value::<String>(cmd("GET", "k"));
        let err = || redis::parse_redis_value(b"-WRONGTYPE wrong kind of value\r\n").unwrap();
        let replies = batch.answer(vec![err(), err(), err()]).unwrap();
        assert_eq!(replies.take(n).unwrap(), 0);
        assert!(replies.take(h).unwrap().is_empty());
        assert_eq!(replies.take(v).unwrap(), None);
    }
}
