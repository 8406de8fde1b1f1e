//! The Huawei Cloud REST edge (HSS v5). Routes by method and path with the project id in it, reads
//! query parameters (and a JSON body, an empty one being `{}`), checks the documented ranges, and
//! answers JSON by default or XML when asked (`Format=XML`, or `Accept: application/xml`), with an
//! `X-Request-Id` header on every response, errors included.

pub mod error;
mod list_image_scan_task;
mod list_tasks;

pub use error::HuaweiError;

use crate::auth::SignedRequest;
use crate::auth::diagnosis::Diagnosis;
use crate::auth::gate::Refusal;
use crate::faults::Failure;
use crate::instant::Millis;
use crate::journal::Parameters;
use crate::ops::{Cloud, Paging};
use crate::render::{self, Format, Object};
use crate::state::{Snapshot, State};

use super::pairs::Pairs;
use super::{Bounds, Caller, Edge, Refused, WireRequest, WireResponse};

const JSON: &str = "application/json";
/// The product this edge serves (the catalogue's name for it).
const HSS: &str = "hss";
const XML: &str = "application/xml";

pub use crate::ops::HuaweiOp as Operation;

/// The segment of a catalogue path template that stands for the project id.
const PROJECT: &str = "{project_id}";

/// At most this many segments are looked at: a longer path is no operation's, and collects nothing.
const MAX_SEGMENTS: usize = 7;

/// A path's segments, split at `/` (a trailing `/` dropped), or None past [`MAX_SEGMENTS`].
///
/// One pass over the bytes (issue 16: `trim_end_matches` and `split`, each a searcher over
/// characters, were a thirtieth of an HSS call).
fn segments(path: &str) -> Option<([&str; MAX_SEGMENTS], usize)> {
    let bytes = path.as_bytes();
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1] == b'/' {
        end -= 1;
    }
    let mut segments = [""; MAX_SEGMENTS];
    let mut count = 0;
    let mut start = 0;
    for (i, &b) in bytes[..end].iter().enumerate() {
        if b == b'/' {
            *segments.get_mut(count)? = path.get(start..i)?;
            count += 1;
            start = i + 1;
        }
    }
    *segments.get_mut(count)? = path.get(start..end)?;
    Some((segments, count + 1))
}

/// The catalogue's REST path templates, split once (issue 16: splitting every template again
/// for every request was a twentieth of an HSS call).
fn templates() -> &'static [(Operation, [&'static str; MAX_SEGMENTS], usize)] {
    static TEMPLATES: std::sync::OnceLock<Vec<(Operation, [&'static str; MAX_SEGMENTS], usize)>> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        Operation::ALL
            .iter()
            .filter_map(|&operation| {
                let crate::ops::Wire::Rest { path, .. } = operation.spec().wire else { return None };
                let (parts, count) = segments(path)?;
                Some((operation, parts, count))
            })
            .collect()
    })
}

/// `(operation, project_id)` for a catalogue path, whatever the method.
pub fn route(path: &str) -> Option<(Operation, std::sync::Arc<str>)> {
    let (segments, count) = segments(path)?;
    let segments = &segments[..count];
    templates().iter().find_map(|(operation, parts, parts_count)| {
        if *parts_count != count {
            return None;
        }
        let mut project = None;
        for (segment, part) in segments.iter().zip(parts) {
            match *part {
                PROJECT => project = Some(*segment),
                part if part == *segment => {}
                _ => return None,
            }
        }
        let project = project?;
        // A project id is 32 hex digits: nothing to decode, nothing to check, as a rule.
        if !project.contains('%') {
            return Some((*operation, project.into()));
        }
        Some((*operation, percent_encoding::percent_decode_str(project).decode_utf8_lossy().into()))
    })
}

/// Query parameters, first value wins.
#[derive(Debug, Default)]
pub struct Query(pub Pairs);

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.first(name)
    }

    /// A string of 1 to 256 characters when given.
    pub fn text(&self, name: &str) -> Result<Option<&str>, HuaweiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if (1..=256).contains(&v.chars().count()) => Ok(Some(v)),
            Some(_) => Err(HuaweiError::invalid(name)),
        }
    }

    /// One of a closed set of words when given.
    pub fn word(&self, name: &str, words: &[&str]) -> Result<Option<&str>, HuaweiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if words.contains(&v) => Ok(Some(v)),
            Some(_) => Err(HuaweiError::invalid(name)),
        }
    }

    pub fn int(&self, name: &str, min: i64, max: i64, default: i64) -> Result<i64, HuaweiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<i64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| HuaweiError::invalid(name)),
        }
    }
}

/// What every operation file gets.
pub struct Call<'a> {
    pub operation: &'static crate::ops::Operation,
    pub project_id: &'a str,
    pub query: &'a Query,
    pub body: &'a [u8],
    pub now: Millis,
    pub snapshot: &'a Snapshot,
    pub format: Format,
    /// The scenario's pins for this operation's whole answers.
    pub pins: &'a crate::world::Pins,
}

impl Call<'_> {
    /// The answer, written in the format asked for, pins applied.
    pub fn document(&self, fill: impl FnOnce(&mut Object)) -> Vec<u8> {
        render::document(self.format, self.operation.xml_root, &[self.pins], fill)
    }

    /// The offset and limit asked for, by the operation's page rules.
    pub fn paging(&self) -> Result<(usize, usize), HuaweiError> {
        paging(self.query, self.operation.paging)
    }
}

/// The offset and limit asked for, by the operation's page rules (HSS lists share theirs:
/// offset 0–2,000,000, default 0; limit 10–200, default 10); (0, 0) for an answer without pages.
pub fn paging(query: &Query, paging: Paging) -> Result<(usize, usize), HuaweiError> {
    match paging {
        Paging::Offset { offset, max_offset, limit, min_limit, max_limit, default_limit } => {
            let offset = query.int(offset, 0, max_offset, 0)?;
            let limit = query.int(limit, min_limit, max_limit, default_limit)?;
            Ok((offset as usize, limit as usize))
        }
        Paging::None | Paging::Pages { .. } => Ok((0, 0)),
    }
}

fn contains_ignoring_case(text: &str, word: &str) -> bool {
    text.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

fn format(req: &WireRequest, query: &Query) -> Format {
    let asked_xml = query.get("Format").is_some_and(|f| f.eq_ignore_ascii_case("xml"))
        || req.header("accept").is_some_and(|a| contains_ignoring_case(a, XML) && !contains_ignoring_case(a, JSON));
    if asked_xml {
        Format::Xml
    } else {
        Format::Json
    }
}

pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => JSON,
        Format::Xml => XML,
    }
}

/// A Huawei request, read and routed, on its way through the gate and the fault rules.
pub struct Prepared {
    pub query: Query,
    pub format: Format,
    pub route: Option<(Operation, std::sync::Arc<str>)>,
    pub request_id: String,
    /// The world as the request found it: one snapshot serves the gate and the operation.
    pub snapshot: crate::state::SnapshotRef,
    /// The path's project with auth off; with auth on the one the credential proved, which the
    /// gate lets through only when it is the path's (so the operation reads the path's).
    pub caller: Caller,
}

impl Prepared {
    pub fn new(state: &State, req: &WireRequest) -> Prepared {
        let query = Query(Pairs::decode(&[&req.query]));
        let format = format(req, &query);
        let route = route(&req.path);
        let snapshot = state.snapshot();
        let pinned = route.as_ref().and_then(|(op, _)| snapshot.settings.request_ids.get(op.name()).cloned());
        let caller = Caller::new(state.auth_on(&snapshot), route.as_ref().map(|(_, project)| project.clone()));
        Prepared { query, format, route, request_id: pinned.unwrap_or_else(super::huawei_request_id), snapshot, caller }
    }

    pub fn operation(&self) -> Option<Operation> {
        self.route.as_ref().map(|(op, _)| *op)
    }

    /// `hss:ListTasks`: what credentials allow or deny.
    pub fn permission(&self) -> String {
        format!("{}:{}", self.product(), self.operation().map_or("", |op| op.name()))
    }

    /// The product, for the journal: the operation's, else HSS's (the one product this edge
    /// serves; an unknown path is still the HSS endpoint's).
    pub fn product(&self) -> &'static str {
        self.operation().map_or(HSS, |op| op.spec().product)
    }

    pub fn project_id(&self) -> Option<&str> {
        self.route.as_ref().map(|(_, project)| &**project)
    }

    /// Query parameters, and the body when there is one, for the journal: raw (the query taken:
    /// the request is answered), decoded when the journal is read.
    pub fn journal_parameters(req: &mut WireRequest) -> Parameters {
        // A copy: the request's own bytes may be a slice of the connection's read buffer, which a
        // journal of thousands of entries would keep alive whole.
        let body = (!req.body.is_empty()).then(|| bytes::Bytes::copy_from_slice(&req.body));
        Parameters { query: std::mem::take(&mut req.query), form: None, body, hide_signature: false }
    }

    pub fn error(&self, error: &HuaweiError) -> WireResponse {
        WireResponse::new(error.status, content_type(self.format), error.render(self.format, &self.request_id))
            .with_header("x-request-id", self.request_id.clone())
            .with_error_code(&error.code)
    }

}

impl Edge for Prepared {
    fn cloud(&self) -> Cloud {
        Cloud::Huawei
    }

    fn product(&self) -> &'static str {
        self.product()
    }

    fn operation(&self) -> &str {
        self.operation().map_or("", |op| op.name())
    }

    fn caller(&self) -> &Caller {
        &self.caller
    }

    fn caller_mut(&mut self) -> &mut Caller {
        &mut self.caller
    }

    fn request_id(&self) -> &str {
        &self.request_id
    }

    fn take_request_id(&mut self) -> String {
        std::mem::take(&mut self.request_id)
    }

    fn journal_parameters(&self, req: &mut WireRequest) -> Parameters {
        Prepared::journal_parameters(req)
    }

    fn check(&self, signed: &SignedRequest, now_real: i64) -> Option<Result<String, Refusal>> {
        // An unknown path is the gateway's 404 whoever asks, and reads no one's world.
        let project = self.project_id()?;
        Some(self.snapshot.gate.huawei(signed, &self.permission(), project, now_real))
    }

    fn diagnose(&self, signed: &SignedRequest, refusal: &Refusal, now_real: i64) -> Diagnosis {
        self.snapshot.gate.diagnose_huawei(signed, refusal, &self.permission(), self.project_id().unwrap_or(""), now_real)
    }

    /// The gate's refusal in the API gateway's (or HSS's) words.
    fn refuse(&self, refusal: &Refusal) -> WireResponse {
        let iam = |detail: String| HuaweiError::gateway(401, "APIGW.0301", format!("Incorrect IAM authentication information: {detail}"));
        let error = match refusal {
            Refusal::Incomplete(why) => iam(format!("verify aksk signature fail, {why}")),
            Refusal::UnknownKey(ak) => iam(format!("Get secretKey failed,ak:{ak},err:ak not exist")),
            Refusal::BadSignature(_) | Refusal::NonceUsed => iam("verify aksk signature fail".into()),
            Refusal::Expired => iam("verify aksk signature fail, request expired".into()),
            Refusal::BadToken => iam("decrypt token fail".into()),
            Refusal::Denied { .. } => HuaweiError::service(403, "HSS.0013", "Insufficient permissions."),
        };
        self.error(&error)
    }

    /// An injected fault in Huawei's words.
    fn fail(&self, failure: &Failure) -> WireResponse {
        let error = match failure {
            Failure::Throttled => HuaweiError::gateway(429, "APIGW.0308", "The throttling threshold has been reached."),
            Failure::Error(spec) => {
                let (status, message) = error::known(&spec.code);
                let status = spec.status.unwrap_or(status);
                let message = spec.message.clone().unwrap_or(message);
                if spec.code.starts_with("APIGW") {
                    HuaweiError::gateway(status, spec.code.clone(), message)
                } else {
                    HuaweiError::service(status, spec.code.clone(), message)
                }
            }
        };
        self.error(&error)
    }

    /// The server's refusals of a request it did not read (whole), in the API gateway's words.
    fn unread(&self, refused: Refused, bounds: &Bounds) -> WireResponse {
        let status = refused.status();
        self.error(&match refused {
            Refused::BodyTooLarge => HuaweiError::body_too_large(bounds.max_body),
            Refused::HeadersTooLarge => {
                HuaweiError::gateway(status, "APIGW.0201", format!("Request headers too large: over {} headers or {} bytes.", bounds.max_headers, bounds.max_header_bytes))
            }
            Refused::NoHost => HuaweiError::gateway(status, "APIGW.0201", "Bad request: an HTTP/1.1 request must carry exactly one Host header."),
            Refused::UnsupportedCoding => HuaweiError::gateway(status, "APIGW.0201", "Not implemented: transfer codings other than chunked are not supported."),
            Refused::BodyTimeout => HuaweiError::gateway(status, "APIGW.0201", format!("Request timeout: the body did not arrive within {} ms.", bounds.body_timeout.as_millis())),
            Refused::Stopping => HuaweiError::gateway(status, "APIGW.0201", "Service unavailable: the server is stopping."),
            Refused::BodyUnreadable => HuaweiError::unparsable(),
        })
    }

    fn internal_error(&self) -> WireResponse {
        self.error(&HuaweiError::internal())
    }

    fn run(&self, req: &WireRequest, now: Millis) -> WireResponse {
        match answer(req, self, now) {
            Ok(body) => WireResponse::new(200, content_type(self.format), body).with_header("x-request-id", self.request_id.clone()),
            Err(e) => self.error(&e),
        }
    }
}

fn answer(req: &WireRequest, prepared: &Prepared, now: Millis) -> Result<Vec<u8>, HuaweiError> {
    let (operation, project_id) = prepared.route.as_ref().ok_or_else(HuaweiError::no_api)?;
    let spec = operation.spec();
    if !matches!(spec.wire, crate::ops::Wire::Rest { method, .. } if req.method == method) {
        return Err(HuaweiError::method_not_allowed());
    }
    if !(1..=256).contains(&project_id.chars().count()) {
        return Err(HuaweiError::invalid("project_id"));
    }
    let call = Call {
        operation: spec,
        project_id,
        query: &prepared.query,
        body: &req.body,
        now,
        snapshot: &prepared.snapshot,
        format: prepared.format,
        pins: prepared.snapshot.settings.responses.get(spec.name).unwrap_or(render::NO_PINS),
    };
    match operation {
        Operation::ListImageScanTask => list_image_scan_task::call(&call),
        Operation::ListTasks => list_tasks::call(&call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_path_shape() {
        assert_eq!(route("/v5/abc/image/tasks"), Some((Operation::ListImageScanTask, "abc".into())));
        assert_eq!(route("/v5/abc/common/tasks/batch-query/"), Some((Operation::ListTasks, "abc".into())));
        assert_eq!(route("/v5/abc/image/task"), None);
        assert_eq!(route("/v3/abc/image/tasks"), None);
        assert_eq!(route("/v5/abc/common/tasks/batch-query/x/y"), None);
        assert_eq!(route("/v5/a%20b/image/tasks"), Some((Operation::ListImageScanTask, "a b".into())));
        assert_eq!(route("/v5/a%zz/image/tasks"), Some((Operation::ListImageScanTask, "a%zz".into())));
        assert_eq!(route("/v5/abc/image/tasks///"), Some((Operation::ListImageScanTask, "abc".into())));
        assert_eq!(route("v5/abc/image/tasks"), None);
        assert_eq!(route("//v5/abc/image/tasks"), None);
        assert_eq!(route("/v5//image/tasks"), Some((Operation::ListImageScanTask, "".into())));
        assert_eq!(route("/"), None);
        assert_eq!(route(""), None);
    }

    /// The byte splitter cuts as `trim_end_matches('/')` then `split('/')` did, past the bound too.
    #[test]
    fn segments_split_as_str_split_did() {
        let reference = |path: &str| -> Option<Vec<String>> {
            let parts: Vec<String> = path.trim_end_matches('/').split('/').map(str::to_string).collect();
            (parts.len() <= MAX_SEGMENTS).then_some(parts)
        };
        for path in ["", "/", "//", "a", "/a", "a/", "/a/b/", "/v5/é/ü/tasks", "/a//b", "/1/2/3/4/5/6", "/1/2/3/4/5/6/", "/1/2/3/4/5/6/7", "1/2/3/4/5/6/7", "/v5/p/common/tasks/batch-query/"] {
            let ours = segments(path).map(|(parts, count)| parts[..count].iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(ours, reference(path), "{path:?}");
        }
    }

    #[test]
    fn query_checks_ranges_and_words() {
        let q = Query(Pairs::decode(&["limit=5&offset=2000001&type=image_scan&task_name="]));
        assert_eq!(q.int("limit", 10, 200, 10).unwrap_err().message, "Invalid parameter: limit");
        assert!(paging(&q, Operation::ListTasks.spec().paging).is_err());
        assert_eq!(q.word("type", &["image_scan"]), Ok(Some("image_scan")));
        assert!(q.text("task_name").is_err(), "an empty name is below the 1-character minimum");
    }
}
