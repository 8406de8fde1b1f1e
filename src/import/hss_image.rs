//! HSS ListImageScanTask captures: image scans and syncs with their numeric status (0–99 while
//! scanning, 100 finished, -1/-2/-3 terminated, timed out, failed), counters and remaining
//! minutes. A scanning task's run length is found from its elapsed time, remaining minutes,
//! percentage and counters; the result is checked against the world's own view of the task at the
//! capture instant, and what still differs is pinned. The answer names no project: the tasks are
//! in the default one.

use serde_json::Value;

use super::{bool_of, differences, int_of, overlap, pins, progressing_duration, share_range, whole_at, Imported, Node, Read, ResponsePins};
use crate::instant::Millis;
use crate::world::hss_image::{FailedImage, HssImageTask, ImageTaskStatus, RareFields, DEFAULT_ENTERPRISE_PROJECT, IMAGE_TYPES, REGISTRY_TYPES, TASK_TYPES};
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
    code: i64,
    begin: Millis,
    end: Option<Millis>,
    remain: i64,
    task_type: &'static str,
    image_type: &'static str,
    images: u32,
    succeeded: u32,
    failed: u32,
    risky: u32,
    failed_images: Option<Vec<FailedImage>>,
}

impl Page {
    pub fn instants(&self) -> Vec<Millis> {
        self.tasks.iter().flat_map(|t| [Some(t.begin), t.end]).flatten().collect()
    }
}

fn count(item: &Node, key: &str) -> Read<u32> {
    item.get(key).map(|n| n.count()).transpose().map(Option::unwrap_or_default)
}

/// The failed images as the world keeps them; None when one cannot be (it is then pinned whole).
fn failed_images(item: &Node) -> Option<Vec<FailedImage>> {
    item.list("failed_images")
        .iter()
        .map(|f| {
            let text = |k: &str| f.get(k).and_then(|n| n.text().ok());
            Some(FailedImage {
                id: f.get("id")?.int().ok()?,
                registry_id: Text::from(text("registry_id")?),
                registry_name: Text::from(text("registry_name")?),
                image_name: Text::from(text("image_name")?),
                image_version: Text::from(text("image_version")?),
                namespace: Text::from(text("namespace")?),
                registry_type: REGISTRY_TYPES.iter().copied().find(|r| Some(*r) == text("registry_type").as_deref())?,
                failed_reason: Text::from(text("failed_reason")?),
            })
        })
        .collect()
}

pub(crate) fn read(root: &Node) -> Read<Page> {
    let mut tasks = Vec::new();
    for item in root.list("data_list") {
        let Value::Object(fields) = item.value else { return Err(item.error("expected an object")) };
        let code_node = item.need("task_status")?;
        let code = code_node.int()?;
        if !(-3..=100).contains(&code) {
            return Err(code_node.error(format!("unknown status {code}: expected 0 to 100 (progress), -1 (terminated), -2 (timed out) or -3 (failed)")));
        }
        tasks.push(Item {
            id: item.need("task_id")?.text()?,
            code,
            begin: item.need("begin_time")?.instant()?,
            end: item.get("end_time").map(|n| n.instant()).transpose()?,
            remain: item.opt_int("remain_min")?.unwrap_or(0),
            task_type: item.get("task_type").map(|t| t.word(TASK_TYPES)).transpose()?.unwrap_or("manual"),
            image_type: item.get("image_type").map(|t| t.word(IMAGE_TYPES)).transpose()?.unwrap_or("registry"),
            images: count(&item, "total_num")?,
            succeeded: count(&item, "success_num")?,
            failed: count(&item, "failed_num")?,
            risky: count(&item, "risky_num")?,
            failed_images: failed_images(&item),
            fields: fields.clone(),
        });
    }
    Ok(Page { xml: root.xml, total: root.opt_int("total_num")?, tasks })
}

fn share(whole: u32, progress: f64) -> u32 {
    ((f64::from(whole) * progress).floor() as u32).min(whole)
}

/// The lifecycle and (failures, risky) that give the captured status, times and counters at `at`.
fn lifecycle(item: &Item, at: Millis) -> (Vec<Phase<ImageTaskStatus>>, u32, u32) {
    use ImageTaskStatus::*;
    let one = |status| Phase { status, end: PhaseEnd::Never };
    let ended = |status| {
        let run = item.end.map_or(0, |end| (end - item.begin).max(0));
        (vec![Phase { status: Scanning, end: PhaseEnd::After(run) }, one(status)], item.failed, item.risky)
    };
    match item.code {
        100 => ended(Finished),
        -1 => ended(Terminated),
        -2 => ended(Timeout),
        -3 => ended(Failed),
        0 if item.remain == 0 && item.succeeded + item.failed == 0 => (vec![one(Waiting)], item.failed, item.risky),
        code => {
            let processed = item.succeeded.saturating_add(item.failed);
            let failures_at = |p: f64| whole_at(item.failed, p, item.images);
            let risky_at = |p: f64| whole_at(item.risky, p, item.images);
            let fits = |p: f64| ((p * 100.0).floor() as i64).min(99) == code && share(item.images, p) == processed && failures_at(p).is_some() && risky_at(p).is_some();
            let by_code = (code as f64 / 100.0, if code >= 99 { 1.0 } else { (code + 1) as f64 / 100.0 });
            match progressing_duration(at - item.begin, item.remain, overlap(by_code, share_range(processed, item.images)), fits) {
                Some(run) => {
                    let p = (at - item.begin) as f64 / run as f64;
                    let phases = vec![Phase { status: Scanning, end: PhaseEnd::After(run) }, one(Finished)];
                    (phases, failures_at(p).unwrap_or(item.failed), risky_at(p).unwrap_or(item.risky))
                }
                None => (vec![one(Scanning)], item.failed, item.risky),
            }
        }
    }
}

fn task(item: &Item, phases: Vec<Phase<ImageTaskStatus>>, failures: u32, risky: u32, pins: crate::world::Pins) -> HssImageTask {
    let text = |key: &str| item.fields.get(key).and_then(|v| v.as_str()).map(Text::new);
    HssImageTask {
        task_id: Text::new(&item.id),
        project_id: crate::scenario::DEFAULT_PROJECT.into(),
        enterprise_project_id: DEFAULT_ENTERPRISE_PROJECT.into(),
        task_name: text("task_name").unwrap_or_default(),
        task_type: Term::known(item.task_type),
        image_type: Term::known(item.image_type),
        scan_scope: item.fields.get("scan_scope").and_then(int_of).unwrap_or(0x7fff_ffff),
        is_all: item.fields.get("is_all").and_then(bool_of).unwrap_or(true),
        images: item.images,
        failures: failures.min(item.images),
        risky: risky.min(item.images),
        failed_images: item.failed_images.clone().unwrap_or_default().into_boxed_slice(),
        rare: RareFields {
            policy_id: text("policy_id"),
            rate_limit: item.fields.get("rate_limit").and_then(int_of),
            sync_task_type: text("sync_task_type"),
            failed_reason: text("failed_reason"),
        }
        .boxed(),
        created: item.begin,
        lifecycle: Lifecycle::new(phases),
        pins,
    }
}

/// What the derived task renders at `at`, by wire name.
fn rendered(t: &HssImageTask, at: Millis) -> Vec<(&'static str, Option<Value>)> {
    let v = t.view(t.lifecycle.at(t.created, at), at);
    let failed_images: Vec<Value> = v
        .failed_images
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": f.id, "registry_id": &*f.registry_id, "registry_name": &*f.registry_name, "image_name": &*f.image_name,
                "image_version": &*f.image_version, "namespace": &*f.namespace, "registry_type": f.registry_type, "failed_reason": &*f.failed_reason,
            })
        })
        .collect();
    vec![
        ("task_id", Some((*t.task_id).into())),
        ("policy_id", t.rare().policy_id.as_deref().map(Value::from)),
        ("task_name", Some((*t.task_name).into())),
        ("begin_time", Some(t.created.into())),
        ("end_time", v.stage.ended_at.map(Value::from)),
        ("remain_min", Some(v.remain_min.into())),
        ("task_type", Some(t.task_type.name().into())),
        ("image_type", Some(t.image_type.name().into())),
        ("task_status", Some(v.status_code.into())),
        ("scan_scope", Some(t.scan_scope.into())),
        ("rate_limit", t.rare().rate_limit.map(Value::from)),
        ("is_all", Some(t.is_all.into())),
        ("failed_num", Some(v.failed.into())),
        ("success_num", Some(v.success.into())),
        ("total_num", Some(t.images.into())),
        ("risky_num", Some(v.risky.into())),
        ("sync_task_type", t.rare().sync_task_type.as_deref().map(Value::from)),
        ("failed_reason", t.rare().failed_reason.as_deref().filter(|_| v.failed > 0 || v.status_code < 0).map(Value::from)),
        ("failed_images", Some(Value::Array(failed_images))),
    ]
}

pub(crate) fn derive(page: Page, at: Millis, out: &mut Imported) -> Read<ResponsePins> {
    let shown = page.tasks.len();
    for item in &page.tasks {
        if !out.first_sight(super::Kind::HssImage, &item.id) {
            continue;
        }
        let (phases, failures, risky) = lifecycle(item, at);
        let first = task(item, phases.clone(), failures, risky, None);
        let pinned = differences(&item.fields, &rendered(&first, at), page.xml);
        out.hss_image.push(task(item, phases, failures, risky, pins(pinned)));
    }
    Ok(page.total.filter(|&t| t != shown as i64).map(|t| vec![("total_num".into(), Some(Value::from(t)))]))
}
