//! The dashboard's accept loop: each connection is served by hyper's HTTP/1 server within the
//! configured [`Limits`].
//!
//! - A client that has not sent a whole request head within `header_timeout` is disconnected
//!   (hyper's header-read timer, which needs the Tokio timer set here).
//! - A keep-alive connection with no request in flight that received nothing for `idle_timeout`
//!   is closed (a watchdog per connection; a streaming answer counts as in flight until its body
//!   is dropped).
//! - At most `max_connections` are served at once. One more is answered `503` with `Retry-After`
//!   and closed; past a few such answers at once, further connections are closed unanswered.
//! - At most `max_event_streams` live-update streams (`{base}/events`) are open at once; one more
//!   is answered `503` with `Retry-After`.
//! - A request that runs longer than `request_timeout` is answered `503` saying so (event streams
//!   are exempt: they are meant to last).
//!
//! These refusals are decided here, before or around the handlers, but answered by the router:
//! the request goes through it marked [`Refused`], and `web::error` renders the `503` as for any
//! error (a page, or JSON under `{base}/api/`, with the security headers and `Retry-After`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::limits::Limits;
use crate::text::Said;
use crate::web::error::{Refused, WebError};

/// Seconds a client is told to wait (`Retry-After`) when the server is full.
pub const RETRY_AFTER_SECS: u64 = 2;
/// Connections over the cap answered `503` at the same time; beyond that they are just closed.
const REFUSALS_AT_ONCE: usize = 32;

/// What every connection shares.
struct Shared {
    app: Router,
    limits: Limits,
    /// The path of the live-update stream (`{base}/events`).
    events_path: String,
    streams: Arc<Semaphore>,
}

/// Serve `app` on `listener` within `limits` until `cancel` fires, then wait for the open
/// connections to finish (each is told to close after its current request).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    events_path: String,
    cancel: CancellationToken,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let shared = Arc::new(Shared {
        app,
        streams: Arc::new(Semaphore::new(limits.max_event_streams)),
        limits,
        events_path,
    });
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Ok(permit) = connections.clone().try_acquire_owned() {
            let (shared, cancel) = (shared.clone(), cancel.clone());
            tracker.spawn(connection(stream, peer, shared, permit, cancel));
        } else if let Ok(permit) = refusals.clone().try_acquire_owned() {
            tracker.spawn(refuse(stream, peer, shared.clone(), permit));
        } else {
            drop(stream);
        }
    }
    tracker.close();
    tracker.wait().await;
}

/// Answer a request the server refuses with a `503` and `Retry-After`, saying `message`: the
/// router renders it like any other error (`web::error::render_errors`). A path no error
/// renderer covers (outside the dashboard's base path) gets the same message as plain text.
async fn busy(app: &Router, parts: Parts, message: Said) -> Response<Body> {
    let mut request = Request::from_parts(parts, Body::empty());
    request.extensions_mut().insert(Refused(WebError::Busy {
        message: message.clone(),
        retry_after: RETRY_AFTER_SECS,
    }));
    let response = routed(app, request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        return response;
    }
    let mut response = Response::new(Body::from(message.english()));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a refusal needs of a request to be answered in its shape: its method, address and
/// headers (the base path, a proxy's prefix), and who sent it (whether that is a trusted proxy).
fn parts_of<B>(request: &Request<B>, peer: SocketAddr) -> Parts {
    let mut head = Request::new(());
    *head.method_mut() = request.method().clone();
    *head.uri_mut() = request.uri().clone();
    *head.version_mut() = request.version();
    *head.headers_mut() = request.headers().clone();
    head.extensions_mut().insert(ConnectInfo(peer));
    head.into_parts().0
}

/// HTTP/1 with the header-read timeout on.
fn http1(limits: &Limits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
}

/// Answer one request of a connection over the cap with a `503`, then close it.
async fn refuse(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
) {
    let limits = shared.limits.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let shared = shared.clone();
        async move {
            let max = shared.limits.max_connections;
            let message = Said::new("busy.connections").with("max", max);
            Ok::<_, Infallible>(busy(&shared.app, parts_of(&request, peer), message).await)
        }
    });
    let served = http1(&limits)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = served.await;
}

/// When a connection last received bytes or finished a request, and how many requests it has in
/// flight.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Nothing in flight and nothing received for `limit`.
    fn idle_for(&self, limit: Duration) -> bool {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.in_flight.load(Ordering::Relaxed) == 0 && self.start.elapsed() >= last + limit
    }
}

/// One request in flight on a connection, until dropped (with the answer's body).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serve one connection until the client closes it, it idles out, or shutdown.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
    cancel: CancellationToken,
) {
    let activity = Arc::new(Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let idle = shared.limits.idle_timeout;
    let builder = http1(&shared.limits);
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let (shared, activity) = (shared.clone(), activity.clone());
            async move { Ok::<_, Infallible>(answer(request, peer, &shared, &activity).await) }
        })
    };
    let served = builder.serve_connection(io, service);
    let mut served = std::pin::pin!(served);
    // Checked a few times per idle period, so a connection closes within 1.25 of it.
    let mut watchdog = tokio::time::interval((idle / 4).max(Duration::from_millis(10)));
    let mut closing = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection ended");
                }
                return;
            }
            _ = cancel.cancelled(), if !closing => {
                served.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = watchdog.tick(), if !closing => {
                if activity.idle_for(idle) {
                    served.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// Route one request, within the request time limit and the event-stream cap.
async fn answer(
    mut request: Request<Incoming>,
    peer: SocketAddr,
    shared: &Shared,
    activity: &Arc<Activity>,
) -> Response<Body> {
    let in_flight = InFlight::enter(activity);
    request.extensions_mut().insert(ConnectInfo(peer));
    let request = request.map(Body::new);
    let limits = &shared.limits;
    if is_events_path(request.uri().path(), &shared.events_path) {
        let Ok(stream) = shared.streams.clone().try_acquire_owned() else {
            let message = Said::new("busy.streams").with("max", limits.max_event_streams);
            return busy(&shared.app, parts_of(&request, peer), message).await;
        };
        let response = routed(&shared.app, request).await;
        return response.map(|body| Guarded::wrap(body, (in_flight, Some(stream))));
    }
    let parts = parts_of(&request, peer);
    match tokio::time::timeout(limits.request_timeout, routed(&shared.app, request)).await {
        Ok(response) => response.map(|body| Guarded::wrap(body, (in_flight, None))),
        Err(_) => {
            let message = Said::new("busy.timeout").with("ms", limits.request_timeout.as_millis());
            busy(&shared.app, parts, message).await
        }
    }
}

/// The router's answer (it never fails).
async fn routed(app: &Router, request: Request<Body>) -> Response<Body> {
    match app.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// An answer's body that holds its request's guards until it is sent or dropped.
struct Guarded {
    inner: Body,
    _guards: (InFlight, Option<OwnedSemaphorePermit>),
}

impl Guarded {
    fn wrap(inner: Body, guards: (InFlight, Option<OwnedSemaphorePermit>)) -> Body {
        Body::new(Guarded {
            inner,
            _guards: guards,
        })
    }
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket that notes when it last received bytes.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Whether `path` is a live-update stream: `{base}/events`, or another connection's
/// `{base}/c/{name}/events`.
fn is_events_path(path: &str, events_path: &str) -> bool {
    if path == events_path {
        return true;
    }
    let base = events_path.strip_suffix("/events").unwrap_or(events_path);
    path.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix("/c/"))
        .and_then(|rest| rest.strip_suffix("/events"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}
