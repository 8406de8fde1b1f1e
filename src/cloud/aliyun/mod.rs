//! The Alibaba Cloud RPC edge (ECS, Security Center, AVDS). Accepts what every official SDK sends
//! (sdk-notes §1.1): GET or POST on `/`, parameters from the query and a form body (`+` is a space),
//! Action and Version from parameters or the `x-acs-action` / `x-acs-version` headers, `Format` in
//! any case. Routes by Version to the product, then by Action to one operation file.

mod avds_describe_scan_sessions;
mod ecs_describe_tasks;
pub mod error;
mod sas_describe_scan_task_progress;

pub use error::AliyunError;

use crate::auth::SignedRequest;
use crate::auth::diagnosis::Diagnosis;
use crate::auth::gate::Refusal;
use crate::faults::Failure;
use crate::instant::Millis;
use crate::journal::Parameters;
use crate::ops::{AlibabaOp, Cloud, Paging};
use crate::render::{self, Format, Object};
use crate::state::{Snapshot, State};
use crate::world::Owner;

use super::pairs::Pairs;
use super::{Bounds, Caller, Edge, Refused, WireRequest, WireResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Ecs,
    Sas,
    Avds,
}

impl Product {
    /// The product whose API version this is (the catalogue says), whatever the action.
    pub fn by_version(version: &str) -> Option<Product> {
        match crate::ops::rpc_product(version)? {
            "ecs" => Some(Product::Ecs),
            "sas" => Some(Product::Sas),
            "avds" => Some(Product::Avds),
            _ => None,
        }
    }

    /// The product's name in the catalogue and the journal.
    pub fn name(self) -> &'static str {
        match self {
            Product::Ecs => "ecs",
            Product::Sas => "sas",
            Product::Avds => "avds",
        }
    }

    pub fn host_id(self) -> &'static str {
        match self {
            Product::Ecs => "ecs.aliyuncs.com",
            Product::Sas => "tds.aliyuncs.com",
            Product::Avds => "avds.aliyuncs.com",
        }
    }

    /// The product code in `Recommend` links and in permission names (`ecs:DescribeTasks`).
    pub fn code(self) -> &'static str {
        match self {
            Product::Ecs => "Ecs",
            Product::Sas => "Sas",
            Product::Avds => "avds",
        }
    }
}

/// Which shapes ECS DescribeTasks and AVDS DescribeScanSessions answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// What the official SDKs parse (the docs' response tables and XML examples).
    #[default]
    Sdk,
    /// The documented JSON examples, verbatim.
    Docs,
}

/// The request header that picks a dialect for one call.
pub const DIALECT_HEADER: &str = "x-taskemu-dialect";

impl Dialect {
    /// Every dialect's name, as `x-taskemu-dialect` and `--dialect` take it.
    pub const NAMES: &'static [&'static str] = &["sdk", "docs"];

    pub fn parse(text: &str) -> Option<Dialect> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sdk" => Some(Dialect::Sdk),
            "docs" => Some(Dialect::Docs),
            _ => None,
        }
    }
}

pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json;charset=utf-8",
        Format::Xml => "text/xml;charset=utf-8",
    }
}

/// Request parameters, query and form body merged, in wire order.
#[derive(Debug, Default, Clone)]
pub struct Params(Pairs);

impl Params {
    /// The query, then the body when [`form_body`](super::pairs::form_body) (the rule the RPC v1 signature
    /// covers it by) says it is a form.
    pub fn from_request(req: &WireRequest) -> Params {
        match form_body(req) {
            Some(form) => Params(Pairs::decode(&[&req.query, &String::from_utf8_lossy(form)])),
            None => Params(Pairs::decode(&[&req.query])),
        }
    }

    /// Every name and value, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter()
    }

    /// The first value given (a repeated parameter keeps its first), empty counting as given.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.first(name)
    }

    /// A non-empty value; an empty one counts as absent, as the legacy SDK sends `RegionId=` unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, AliyunError> {
        self.get(name).ok_or_else(|| AliyunError::missing_parameter(name))
    }

    /// A whole number within `min..=max`, or `default` when absent.
    pub fn int(&self, name: &str, min: i64, max: i64, default: i64) -> Result<i64, AliyunError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.trim().parse::<i64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| AliyunError::invalid_parameter(name)),
        }
    }

    /// A repeated list `Name.1`, `Name.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        if !self.0.may_have_dotted_names() {
            return Vec::new();
        }
        let mut items: Vec<(u64, &str)> = self
            .iter()
            .filter_map(|(k, v)| {
                let index = k.strip_prefix(name)?.strip_prefix('.')?.parse::<u64>().ok()?;
                (!v.is_empty()).then_some((index, v))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.dedup_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

/// The request's body when it is a form, by the signature's own rule.
fn form_body(req: &WireRequest) -> Option<&[u8]> {
    super::pairs::form_body(req.content_type(), &req.body)
}

/// One operation call: what every operation file gets.
pub struct Call<'a> {
    pub operation: &'static crate::ops::Operation,
    pub params: &'a Params,
    pub dialect: Dialect,
    pub caller: Owner,
    pub now: Millis,
    pub snapshot: &'a Snapshot,
    pub request_id: &'a str,
    pub format: Format,
    /// The scenario's pins for this operation's whole answers.
    pub pins: &'a crate::world::Pins,
}

impl Call<'_> {
    /// The answer, written in the format asked for under the operation's XML root element, pins
    /// applied.
    pub fn document(&self, fill: impl FnOnce(&mut Object)) -> Vec<u8> {
        self.document_under(self.operation.xml_root, fill)
    }

    /// Like [`document`](Self::document), under another root element (a dialect's own).
    pub fn document_under(&self, root: &str, fill: impl FnOnce(&mut Object)) -> Vec<u8> {
        render::document(self.format, root, &[self.pins], fill)
    }

    /// An answer about one task: its pins apply to the whole answer, under the operation's.
    pub fn document_of(&self, task_pins: &crate::world::Pins, fill: impl FnOnce(&mut Object)) -> Vec<u8> {
        render::document(self.format, self.operation.xml_root, &[task_pins, self.pins], fill)
    }

    /// The page number and size asked for, by the operation's page rules ([`Paging::None`]: 1, 1).
    pub fn pages(&self) -> Result<(usize, usize), AliyunError> {
        match self.operation.paging {
            Paging::Pages { number, size, default_size, max_size } => {
                let page = self.params.int(number, 1, i64::from(i32::MAX), 1)?;
                let page_size = self.params.int(size, 1, max_size, default_size)?;
                Ok((page as usize, page_size as usize))
            }
            Paging::None | Paging::Offset { .. } => Ok((1, 1)),
        }
    }
}

/// What the edge learnt about a request before it ran: also what the journal records.
#[derive(Debug, Clone)]
pub struct Routed {
    pub product: Option<Product>,
    /// The catalogue's operation for the Version and Action given, if there is one.
    pub operation: Option<AlibabaOp>,
    pub action: Option<std::borrow::Cow<'static, str>>,
    pub format: Format,
    /// The key the request names (`AccessKeyId`, else the ACS3 `Credential`): who it is with auth
    /// off; with auth on only the gate's verified key counts ([`super::Caller`]).
    pub declared_caller: Option<std::sync::Arc<str>>,
}

/// Reads Action, Version, Format and the caller's key; never fails, so errors can be rendered in
/// the format the caller asked for.
pub fn route(req: &WireRequest, params: &Params) -> Routed {
    let format = match params.get("Format") {
        Some(f) if f.eq_ignore_ascii_case("xml") => Format::Xml,
        _ => Format::Json,
    };
    let version = params.get("Version").or_else(|| req.header("x-acs-version").filter(|v| !v.is_empty()));
    let action = params.get("Action").or_else(|| req.header("x-acs-action").filter(|v| !v.is_empty()));
    let caller = params.get("AccessKeyId").map(str::to_string).or_else(|| acs3_access_key(req));
    Routed {
        product: version.and_then(Product::by_version),
        operation: version.zip(action).and_then(|(version, action)| crate::ops::rpc(version, action)),
        action: action.map(super::operation_name),
        format,
        declared_caller: caller.map(std::sync::Arc::from),
    }
}

/// The AccessKeyId in an `ACS3-HMAC-SHA256 Credential=...` Authorization header.
fn acs3_access_key(req: &WireRequest) -> Option<String> {
    let auth = req.header("authorization")?.strip_prefix("ACS3-HMAC-SHA256")?;
    auth.split(',').find_map(|part| part.trim().strip_prefix("Credential=").map(|k| k.trim().to_string()))
}

/// An Alibaba request, read and routed, on its way through the gate and the fault rules.
pub struct Prepared {
    pub params: Params,
    pub routed: Routed,
    pub request_id: String,
    /// The world as the request found it: one snapshot serves the gate and the operation.
    pub snapshot: crate::state::SnapshotRef,
    pub caller: Caller,
    /// The shapes to answer in: the request's `x-taskemu-dialect`, else the emulator's.
    pub dialect: Dialect,
    /// An `x-taskemu-dialect` naming no dialect: the call is refused with it, never answered in
    /// a shape the caller did not ask for.
    pub dialect_refused: Option<AliyunError>,
}

impl Prepared {
    pub fn new(state: &State, req: &WireRequest) -> Prepared {
        let params = Params::from_request(req);
        let routed = route(req, &params);
        let snapshot = state.snapshot();
        let pinned = routed.action.as_deref().and_then(|a| snapshot.settings.request_ids.get(a).cloned());
        let caller = Caller::new(state.auth_on(&snapshot), routed.declared_caller.clone());
        let asked = req.header(DIALECT_HEADER).filter(|v| !v.trim().is_empty());
        let dialect = asked.and_then(Dialect::parse).unwrap_or(state.config.dialect);
        let dialect_refused = asked.filter(|v| Dialect::parse(v).is_none()).map(AliyunError::unknown_dialect);
        Prepared { params, routed, request_id: pinned.unwrap_or_else(super::alibaba_request_id), snapshot, caller, dialect, dialect_refused }
    }

    pub fn product(&self) -> Product {
        self.routed.product.unwrap_or(Product::Ecs)
    }

    /// `ecs:DescribeTasks`: what credentials allow or deny.
    pub fn permission(&self) -> String {
        format!("{}:{}", self.product().code().to_ascii_lowercase(), self.routed.action.as_deref().unwrap_or(""))
    }

    /// The parameters for the journal, raw (the query taken: the request is answered), decoded
    /// as [`Params::from_request`] does, the signature left out, when the journal is read.
    pub fn journal_parameters(req: &mut WireRequest) -> Parameters {
        let form = form_body(req).map(bytes::Bytes::copy_from_slice);
        Parameters { query: std::mem::take(&mut req.query), form, body: None, hide_signature: true }
    }

    pub fn error(&self, error: &AliyunError) -> WireResponse {
        let body = error.render(self.routed.format, &self.request_id, self.product().host_id(), self.product().code());
        WireResponse::new(error.status, content_type(self.routed.format), body).with_error_code(&error.code)
    }

}

impl Edge for Prepared {
    fn cloud(&self) -> Cloud {
        Cloud::Alibaba
    }

    fn product(&self) -> &'static str {
        self.product().name()
    }

    fn operation(&self) -> &str {
        self.routed.action.as_deref().unwrap_or_default()
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
        Some(self.snapshot.gate.alibaba(signed, &self.permission(), now_real))
    }

    fn diagnose(&self, signed: &SignedRequest, refusal: &Refusal, now_real: i64) -> Diagnosis {
        self.snapshot.gate.diagnose_alibaba(signed, refusal, &self.permission(), now_real)
    }

    /// The gate's refusal in Alibaba's words.
    fn refuse(&self, refusal: &Refusal) -> WireResponse {
        let error = match refusal {
            Refusal::Incomplete(_) | Refusal::BadToken => AliyunError::new(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."),
            Refusal::UnknownKey(_) => AliyunError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
            Refusal::BadSignature(sts) => AliyunError::new(
                400,
                "SignatureDoesNotMatch",
                format!("Specified signature is not matched with our calculation. server string to sign is:{}", sts.as_deref().unwrap_or("")),
            ),
            Refusal::Expired => AliyunError::new(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
            Refusal::NonceUsed => AliyunError::new(400, "SignatureNonceUsed", "Specified signature nonce was used already."),
            Refusal::Denied { .. } => match self.product() {
                Product::Sas => AliyunError::new(403, "NoPermission", "caller has no permission"),
                _ => AliyunError::new(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
            },
        };
        self.error(&error)
    }

    /// An injected fault in Alibaba's words.
    fn fail(&self, failure: &Failure) -> WireResponse {
        match failure {
            Failure::Throttled => self
                .error(&AliyunError::new(400, "Throttling", "Request was denied due to request throttling."))
                .with_header("x-acs-retry-after", "1000"),
            Failure::Error(spec) => {
                let (status, message) = error::known(&spec.code);
                let error = AliyunError::new(spec.status.unwrap_or(status), spec.code.clone(), spec.message.clone().unwrap_or(message));
                let response = self.error(&error);
                if spec.code == "Throttling" {
                    response.with_header("x-acs-retry-after", "1000")
                } else {
                    response
                }
            }
        }
    }

    /// The server's refusals of a request it did not read (whole), in Alibaba's words.
    fn unread(&self, refused: Refused, bounds: &Bounds) -> WireResponse {
        let status = refused.status();
        self.error(&match refused {
            Refused::BodyTooLarge => AliyunError::body_too_large(bounds.max_body),
            Refused::HeadersTooLarge => AliyunError::new(
                status,
                "RequestHeaderFieldsTooLarge",
                format!("The request headers exceed the limit of {} headers or {} bytes.", bounds.max_headers, bounds.max_header_bytes),
            ),
            Refused::NoHost => AliyunError::new(status, "MissingHost", "An HTTP/1.1 request must carry exactly one Host header."),
            Refused::UnsupportedCoding => AliyunError::new(status, "NotImplemented", "Transfer codings other than chunked are not supported."),
            Refused::BodyTimeout => AliyunError::new(status, "RequestTimeout", format!("The request body did not arrive within {} ms.", bounds.body_timeout.as_millis())),
            Refused::Stopping => AliyunError::new(status, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
            Refused::BodyUnreadable => AliyunError::new(status, "InvalidParameter", "The request body could not be read."),
        })
    }

    fn run(&self, req: &WireRequest, now: Millis) -> WireResponse {
        match answer(self, req, now) {
            Ok(body) => WireResponse::new(200, content_type(self.routed.format), body),
            Err(error) => self.error(&error),
        }
    }

    fn internal_error(&self) -> WireResponse {
        self.error(&AliyunError::server_error())
    }
}

fn answer(prepared: &Prepared, req: &WireRequest, now: Millis) -> Result<Vec<u8>, AliyunError> {
    let Prepared { params, routed, request_id, snapshot, caller, dialect, dialect_refused } = prepared;
    if !matches!(req.method.as_ref(), "GET" | "POST") {
        return Err(AliyunError::action_not_found());
    }
    routed.action.as_deref().ok_or_else(|| AliyunError::missing_parameter("Action"))?;
    let has_version = params.get("Version").is_some() || req.header("x-acs-version").is_some_and(|v| !v.is_empty());
    if !has_version {
        return Err(AliyunError::missing_parameter("Version"));
    }
    routed.product.ok_or_else(AliyunError::invalid_version)?;
    let operation = routed.operation.ok_or_else(AliyunError::action_not_found)?;
    if let Some(refused) = dialect_refused {
        return Err(refused.clone());
    }
    let spec = operation.spec();
    let pins = snapshot.settings.responses.get(spec.name).unwrap_or(render::NO_PINS);
    let call = Call { operation: spec, params, dialect: *dialect, caller: Owner::new(caller.tenant().as_deref()), now, snapshot, request_id, format: routed.format, pins };
    match operation {
        AlibabaOp::EcsDescribeTasks => ecs_describe_tasks::call(&call),
        AlibabaOp::SasDescribeScanTaskProgress => sas_describe_scan_task_progress::call(&call),
        AlibabaOp::AvdsDescribeScanSessions => avds_describe_scan_sessions::call(&call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, body: &str, content_type: Option<&str>) -> WireRequest {
        WireRequest {
            method: "POST".into(),
            path: "/".into(),
            query: query.into(),
            headers: content_type.map(|ct| ("content-type", ct)).into_iter().collect(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn params_merge_query_and_form_body_with_plus_as_space() {
        let req = request("Action=DescribeScanSessions&Format=json", "Search=a+b%2A&StatusList.2=finished&StatusList.1=waiting", Some("application/x-www-form-urlencoded; charset=utf-8"));
        let params = Params::from_request(&req);
        assert_eq!(params.get("Search"), Some("a b*"));
        assert_eq!(params.list("StatusList"), vec!["waiting", "finished"]);
        let routed = route(&req, &params);
        assert_eq!((routed.format, routed.action.as_deref()), (Format::Json, Some("DescribeScanSessions")));
    }

    #[test]
    fn a_body_that_is_not_a_form_is_not_read_as_parameters() {
        let params = Params::from_request(&request("", "RegionId=cn-hangzhou", Some("application/json")));
        assert_eq!(params.get("RegionId"), None);
    }

    #[test]
    fn empty_counts_as_missing_and_ints_are_range_checked() {
        let params = Params::from_request(&request("RegionId=&PageSize=101&PageNumber=x", "", None));
        assert_eq!(params.required("RegionId").unwrap_err().code, "MissingParameter");
        assert_eq!(params.int("PageSize", 1, 100, 10).unwrap_err().message, "The specified parameter \"PageSize\" is not valid.");
        assert!(params.int("PageNumber", 1, i64::MAX, 1).is_err());
        assert_eq!(params.int("Absent", 1, 5, 3), Ok(3));
    }

    #[test]
    fn action_version_and_key_come_from_v3_headers_too() {
        let mut req = request("TaskId=1", "", None);
        req.headers.push("x-acs-action", "DescribeScanTaskProgress");
        req.headers.push("x-acs-version", "2018-12-03");
        req.headers.push("authorization", "ACS3-HMAC-SHA256 Credential=LTAIkey,SignedHeaders=host,Signature=ab");
        let routed = route(&req, &Params::from_request(&req));
        assert_eq!(routed.product, Some(Product::Sas));
        assert_eq!(routed.declared_caller.as_deref(), Some("LTAIkey"));
    }

    /// Content types near the form's: its media type in any case, with parameters, whitespace,
    /// look-alike suffixes and prefixes, other types, and noise.
    fn content_types() -> impl proptest::strategy::Strategy<Value = Option<String>> {
        use proptest::prelude::*;
        let media = prop::sample::select(vec!["application/x-www-form-urlencoded", "application/x-www-form", "application/json", "multipart/form-data", "text/plain", ""]);
        let recase = prop::collection::vec(any::<bool>(), 40);
        let around = prop::sample::select(vec!["", " ", "\t", "x", "-x", "+xml"]);
        let params = prop::sample::select(vec!["", ";charset=UTF-8", " ; charset=utf-8", ";", ",text/plain", "; a=b; c=d", "x;charset=utf-8"]);
        let built = (around.clone(), media, recase, around, params).prop_map(|(before, media, upper, after, params)| {
            let media: String = media.chars().zip(upper.iter().cycle()).map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c }).collect();
            Some(format!("{before}{media}{after}{params}"))
        });
        prop_oneof![4 => built, 1 => "[ -~]{0,50}".prop_map(Some), 1 => Just(None)]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// What the RPC v1 signature covers and what the operation (and the journal) reads are the
        /// same parameters, whatever the content type and body.
        #[test]
        fn the_signature_covers_exactly_what_the_operation_reads(content_type in content_types(), body in "[a-zA-Z0-9=&%+.*]{0,60}") {
            let mut req = request("Action=DescribeTasks&AccessKeyId=k&TaskIds=t-1", &body, content_type.as_deref());
            let headers = req.headers.pairs();
            let signed = crate::auth::SignedRequest { method: &req.method, path: &req.path, raw_query: &req.query, headers: &headers, body: &req.body, content_type: req.content_type() };
            let covered = crate::auth::aliyun::rpc_params(&signed);
            let read: Vec<(String, String)> = Params::from_request(&req).iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            proptest::prop_assert_eq!(&covered, &read);
            let covered_body = signed.form_body().map(<[u8]>::to_vec);
            let journalled = Prepared::journal_parameters(&mut req);
            proptest::prop_assert_eq!(journalled.form.as_deref().map(<[u8]>::to_vec), covered_body);
        }
    }
}
