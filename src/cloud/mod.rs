//! The protocol edges: each cloud's way of turning an HTTP request into a typed operation call and
//! a typed result or error back into bytes. The server hands them a [`WireRequest`] (already read,
//! size-capped) and sends back the [`WireResponse`] they make.

pub mod aliyun;
pub mod huawei;

use rand::RngExt;

/// A request as received: what both edges (and the signature checks) need, nothing of hyper's.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names lower-cased, values as received (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

#[derive(Debug, Clone)]
pub struct WireResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl WireResponse {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> WireResponse {
        WireResponse { status, headers: vec![("content-type", content_type.to_string())], body }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> WireResponse {
        self.headers.push((name, value.into()));
        self
    }
}

/// An Alibaba-style request id: an upper-case UUID.
pub fn alibaba_request_id() -> String {
    let mut rng = rand::rng();
    let n: u128 = rng.random();
    let hex = format!("{n:032X}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A Huawei-style request id: 32 lower-case hex digits.
pub fn huawei_request_id() -> String {
    let n: u128 = rand::rng().random();
    format!("{n:032x}")
}
