//! The live-updates sampler: one task per process reads the counts of every known queue in one
//! round trip per interval and publishes the result on a `watch` channel.
//!
//! Every open tab (an SSE stream in the web layer) subscribes to the same channel, so twenty tabs
//! cost Redis what one costs. With no subscriber the sampler sleeps and sends nothing at all. A
//! sample replaces the previous one only when it differs, so subscribers wake on changes only.
//! It does not own the HTTP side (see `web::handlers::live`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::discovery::Discovery;
use super::model::QueueSummary;
use super::read::Reader;

/// What the sampler saw last.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Sample {
    /// No read has finished yet.
    Pending,
    /// Every queue's summary, as of `at_ms`.
    Ok {
        at_ms: i64,
        queues: Vec<QueueSummary>,
    },
    /// Redis did not answer; `error` says why.
    Unavailable { at_ms: i64, error: String },
}

impl Sample {
    /// Equal apart from the time it was taken.
    fn same_as(&self, other: &Sample) -> bool {
        match (self, other) {
            (Sample::Ok { queues: a, .. }, Sample::Ok { queues: b, .. }) => a == b,
            (Sample::Unavailable { error: a, .. }, Sample::Unavailable { error: b, .. }) => a == b,
            (Sample::Pending, Sample::Pending) => true,
            _ => false,
        }
    }
}

/// A handle on the sampler: subscribe to its samples. Cheap to clone.
#[derive(Clone)]
pub struct Sampler {
    inner: Arc<Inner>,
}

struct Inner {
    sender: watch::Sender<Sample>,
    /// Woken when the first subscriber arrives, so an idle sampler costs nothing.
    wake: Notify,
    interval: Option<Duration>,
    /// Cancelled when the process shuts down, so open streams end and shutdown is not held up.
    stopped: CancellationToken,
    /// Samples read so far (each one Redis round trip).
    taken: AtomicU64,
}

impl Sampler {
    /// A sampler reading every `interval`; `None` turns live updates off.
    pub fn new(interval: Option<Duration>) -> Self {
        let (sender, _) = watch::channel(Sample::Pending);
        Sampler {
            inner: Arc::new(Inner {
                sender,
                wake: Notify::new(),
                interval: interval.filter(|d| !d.is_zero()),
                stopped: CancellationToken::new(),
                taken: AtomicU64::new(0),
            }),
        }
    }

    /// The interval, or `None` when live updates are off.
    pub fn interval(&self) -> Option<Duration> {
        self.inner.interval
    }

    /// A receiver of samples, or `None` when live updates are off.
    pub fn subscribe(&self) -> Option<watch::Receiver<Sample>> {
        self.inner.interval?;
        let receiver = self.inner.sender.subscribe();
        self.inner.wake.notify_one();
        Some(receiver)
    }

    /// How many samples were read so far: each is one Redis round trip, whatever the number of
    /// subscribers.
    pub fn samples_taken(&self) -> u64 {
        self.inner.taken.load(Ordering::Relaxed)
    }

    /// Resolves when the process shuts down.
    pub fn stopped(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.inner.stopped.clone().cancelled_owned()
    }

    /// Start the sampling task (does nothing when live updates are off). `cancel` stops it and
    /// ends every subscriber's stream.
    pub fn spawn(&self, reader: Reader, discovery: Discovery, cancel: CancellationToken) {
        let stopped = self.inner.stopped.clone();
        let watch_cancel = cancel.clone();
        tokio::spawn(async move {
            watch_cancel.cancelled().await;
            stopped.cancel();
        });
        let Some(interval) = self.inner.interval else {
            return;
        };
        let inner = self.inner.clone();
        tokio::spawn(async move {
            loop {
                if inner.sender.receiver_count() == 0 {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = inner.wake.notified() => continue,
                    }
                }
                let sample = take(&reader, &discovery).await;
                inner.taken.fetch_add(1, Ordering::Relaxed);
                inner.sender.send_if_modified(|current| {
                    let changed = !current.same_as(&sample);
                    if changed {
                        *current = sample;
                    }
                    changed
                });
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        });
    }
}

/// One sample: every known queue's summary, in one round trip.
async fn take(reader: &Reader, discovery: &Discovery) -> Sample {
    let queues = discovery.snapshot().queues;
    let at_ms = chrono::Utc::now().timestamp_millis();
    match reader.summaries(&queues).await {
        Ok(queues) => Sample::Ok { at_ms, queues },
        Err(err) => Sample::Unavailable {
            at_ms,
            error: err.to_string(),
        },
    }
}
