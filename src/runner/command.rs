//! The `command` handler: run a program (no shell) for each job.
//!
//! The program gets the job document (the webhook's body) on standard input and
//! `BULLRING_JOB_ID`, `BULLRING_JOB_NAME`, `BULLRING_QUEUE`, `BULLRING_ATTEMPT` in its
//! environment, which is otherwise cleared: only the variables its `inherit_env` names (by default
//! `PATH`, `HOME`, `LANG`, `TZ`) come from bullring's own (never `REDIS_URL` and its password unless
//! named), then its `env` table. Exit 0 completes the job with standard output as its return value (JSON when it
//! parses, otherwise the text; empty output gives `null`); any other exit fails it with the tail
//! of standard error as the reason, and BullMQ's attempts and backoff apply. On standard error, a
//! line `::progress N` (a number or JSON) sets the job's progress and `::log TEXT` adds a log line.
//! The program runs in its own process group; on timeout, or when the job is abandoned (a
//! shutdown that outlived its timeout), the whole group is killed.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use super::job::{JobError, JobResult, RunnerJob, tail};
use crate::config::runner::CommandSpec;

/// Largest standard output kept as a return value.
const MAX_STDOUT: usize = 4 * 1024 * 1024;
/// Standard error kept for the failure reason and stack trace entry.
const STDERR_TAIL: usize = 8 * 1024;
/// Length of the failure reason (BullMQ's `failedReason`) taken from standard error.
const REASON_BYTES: usize = 1000;

/// A configured program.
#[derive(Debug, Clone)]
pub struct CommandHandler {
    spec: CommandSpec,
}

/// What a `::` line on standard error asks for.
#[derive(Debug, PartialEq)]
enum Directive {
    Progress(Value),
    Log(String),
}

fn directive(line: &str) -> Option<Directive> {
    if let Some(rest) = line.strip_prefix("::progress ") {
        let text = rest.trim();
        let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
        return Some(Directive::Progress(value));
    }
    line.strip_prefix("::log ")
        .map(|text| Directive::Log(text.to_string()))
}

impl CommandHandler {
    pub fn new(spec: &CommandSpec) -> CommandHandler {
        CommandHandler { spec: spec.clone() }
    }

    pub fn program(&self) -> &str {
        &self.spec.program
    }

    fn describe(&self) -> String {
        let mut text = self.spec.program.clone();
        for arg in &self.spec.args {
            text.push(' ');
            text.push_str(arg);
        }
        text
    }

    /// Run the program for `job` and map its exit to the job's outcome.
    pub async fn call(&self, job: &RunnerJob) -> JobResult {
        let input = serde_json::to_vec(job.document())?;
        let mut child = self.spawn(job)?;
        let pid = child.id();
        // Until the program has been waited for, dropping this future (a shutdown that gave up
        // on the job, the process exiting) kills the whole group, not only the program.
        let mut group = GroupGuard(pid);
        let feed = feed_stdin(child.stdin.take().expect("stdin is piped"), input);
        let read_out = read_stdout(child.stdout.take().expect("stdout is piped"));
        let read_err = read_stderr(child.stderr.take().expect("stderr is piped"), job.clone());

        let status = tokio::time::timeout(self.spec.timeout, child.wait()).await;
        group.disarm();
        let Ok(status) = status else {
            kill_group(pid);
            let _ = child.wait().await;
            feed.abort();
            read_out.abort();
            let stderr = read_err.await.unwrap_or_default();
            return Err(self.timed_out(&stderr));
        };
        let status = status.map_err(|e| {
            JobError::retry(format!(
                "command {} could not be waited for: {e}",
                self.spec.program
            ))
        })?;
        let _ = feed.await;
        // Wait for both pipes: a grandchild may hold them open, so bound the wait.
        let grace = Duration::from_secs(5);
        let stderr = tokio::time::timeout(grace, read_err)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let stdout = tokio::time::timeout(grace, read_out)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        if status.success() {
            self.completed(&stdout)
        } else {
            Err(self.failed(status, &stderr))
        }
    }

    /// Start the program for `job`, in its own process group, with piped standard streams.
    fn spawn(&self, job: &RunnerJob) -> Result<Child, JobError> {
        let doc = job.document();
        let mut command = Command::new(&self.spec.program);
        command.args(&self.spec.args).env_clear();
        for name in &self.spec.inherit_env {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .envs(&self.spec.env)
            .env("BULLRING_JOB_ID", &doc.id)
            .env("BULLRING_JOB_NAME", &doc.name)
            .env("BULLRING_QUEUE", &doc.queue)
            .env("BULLRING_ATTEMPT", job.attempt().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        if let Some(dir) = &self.spec.cwd {
            command.current_dir(dir);
        }
        command.spawn().map_err(|e| {
            JobError::retry(format!(
                "command {} could not start: {e}",
                self.spec.program
            ))
        })
    }

    /// The outcome of a program that ran past its timeout (and was killed).
    fn timed_out(&self, stderr: &str) -> JobError {
        JobError::retry(format!(
            "command {} timed out after {} s and was killed",
            self.spec.program,
            self.spec.timeout.as_secs()
        ))
        .with_detail(format!(
            "command: {}\nstderr (tail):\n{}",
            self.describe(),
            tail(stderr.trim_end(), STDERR_TAIL)
        ))
    }

    /// The outcome of exit 0: standard output as the return value.
    fn completed(&self, stdout: &[u8]) -> JobResult {
        if stdout.len() > MAX_STDOUT {
            return Err(JobError::fatal(format!(
                "command {} wrote more than {} MiB to standard output",
                self.spec.program,
                MAX_STDOUT / 1024 / 1024
            )));
        }
        if stdout.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        let text = String::from_utf8_lossy(stdout);
        Ok(serde_json::from_slice(stdout)
            .unwrap_or_else(|_| Value::String(text.trim_end_matches('\n').to_string())))
    }

    /// The outcome of any other exit: the tail of standard error as the reason.
    fn failed(&self, status: ExitStatus, stderr: &str) -> JobError {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => killed_by(status),
        };
        let trimmed = stderr.trim();
        let reason = if trimmed.is_empty() {
            format!("command {} {how}", self.spec.program)
        } else {
            tail(trimmed, REASON_BYTES)
        };
        JobError::retry(reason).with_detail(format!(
            "command: {}\n{how}\nstderr (tail):\n{}",
            self.describe(),
            tail(trimmed, STDERR_TAIL)
        ))
    }
}

/// "was killed by signal N" for a program that did not exit by itself.
fn killed_by(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        format!("was killed by signal {}", status.signal().unwrap_or(0))
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        "was killed".to_string()
    }
}

/// Write the job document to the program's standard input, then close it.
fn feed_stdin(mut stdin: ChildStdin, input: Vec<u8>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // A program that does not read its input closes the pipe: that is not an error.
        let _ = stdin.write_all(&input).await;
        let _ = stdin.shutdown().await;
    })
}

/// Keep up to [`MAX_STDOUT`] (and one byte more, to tell) of standard output.
fn read_stdout(mut stdout: ChildStdout) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        let mut limited = (&mut stdout).take(MAX_STDOUT as u64 + 1);
        let _ = limited.read_to_end(&mut out).await;
        // Drain the rest so the program never blocks on a full pipe.
        let _ = tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await;
        out
    })
}

/// Follow standard error: `::progress` and `::log` lines act on `job`, the other lines are
/// kept (their tail) for the failure reason.
fn read_stderr(stderr: ChildStderr, job: RunnerJob) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut kept = String::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match directive(&line) {
                Some(Directive::Progress(value)) => {
                    if let Err(e) = job.progress(value).await {
                        tracing::warn!(job_id = job.id(), error = %e, "cannot set progress");
                    }
                }
                Some(Directive::Log(text)) => {
                    if let Err(e) = job.log(&text).await {
                        tracing::warn!(job_id = job.id(), error = %e, "cannot add a log line");
                    }
                }
                None => {
                    kept.push_str(&line);
                    kept.push('\n');
                    if kept.len() > 2 * STDERR_TAIL {
                        kept = tail(&kept, STDERR_TAIL);
                    }
                }
            }
        }
        kept
    })
}

/// Kills the program's process group when dropped while armed: a job future dropped mid-run
/// (shutdown timeout, process exit) takes the program's children with it, where tokio's
/// `kill_on_drop` would kill the program alone.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0.take());
    }
}

/// SIGKILL the process group led by `pid` (the program and anything it started).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok())
        && pid > 0
    {
        // SAFETY: killpg only sends a signal; the group was created for this child.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directives() {
        assert_eq!(
            directive("::progress 42"),
            Some(Directive::Progress(serde_json::json!(42)))
        );
        assert_eq!(
            directive("::progress {\"step\":\"upload\"}"),
            Some(Directive::Progress(serde_json::json!({"step": "upload"})))
        );
        assert_eq!(
            directive("::log hello there"),
            Some(Directive::Log("hello there".into()))
        );
        assert_eq!(directive("plain error"), None);
    }
}
