//! What the runner says about itself: how many workers run, which Redis master they work on, and
//! the Sentinel failovers it followed (from which master to which, when), or why it could not
//! follow one. [`RunnerHealth`] is shared by the runner (which writes it) and whatever shows it:
//! the runner's `GET /healthz` and `GET /metrics` on `--metrics-listen` (`bullring run`), and the
//! dashboard's `/healthz` and `/metrics` (`bullring start`). Addresses are `host:port`, never a
//! password.

use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// A failover the runner followed: its workers moved from one master to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failover {
    pub from: String,
    pub to: String,
    /// When the workers were running on the new master, in ms since the Unix epoch.
    pub at_ms: u64,
}

/// A snapshot of the runner's state, as `/healthz` answers it under `"runner"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// Workers running now (0 while they are being restarted on a new master).
    pub workers: usize,
    /// Whether the runner follows a Sentinel master (`false`: one fixed Redis).
    pub sentinel: bool,
    /// The master the workers run on (Sentinel only).
    pub master: Option<String>,
    /// Failovers followed since the start.
    pub failovers: u64,
    pub last_failover: Option<Failover>,
    /// Why the last attempt to find or move to the master failed; `None` once one succeeds.
    pub last_error: Option<String>,
}

/// The runner's state, shared (cloning shares it).
#[derive(Clone, Default)]
pub struct RunnerHealth {
    inner: Arc<Mutex<HealthReport>>,
}

impl RunnerHealth {
    fn update(&self, change: impl FnOnce(&mut HealthReport)) {
        change(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// What it says now.
    pub fn report(&self) -> HealthReport {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn started(&self, workers: usize, master: Option<String>) {
        self.update(|h| {
            h.workers = workers;
            h.sentinel = master.is_some();
            h.master = master;
        });
    }

    pub(super) fn stopped_workers(&self) {
        self.update(|h| h.workers = 0);
    }

    pub(super) fn moved(&self, from: &str, to: &str, workers: usize) {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.update(|h| {
            h.workers = workers;
            h.master = Some(to.to_string());
            h.last_error = None;
            // Started again on the same master (after a failed start): not a failover.
            if from != to {
                h.failovers += 1;
                h.last_failover = Some(Failover {
                    from: from.to_string(),
                    to: to.to_string(),
                    at_ms,
                });
            }
        });
    }

    pub(super) fn failed(&self, why: String) {
        self.update(|h| h.last_error = Some(why));
    }

    pub(super) fn recovered(&self) {
        self.update(|h| h.last_error = None);
    }

    /// The runner's series in the Prometheus text format (version 0.0.4):
    /// `bullring_runner_workers` (gauge), `bullring_runner_failovers_total` (counter) and,
    /// under Sentinel, `bullring_runner_master{address}` (gauge, 1 for the current master).
    pub fn prometheus(&self) -> String {
        let report = self.report();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP bullring_runner_workers Workers running in this process.\n\
             # TYPE bullring_runner_workers gauge\n\
             bullring_runner_workers {}",
            report.workers
        );
        let _ = writeln!(
            out,
            "# HELP bullring_runner_failovers_total Sentinel failovers the runner followed \
             (its workers restarted on the new master).\n\
             # TYPE bullring_runner_failovers_total counter\n\
             bullring_runner_failovers_total {}",
            report.failovers
        );
        if let Some(master) = &report.master {
            let _ = writeln!(
                out,
                "# HELP bullring_runner_master The Redis master the runner's workers run on.\n\
                 # TYPE bullring_runner_master gauge\n\
                 bullring_runner_master{{address=\"{}\"}} 1",
                master.replace('\\', "\\\\").replace('"', "\\\"")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failovers_and_clears_the_error() {
        let health = RunnerHealth::default();
        health.started(2, Some("127.0.0.1:7000".into()));
        health.stopped_workers();
        health.failed("no sentinel named the master".into());
        assert_eq!(health.report().workers, 0);
        health.moved("127.0.0.1:7000", "127.0.0.1:7001", 2);
        let report = health.report();
        assert_eq!(report.failovers, 1);
        assert_eq!(report.master.as_deref(), Some("127.0.0.1:7001"));
        assert_eq!(report.last_error, None);
        assert_eq!(report.last_failover.unwrap().from, "127.0.0.1:7000");
        let text = health.prometheus();
        assert!(
            text.contains("bullring_runner_failovers_total 1\n"),
            "{text}"
        );
        assert!(text.contains("bullring_runner_workers 2\n"), "{text}");
        assert!(
            text.contains("bullring_runner_master{address=\"127.0.0.1:7001\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn a_fixed_redis_has_no_master_series() {
        let health = RunnerHealth::default();
        health.started(1, None);
        assert!(!health.report().sentinel);
        assert!(!health.prometheus().contains("bullring_runner_master"));
    }
}
