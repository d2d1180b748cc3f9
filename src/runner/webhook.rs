//! The `webhook` handler: POST the job as JSON to a URL and map the answer to the job's outcome.
//!
//! - 2xx: completed, with the response body as return value (JSON when it parses, otherwise the
//!   text; an empty body gives `null`);
//! - 4xx: failed for good (no further attempts), unless `retry_4xx = true`;
//! - 5xx, a timeout, a refused or broken connection: failed, and BullMQ's attempts and backoff
//!   apply.
//!
//! With a `secret`, the body is signed: `<signature_header>: sha256=<hex HMAC-SHA256(secret, body)>`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use serde_json::Value;

use super::job::{JobDocument, JobError, JobResult, tail};
use crate::config::runner::WebhookSpec;

/// Largest response body read back (bigger bodies fail the job: a return value that large
/// does not belong in Redis).
const MAX_RESPONSE: usize = 4 * 1024 * 1024;
/// How much of an error response goes into the stack trace entry.
const DETAIL_BYTES: usize = 2048;

use crate::http::HttpsClient;

/// A configured webhook target with its HTTP client (connections are kept alive and reused).
#[derive(Clone)]
pub struct Webhook {
    uri: Uri,
    url: String,
    timeout: Duration,
    headers: Vec<(HeaderName, HeaderValue)>,
    secret: Option<Vec<u8>>,
    signature_header: HeaderName,
    retry_4xx: bool,
    client: HttpsClient,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).finish()
    }
}

/// The HMAC-SHA256 signature header value of `body` under `secret`: `sha256=<hex>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Why a webhook handler could not be built from its (already checked) spec.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook url {url:?}")]
    Url {
        url: String,
        #[source]
        source: hyper::http::uri::InvalidUri,
    },
    #[error("webhook header {name:?}")]
    Header {
        name: String,
        #[source]
        source: hyper::http::Error,
    },
}

impl Webhook {
    /// Build the handler from a validated spec (the URL and headers were checked at load).
    pub fn new(spec: &WebhookSpec) -> Result<Webhook, WebhookError> {
        let uri: Uri = spec.url.parse().map_err(|source| WebhookError::Url {
            url: spec.url.clone(),
            source,
        })?;
        let mut headers = Vec::new();
        for (name, value) in &spec.headers {
            let bad_header = |source| WebhookError::Header {
                name: name.clone(),
                source,
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| bad_header(hyper::http::Error::from(e)))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| bad_header(hyper::http::Error::from(e)))?;
            headers.push((name, value));
        }
        let signature_header =
            HeaderName::from_bytes(spec.signature_header.as_bytes()).map_err(|e| {
                WebhookError::Header {
                    name: spec.signature_header.clone(),
                    source: e.into(),
                }
            })?;
        let client = crate::http::client();
        Ok(Webhook {
            uri,
            url: spec.url.clone(),
            timeout: spec.timeout,
            headers,
            secret: spec.secret.as_ref().map(|s| s.as_bytes().to_vec()),
            signature_header,
            retry_4xx: spec.retry_4xx,
            client,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// POST the job document and turn the answer into the job's outcome.
    pub async fn call(&self, doc: &JobDocument) -> JobResult {
        let body = serde_json::to_vec(doc)?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("bullring/", env!("CARGO_PKG_VERSION")))
            .header("x-bullring-queue", header_text(&doc.queue))
            .header("x-bullring-job-id", header_text(&doc.id));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(secret) = &self.secret {
            request = request.header(&self.signature_header, signature(secret, &body));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| JobError::fatal(format!("cannot build the request: {e}")))?;

        let started = Instant::now();
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                JobError::retry(format!("webhook {} could not be reached", self.url))
                    .with_detail(error_chain(&e))
            })?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| {
                    JobError::retry(format!(
                        "webhook {} answered {status} but its body could not be read",
                        self.url
                    ))
                    .with_detail(e.to_string())
                })?
                .to_bytes();
            Ok::<_, JobError>((status, bytes))
        };
        let (status, bytes) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(JobError::retry(format!(
                    "webhook {} did not answer within {} s",
                    self.url,
                    self.timeout.as_secs()
                )));
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return Ok(
                serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.into()))
            );
        }
        let reason = format!("webhook {} answered {status}", self.url);
        let detail = format!(
            "status: {status}\nafter: {} ms\nbody: {}",
            started.elapsed().as_millis(),
            tail(text.trim(), DETAIL_BYTES)
        );
        let error = if status.is_client_error() && !self.retry_4xx {
            JobError::fatal(reason)
        } else {
            JobError::retry(reason)
        };
        Err(error.with_detail(detail))
    }
}

/// Header values cannot hold control characters; job ids and queue names rarely do.
fn header_text(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut lines = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        lines.push(format!("caused by: {cause}"));
        source = cause.source();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_rfc_4231_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
