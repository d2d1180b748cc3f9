//! What a Bull worker does to jobs, for `bullring demo` only: bullring runs no Bull worker, yet
//! its demo shows a Bull queue with jobs in every state, written by bullring's own Bull code.
//! [`DemoWorker`] takes the next waiting job (`active`, locked), then completes it, fails it for
//! good, or fails it into a retry (`delayed` for its backoff), as Bull's worker scripts do.

use serde_json::Value;

use super::{BullActions, keys, now_ms, scripts};
use crate::queue::error::Result;
use crate::queue::model::QueueRef;

/// How a taken job ends.
#[derive(Debug, Clone)]
pub enum Finish {
    /// Completed with this return value.
    Complete(Value),
    /// Failed with this reason and stack: retried after its backoff while attempts remain
    /// (`delayed`), else failed for good.
    Fail { reason: String, stack: String },
}

/// A stand-in for a Bull worker on one queue.
pub struct DemoWorker<'a> {
    actions: &'a BullActions,
    queue: &'a QueueRef,
}

impl BullActions {
    /// A demo worker on `queue`.
    pub fn demo_worker<'a>(&'a self, queue: &'a QueueRef) -> DemoWorker<'a> {
        DemoWorker {
            actions: self,
            queue,
        }
    }
}

impl DemoWorker<'_> {
    async fn call(
        &self,
        mode: &str,
        lock_ms: u64,
        id: &str,
        value: &str,
        stack: &str,
        run_at: u64,
    ) -> Result<Option<String>> {
        let mut call = scripts::DEMO_WORK.prepare_invoke();
        call.key(keys::base(self.queue))
            .arg(mode)
            .arg(self.actions.token())
            .arg(lock_ms)
            .arg(now_ms())
            .arg(id)
            .arg(value)
            .arg(stack)
            .arg(run_at);
        scripts::run(self.actions.reader().redis(), &scripts::DEMO_WORK, &call).await
    }

    /// Take the next waiting job (the tail of `wait`), locked for `lock_ms`.
    pub async fn take(&self, lock_ms: u64) -> Result<Option<String>> {
        self.call("take", lock_ms, "", "", "", 0).await
    }

    /// Finish the taken job `id`: a failure is retried after Bull's backoff while the job has
    /// attempts left. Returns whether the job was active.
    pub async fn finish(&self, id: &str, finish: Finish) -> Result<bool> {
        let (mode, value, stack, run_at) = match finish {
            Finish::Complete(value) => ("complete", value.to_string(), String::new(), 0),
            Finish::Fail { reason, stack } => {
                let (_, detail) = self.actions.reader().job(self.queue, id, 1, 1).await?;
                let made = detail.job.attempts_made.max(0) as u64 + 1;
                let attempts = detail.job.opts["attempts"].as_u64().unwrap_or(1);
                if made < attempts {
                    let wait = backoff_ms(&detail.job.opts["backoff"], made).unwrap_or(0);
                    ("retry", reason, stack, now_ms() + wait)
                } else {
                    ("fail", reason, stack, 0)
                }
            }
        };
        Ok(self
            .call(mode, 0, id, &value, &stack, run_at)
            .await?
            .is_some())
    }
}

/// Bull's built-in backoffs after `made` attempts: `fixed` waits its delay, `exponential`
/// waits (2^made - 1) * delay. `None` without a backoff (the retry is due at once).
fn backoff_ms(backoff: &Value, made: u64) -> Option<u64> {
    let delay = backoff["delay"].as_u64().unwrap_or(0);
    match backoff["type"].as_str()? {
        "fixed" => Some(delay),
        "exponential" => Some(((1u64 << made.min(32)) - 1) * delay),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoffs_are_bulls() {
        let exponential = json!({"type": "exponential", "delay": 2000});
        assert_eq!(backoff_ms(&exponential, 1), Some(2000));
        assert_eq!(backoff_ms(&exponential, 2), Some(6000));
        assert_eq!(
            backoff_ms(&json!({"type": "fixed", "delay": 5}), 3),
            Some(5)
        );
        assert_eq!(backoff_ms(&Value::Null, 1), None);
    }
}
