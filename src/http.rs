//! The outgoing HTTP client shared by the runner's webhook handler and alert webhooks: HTTP/1.1 over plain
//! TCP or TLS (webpki roots), connections kept alive and reused.

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

/// Why a POST got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("url {url:?}")]
    Url {
        url: String,
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
    Request(#[source] hyper::http::Error),
    #[error("{url} could not be reached")]
    Unreachable {
        url: String,
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    #[error("{url} did not answer within {} s", timeout.as_secs())]
    Timeout { url: String, timeout: Duration },
}

/// POST a JSON body; the answer's status, or why there was none.
pub async fn post_json(
    client: &HttpsClient,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<StatusCode, PostError> {
    let uri: Uri = url.parse().map_err(|source| PostError::Url {
        url: url.into(),
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
        .map_err(PostError::Request)?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok(response.status()),
        Ok(Err(source)) => Err(PostError::Unreachable {
            url: url.into(),
            source,
        }),
        Err(_) => Err(PostError::Timeout {
            url: url.into(),
            timeout,
        }),
    }
}
