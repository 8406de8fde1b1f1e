//! The protocol edges: each cloud's way of turning an HTTP request into a typed operation call and
//! a typed result or error back into bytes. The server hands them a [`WireRequest`] (already read,
//! size-capped) and sends back the [`WireResponse`] they make.

pub mod aliyun;
pub mod huawei;
pub mod pairs;
mod spare;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rand::RngExt;

use crate::auth::diagnosis::Diagnosis;
use crate::auth::gate::Refusal;
use crate::auth::SignedRequest;
use crate::faults::Failure;
use crate::instant::Millis;
use crate::journal::Parameters;
use crate::ops::Cloud;
use crate::state::State;

/// A request as received: what both edges (and the signature checks) need, nothing of hyper's.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// Static for the usual methods and Alibaba's `/` path: no copy per request.
    pub method: Cow<'static, str>,
    /// The path as sent (still percent-encoded).
    pub path: Cow<'static, str>,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: Headers,
    pub body: bytes::Bytes,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

/// A request's headers in one buffer: names as received (hyper lower-cases them), values as
/// received (lossy UTF-8). An SDK sends a dozen; a `String` for each name and value was two
/// dozen allocations a request (issue 6).
#[derive(Debug, Clone, Default)]
pub struct Headers {
    text: String,
    /// Per header: where its name starts, where its value starts (the name's end) and ends.
    spans: Vec<(u32, u32, u32)>,
}

/// A [`Headers`]' two buffers, as a spare list keeps them.
type HeaderBuffers = (String, Vec<(u32, u32, u32)>);

/// The largest buffers a dropped [`Headers`] gives back (heads are capped at 16 KiB by default).
const LARGEST_SPARE_HEAD: usize = 64 * 1024;
const LARGEST_SPARE_SPANS: usize = 256;

thread_local! {
    /// What dropped headers gave back ([`spare`]): two allocations a request fewer.
    static SPARE_HEADERS: std::cell::RefCell<Vec<HeaderBuffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Headers {
    fn drop(&mut self) {
        spare::give_text(&SPARE_HEADERS, std::mem::take(&mut self.text), std::mem::take(&mut self.spans), LARGEST_SPARE_HEAD, LARGEST_SPARE_SPANS);
    }
}

impl Headers {
    /// Room for `headers` headers of `bytes` bytes in all, in the thread's spare buffers when it has some.
    pub fn with_capacity(headers: usize, bytes: usize) -> Headers {
        let (mut text, mut spans) = spare::take(&SPARE_HEADERS);
        text.reserve(bytes);
        spans.reserve(headers);
        Headers { text, spans }
    }

    pub fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let middle = self.text.len();
        self.text.push_str(value);
        // Heads are capped far below 4 GiB.
        self.spans.push((start as u32, middle as u32, self.text.len() as u32));
    }

    /// The first header called `name`, in any case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|&(start, middle, end)| (&self.text[start as usize..middle as usize], &self.text[middle as usize..end as usize]))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Names and values as owned pairs, what the signature checks take (only with auth on).
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Headers {
        let mut headers = Headers::default();
        for (name, value) in items {
            headers.push(name.as_ref(), value.as_ref());
        }
        headers
    }
}

#[derive(Debug, Clone)]
pub struct WireResponse {
    pub status: u16,
    pub content_type: &'static str,
    /// Headers besides the content type (a request id, a retry hint); none on most answers.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// The cloud's error code, for the journal.
    pub error_code: Option<String>,
}

impl WireResponse {
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> WireResponse {
        WireResponse { status, content_type, headers: Vec::new(), body, error_code: None }
    }

    pub fn with_error_code(mut self, code: &str) -> WireResponse {
        self.error_code = Some(code.to_string());
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> WireResponse {
        self.headers.push((name, value.into()));
        self
    }
}

/// Who a request acts as, for its owned tasks, the journal and tenant-scoped fault rules: the
/// tenant it declares when auth is off (any key works then), and only the one the gate verified
/// when auth is on; until the gate has passed it (or when it refused an unproven caller), none.
#[derive(Debug)]
pub struct Caller {
    auth_on: bool,
    declared: Option<Arc<str>>,
    /// Set once by [`Prepared::authenticate`]; a cell, so that the request can go on being shared
    /// (`&Prepared`) through the gate, the fault rules and the operation.
    verified: OnceLock<Arc<str>>,
    /// Why the gate refused the request, for its journal entry: set only on a refusal, so a
    /// request that passes computes and keeps nothing.
    auth_failure: OnceLock<Box<Diagnosis>>,
}

impl Caller {
    /// `declared`: the tenant the request names (Alibaba's AccessKeyId, Huawei's path project).
    pub(crate) fn new(auth_on: bool, declared: Option<Arc<str>>) -> Caller {
        Caller { auth_on, declared, verified: OnceLock::new(), auth_failure: OnceLock::new() }
    }

    pub fn tenant(&self) -> Option<Arc<str>> {
        if self.auth_on {
            self.verified.get().cloned()
        } else {
            self.declared.clone()
        }
    }

    fn set_verified(&self, tenant: String) {
        // A second verification of the same request (never made) would keep the first.
        let _ = self.verified.set(Arc::from(tenant));
    }
}

/// Why the server answered a request without reading it, or without reading it whole: what each
/// edge words in its own cloud's envelope ([`Edge::unread`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// HTTP/1.1 without exactly one Host header (RFC 9112 §3.2: 400).
    NoHost,
    /// A transfer coding besides `chunked` (RFC 9112 §6.1: 501).
    UnsupportedCoding,
    HeadersTooLarge,
    BodyTooLarge,
    /// The body was not all there within the body timeout.
    BodyTimeout,
    /// The server began stopping while the body was still on its way.
    Stopping,
    /// The body broke off or was malformed.
    BodyUnreadable,
}

impl Refused {
    pub fn status(self) -> u16 {
        match self {
            Refused::NoHost | Refused::BodyUnreadable => 400,
            Refused::UnsupportedCoding => 501,
            Refused::HeadersTooLarge => 431,
            Refused::BodyTooLarge => 413,
            Refused::BodyTimeout => 408,
            Refused::Stopping => 503,
        }
    }
}

/// The server's limits, as a refusal's message states the one a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub max_body: usize,
    pub max_headers: usize,
    pub max_header_bytes: usize,
    pub body_timeout: std::time::Duration,
}

/// What both edges do with a prepared request, alike: [`Prepared`] dispatches to one of them once.
pub trait Edge {
    fn cloud(&self) -> Cloud;
    /// The product, for the journal.
    fn product(&self) -> &'static str;
    /// The operation asked for, as the caller named it.
    fn operation(&self) -> &str;
    fn caller(&self) -> &Caller;
    fn caller_mut(&mut self) -> &mut Caller;
    fn request_id(&self) -> &str;
    fn take_request_id(&mut self) -> String;
    /// The request's parameters for the journal, raw, taken once it is answered.
    fn journal_parameters(&self, req: &mut WireRequest) -> Parameters;
    /// The gate's verdict on the request's credentials (the tenant they prove); `None` when the
    /// request is no operation's and so reads no one's world.
    fn check(&self, signed: &SignedRequest, now_real: i64) -> Option<Result<String, Refusal>>;
    /// Why the gate refused the request, in detail, for the journal (never for the caller).
    fn diagnose(&self, signed: &SignedRequest, refusal: &Refusal, now_real: i64) -> Diagnosis;
    /// The gate's refusal in the cloud's words.
    fn refuse(&self, refusal: &Refusal) -> WireResponse;
    /// An injected fault in the cloud's words.
    fn fail(&self, failure: &Failure) -> WireResponse;
    /// A request the server refused before reading it (whole), in the cloud's words.
    fn unread(&self, refused: Refused, bounds: &Bounds) -> WireResponse;
    /// Runs the operation at virtual instant `now`.
    fn run(&self, req: &WireRequest, now: Millis) -> WireResponse;
    /// The cloud's 500, for a handler that panicked.
    fn internal_error(&self) -> WireResponse;
}

/// A request to one of the catalogue's operations, read and routed, before the gate, the fault
/// rules and the operation itself have their say.
pub enum Prepared {
    Aliyun(aliyun::Prepared),
    Huawei(huawei::Prepared),
}

impl Prepared {
    /// `path` is `/` for Alibaba; anything else is Huawei's.
    pub fn new(state: &State, req: &WireRequest) -> Prepared {
        if req.path == "/" {
            Prepared::Aliyun(aliyun::Prepared::new(state, req))
        } else {
            Prepared::Huawei(huawei::Prepared::new(state, req))
        }
    }

    /// The request's edge: the one place that tells the clouds apart.
    pub fn edge(&self) -> &dyn Edge {
        match self {
            Prepared::Aliyun(p) => p,
            Prepared::Huawei(p) => p,
        }
    }

    fn edge_mut(&mut self) -> &mut dyn Edge {
        match self {
            Prepared::Aliyun(p) => p,
            Prepared::Huawei(p) => p,
        }
    }

    pub fn cloud(&self) -> &'static str {
        self.edge().cloud().name()
    }

    pub fn product(&self) -> &'static str {
        self.edge().product()
    }

    /// The operation asked for, as the caller named it.
    pub fn operation(&self) -> &str {
        self.edge().operation()
    }

    /// The operation's name for the journal.
    pub fn operation_name(&self) -> Cow<'static, str> {
        operation_name(self.operation())
    }

    /// Whose world the request reads, whose journal lists it and whose fault rules it meets: the
    /// access key (Alibaba) or the project (Huawei); see [`Caller`].
    pub fn tenant(&self) -> Option<Arc<str>> {
        self.edge().caller().tenant()
    }

    pub fn request_id(&self) -> &str {
        self.edge().request_id()
    }

    /// The request's parameters for the journal, taken once it is answered.
    pub fn journal_parameters(&self, req: &mut WireRequest) -> Parameters {
        self.edge().journal_parameters(req)
    }

    /// The request id, taken for the journal once the request is answered.
    pub fn take_request_id(&mut self) -> String {
        self.edge_mut().take_request_id()
    }

    /// The diagnosis of a refused request, taken for the journal.
    pub fn take_auth_failure(&mut self) -> Option<Box<Diagnosis>> {
        self.edge_mut().caller_mut().auth_failure.take()
    }

    /// Checks credentials when auth is on, and records who they prove the caller to be (also
    /// when they prove it but deny the operation); the refusal, rendered, when they fail.
    pub fn authenticate(&self, req: &WireRequest) -> Result<(), WireResponse> {
        let edge = self.edge();
        if !edge.caller().auth_on {
            return Ok(());
        }
        let headers = req.headers.pairs();
        let signed = SignedRequest { method: &req.method, path: &req.path, raw_query: &req.query, headers: &headers, body: &req.body, content_type: req.content_type() };
        let now_real = chrono::Utc::now().timestamp_millis();
        match edge.check(&signed, now_real) {
            None => Ok(()),
            Some(Ok(tenant)) => {
                edge.caller().set_verified(tenant);
                Ok(())
            }
            Some(Err(refusal)) => {
                if let Refusal::Denied { caller } = &refusal {
                    edge.caller().set_verified(caller.clone());
                }
                // The answer is already decided: a diagnosis that failed (never expected) costs the
                // journal its explanation, not the client its cloud's answer.
                let diagnosed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| edge.diagnose(&signed, &refusal, now_real)));
                if let Ok(diagnosis) = diagnosed {
                    let _ = edge.caller().auth_failure.set(Box::new(diagnosis));
                }
                Err(edge.refuse(&refusal))
            }
        }
    }

    pub fn fail(&self, failure: &Failure) -> WireResponse {
        self.edge().fail(failure)
    }

    /// A request refused before it could be read, in its cloud's envelope.
    pub fn unread(&self, refused: Refused, bounds: &Bounds) -> WireResponse {
        self.edge().unread(refused, bounds)
    }

    /// Runs the operation at virtual instant `now`.
    pub fn run(&self, req: &WireRequest, now: Millis) -> WireResponse {
        self.edge().run(req, now)
    }

    /// The cloud's 500, for a handler that panicked.
    pub fn internal_error(&self) -> WireResponse {
        self.edge().internal_error()
    }
}

/// An operation's name as a caller gave it: static for the catalogue's (no copy per request).
pub fn operation_name(name: &str) -> Cow<'static, str> {
    crate::ops::named(name).map_or_else(|| Cow::Owned(name.to_string()), |row| Cow::Borrowed(row.name))
}

/// An Alibaba-style request id: an upper-case UUID.
pub fn alibaba_request_id() -> String {
    random_hex(b"0123456789ABCDEF", true)
}

/// A Huawei-style request id: 32 lower-case hex digits.
pub fn huawei_request_id() -> String {
    random_hex(b"0123456789abcdef", false)
}

/// 128 random bits in hex, most significant first, dashed 8-4-4-4-12 or not (made on the stack,
/// a byte at a time, one allocation: every request makes one). The bits come from a per-thread
/// xoshiro generator seeded from the OS: ids need to be unique, not secret.
fn random_hex(digits: &[u8; 16], dashed: bool) -> String {
    thread_local! {
        static IDS: std::cell::RefCell<rand::rngs::SmallRng> = std::cell::RefCell::new(rand::make_rng());
    }
    let bits: u128 = IDS.with(|rng| rng.borrow_mut().random());
    let mut text = [0u8; 36];
    let mut len = 0;
    for (i, byte) in bits.to_be_bytes().into_iter().enumerate() {
        if dashed && matches!(i, 4 | 6 | 8 | 10) {
            text[len] = b'-';
            len += 1;
        }
        text[len] = digits[usize::from(byte >> 4)];
        text[len + 1] = digits[usize::from(byte & 0xf)];
        len += 2;
    }
    // Hex digits and dashes: ASCII, never the empty fallback.
    std::str::from_utf8(&text[..len]).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_order_and_are_found_in_any_case() {
        let headers: Headers = [("host", "x"), ("X-Acs-Action", "DescribeTasks"), ("x-acs-action", "second"), ("empty", "")].into_iter().collect();
        assert_eq!(headers.len(), 4);
        assert_eq!(headers.get("x-acs-action"), Some("DescribeTasks"));
        assert_eq!(headers.get("EMPTY"), Some(""));
        assert_eq!(headers.get("missing"), None);
        assert_eq!(headers.pairs()[1], ("X-Acs-Action".to_string(), "DescribeTasks".to_string()));
        assert_eq!(headers.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["host", "X-Acs-Action", "x-acs-action", "empty"]);
    }

    #[test]
    fn request_ids_have_their_cloud_shape_and_differ() {
        let ali = alibaba_request_id();
        assert_eq!(ali.len(), 36);
        assert!(ali.split('-').map(str::len).eq([8, 4, 4, 4, 12]));
        assert!(ali.chars().all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
        let hw = huawei_request_id();
        assert!(hw.len() == 32 && hw.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let many: std::collections::HashSet<String> = (0..1000).map(|_| alibaba_request_id()).collect();
        assert_eq!(many.len(), 1000);
    }
}
