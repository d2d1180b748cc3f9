//! The `webhook` handler: POST the job as JSON to a URL and map the answer to the job's outcome.
//!
//! - 2xx: completed, with the response body as return value (JSON when it parses, otherwise the
//!   text; an empty body gives `null`);
//! - 4xx: failed for good (no further attempts), unless `retry_4xx = true`;
//! - 5xx, a timeout, a refused or broken connection: failed, and BullMQ's attempts and backoff
//!   apply.
//!
//! Every delivery carries `x-bullring-timestamp` (Unix seconds) and `x-bullring-delivery` (a fresh
//! random id per attempt). With a `secret`, all three are signed:
//! `<signature_header>: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<delivery>.<body>")>`, so a
//! receiver can refuse an old or a repeated delivery.
//!
//! The URL is only ever shown as [`crate::http::shown_url`] gives it (no user information, query or
//! fragment), in the job's failed reason and stack trace as in logs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

use crate::http::{HttpsClient, WebhookUrl};

/// Header with the Unix time (seconds) the delivery was sent at.
pub const TIMESTAMP_HEADER: &str = "x-bullring-timestamp";
/// Header with the delivery's random id (new for every attempt).
pub const DELIVERY_HEADER: &str = "x-bullring-delivery";

/// A configured webhook target with its HTTP client (connections are kept alive and reused).
#[derive(Clone)]
pub struct Webhook {
    uri: Uri,
    url: WebhookUrl,
    timeout: Duration,
    headers: Vec<(HeaderName, HeaderValue)>,
    secret: Option<Vec<u8>>,
    signature_header: HeaderName,
    retry_4xx: bool,
    client: HttpsClient,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url.shown())
            .finish()
    }
}

/// The signature header value of a delivery: `sha256=<hex HMAC-SHA256(secret,
/// "<timestamp>.<delivery>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: &str, delivery: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(delivery.as_bytes());
    mac.update(b".");
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
    #[error("webhook url {url}")]
    Url {
        url: WebhookUrl,
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
        let url = WebhookUrl::new(&spec.url);
        let uri: Uri = spec.url.parse().map_err(|source| WebhookError::Url {
            url: url.clone(),
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
            url,
            timeout: spec.timeout,
            headers,
            secret: spec.secret.as_ref().map(|s| s.as_bytes().to_vec()),
            signature_header,
            retry_4xx: spec.retry_4xx,
            client,
        })
    }

    /// The URL as it may be shown (no user information, query or fragment).
    pub fn url(&self) -> &str {
        self.url.shown()
    }

    /// POST the job document and turn the answer into the job's outcome.
    pub async fn call(&self, doc: &JobDocument) -> JobResult {
        let body = serde_json::to_vec(doc)?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string();
        let delivery = delivery_id()
            .map_err(|e| JobError::retry(format!("cannot make a delivery id: {e}")))?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("bullring/", env!("CARGO_PKG_VERSION")))
            .header("x-bullring-queue", header_text(&doc.queue))
            .header("x-bullring-job-id", header_text(&doc.id))
            .header(TIMESTAMP_HEADER, &timestamp)
            .header(DELIVERY_HEADER, &delivery);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(secret) = &self.secret {
            request = request.header(
                &self.signature_header,
                signature(secret, &timestamp, &delivery, &body),
            );
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| {
            JobError::fatal(format!(
                "cannot build the request: {}",
                self.url.scrub(&e.to_string())
            ))
        })?;

        let started = Instant::now();
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                JobError::retry(format!("webhook {} could not be reached", self.url))
                    .with_detail(self.url.scrub_error(&e))
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
                    .with_detail(self.url.scrub(&e.to_string()))
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
            tail(&self.url.scrub(text.trim()), DETAIL_BYTES)
        );
        let error = if status.is_client_error() && !self.retry_4xx {
            JobError::fatal(reason)
        } else {
            JobError::retry(reason)
        };
        Err(error.with_detail(detail))
    }
}

/// A fresh random delivery id: 32 hex digits from the system's random source.
fn delivery_id() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Header values cannot hold control characters; job ids and queue names rarely do.
fn header_text(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_timestamp_delivery_and_body() {
        // Python's hmac module on b"1700000000.d1.what do ya want for nothing?" under b"Jefe".
        assert_eq!(
            signature(b"Jefe", "1700000000", "d1", b"what do ya want for nothing?"),
            "sha256=328808f9e27f67169d5d684645dbfeba74d9502842519d2e6d93f08a7839609d"
        );
    }

    #[test]
    fn delivery_ids_are_fresh() {
        let (a, b) = (delivery_id().unwrap(), delivery_id().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }
}
