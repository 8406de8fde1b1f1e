//! The world as the control API shows it: every task with its state derived now, one flat shape
//! for all products (what `GET /_emu/tasks`, `taskemu tasks` and the dashboard read). Looking does
//! not count as a read: read-bounded phases advance only for the cloud APIs' callers.

use serde_json::{json, Map, Value};

use crate::instant::{format_rfc3339, Millis};
use crate::world::lifecycle::{Lifecycle, Stage, Status};
use crate::world::World;

pub const PRODUCTS: &[&str] = &["ecs", "sas", "avds", "hss_image", "hss_task"];

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub product: Option<String>,
    pub tenant: Option<String>,
    pub status: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One task's line: what every product shares, then what it alone has.
fn line<S: Status>(product: &str, id: String, tenant: Option<&str>, created: Millis, lifecycle: &Lifecycle<S>, stage: &Stage<S>, extra: Value) -> Value {
    let mut fields = Map::new();
    fields.insert("product".into(), json!(product));
    fields.insert("id".into(), json!(id));
    fields.insert("tenant".into(), json!(tenant));
    fields.insert("status".into(), json!(stage.status.name()));
    fields.insert("progress".into(), json!((stage.progress * 10_000.0).round() / 10_000.0));
    fields.insert("phase".into(), json!(stage.phase));
    fields.insert("phases".into(), json!(lifecycle.phases().iter().map(|p| p.status.name()).collect::<Vec<_>>()));
    fields.insert("created".into(), json!(format_rfc3339(created)));
    fields.insert("ended".into(), json!(stage.ended_at.map(format_rfc3339)));
    fields.insert("remaining_ms".into(), json!(stage.remaining));
    fields.insert("terminal".into(), json!(stage.status.terminal()));
    if let Value::Object(more) = extra {
        fields.extend(more);
    }
    Value::Object(fields)
}

/// Every task visible at `now` that the filter keeps, and how many there are in all.
pub fn list(world: &World, now: Millis, filter: &Filter) -> (usize, Vec<Value>) {
    let wants = |product: &str| filter.product.as_deref().is_none_or(|p| p == product);
    let tenant_ok = |tenant: Option<&str>| filter.tenant.as_deref().is_none_or(|t| tenant == Some(t));
    let status_ok = |status: &str| filter.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(status));
    let mut total = 0usize;
    let mut out = Vec::new();
    let mut emit = |make: &dyn Fn() -> Value| {
        if total >= filter.offset && out.len() < filter.limit {
            out.push(make());
        }
        total += 1;
    };
    if wants("ecs") {
        for t in world.ecs.iter().filter(|t| t.created <= now && tenant_ok(t.owner.0.as_deref())) {
            let stage = t.lifecycle.at(t.created, now);
            if status_ok(stage.status.name()) {
                emit(&|| line("ecs", t.id.to_string(), t.owner.0.as_deref(), t.created, &t.lifecycle, &stage, json!({ "region": &*t.region, "action": t.action, "resource_id": t.resource_id })));
            }
        }
    }
    if wants("sas") {
        for t in world.sas.iter().filter(|t| t.created <= now && tenant_ok(t.owner.0.as_deref())) {
            let stage = t.lifecycle.at(t.created, now);
            if status_ok(stage.status.name()) {
                let targets: Vec<&str> = t.targets.iter().map(|x| x.name.as_str()).collect();
                emit(&|| line("sas", t.id.to_string(), t.owner.0.as_deref(), t.created, &t.lifecycle, &stage, json!({ "targets": targets })));
            }
        }
    }
    if wants("avds") {
        let query = crate::world::avds::AvdsQuery { page: 1, page_size: usize::MAX, ..Default::default() };
        let sessions = crate::world::avds::sessions(&world.avds, &query, now);
        for s in sessions.iter().filter(|s| tenant_ok(s.scan.owner.0.as_deref())) {
            if status_ok(s.stage.status.name()) {
                emit(&|| {
                    line("avds", s.task_id.to_string(), s.scan.owner.0.as_deref(), s.started, &s.scan.lifecycle, &s.stage, json!({ "scan_id": s.scan.scan_id, "name": s.scan.name, "report": s.report.name() }))
                });
            }
        }
    }
    if wants("hss_image") {
        for t in world.hss_images.iter().filter(|t| t.created <= now && tenant_ok(Some(&t.project_id))) {
            let stage = t.lifecycle.at(t.created, now);
            if status_ok(stage.status.name()) {
                let v = t.view(stage, now);
                emit(&|| {
                    line("hss_image", t.task_id.to_string(), Some(&t.project_id), t.created, &t.lifecycle, &stage, json!({ "name": t.task_name, "task_type": t.task_type, "images": t.images, "success": v.success, "failed": v.failed, "status_code": v.status_code }))
                });
            }
        }
    }
    if wants("hss_task") {
        for t in world.hss_tasks.iter().filter(|t| t.created <= now && tenant_ok(Some(&t.project_id))) {
            let stage = t.lifecycle.at(t.created, now);
            if status_ok(stage.status.name()) {
                let c = t.view(stage, now).counts;
                emit(&|| {
                    line("hss_task", t.task_id.to_string(), Some(&t.project_id), t.created, &t.lifecycle, &stage, json!({ "name": t.task_name, "task_type": t.kind.name(), "total": c.total, "succeeded": c.succeeded, "failed": c.failed, "in_progress": c.in_progress }))
                });
            }
        }
    }
    (total, out)
}
