//! The outgoing HTTP client shared by the runner's webhook handler and alert webhooks: HTTP/1.1 over plain
//! TCP or TLS (webpki roots), connections kept alive and reused; and [`shown_url`], the one way a
//! webhook URL is logged, stored or shown (a Slack or Mattermost URL is itself the secret).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A client for `http://` and `https://` URLs.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A new client (cheap to clone; clones share connections).
pub fn client() -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// How a webhook URL may be logged, stored or shown: scheme, host (with port) and path, without
/// the user information, query or fragment that may carry a token. Text that is not a URL shows
/// as `(not a URL)`.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let after = &rest[authority_end..];
    let path = &after[..after.find(['?', '#']).unwrap_or(after.len())];
    format!("{scheme}://{host}{path}")
}

/// A webhook URL with its secret parts known: used to send, shown only as [`shown_url`], and able
/// to scrub those parts out of any text (an error chain from the HTTP stack may quote them).
#[derive(Clone)]
pub struct WebhookUrl {
    full: String,
    shown: String,
    /// The user information, query and fragment, as written (empty ones left out).
    secrets: Vec<String>,
}

impl WebhookUrl {
    pub fn new(url: &str) -> WebhookUrl {
        let mut secrets = Vec::new();
        if let Some((_, rest)) = url.split_once("://") {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            if let Some((userinfo, _)) = rest[..authority_end].rsplit_once('@') {
                secrets.push(userinfo.to_string());
            }
            let after = &rest[authority_end..];
            if let Some(start) = after.find(['?', '#']) {
                secrets.extend(
                    after[start + 1..]
                        .split(['?', '#'])
                        .filter(|part| !part.is_empty())
                        .map(str::to_string),
                );
            }
        }
        // Longest first, so that a part containing another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        WebhookUrl {
            full: url.to_string(),
            shown: shown_url(url),
            secrets,
        }
    }

    /// For a URL whose path is the secret too (Slack's and Mattermost's incoming webhooks): shown as
    /// scheme and host only, and the path scrubbed from any text.
    pub fn path_is_secret(mut self) -> WebhookUrl {
        let origin_len = self
            .shown
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| self.shown[start..].find('/').map(|i| start + i))
            .unwrap_or(self.shown.len());
        let path = self.shown[origin_len..].to_string();
        self.shown.truncate(origin_len);
        if path.len() > 1 {
            self.secrets.push(path);
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    /// The URL to send to, secrets included: never log it.
    pub fn full(&self) -> &str {
        &self.full
    }

    /// The URL as it may be shown.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` with the full URL replaced by its shown form and any secret part by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.full, &self.shown);
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "***");
        }
        out
    }

    /// An error and its causes on one line each, scrubbed.
    pub fn scrub_error(&self, err: &dyn std::error::Error) -> String {
        let mut lines = vec![err.to_string()];
        let mut source = err.source();
        while let Some(cause) = source {
            lines.push(format!("caused by: {cause}"));
            source = cause.source();
        }
        self.scrub(&lines.join("\n"))
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.shown)
    }
}

/// Why the HTTP stack failed, as text already scrubbed of the URL's secrets (its own error types
/// may quote the URL).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScrubbedCause(String);

/// Why a POST got no answer. Every URL in it is a shown one.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("url {url}")]
    Url {
        url: WebhookUrl,
        #[source]
        source: hyper::http::uri::InvalidUri,
    },
    #[error("header {name:?}")]
    Header {
        name: String,
        #[source]
        source: hyper::http::Error,
    },
    #[error("cannot build the request")]
    Request(#[source] ScrubbedCause),
    #[error("{url} could not be reached")]
    Unreachable {
        url: WebhookUrl,
        #[source]
        source: ScrubbedCause,
    },
    #[error("{url} did not answer within {} s", timeout.as_secs())]
    Timeout { url: WebhookUrl, timeout: Duration },
}

/// POST a JSON body; the answer's status, or why there was none.
pub async fn post_json(
    client: &HttpsClient,
    url: &WebhookUrl,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<StatusCode, PostError> {
    let uri: Uri = url.full().parse().map_err(|source| PostError::Url {
        url: url.clone(),
        source,
    })?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("bullring/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        let bad_header = |source| PostError::Header {
            name: name.clone(),
            source,
        };
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| bad_header(hyper::http::Error::from(e)))?;
        let header_value =
            HeaderValue::from_str(value).map_err(|e| bad_header(hyper::http::Error::from(e)))?;
        request = request.header(header_name, header_value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| PostError::Request(ScrubbedCause(url.scrub_error(&e))))?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok(response.status()),
        Ok(Err(source)) => Err(PostError::Unreachable {
            url: url.clone(),
            source: ScrubbedCause(url.scrub_error(&source)),
        }),
        Err(_) => Err(PostError::Timeout {
            url: url.clone(),
            timeout,
        }),
    }
}
