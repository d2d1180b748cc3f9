//! One `[[workers]]` entry checked: its queue is declared, its concurrency, limiter and lock
//! settings make sense, and its handler (checked by [`super::handler`]).

use super::declared::DeclaredQueues;
use super::file::WorkerFile;
use super::handler::handler_spec;
use super::spec::{HandlerSpec, WorkerSpec};
use crate::config::error::{ConfigError, bad};

pub(super) fn worker_spec(
    number: usize,
    file: &WorkerFile,
    declared: &DeclaredQueues,
) -> Result<WorkerSpec, ConfigError> {
    let label = format!("[[workers]] #{number} (queue {:?})", file.queue);
    declared.require(&label, &file.queue)?;
    let concurrency = match file.concurrency {
        None => 1,
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(bad(
                &format!("{label} concurrency"),
                format!("{n}: must be at least 1"),
            ));
        }
    };
    let handler = match &file.handler {
        None => HandlerSpec::Closures,
        Some(table) => handler_spec(&format!("{label} handler"), table)?,
    };
    if let Some(limiter) = &file.limiter
        && (limiter.max == 0 || limiter.duration_ms == 0)
    {
        return Err(bad(
            &format!("{label} limiter"),
            "max and duration_ms must be at least 1",
        ));
    }
    if file.lock_duration_ms == Some(0) {
        return Err(bad(
            &format!("{label} lock_duration_ms"),
            "must be at least 1",
        ));
    }
    if file.stalled_interval_ms == Some(0) {
        return Err(bad(
            &format!("{label} stalled_interval_ms"),
            "must be at least 1",
        ));
    }
    Ok(WorkerSpec {
        queue: file.queue.clone(),
        name: file.name.clone(),
        concurrency,
        handler,
        limiter: file.limiter.as_ref().map(|l| (l.max, l.duration_ms)),
        lock_duration_ms: file.lock_duration_ms,
        stalled_interval_ms: file.stalled_interval_ms,
        max_stalled_count: file.max_stalled_count,
        label,
    })
}
