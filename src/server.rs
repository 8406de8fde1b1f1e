//! The HTTP server: accepts connections (hyper 1, HTTP/1.1), reads each request under the limits,
//! hands it to the edge its path belongs to (`/_emu/` control, `/v5/` Huawei, `/` Alibaba), and
//! stops gracefully. A panic in a handler becomes the cloud's 500 and a log line, never a dead
//! server.

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
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::cloud::aliyun::{self, AliyunError, Params};
use crate::cloud::huawei::{self, HuaweiError};
use crate::cloud::{alibaba_request_id, huawei_request_id, WireRequest, WireResponse};
use crate::control;
use crate::render::Format;
use crate::state::State;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: usize,
    pub header_timeout: Duration,
    pub max_headers: usize,
    /// How long a graceful stop waits for in-flight requests.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 1024 * 1024, header_timeout: Duration::from_secs(10), max_headers: 100, drain: Duration::from_secs(10) }
    }
}

/// Serves until `shutdown` resolves, then stops accepting and lets open requests finish.
pub async fn serve(listener: TcpListener, state: Arc<State>, limits: Limits, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
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
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(&state, req, limits).await) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .max_headers(limits.max_headers)
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
    Ok(())
}

/// Which edge a path belongs to, so that even a request we cannot read is refused in its envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Control,
    Huawei,
    Aliyun,
}

fn edge(path: &str) -> Edge {
    if path.starts_with(control::PREFIX) || path == "/_emu" {
        Edge::Control
    } else if path == "/" || path.is_empty() {
        Edge::Aliyun
    } else {
        Edge::Huawei
    }
}

fn refuse(edge: Edge, status: u16, aliyun: AliyunError, huawei: HuaweiError, message: &str) -> WireResponse {
    match edge {
        Edge::Aliyun => aliyun::render_error(&aliyun, Format::Json, &alibaba_request_id(), aliyun::Product::Ecs),
        Edge::Huawei => huawei::respond(Err(huawei), Format::Json, &huawei_request_id()),
        Edge::Control => WireResponse::new(status, "application/json", serde_json::json!({ "error": message }).to_string().into_bytes()),
    }
}

async fn handle(state: &State, req: Request<Incoming>, limits: Limits) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let edge = edge(&path);
    let declared = parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let too_large = || refuse(edge, 413, AliyunError::body_too_large(limits.max_body), HuaweiError::body_too_large(limits.max_body), "body too large");
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return into_hyper(too_large(), true);
    }
    let body = match Limited::new(body, limits.max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return into_hyper(too_large(), true),
        Err(e) => {
            tracing::debug!("could not read a request body: {e}");
            let bad = AliyunError::new(400, "InvalidParameter", "The request body could not be read.");
            return into_hyper(refuse(edge, 400, bad, HuaweiError::unparsable(), "request body could not be read"), true);
        }
    };
    let wire = WireRequest {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect(),
        body,
    };
    let response = catch_unwind(AssertUnwindSafe(|| dispatch(state, &wire, edge))).unwrap_or_else(|panic| {
        let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        tracing::error!(method = %wire.method, path = %wire.path, "handler panicked: {what}");
        refuse(edge, 500, AliyunError::server_error(), HuaweiError::internal(), "internal error")
    });
    into_hyper(response, false)
}

fn dispatch(state: &State, req: &WireRequest, edge: Edge) -> WireResponse {
    match edge {
        Edge::Control => control::handle(state, req),
        Edge::Huawei => {
            let snapshot = state.snapshot();
            let pinned = huawei::route(&req.path).and_then(|(op, _)| state.pinned_request_id(&snapshot, op.name()));
            huawei::handle(state, req, &pinned.unwrap_or_else(huawei_request_id))
        }
        Edge::Aliyun => {
            let params = Params::from_request(req);
            let routed = aliyun::route(req, &params);
            let snapshot = state.snapshot();
            let pinned = routed.action.as_deref().and_then(|a| state.pinned_request_id(&snapshot, a));
            aliyun::handle(state, req, &params, &routed, &pinned.unwrap_or_else(alibaba_request_id))
        }
    }
}

fn into_hyper(response: WireResponse, close: bool) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(*name, value.as_str());
    }
    if close {
        // The unread rest of a refused body would otherwise be parsed as the next request.
        builder = builder.header("connection", "close");
    }
    builder.body(Full::new(Bytes::from(response.body))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::from_static(b"{\"error\":\"response could not be built\"}")));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
