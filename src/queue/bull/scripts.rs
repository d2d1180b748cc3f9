//! bullring's own Lua scripts for Bull 3/4 queues (in `scripts/`), each with the helpers of
//! `scripts/prelude.lua` in front. A script is called by its SHA ([`run`]); Redis answering
//! `NOSCRIPT` (the first call, a restart, `SCRIPT FLUSH`) has it loaded (on every primary of a
//! Redis Cluster, so wherever the script's keys live) and called again.

use std::sync::LazyLock;

use std::ops::Deref;

use redis::{FromRedisValue, Script, ScriptInvocation};

use crate::queue::connection::Redis;
use crate::queue::error::{QueueError, Result};

const PRELUDE: &str = include_str!("scripts/prelude.lua");

/// A script and its source, which a server that lacks it is sent ([`Redis::load_script`]).
pub(super) struct BullScript {
    code: String,
    script: Script,
}

impl BullScript {
    fn new(code: String) -> BullScript {
        let script = Script::new(&code);
        BullScript { code, script }
    }
}

/// Invocations are built from the script itself (`RETRY_JOB.prepare_invoke()`).
impl Deref for BullScript {
    type Target = Script;

    fn deref(&self) -> &Script {
        &self.script
    }
}

macro_rules! script {
    ($name:ident, $file:literal) => {
        pub(super) static $name: LazyLock<BullScript> =
            LazyLock::new(|| BullScript::new(format!("{PRELUDE}\n{}", include_str!($file))));
    };
}

script!(RETRY_JOB, "scripts/retry_job.lua");
script!(RETRY_FAILED, "scripts/retry_failed.lua");
script!(PROMOTE, "scripts/promote.lua");
script!(REMOVE_JOB, "scripts/remove_job.lua");
script!(CLEAN, "scripts/clean.lua");
script!(PAUSE, "scripts/pause.lua");
script!(OBLITERATE, "scripts/obliterate.lua");
script!(REMOVE_REPEATABLE, "scripts/remove_repeatable.lua");
script!(UPDATE_DATA, "scripts/update_data.lua");
script!(ADD_JOB, "scripts/add_job.lua");
script!(DEMO_WORK, "scripts/demo_work.lua");

/// Run `invocation` of `script` by its SHA, loading the script first if Redis does not have it.
/// A script call writes, so it is sent once (never retried blindly).
pub(super) async fn run<T: FromRedisValue>(
    redis: &Redis,
    script: &BullScript,
    invocation: &ScriptInvocation<'_>,
) -> Result<T> {
    let mut pipe = redis::pipe();
    pipe.invoke_script(invocation);
    match redis.write::<(T,)>(&pipe).await {
        Ok((value,)) => Ok(value),
        Err(QueueError::Redis(err))
            if err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
        {
            // Loaded on its own: in one pipeline with the call, a cluster would send the keyless
            // `SCRIPT LOAD` to any node, not the one that owns the call's keys.
            redis.load_script(&script.code).await?;
            let (value,): (T,) = redis.write(&pipe).await?;
            Ok(value)
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_carries_the_prelude() {
        for script in [
            &RETRY_JOB,
            &RETRY_FAILED,
            &PROMOTE,
            &REMOVE_JOB,
            &CLEAN,
            &PAUSE,
            &OBLITERATE,
            &REMOVE_REPEATABLE,
            &UPDATE_DATA,
            &ADD_JOB,
            &DEMO_WORK,
        ] {
            assert_eq!(script.get_hash().len(), 40);
        }
        assert_ne!(RETRY_JOB.get_hash(), PROMOTE.get_hash());
    }
}
