//! ECS DescribeTasks captures: the `sdk` shape (`TaskSet` an object), the `docs` shape (`TaskSet`
//! an array of one object, `SupportCancel` a boolean) and XML. The answer shows minutes only, so a
//! task is created at its CreationTime's minute, plus a few milliseconds that keep the captured
//! order among tasks of the same minute where it is not their ids' (the listing's ties go by id).

use serde_json::Value;

use super::{pins, Imported, Node, Read, ResponsePins};
use crate::instant::{parse_iso8601_utc, Millis};
use crate::world::ecs::{EcsStatus, EcsTask, ACTIONS};
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd, Status};
use crate::world::{Owner, Text, ALIBABA_REGIONS};

pub(crate) struct Page {
    pub request_id: Option<String>,
    region: String,
    total: Option<i64>,
    tasks: Vec<Item>,
}

struct Item {
    id: String,
    status: EcsStatus,
    action: String,
    /// The CreationTime's minute.
    created: Millis,
    finished: Option<Millis>,
    /// Milliseconds past the minute that keep the captured order (see the module doc).
    offset: Millis,
    support_cancel: Option<bool>,
    resource_id: Option<String>,
}

impl Page {
    pub fn instants(&self) -> Vec<Millis> {
        self.tasks.iter().flat_map(|t| [Some(t.created), t.finished].into_iter().flatten().map(move |at| at + t.offset)).collect()
    }
}

fn minute(node: &Node) -> Read<Millis> {
    let text = node.text()?;
    parse_iso8601_utc(&text).ok_or_else(|| node.error(format!("bad time {text:?}: expected yyyy-MM-ddTHH:mmZ")))
}

pub(crate) fn read(root: &Node) -> Read<Page> {
    let set = root.need("TaskSet")?;
    // docs: `"TaskSet": [{"Task": [...]}]`; sdk and XML: `"TaskSet": {"Task": [...]}`.
    let mut items = Vec::new();
    for holder in set.items() {
        items.extend(holder.list("Task"));
    }
    let region = match root.get("RegionId") {
        Some(r) => r.text()?,
        None => crate::scenario::DEFAULT_REGION.to_string(),
    };
    let mut tasks = Vec::with_capacity(items.len());
    for item in items {
        let status: EcsStatus = item.need("TaskStatus")?.status()?;
        tasks.push(Item {
            id: item.need("TaskId")?.text()?,
            status,
            action: item.get("TaskAction").map(|a| a.text()).transpose()?.unwrap_or_else(|| "ImportImage".into()),
            created: minute(&item.need("CreationTime")?)?,
            finished: item.get("FinishedTime").map(|f| minute(&f)).transpose()?,
            support_cancel: item.get("SupportCancel").map(|s| s.boolean()).transpose()?,
            resource_id: item.opt_text("ResourceId")?,
            offset: 0,
        });
    }
    // Within a run of tasks of one minute, the listing goes by id; where the capture's order does
    // not, the earlier listed is a millisecond newer (as few milliseconds as keep the order, so
    // that a capture instant on the minute itself still sees them all, as far as it can).
    let mut start = 0;
    while start < tasks.len() {
        let end = (start..tasks.len()).find(|&i| tasks[i].created != tasks[start].created).unwrap_or(tasks.len());
        for k in (start..end.saturating_sub(1)).rev() {
            let later = tasks[k + 1].offset;
            tasks[k].offset = if tasks[k].id < tasks[k + 1].id { later } else { later + 1 };
        }
        start = end;
    }
    Ok(Page { request_id: root.opt_text("RequestId")?, region, total: root.opt_int("TotalCount")?, tasks })
}

pub(crate) fn derive(page: Page, _at: Millis, out: &mut Imported) -> Read<ResponsePins> {
    if !ALIBABA_REGIONS.contains(&page.region.as_str()) && !out.regions.contains(&page.region) {
        out.regions.push(page.region.clone());
    }
    let region = crate::world::Shared::from(page.region.as_str());
    let shown = page.tasks.len();
    for item in page.tasks {
        if !out.first_sight(super::Kind::Ecs, &item.id) {
            continue;
        }
        let mut set: Vec<(String, Option<Value>)> = Vec::new();
        let action = match ACTIONS.iter().find(|a| **a == item.action) {
            Some(a) => *a,
            None => {
                set.push(("TaskAction".into(), Some(Value::String(item.action.clone()))));
                "ImportImage"
            }
        };
        let created = item.created + item.offset;
        let terminal = item.status.terminal();
        let phases = match (terminal, item.finished) {
            (true, Some(finished)) if finished > item.created => {
                vec![Phase { status: EcsStatus::Processing, end: PhaseEnd::After(finished - item.created) }, Phase { status: item.status, end: PhaseEnd::Never }]
            }
            (true, finished) => {
                // Ended at its creation (or shown ending before it, or not at all): pinned.
                if finished.is_none_or(|f| f < item.created) {
                    set.push(("FinishedTime".into(), finished.map(|f| Value::String(crate::instant::format_ecs_minute(f)))));
                }
                vec![Phase { status: item.status, end: PhaseEnd::Never }]
            }
            (false, finished) => {
                if let Some(f) = finished {
                    set.push(("FinishedTime".into(), Some(Value::String(crate::instant::format_ecs_minute(f)))));
                }
                vec![Phase { status: item.status, end: PhaseEnd::Never }]
            }
        };
        // Cancellable until the task ends, unless the capture says otherwise.
        let support_cancel = item.support_cancel.filter(|&c| c == terminal);
        out.ecs.push(EcsTask {
            id: Text::new(&item.id),
            region: region.clone(),
            owner: Owner::shared(),
            action: crate::world::Term::known(action),
            resource_id: item.resource_id.as_deref().map(Text::new),
            created,
            lifecycle: Lifecycle::new(phases),
            support_cancel,
            pins: pins(set),
        });
    }
    // A page of fewer tasks than its total: the rest is not in the capture.
    Ok(page.total.filter(|&t| t != shown as i64).map(|t| vec![("TotalCount".into(), Some(Value::from(t)))]))
}
