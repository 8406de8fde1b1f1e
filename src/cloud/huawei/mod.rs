//! The Huawei Cloud REST edge (HSS v5). Routes by method and path with the project id in it, reads
//! query parameters (and a JSON body, an empty one being `{}`), checks the documented ranges, and
//! answers JSON by default or XML when asked (`Format=XML`, or `Accept: application/xml`), with an
//! `X-Request-Id` header on every response, errors included.

pub mod error;
mod list_image_scan_task;
mod list_tasks;

pub use error::HuaweiError;

use crate::auth::form_decode;
use crate::instant::Millis;
use crate::render::{Format, Node};
use crate::state::{Snapshot, State};

use super::{WireRequest, WireResponse};

const JSON: &str = "application/json";
const XML: &str = "application/xml";

/// The two operations, by path shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListImageScanTask,
    ListTasks,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListImageScanTask => "ListImageScanTask",
            Operation::ListTasks => "ListTasks",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Operation::ListImageScanTask => "GET",
            Operation::ListTasks => "POST",
        }
    }
}

/// `(operation, project_id)` for a known path, whatever the method.
pub fn route(path: &str) -> Option<(Operation, String)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let operation = match segments.as_slice() {
        ["", "v5", _, "image", "tasks"] => Operation::ListImageScanTask,
        ["", "v5", _, "common", "tasks", "batch-query"] => Operation::ListTasks,
        _ => return None,
    };
    let project = percent_encoding::percent_decode_str(segments[2]).decode_utf8_lossy().into_owned();
    Some((operation, project))
}

/// Query parameters, first value wins.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
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
    pub project_id: &'a str,
    pub query: &'a Query,
    pub body: &'a [u8],
    pub now: Millis,
    pub snapshot: &'a Snapshot,
}

/// Paging every HSS list shares: offset 0–2,000,000 (default 0), limit 10–200 (default 10).
pub fn paging(query: &Query) -> Result<(usize, usize), HuaweiError> {
    let offset = query.int("offset", 0, 2_000_000, 0)?;
    let limit = query.int("limit", 10, 200, 10)?;
    Ok((offset as usize, limit as usize))
}

fn format(req: &WireRequest, query: &Query) -> Format {
    let asked_xml = query.get("Format").is_some_and(|f| f.eq_ignore_ascii_case("xml"))
        || req.header("accept").is_some_and(|a| a.to_ascii_lowercase().contains(XML) && !a.to_ascii_lowercase().contains(JSON));
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

/// Renders a result or error with its request id header.
pub fn respond(result: Result<(u16, Vec<u8>), HuaweiError>, format: Format, request_id: &str) -> WireResponse {
    let response = match result {
        Ok((status, body)) => WireResponse::new(status, content_type(format), body),
        Err(e) => WireResponse::new(e.status, content_type(format), e.render(format, request_id)),
    };
    response.with_header("x-request-id", request_id)
}

/// Serves one request under `/v5/`.
pub fn handle(state: &State, req: &WireRequest, request_id: &str) -> WireResponse {
    let query = Query(form_decode(&req.query));
    let format = format(req, &query);
    respond(answer(state, req, &query, format), format, request_id)
}

fn answer(state: &State, req: &WireRequest, query: &Query, format: Format) -> Result<(u16, Vec<u8>), HuaweiError> {
    let (operation, project_id) = route(&req.path).ok_or_else(HuaweiError::no_api)?;
    if req.method != operation.method() {
        return Err(HuaweiError::method_not_allowed());
    }
    if !(1..=256).contains(&project_id.chars().count()) {
        return Err(HuaweiError::invalid("project_id"));
    }
    let snapshot = state.snapshot();
    let call = Call { project_id: &project_id, query, body: &req.body, now: state.clock.now(), snapshot: &snapshot };
    let (root, doc): (&str, Node) = match operation {
        Operation::ListImageScanTask => ("ListImageScanTaskResponse", list_image_scan_task::call(&call)?),
        Operation::ListTasks => ("ListTasksResponse", list_tasks::call(&call)?),
    };
    Ok((200, doc.write(format, root)))
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
    }

    #[test]
    fn query_checks_ranges_and_words() {
        let q = Query(form_decode("limit=5&offset=2000001&type=image_scan&task_name="));
        assert_eq!(q.int("limit", 10, 200, 10).unwrap_err().message, "Invalid parameter: limit");
        assert!(paging(&q).is_err());
        assert_eq!(q.word("type", &["image_scan"]), Ok(Some("image_scan")));
        assert!(q.text("task_name").is_err(), "an empty name is below the 1-character minimum");
    }
}
