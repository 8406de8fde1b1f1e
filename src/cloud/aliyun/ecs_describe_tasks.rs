//! ECS DescribeTasks (2014-05-26): the progress of asynchronous tasks in a region.
//!
//! `sdk` dialect: `TaskSet` an object whose `Task` is always an array, `SupportCancel` a string
//! (what every SDK model parses). `docs` dialect: the documented JSON example's shape, `TaskSet` an
//! array of one object and `SupportCancel` a boolean (sdk-notes §2.5: Tea gets `body = None` on it).

use super::{AliyunError, Call, Dialect};
use crate::instant::{parse_iso8601_utc, EcsMinute};
use crate::render::{List, Object, Word};
use crate::world::ecs::{self, EcsQuery, EcsStatus, EcsView};
use crate::world::lifecycle::Status;

const MAX_TASK_IDS: usize = 100;
const MAX_RESOURCE_IDS: usize = 100;

fn query<'a>(call: &Call<'a>) -> Result<EcsQuery<'a>, AliyunError> {
    let p = call.params;
    let region = p.required("RegionId")?;
    if !call.snapshot.world.has_region(region) {
        return Err(AliyunError::region_not_found());
    }
    // A list with no id in it (" ", ",") filters nothing, like an absent one.
    let task_ids = match p.get("TaskIds") {
        None => None,
        Some(text) => Some(task_ids(text).ok_or_else(|| AliyunError::invalid_parameter("TaskIds"))?).filter(|ids| !ids.is_empty()),
    };
    let resource_ids = p.list("ResourceIds");
    if resource_ids.len() > MAX_RESOURCE_IDS {
        return Err(AliyunError::invalid_parameter("ResourceIds"));
    }
    let action = match p.get("TaskAction") {
        Some(a) if !ecs::ACTIONS.contains(&a) => return Err(AliyunError::invalid_parameter("TaskAction")),
        other => other.map(str::to_string),
    };
    let time = |name: &str| -> Result<Option<i64>, AliyunError> {
        p.get(name).map(|t| parse_iso8601_utc(t).ok_or_else(|| AliyunError::invalid_parameter(name))).transpose()
    };
    let (created_from, created_to) = (time("StartTime")?, time("EndTime")?);
    if let (Some(from), Some(to)) = (created_from, created_to) {
        if from > to {
            return Err(AliyunError::invalid_parameter("EndTime"));
        }
    }
    let (page_number, page_size) = call.pages()?;
    Ok(EcsQuery {
        region,
        task_ids,
        action,
        resource_ids: (!resource_ids.is_empty()).then(|| resource_ids.into_iter().map(str::to_string).collect()),
        // The doc: only Finished, Processing and Failed take effect; any other value is ignored.
        status: p.get("TaskStatus").and_then(EcsStatus::from_name).filter(|s| s.filterable()),
        created_from,
        created_to,
        page_number,
        page_size,
    })
}

/// `t-1,t-2` (what the SDKs send) or `["t-1","t-2"]` (the doc's example value); at most 100.
fn task_ids(text: &str) -> Option<Vec<String>> {
    let ids: Vec<String> = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<String>>(text).ok()?
    } else {
        text.split(',').map(|id| id.trim().to_string()).filter(|id| !id.is_empty()).collect()
    };
    (ids.len() <= MAX_TASK_IDS).then_some(ids)
}

fn task(list: &mut List, view: &EcsView, dialect: Dialect) {
    let task = view.task;
    list.object(&task.pins, |o| {
        o.field("CreationTime", EcsMinute::new(task.created)).field_some("FinishedTime", view.stage.ended_at.map(EcsMinute::new));
        match dialect {
            Dialect::Sdk => o.field("SupportCancel", Word(if view.support_cancel { "true" } else { "false" })),
            Dialect::Docs => o.field("SupportCancel", view.support_cancel),
        };
        o.field("TaskAction", Word(task.action.name()))
            .field("TaskStatus", Word(view.stage.status.name()))
            .field("TaskId", &task.id)
            // The SDK model reads ResourceId; the documented example has no such key.
            .field_some("ResourceId", task.resource_id.as_ref().filter(|_| dialect == Dialect::Sdk));
    });
}

pub fn call(call: &Call) -> Result<Vec<u8>, AliyunError> {
    let q = query(call)?;
    let page = ecs::describe(&call.snapshot.world.ecs, &q, &call.caller, call.now);
    let tasks = |o: &mut Object| {
        o.list("Task", |list| {
            for view in &page.items {
                task(list, view, call.dialect);
            }
        });
    };
    Ok(call.document(|o| match call.dialect {
        Dialect::Sdk => {
            o.field("PageNumber", q.page_number)
                .field("TotalCount", page.total)
                .field("PageSize", q.page_size)
                .field("RegionId", q.region)
                .field("RequestId", call.request_id)
                .object("TaskSet", tasks);
        }
        Dialect::Docs => {
            o.field("PageNumber", q.page_number)
                .field("TotalCount", page.total)
                .list("TaskSet", |list| {
                    list.object(crate::render::NO_PINS, tasks);
                })
                .field("PageSize", q.page_size)
                .field("RequestId", call.request_id)
                .field("RegionId", q.region);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_take_both_forms_and_cap_at_100() {
        assert_eq!(task_ids("t-1, t-2,,"), Some(vec!["t-1".into(), "t-2".into()]));
        assert_eq!(task_ids(r#"["t-1","t-2"]"#), Some(vec!["t-1".into(), "t-2".into()]));
        assert_eq!(task_ids("[1,"), None);
        let many = (0..101).map(|i| format!("t-{i}")).collect::<Vec<_>>().join(",");
        assert_eq!(task_ids(&many), None);
    }
}
