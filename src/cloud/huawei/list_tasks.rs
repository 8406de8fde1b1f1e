//! HSS ListTasks: `POST /v5/{project_id}/common/tasks/batch-query`. Paging in the query, filters
//! in a JSON body (empty means `{}`); a field of the wrong type is HSS.0001 naming it, a body that
//! is not a JSON object is HSS.0002. Unknown fields are ignored, as the cloud does.

use serde_json::{Map, Value};

use super::{Call, HuaweiError};
use crate::render::{List, Word};
use crate::world::hss_task::{self, HssTaskStatus, HssTaskView, TaskKind, TaskQuery};
use crate::world::lifecycle::Status;

/// Typed reads of the body's fields, each error naming the field.
struct Body<'a>(&'a Map<String, Value>);

impl<'a> Body<'a> {
    fn text(&self, name: &str) -> Result<Option<&'a str>, HuaweiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if (1..=256).contains(&s.chars().count()) => Ok(Some(s)),
            Some(_) => Err(HuaweiError::invalid(name)),
        }
    }

    fn word(&self, name: &str, words: &[&str]) -> Result<Option<&'a str>, HuaweiError> {
        match self.text(name)? {
            Some(w) if !words.contains(&w) => Err(HuaweiError::invalid(name)),
            other => Ok(other),
        }
    }

    fn millis(&self, name: &str) -> Result<Option<i64>, HuaweiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| HuaweiError::invalid(name)),
        }
    }

    fn object(&self, name: &str) -> Result<Option<Body<'a>>, HuaweiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Body(map))),
            Some(_) => Err(HuaweiError::invalid(name)),
        }
    }
}

/// The body as a JSON object (empty means `{}`).
fn body(call: &Call) -> Result<Map<String, Value>, HuaweiError> {
    if call.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(call.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(HuaweiError::unparsable()),
    }
}

fn query<'a>(call: &Call<'a>, map: &'a Map<String, Value>) -> Result<TaskQuery<'a>, HuaweiError> {
    let (offset, limit) = call.paging()?;
    let body = Body(map);
    let (created_from, created_to) = (body.millis("start_create_time")?, body.millis("end_create_time")?);
    if let (Some(from), Some(to)) = (created_from, created_to) {
        if from > to {
            return Err(HuaweiError::invalid("end_create_time"));
        }
    }
    body.word("sort_key", hss_task::SORT_KEYS)?;
    let scan_types = match body.object("cluster_scan_info")? {
        None => Vec::new(),
        Some(info) => match info.0.get("scan_type_list") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or_else(|| HuaweiError::invalid("cluster_scan_info.scan_type_list")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(HuaweiError::invalid("cluster_scan_info.scan_type_list")),
        },
    };
    let file_type = match body.object("iac_scan_info")? {
        None => None,
        Some(info) => info.word("file_type", hss_task::FILE_TYPES).map_err(|_| HuaweiError::invalid("iac_scan_info.file_type"))?,
    };
    Ok(TaskQuery {
        project_id: call.project_id,
        enterprise_project_id: call.query.text("enterprise_project_id")?,
        task_type: body.word("task_type", hss_task::TASK_TYPES)?,
        task_id: body.text("task_id")?,
        task_name: body.text("task_name")?,
        created_from,
        created_to,
        trigger_type: body.word("trigger_type", hss_task::TRIGGER_TYPES)?,
        status: body.word("task_status", &["ready", "running", "finished"])?.and_then(HssTaskStatus::from_name),
        ascending: body.word("sort_dir", hss_task::SORT_DIRS)? == Some("asc"),
        scan_types,
        file_type,
        offset,
        limit,
    })
}

fn task(list: &mut List, v: &HssTaskView) {
    let t = v.task;
    let c = v.counts;
    list.object(&t.pins, |o| {
        o.field("task_id", &t.task_id)
            .field("task_type", Word(t.kind.name()))
            .field("task_name", &t.task_name)
            .field("trigger_type", t.trigger_type)
            .field("task_status", Word(v.stage.status.name()))
            .field("start_time", t.created)
            .field_some("end_time", v.stage.ended_at)
            .field("estimated_time", v.estimated_minutes);
        match &t.kind {
            TaskKind::ClusterScan { scan_types, .. } => o.object("cluster_scan_info", |o| {
                o.values("scan_type_list", scan_types.iter())
                    .field("scanning_cluster_num", c.in_progress)
                    .field("success_cluster_num", c.succeeded)
                    .field("failed_cluster_num", c.failed);
            }),
            TaskKind::IacScan { file_type, .. } => o.object("iac_scan_info", |o| {
                o.field("file_type", *file_type).field("scan_file_num", c.total).field("success_file_num", c.succeeded).field("failed_file_num", c.failed);
            }),
        };
    });
}

pub fn call(call: &Call) -> Result<Vec<u8>, HuaweiError> {
    let body = body(call)?;
    let q = query(call, &body)?;
    let page = hss_task::list(&call.snapshot.world.hss_task, &q, call.now);
    Ok(call.document(|o| {
        o.field("total_num", page.total).list("data_list", |list| page.items.iter().for_each(|v| task(list, v)));
    }))
}
