//! HSS ListTasks captures: cluster and IaC scans with their counters and estimated minutes. A
//! running task's run length is found from its elapsed time, its estimated minutes and its
//! counters (`progressing_duration`); its failures from the failed count at that progress. The
//! result is checked against the world's own view of the task at the capture instant, and what
//! still differs is pinned. The answer names no project: the tasks are in the default one.

use std::sync::Arc;

use serde_json::Value;

use super::{differences, pins, progressing_duration, share_range, whole_at, Imported, Node, Read, ResponsePins};
use crate::instant::Millis;
use crate::world::hss_image::DEFAULT_ENTERPRISE_PROJECT;
use crate::world::hss_task::{HssTask, HssTaskStatus, TaskKind, FILE_TYPES, TASK_TYPES, TRIGGER_TYPES};
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd};
use crate::world::{Term, Text};

pub(crate) struct Page {
    xml: bool,
    total: Option<i64>,
    tasks: Vec<Item>,
}

struct Item {
    fields: serde_json::Map<String, Value>,
    id: String,
    cluster: bool,
    status: HssTaskStatus,
    start: Millis,
    end: Option<Millis>,
    estimated: i64,
    scan_types: Vec<String>,
    file_type: &'static str,
    /// Total (clusters or files), done well, done badly.
    total: u32,
    succeeded: u32,
    failed: u32,
}

impl Page {
    pub fn instants(&self) -> Vec<Millis> {
        self.tasks.iter().flat_map(|t| [Some(t.start), t.end]).flatten().collect()
    }
}

pub(crate) fn read(root: &Node) -> Read<Page> {
    let mut tasks = Vec::new();
    for item in root.list("data_list") {
        let Value::Object(fields) = item.value else { return Err(item.error("expected an object")) };
        let cluster = match item.get("task_type") {
            Some(t) => t.word(TASK_TYPES)? == "cluster_scan",
            None => item.get("iac_scan_info").is_none(),
        };
        let (scan_types, file_type, total, succeeded, failed) = if cluster {
            let info = item.need("cluster_scan_info")?;
            let scanning = info.get("scanning_cluster_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            let succeeded = info.get("success_cluster_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            let failed = info.get("failed_cluster_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            let types = info.list("scan_type_list").iter().map(|t| t.text()).collect::<Read<Vec<_>>>()?;
            (types, FILE_TYPES[0], scanning.saturating_add(succeeded).saturating_add(failed), succeeded, failed)
        } else {
            let info = item.need("iac_scan_info")?;
            let file_type = info.get("file_type").map(|f| f.word(FILE_TYPES)).transpose()?.unwrap_or("dockerfile");
            let total = info.get("scan_file_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            let succeeded = info.get("success_file_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            let failed = info.get("failed_file_num").map(|n| n.count()).transpose()?.unwrap_or(0);
            (Vec::new(), file_type, total, succeeded, failed)
        };
        if let Some(trigger) = item.get("trigger_type") {
            trigger.word(TRIGGER_TYPES)?;
        }
        tasks.push(Item {
            id: item.need("task_id")?.text()?,
            cluster,
            status: item.need("task_status")?.status()?,
            start: item.need("start_time")?.instant()?,
            end: item.get("end_time").map(|n| n.instant()).transpose()?,
            estimated: item.opt_int("estimated_time")?.unwrap_or(0),
            scan_types,
            file_type,
            total,
            succeeded,
            failed,
            fields: fields.clone(),
        });
    }
    Ok(Page { xml: root.xml, total: root.opt_int("total_num")?, tasks })
}

/// The task with `failures` and `phases`, its kind from the capture.
fn task(item: &Item, failures: u32, phases: Vec<Phase<HssTaskStatus>>, pins: crate::world::Pins) -> HssTask {
    let kind = if item.cluster {
        TaskKind::ClusterScan { scan_types: Arc::from(item.scan_types.clone()), clusters: item.total, failures }
    } else {
        TaskKind::IacScan { file_type: Term::known(item.file_type), files: item.total, failures }
    };
    let text = |key: &str| item.fields.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    HssTask {
        task_id: Text::new(&item.id),
        project_id: crate::scenario::DEFAULT_PROJECT.into(),
        enterprise_project_id: DEFAULT_ENTERPRISE_PROJECT.into(),
        task_name: Text::from(text("task_name")),
        trigger_type: Term::known(TRIGGER_TYPES.iter().copied().find(|t| *t == text("trigger_type")).unwrap_or(TRIGGER_TYPES[0])),
        kind,
        created: item.start,
        lifecycle: Lifecycle::new(phases),
        pins,
    }
}

fn phase(status: HssTaskStatus, end: PhaseEnd) -> Phase<HssTaskStatus> {
    Phase { status, end }
}

/// The lifecycle and failures that give the captured status, end, estimate and counters at `at`.
fn lifecycle(item: &Item, at: Millis) -> (Vec<Phase<HssTaskStatus>>, u32) {
    use HssTaskStatus::*;
    let elapsed = at - item.start;
    let done = item.succeeded.saturating_add(item.failed);
    match item.status {
        Finished => {
            let run = item.end.map_or(0, |end| (end - item.start).max(0));
            (vec![phase(Running, PhaseEnd::After(run)), phase(Finished, PhaseEnd::Never)], item.failed)
        }
        Running => {
            let share = |whole: u32, progress: f64| ((f64::from(whole) * progress).floor() as u32).min(whole);
            let fits = |p: f64| share(item.total, p) == done && whole_at(item.failed, p, item.total).is_some();
            match progressing_duration(elapsed, item.estimated, share_range(done, item.total), fits) {
                Some(run) => {
                    let p = elapsed as f64 / run as f64;
                    let failures = whole_at(item.failed, p, item.total).unwrap_or(item.failed);
                    (vec![phase(Running, PhaseEnd::After(run)), phase(Finished, PhaseEnd::Never)], failures)
                }
                None => (vec![phase(Running, PhaseEnd::Never)], item.failed),
            }
        }
        Ready if item.estimated > 0 => {
            // Ready until just after the capture, then running for what the estimate leaves.
            let wait = elapsed.max(0) + 1;
            let run = item.estimated.saturating_mul(crate::instant::MINUTE).min(crate::instant::LATEST) - 1;
            (vec![phase(Ready, PhaseEnd::After(wait)), phase(Running, PhaseEnd::After(run)), phase(Finished, PhaseEnd::Never)], item.failed)
        }
        Ready => (vec![phase(Ready, PhaseEnd::Never)], item.failed),
    }
}

/// What the capture shows and the derived task does not: pinned by wire name.
fn pinned(item: &Item, derived: &HssTask, at: Millis, xml: bool) -> Vec<(String, Option<Value>)> {
    let view = derived.view(derived.lifecycle.at(derived.created, at), at);
    let c = view.counts;
    let mut expected: Vec<(&str, Option<Value>)> = vec![
        ("task_id", Some((*derived.task_id).into())),
        ("task_type", Some(derived.kind.name().into())),
        ("task_name", Some((*derived.task_name).into())),
        ("trigger_type", Some(derived.trigger_type.name().into())),
        ("task_status", Some(crate::world::lifecycle::Status::name(view.stage.status).into())),
        ("start_time", Some(derived.created.into())),
        ("end_time", view.stage.ended_at.map(Value::from)),
        ("estimated_time", Some(view.estimated_minutes.into())),
    ];
    let info = match &derived.kind {
        TaskKind::ClusterScan { scan_types, .. } => serde_json::json!({
            "scan_type_list": scan_types.to_vec(), "scanning_cluster_num": c.in_progress, "success_cluster_num": c.succeeded, "failed_cluster_num": c.failed,
        }),
        TaskKind::IacScan { file_type, .. } => serde_json::json!({
            "file_type": file_type.name(), "scan_file_num": c.total, "success_file_num": c.succeeded, "failed_file_num": c.failed,
        }),
    };
    let info_key = if item.cluster { "cluster_scan_info" } else { "iac_scan_info" };
    expected.push((info_key, Some(info)));
    differences(&item.fields, &expected, xml)
}

pub(crate) fn derive(page: Page, at: Millis, out: &mut Imported) -> Read<ResponsePins> {
    let shown = page.tasks.len();
    for item in &page.tasks {
        if !out.first_sight(super::Kind::HssTask, &item.id) {
            continue;
        }
        let (phases, failures) = lifecycle(item, at);
        let first = task(item, failures, phases.clone(), None);
        let pinned = pinned(item, &first, at, page.xml);
        out.hss_task.push(task(item, failures, phases, pins(pinned)));
    }
    Ok(page.total.filter(|&t| t != shown as i64).map(|t| vec![("total_num".into(), Some(Value::from(t)))]))
}
