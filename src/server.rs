//! The HTTP server: accepts connections (hyper 1, HTTP/1.1) up to the connection cap, reads each
//! request under the limits, hands it to the edge its path belongs to (`/_emu/` control, `/v5/`
//! Huawei, `/` Alibaba), and stops gracefully. A request refused before it is read (a bad head, a
//! body over the limit or too slow) is answered in its cloud's envelope and the connection closed.
//! A panic in a handler becomes the cloud's 500 and a log line, never a dead server.

mod body;
mod sniff;
mod timer;

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use body::DISCARD_FACTOR;

use crate::cloud::{Bounds, Headers, Prepared, WireRequest, WireResponse};
use crate::control;
use crate::journal::Logged;
use crate::instant::Millis;
use crate::state::State;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: usize,
    /// A client that has not sent its whole head by then is cut off (an idle keep-alive
    /// connection too: it is waiting for a head).
    pub header_timeout: Duration,
    /// A body not all there this long after its head is answered 408 and its connection closed.
    pub body_timeout: Duration,
    /// Header count and total header bytes answered with 431 in the cloud's envelope.
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// How long a graceful stop waits for in-flight requests.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_headers: 100,
            max_header_bytes: 16 * 1024,
            // Below the usual 1024 descriptors a process may open, with room for the rest.
            max_connections: 512,
            drain: Duration::from_secs(10),
        }
    }
}

pub use crate::cloud::Refused;

impl Limits {
    /// What a refusal's message may state: the limits the edges word in their clouds' envelopes.
    fn bounds(&self) -> Bounds {
        Bounds { max_body: self.max_body, max_headers: self.max_headers, max_header_bytes: self.max_header_bytes, body_timeout: self.body_timeout }
    }
}

/// Refused with the body unread but still coming: worth reading and discarding so that the
/// client, still sending, can read the answer.
fn leaves_a_body_to_discard(refused: Refused) -> bool {
    matches!(refused, Refused::NoHost | Refused::UnsupportedCoding | Refused::HeadersTooLarge | Refused::BodyTooLarge)
}

/// hyper's own limits sit above ours, so that ours answer first, in the right envelope; past
/// hyper's, it refuses with a bare 431 and closes.
const HYPER_MAX_BUF: usize = 256 * 1024;

/// hyper's header-count limit: twice ours (a client a little over ours reads its cloud's 431),
/// at least hyper's default. hyper allocates and fills two arrays of this many entries for every
/// request head past its default of 100 (issue 16: at 400 that was a tenth of the server's
/// instructions for a paged ECS call, more than all of hyper's own parsing).
fn hyper_max_headers(ours: usize) -> usize {
    ours.saturating_mul(2).max(100)
}

/// What every request on one connection shares.
struct Connection {
    state: Arc<State>,
    stopping: body::Stopping,
}

/// Serves until `shutdown` resolves, then stops accepting, cuts the connections with no request
/// in flight (waiting for a head or still sending a body), and lets the rest finish within
/// `limits.drain`.
pub async fn serve(listener: TcpListener, state: Arc<State>, limits: Limits, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let sweeper = timer::Sweeper::new(limits.header_timeout);
    let sweeping = tokio::spawn(sweeper.clone().run());
    let (stop, stopping) = body::Stopping::channel();
    // Past the cap a new connection is not accepted: it waits in the kernel's listen backlog
    // until a served one closes, so those being served keep their descriptors and their answers.
    let open = Arc::new(Semaphore::new(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: pause instead of spinning or dying.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The connection's own handle on the state: each request's clone counts on it, not on
        // the count every connection shares (a cache line the cores would pass back and forth
        // per request).
        let connection = Arc::new(Connection { state: state.clone(), stopping: stopping.clone() });
        let service = service_fn(move |req| {
            let connection = connection.clone();
            async move { Ok::<_, Infallible>(handle(&connection, req, limits).await) }
        });
        let conn = http1::Builder::new()
            .timer(sweeper.connection())
            // A client that sends its request and shuts its write side still gets the answer.
            .half_close(true)
            .header_read_timeout(limits.header_timeout)
            .max_headers(hyper_max_headers(limits.max_headers))
            .max_buf_size(HYPER_MAX_BUF)
            .serve_connection(TokioIo::new(sniff::Sniffed::new(stream)), service);
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Bodies still on their way are answered 503 at once, and connections waiting for a head
    // are closed: neither holds the stop for the drain time.
    let _ = stop.send(true);
    let stopping = graceful.shutdown();
    sweeper.expire_all();
    if tokio::time::timeout(limits.drain, stopping).await.is_err() {
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

async fn handle(connection: &Connection, req: Request<Incoming>, limits: Limits) -> Response<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
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
                // UTF-8 (ASCII, nearly always) as it is; the lossy copy only for what is not.
                match std::str::from_utf8(value.as_bytes()) {
                    Ok(text) => headers.push(name.as_str(), text),
                    Err(_) => headers.push(name.as_str(), &String::from_utf8_lossy(value.as_bytes())),
                }
            }
            headers
        },
        body: Bytes::new(),
    };
    let header_bytes: usize = wire.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let refused = if wire.headers.len() > limits.max_headers || header_bytes > limits.max_header_bytes {
        Some(Refused::HeadersTooLarge)
    } else if let Some(refused) = refused_by_head(parts.version, &parts.headers) {
        Some(refused)
    } else if declared.is_some_and(|n| n > limits.max_body as u64) {
        Some(Refused::BodyTooLarge)
    } else if body.is_end_stream() {
        None
    } else {
        match body::read(&mut body, limits.max_body, limits.body_timeout, &connection.stopping).await {
            Ok(bytes) => {
                wire.body = bytes;
                None
            }
            Err(refused) => Some(refused),
        }
    };
    if let Some(refused) = refused {
        let bound = limits.max_body.saturating_mul(DISCARD_FACTOR);
        // A client waiting for `100 Continue` sends nothing more, and a body past the bound
        // would be cut anyway: neither is waited for.
        let worth_discarding = leaves_a_body_to_discard(refused)
            && !body.is_end_stream()
            && !parts.headers.get(EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
            && declared.is_none_or(|n| n <= bound as u64);
        if worth_discarding {
            // Read after the answer has gone out (hyper writes it meanwhile), then closed.
            tokio::spawn(body::discard(body, bound, limits.body_timeout, connection.stopping.clone()));
        }
    }
    let response = respond(&connection.state, wire, refused, &limits).await;
    into_hyper(response, refused.is_some())
}

/// A refusal the head alone decides: RFC 9112's one Host header per HTTP/1.1 request, and no
/// transfer coding but `chunked` (hyper itself refuses, 400, codings that do not end in it).
fn refused_by_head(version: Version, headers: &HeaderMap) -> Option<Refused> {
    let hosts = headers.get_all(HOST).iter().count();
    if hosts > 1 || (hosts == 0 && version == Version::HTTP_11) {
        return Some(Refused::NoHost);
    }
    let other_coding = headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .any(|coding| !coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
    other_coding.then_some(Refused::UnsupportedCoding)
}

/// Everything after the HTTP layer: a request already read (or refused unread, saying why) to
/// the control API or to an operation, answered and journalled. Public so that the benchmark can
/// measure it without a network in between.
pub async fn respond(state: &State, mut wire: WireRequest, refused: Option<Refused>, limits: &Limits) -> WireResponse {
    let started = std::time::Instant::now();
    let arrived_ms = chrono::Utc::now().timestamp_millis();
    let virtual_now = state.clock.at(started);
    // The control API's refusals say only the status and its reason.
    let unread = refused.map(Refused::status);

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
    let response = match refused {
        Some(refused) => prepared.unread(refused, &limits.bounds()),
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
        auth_failure: prepared.take_auth_failure(),
    });
    response
}

fn unread_reason(status: u16) -> &'static str {
    match status {
        413 => "the request body is over the size limit",
        431 => "the request has too many or too large headers",
        408 => "the request body did not arrive in time",
        501 => "transfer codings other than chunked are not supported",
        503 => "the server is stopping",
        _ => "the request could not be read: an HTTP/1.1 request needs one Host header, and a body must arrive whole",
    }
}

/// The gate, then the fault rules (latency waits here, off any lock), then the operation.
/// `arrived` is the virtual instant the request came in; an injected delay moves it on.
async fn answer(state: &State, prepared: &Prepared, wire: &WireRequest, arrived: Millis) -> WireResponse {
    match guarded("authentication", || prepared.authenticate(wire)) {
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
        None => guarded("operation", || prepared.run(wire, now)).unwrap_or_else(|| prepared.internal_error()),
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
    fn the_head_alone_refuses_a_missing_or_doubled_host_and_codings_besides_chunked() {
        let head = |pairs: &[(&str, &str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
            }
            headers
        };
        assert_eq!(refused_by_head(Version::HTTP_11, &head(&[("host", "x")])), None);
        assert_eq!(refused_by_head(Version::HTTP_11, &head(&[])), Some(Refused::NoHost));
        assert_eq!(refused_by_head(Version::HTTP_11, &head(&[("host", "a"), ("host", "b")])), Some(Refused::NoHost));
        assert_eq!(refused_by_head(Version::HTTP_10, &head(&[])), None, "HTTP/1.0 needs no Host");
        assert_eq!(refused_by_head(Version::HTTP_11, &head(&[("host", "x"), ("transfer-encoding", "Chunked")])), None);
        for coding in ["gzip, chunked", "gzip,chunked", "x", ""] {
            assert_eq!(refused_by_head(Version::HTTP_11, &head(&[("host", "x"), ("transfer-encoding", coding)])), Some(Refused::UnsupportedCoding), "{coding:?}");
        }
        assert_eq!(refused_by_head(Version::HTTP_11, &head(&[("host", "x"), ("transfer-encoding", "gzip"), ("transfer-encoding", "chunked")])), Some(Refused::UnsupportedCoding));
    }

    #[test]
    fn hyper_counts_headers_past_ours() {
        assert_eq!(hyper_max_headers(Limits::default().max_headers), 200);
        assert_eq!(hyper_max_headers(1), 100);
        assert_eq!(hyper_max_headers(usize::MAX), usize::MAX);
    }

    #[test]
    fn control_paths_are_told_apart() {
        assert!(is_control("/_emu/health") && is_control("/_emu"));
        assert!(!is_control("/") && !is_control("/v5/p/image/tasks") && !is_control("/_emux"));
    }
}
