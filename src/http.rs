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

/// POST a JSON body; the answer's status, or why there was none.
pub async fn post_json(
    client: &HttpsClient,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<StatusCode, String> {
    let uri: Uri = url.parse().map_err(|e| format!("url {url:?}: {e}"))?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("bullring/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name:?}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("header {name:?}: {e}"))?;
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => Ok(response.status()),
        Ok(Err(err)) => Err(format!("{url} could not be reached: {err}")),
        Err(_) => Err(format!(
            "{url} did not answer within {} s",
            timeout.as_secs()
        )),
    }
}
