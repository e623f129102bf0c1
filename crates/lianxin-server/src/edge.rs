//! The edge of the server: a request target that is not ASCII is refused, and answers that
//! hyper gives before a request reaches the router get the API's JSON error body too.
//!
//! A client must percent-encode a path or query (`/orders/%E5%B7%A5`); hyper passes raw
//! UTF-8 bytes through, so [`ascii_target`] refuses them with the JSON 400 rather than
//! let a raw `/orders/工单` be read as if it had been encoded.
//!
//! hyper refuses a request it cannot parse (a raw non-ASCII byte in the path or query, a
//! malformed request line or header, headers too large) with a bare status line and an
//! empty body, then closes the connection; no middleware ever sees it. [`EdgeListener`]
//! wraps each accepted connection so that exactly such an answer (a 4xx or 5xx with
//! `content-length: 0` and no `content-type`, which the router never sends: every error
//! of ours carries a JSON body) is rewritten into `{"error":{"code","message"}}`.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Middleware: 400 `malformed_request` for a path or query holding raw (unencoded)
/// non-ASCII bytes.
pub async fn ascii_target(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if !uri.path().is_ascii() || !uri.query().unwrap_or("").is_ascii() {
        return ApiError::malformed(
            "the path or query holds raw non-ASCII bytes; percent-encode them (e.g. `%E5%B7%A5` for 工)",
        )
        .into_response();
    }
    next.run(req).await
}

/// A TCP listener whose connections answer parse errors with the JSON error body.
pub struct EdgeListener(pub TcpListener);

impl axum::serve::Listener for EdgeListener {
    type Io = EdgeIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (EdgeIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that rewrites hyper's empty-bodied error answers (see the module).
pub struct EdgeIo<T> {
    inner: T,
    /// A rewritten answer being written: its bytes, how many are out, and how many bytes
    /// of the caller's buffer it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> EdgeIo<T> {
    pub fn new(inner: T) -> Self {
        EdgeIo { inner, pending: None }
    }
}

/// The error code and message of a status hyper answers by itself.
fn describe(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => (
            "malformed_request",
            "the request line or a header is malformed; a path or query must be ASCII, with other bytes percent-encoded",
        ),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "the request target is too long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ("headers_too_large", "the request headers are too large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request was not received in time"),
        StatusCode::HTTP_VERSION_NOT_SUPPORTED => ("http_version_not_supported", "use HTTP/1.1 or HTTP/2"),
        s if s.is_server_error() => ("internal_error", "the server could not answer"),
        _ => ("bad_request", "the request cannot be read"),
    }
}

/// When `buf` starts with a whole response head that hyper produced by itself (an error
/// status, `content-length: 0`, no `content-type`), the same answer with the JSON error
/// body, and the length of the head it replaces.
pub fn rewrite(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    if !(buf.starts_with(b"HTTP/1.1 ") || buf.starts_with(b"HTTP/1.0 ")) {
        return None;
    }
    let head_len = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_len]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.get(9..12)?.parse().ok()?;
    let status = StatusCode::from_u16(status).ok()?;
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let mut keep = Vec::new();
    let mut empty = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" | "transfer-encoding" => return None,
            "content-length" => empty = value.trim() == "0",
            "connection" => {}
            _ => keep.push(line),
        }
    }
    if !empty {
        return None;
    }
    let (code, message) = describe(status);
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut out = format!("{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    for line in keep {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    out.push_str(&body);
    Some((out.into_bytes(), head_len))
}

impl<T: AsyncRead + Unpin> AsyncRead for EdgeIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EdgeIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match rewrite(buf) {
                Some((bytes, replaces)) => this.pending = Some((bytes, 0, replaces)),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        while let Some((bytes, done, replaces)) = &mut this.pending {
            if *done >= bytes.len() {
                let n = *replaces;
                this.pending = None;
                return Poll::Ready(Ok(n));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(0))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then hands over each response head as one contiguous buffer,
    // which is what `rewrite` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_error_answer_gets_the_json_body_and_others_are_left_alone() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 02:00:00 GMT\r\n\r\n";
        let (out, n) = rewrite(bare).unwrap();
        assert_eq!(n, bare.len());
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"), "{head}");
        assert!(head.contains("date: Wed"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "malformed_request");

        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{}";
        assert!(rewrite(ours).is_none());
        let ok = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ok).is_none());
        assert!(rewrite(b"{\"error\":1}").is_none());
    }
}
