//! The HTTP server: accepts connections (hyper 1, HTTP/1.1), reads each request under the limits,
//! hands it to the edge its path belongs to (`/_emu/` control, `/v5/` Huawei, `/` Alibaba), and
//! stops gracefully. A panic in a handler becomes the cloud's 500 and a log line, never a dead
//! server.

mod timer;

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::cloud::aliyun::AliyunError;
use crate::cloud::huawei::HuaweiError;
use crate::cloud::{Headers, Prepared, WireRequest, WireResponse};
use crate::control::{self, journal::Logged};
use crate::instant::Millis;
use crate::state::State;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: usize,
    /// A client that has not sent its whole head by then is cut off.
    pub header_timeout: Duration,
    /// Header count and total header bytes answered with 431 in the cloud's envelope.
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// How long a graceful stop waits for in-flight requests.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 1024 * 1024, header_timeout: Duration::from_secs(10), max_headers: 100, max_header_bytes: 16 * 1024, drain: Duration::from_secs(10) }
    }
}

/// hyper's own limits sit above ours, so that ours answer first, in the right envelope; past
/// hyper's, it refuses with a bare 431 and closes.
const HYPER_MAX_HEADERS: usize = 400;
const HYPER_MAX_BUF: usize = 256 * 1024;

/// Serves until `shutdown` resolves, then stops accepting and lets open requests finish.
pub async fn serve(listener: TcpListener, state: Arc<State>, limits: Limits, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let sweeper = timer::Sweeper::new(limits.header_timeout);
    let sweeping = tokio::spawn(sweeper.clone().run());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors and the like: pause instead of spinning or dying.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The connection's own handle on the state: each request's clone counts on it,
                // not on the count every connection shares (a cache line the cores would pass
                // back and forth per request).
                let state = Arc::new(state.clone());
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(&state, req, limits).await) }
                });
                let conn = http1::Builder::new()
                    .timer(sweeper.connection())
                    // A client that sends its request and shuts its write side still gets the answer.
                    .half_close(true)
                    .header_read_timeout(limits.header_timeout)
                    .max_headers(HYPER_MAX_HEADERS)
                    .max_buf_size(HYPER_MAX_BUF)
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = watched.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("stopped with requests still in flight after {:?}", limits.drain);
    }
    sweeping.abort();
    Ok(())
}

fn is_control(path: &str) -> bool {
    path.starts_with(control::PREFIX) || path == "/_emu"
}

/// Runs `f`, turning a panic into a log line and `None`.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|panic| {
            let message = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            tracing::error!("{what} panicked: {message}");
        })
        .ok()
}

async fn handle(state: &State, req: Request<Incoming>, limits: Limits) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let mut wire = WireRequest {
        method: match parts.method.as_str() {
            "GET" => Cow::Borrowed("GET"),
            "POST" => Cow::Borrowed("POST"),
            other => Cow::Owned(other.to_string()),
        },
        path: match parts.uri.path() {
            "/" => Cow::Borrowed("/"),
            other => Cow::Owned(other.to_string()),
        },
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: {
            let mut headers = Headers::with_capacity(parts.headers.len(), 64 * parts.headers.len());
            for (name, value) in &parts.headers {
                headers.push(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            }
            headers
        },
        body: Bytes::new(),
    };
    let header_bytes: usize = wire.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let oversized_head = wire.headers.len() > limits.max_headers || header_bytes > limits.max_header_bytes;
    let declared = parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let unread = if oversized_head {
        Some(431)
    } else if declared.is_some_and(|n| n > limits.max_body as u64) {
        Some(413)
    } else {
        match Limited::new(body, limits.max_body).collect().await {
            Ok(collected) => {
                wire.body = collected.to_bytes();
                None
            }
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Some(413),
            Err(e) => {
                tracing::debug!("could not read a request body: {e}");
                Some(400)
            }
        }
    };
    let response = respond(state, wire, unread, &limits).await;
    into_hyper(response, unread.is_some())
}

/// Everything after the HTTP layer: a request already read (or refused unread, with the status
/// saying why) to the control API or to an operation, answered and journalled. Public so that
/// the benchmark can measure it without a network in between.
pub async fn respond(state: &State, mut wire: WireRequest, unread: Option<u16>, limits: &Limits) -> WireResponse {
    let started = std::time::Instant::now();
    let arrived_ms = chrono::Utc::now().timestamp_millis();
    let virtual_now = state.clock.at(started);
    if is_control(&wire.path) {
        return match unread {
            Some(status) => WireResponse::new(status, "application/json", serde_json::json!({ "error": unread_reason(status) }).to_string().into_bytes()),
            None => guarded("control request", || control::handle_request(state, &wire))
                .unwrap_or_else(|| WireResponse::new(500, "application/json", b"{\"error\":\"internal error\"}".to_vec())),
        };
    }
    let Some(mut prepared) = guarded("request routing", || Prepared::new(state, &wire)) else {
        return WireResponse::new(500, "text/plain", b"internal error".to_vec());
    };
    let response = match unread {
        Some(status) => prepared_error(&prepared, status, limits),
        None => answer(state, &prepared, &wire, virtual_now).await,
    };
    // What the journal keeps is moved out of the request, not copied; it is formatted when read.
    state.journal.record(Logged {
        arrived_ms,
        virtual_ms: virtual_now,
        cloud: prepared.cloud(),
        product: prepared.product(),
        operation: prepared.operation_name(),
        method: std::mem::take(&mut wire.method),
        path: std::mem::take(&mut wire.path),
        parameters: prepared.journal_parameters(&mut wire),
        tenant: prepared.tenant(),
        request_id: prepared.take_request_id(),
        status: response.status,
        error_code: response.error_code.clone(),
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    response
}

fn unread_reason(status: u16) -> &'static str {
    match status {
        413 => "the request body is over the size limit",
        431 => "the request has too many or too large headers",
        _ => "the request body could not be read",
    }
}

/// A request refused before it could be read, in its cloud's envelope.
fn prepared_error(prepared: &Prepared, status: u16, limits: &Limits) -> WireResponse {
    match (prepared, status) {
        (Prepared::Aliyun(p), 413) => p.error(&AliyunError::body_too_large(limits.max_body)),
        (Prepared::Aliyun(p), 431) => p.error(&AliyunError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("The request headers exceed the limit of {} headers or {} bytes.", limits.max_headers, limits.max_header_bytes),
        )),
        (Prepared::Aliyun(p), _) => p.error(&AliyunError::new(400, "InvalidParameter", "The request body could not be read.")),
        (Prepared::Huawei(p), 413) => p.error(&HuaweiError::body_too_large(limits.max_body)),
        (Prepared::Huawei(p), 431) => p.error(&HuaweiError::gateway(
            431,
            "APIGW.0201",
            format!("Request headers too large: over {} headers or {} bytes.", limits.max_headers, limits.max_header_bytes),
        )),
        (Prepared::Huawei(p), _) => p.error(&HuaweiError::unparsable()),
    }
}

/// The gate, then the fault rules (latency waits here, off any lock), then the operation.
/// `arrived` is the virtual instant the request came in; an injected delay moves it on.
async fn answer(state: &State, prepared: &Prepared, wire: &WireRequest, arrived: Millis) -> WireResponse {
    match guarded("authentication", || prepared.authenticate(state, wire)) {
        None => return prepared.internal_error(),
        Some(Err(refused)) => return refused,
        Some(Ok(())) => {}
    }
    let tenant = prepared.tenant();
    let effect = state.faults.decide(prepared.operation(), tenant.as_deref());
    let now = if effect.delay.is_zero() {
        arrived
    } else {
        tokio::time::sleep(effect.delay).await;
        state.clock.now()
    };
    match &effect.failure {
        Some(failure) => prepared.fail(failure),
        None => guarded("operation", || prepared.run(state, wire, now)).unwrap_or_else(|| prepared.internal_error()),
    }
}

fn into_hyper(response: WireResponse, close: bool) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(crate::render::buffers::into_bytes(response.body)));
    *answer.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(response.content_type));
    for (name, value) in response.headers {
        // A value that is not a valid header (never one of ours) is left out rather than sent.
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.append(name, value);
        }
    }
    if close {
        // The unread rest of a refused body would otherwise be parsed as the next request.
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_none_not_an_unwind() {
        assert_eq!(guarded("test", || 7), Some(7));
        assert_eq!(guarded("test", || -> u8 { panic!("boom (expected by this test)") }), None);
    }

    #[test]
    fn control_paths_are_told_apart() {
        assert!(is_control("/_emu/health") && is_control("/_emu"));
        assert!(!is_control("/") && !is_control("/v5/p/image/tasks") && !is_control("/_emux"));
    }
}
