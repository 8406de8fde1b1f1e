//! Security Center DescribeScanTaskProgress captures: one task's progress word and its targets.
//! The answer names neither its task nor any time, so the task id comes from a `TaskId` beside
//! the answer (a log that kept the request's) or from `--sas-task-id`, and the task exists from the
//! capture instant on, in the captured status for good.

use serde_json::Value;

use super::{pins, Imported, Node, Read, ResponsePins};
use crate::instant::Millis;
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd};
use crate::world::sas::{SasStatus, SasTask, ScanTarget, TARGET_KINDS};
use crate::world::{Owner, Text};

pub(crate) struct Answer {
    pub request_id: Option<String>,
    id: i64,
    status: SasStatus,
    /// The targets, or the captured TargetInfo when it is not what a task's targets write.
    targets: Result<Vec<ScanTarget>, Value>,
}

pub(crate) fn read(root: &Node, default_id: Option<i64>) -> Read<Answer> {
    let id = match root.get("TaskId") {
        Some(id) => id.int()?,
        None => default_id.ok_or_else(|| {
            root.error(format!("a {} answer does not name its task: add \"TaskId\" beside the answer, or pass --sas-task-id", super::Kind::Sas.operation()))
        })?,
    };
    let status = root.need("ScanTaskProgress")?.status()?;
    let targets = match root.get("TargetInfo") {
        None => Ok(Vec::new()),
        Some(node) => match node.value {
            Value::String(text) => targets(text).ok_or_else(|| node.value.clone()),
            other => Err(other.clone()),
        },
    };
    Ok(Answer { request_id: root.opt_text("RequestId")?, id, status, targets })
}

/// `[{"type":"uuid","name":…,"target":…}]`, the form the emulator writes back to the byte;
/// anything else is kept as text and pinned.
fn targets(text: &str) -> Option<Vec<ScanTarget>> {
    let items: Vec<serde_json::Map<String, Value>> = serde_json::from_str(text).ok()?;
    let targets: Option<Vec<ScanTarget>> = items
        .iter()
        .map(|item| {
            (item.len() == 3).then_some(())?;
            let kind = item.get("type")?.as_str()?;
            Some(ScanTarget {
                kind: TARGET_KINDS.iter().find(|k| **k == kind)?,
                name: Text::new(item.get("name")?.as_str()?),
                target: Text::new(item.get("target")?.as_str()?),
            })
        })
        .collect();
    let targets = targets?;
    // Only when written back it is the same text (key order, spacing).
    let written: Vec<String> = targets
        .iter()
        .map(|t| format!("{{\"type\":{},\"name\":{},\"target\":{}}}", Value::from(t.kind), Value::from(&*t.name), Value::from(&*t.target)))
        .collect();
    (format!("[{}]", written.join(",")) == text).then_some(targets)
}

pub(crate) fn derive(answer: Answer, at: Millis, out: &mut Imported) -> Read<ResponsePins> {
    if !out.first_sight(super::Kind::Sas, &answer.id.to_string()) {
        return Ok(None);
    }
    let (targets, set) = match answer.targets {
        Ok(targets) => (targets, Vec::new()),
        Err(info) => (Vec::new(), vec![("TargetInfo".to_string(), Some(info))]),
    };
    let lifecycle = Lifecycle::new(vec![Phase { status: answer.status, end: PhaseEnd::Never }]);
    out.sas.push(SasTask::new(answer.id, Owner::shared(), at, targets, lifecycle, pins(set)));
    Ok(None)
}
