//! The connection side of the server: accepting connections with a header-read timeout
//! (slow clients are closed), the client's address (`ConnectInfo`, or `X-Forwarded-For`
//! from a trusted proxy), a stall timeout on request bodies, the headers of a deployment
//! behind TLS, and who may read `/metrics`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Sleep;

/// How long the server waits for connections to finish after being asked to stop.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` turns true: HTTP/1.1, each request carrying
/// the peer's [`ConnectInfo`]. A connection that has not sent a request's headers within
/// `header_timeout` (also between requests on a kept-alive connection) is closed. On stop
/// it accepts nothing more, lets open requests finish (at most [`DRAIN`]) and returns.
pub async fn serve(listener: TcpListener, app: Router, header_timeout: Duration, mut stop: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, keep serving.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                conns.spawn(connection(stream, peer, app.clone(), header_timeout, stop.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            () = stopping(&mut stop) => break,
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(open = conns.len(), "connections still open at shutdown are closed");
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        tower::ServiceExt::oneshot(app.clone(), req.map(Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    // Hyper's own refusals (a malformed request line, raw non-ASCII bytes) get the JSON body.
    let conn = builder.serve_connection(TokioIo::new(crate::edge::EdgeIo::new(stream)), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended");
            }
        }
        () = stopping(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Resolves when the server is asked to stop (or its handle is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded.iter().rev().find(|ip| !trusted.contains(ip)).copied().unwrap_or(peer)
}

/// The address a request came from (see [`client_ip`]); `unknown` without a connection
/// (a router called in-process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => {
                client_ip(peer.ip(), &parts.headers, &state.settings().trusted_proxies).to_string()
            }
            None => "unknown".to_owned(),
        }))
    }
}

/// Behind TLS (an `https` public URL): every cookie is `Secure` and every answer carries
/// `Strict-Transport-Security`.
pub async fn secure_transport(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if state.settings().https {
        let h = resp.headers_mut();
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        if !cookies.is_empty() {
            h.remove(header::SET_COOKIE);
            for c in cookies {
                h.append(header::SET_COOKIE, with_secure(c));
            }
        }
    }
    resp
}

fn with_secure(cookie: HeaderValue) -> HeaderValue {
    let has =
        cookie.to_str().map(|s| s.split(';').any(|attr| attr.trim().eq_ignore_ascii_case("secure"))).unwrap_or(true);
    if has {
        return cookie;
    }
    let mut bytes = cookie.as_bytes().to_vec();
    bytes.extend_from_slice(b"; Secure");
    HeaderValue::from_bytes(&bytes).unwrap_or(cookie)
}

/// Answers a request whose body stops arriving for the configured time with a JSON 408
/// (`timeout`), whatever the handler made of the broken body.
pub async fn body_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let timeout = state.settings().body_timeout;
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    let req = req.map(|inner| Body::new(StallBody { inner, timeout, sleep: None, stalled: flag }));
    let resp = next.run(req).await;
    if stalled.load(Ordering::SeqCst) {
        let secs = timeout.as_secs_f64();
        let mut r = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request body stopped arriving for {secs} s; send it whole and promptly"),
        )
        .into_response();
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    resp
}

/// A request body that fails when no data arrives for `timeout` (counted from the first
/// time the handler waits for it, and again after every frame).
struct StallBody {
    inner: Body,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    stalled: Arc<AtomicBool>,
}

impl http_body::Body for StallBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.stalled.store(true, Ordering::SeqCst);
                        Poll::Ready(Some(Err(axum::Error::new("the request body stalled"))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Who may read `/metrics` on one listener.
#[derive(Debug, Clone)]
pub enum MetricsAccess {
    /// Anyone (a loopback listener without a token).
    Open,
    /// Only with `Authorization: Bearer <token>`.
    Token(Arc<str>),
    /// Nobody: a listener reachable from elsewhere without a token.
    Closed,
}

impl MetricsAccess {
    /// The rule for a listener on `addr` given the configured token.
    pub fn for_listener(addr: SocketAddr, token: Option<&str>) -> MetricsAccess {
        match token.filter(|t| !t.is_empty()) {
            Some(t) => MetricsAccess::Token(Arc::from(t)),
            None if addr.ip().is_loopback() => MetricsAccess::Open,
            None => MetricsAccess::Closed,
        }
    }

    /// `None` when `headers` may read the metrics; otherwise the refusal.
    pub fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match self {
            MetricsAccess::Open => None,
            MetricsAccess::Closed => Some(
                ApiError::not_found(
                    "metrics are served without a token only on a loopback address: set --metrics-token or \
                 --metrics-listen 127.0.0.1:PORT",
                )
                .into_response(),
            ),
            MetricsAccess::Token(t) => {
                let given = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                    .map(str::trim)
                    .unwrap_or("");
                if same(given.as_bytes(), t.as_bytes()) {
                    None
                } else {
                    let mut r = ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "not_signed_in",
                        "metrics need `Authorization: Bearer <metrics token>`",
                    )
                    .into_response();
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                    Some(r)
                }
            }
        }
    }
}

/// Compares two secrets in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7"));
        assert_eq!(client_ip(proxy, &h, &[]), proxy, "an untrusted peer is taken as it is");
        assert_eq!(client_ip(proxy, &h, &[proxy]).to_string(), "198.51.100.7", "the proxy's own entry");
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn cookies_gain_secure_once() {
        let c = with_secure(HeaderValue::from_static("a=1; Path=/; HttpOnly"));
        assert_eq!(c.to_str().unwrap_or(""), "a=1; Path=/; HttpOnly; Secure");
        let c = with_secure(HeaderValue::from_static("a=1; Secure"));
        assert_eq!(c.to_str().unwrap_or(""), "a=1; Secure");
    }

    #[test]
    fn metrics_are_open_only_on_loopback_without_a_token() {
        let local: SocketAddr = ([127, 0, 0, 1], 9).into();
        let public: SocketAddr = ([0, 0, 0, 0], 9).into();
        assert!(matches!(MetricsAccess::for_listener(local, None), MetricsAccess::Open));
        assert!(matches!(MetricsAccess::for_listener(public, None), MetricsAccess::Closed));
        assert!(matches!(MetricsAccess::for_listener(public, Some("s")), MetricsAccess::Token(_)));
        let mut h = HeaderMap::new();
        assert!(MetricsAccess::for_listener(local, Some("s")).refusal(&h).is_some());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s"));
        assert!(MetricsAccess::for_listener(local, Some("s")).refusal(&h).is_none());
    }
}
