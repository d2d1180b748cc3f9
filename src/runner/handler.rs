//! A worker's handler ready to process jobs: a webhook, a command, the no-op, or the closures
//! registered by job name through the Rust API ([`Closure`]), built from the validated specs.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::command::CommandHandler;
use super::error::RunnerError;
use super::job::{JobError, JobResult, RunnerJob};
use super::webhook::Webhook;
use crate::config::runner::{HandlerSpec, WorkerSpec};

/// A closure registered by job name.
pub type Closure =
    Arc<dyn Fn(RunnerJob) -> Pin<Box<dyn Future<Output = JobResult> + Send>> + Send + Sync>;

/// Closures by job name.
pub type Closures = HashMap<String, Closure>;

/// Wrap a handler function as a [`Closure`].
pub fn closure<F, Fut>(f: F) -> Closure
where
    F: Fn(RunnerJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobResult> + Send + 'static,
{
    Arc::new(move |job| Box::pin(f(job)))
}

/// A handler ready to process jobs.
#[derive(Clone)]
pub(crate) enum Handler {
    Webhook(Box<Webhook>),
    Command(CommandHandler),
    Noop,
    Closures(Arc<Closures>),
}

impl Handler {
    /// The handlers of `workers`, in order; closures go to the workers that take them.
    pub(crate) fn for_workers(
        workers: &[WorkerSpec],
        closures: Closures,
    ) -> Result<Vec<Handler>, RunnerError> {
        let closures = Arc::new(closures);
        let wants_closures = workers.iter().any(|w| w.handler == HandlerSpec::Closures);
        if !closures.is_empty() && !wants_closures {
            return Err(RunnerError::UnusedClosures {
                registered: registered(&closures),
            });
        }
        workers
            .iter()
            .map(|spec| Handler::new(spec, &closures))
            .collect()
    }

    fn new(spec: &WorkerSpec, closures: &Arc<Closures>) -> Result<Handler, RunnerError> {
        Ok(match &spec.handler {
            HandlerSpec::Webhook(w) => {
                Handler::Webhook(Box::new(Webhook::new(w).map_err(|source| {
                    RunnerError::Webhook {
                        label: spec.label.clone(),
                        source,
                    }
                })?))
            }
            HandlerSpec::Command(c) => Handler::Command(CommandHandler::new(c)),
            HandlerSpec::Noop => Handler::Noop,
            HandlerSpec::Closures if closures.is_empty() => {
                return Err(RunnerError::MissingHandler {
                    label: spec.label.clone(),
                });
            }
            HandlerSpec::Closures => Handler::Closures(closures.clone()),
        })
    }

    /// What the stack trace entries and logs call this handler.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Handler::Webhook(_) => "webhook",
            Handler::Command(_) => "command",
            Handler::Noop => "noop",
            Handler::Closures(_) => "closure",
        }
    }

    /// Process one job.
    pub(crate) async fn call(&self, job: &RunnerJob) -> JobResult {
        match self {
            Handler::Webhook(webhook) => webhook.call(job.document()).await,
            Handler::Command(command) => command.call(job).await,
            Handler::Noop => Ok(serde_json::Value::Null),
            Handler::Closures(closures) => match closures.get(job.name()) {
                Some(closure) => closure(job.clone()).await,
                None => Err(JobError::fatal(format!(
                    "no handler is registered for job name {:?} (registered: {})",
                    job.name(),
                    registered(closures)
                ))),
            },
        }
    }
}

/// The registered job names, sorted, comma separated.
fn registered(closures: &Closures) -> String {
    let mut names: Vec<&str> = closures.keys().map(String::as_str).collect();
    names.sort_unstable();
    names.join(", ")
}
