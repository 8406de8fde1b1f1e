//! The world as the control API shows it: every task with its state derived now, one flat shape
//! for all products (what `GET /_emu/tasks`, `taskemu tasks` and the dashboard read). Looking does
//! not count as a read: read-bounded phases advance only for the cloud APIs' callers.

use serde_json::{json, Map, Value};

use crate::instant::{format_rfc3339, Millis};
use crate::world::lifecycle::{Lifecycle, Stage, Status};
use crate::scenario::suggest;
use crate::world::avds::{self, AvdsStatus};
use crate::world::ecs::EcsStatus;
use crate::world::hss_image::ImageTaskStatus;
use crate::world::hss_task::HssTaskStatus;
use crate::world::sas::SasStatus;
use crate::world::{Product, World};

/// The most lines one listing gives (`limit`): each is a JSON object, and periodic AVDS scans
/// can have billions of sessions.
pub const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub product: Option<String>,
    pub tenant: Option<String>,
    pub status: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

fn names_of<S: Status>() -> Vec<&'static str> {
    S::all().iter().map(|s| s.name()).collect()
}

/// The statuses a product's tasks can have, spelt as the listing shows them.
pub(crate) fn statuses(product: Product) -> Vec<&'static str> {
    match product {
        Product::Ecs => names_of::<EcsStatus>(),
        Product::Sas => names_of::<SasStatus>(),
        Product::Avds => names_of::<AvdsStatus>(),
        Product::HssImage => names_of::<ImageTaskStatus>(),
        Product::HssTask => names_of::<HssTaskStatus>(),
    }
}

/// `name` among `valid`, ignoring case: its own spelling, or why not (the valid ones, and the
/// nearest as a suggestion).
pub(crate) fn one_of(what: &str, name: &str, valid: &[&'static str]) -> Result<&'static str, String> {
    valid.iter().copied().find(|v| v.eq_ignore_ascii_case(name)).ok_or_else(|| unknown(what, name, valid))
}

fn unknown(what: &str, name: &str, valid: &[&str]) -> String {
    format!("unknown {what} {name:?}: expected one of {}{}", valid.join(", "), suggest::did_you_mean(name, valid.iter().copied()))
}

impl Filter {
    /// A filter whose product and status are checked: matched whatever their case, and refused
    /// when no task could have them (rather than an empty listing that looks like an empty world).
    pub(crate) fn checked(product: Option<&str>, status: Option<&str>) -> Result<Filter, String> {
        let product = match product {
            None => None,
            Some(name) => match Product::ALL.iter().copied().find(|p| p.name().eq_ignore_ascii_case(name)) {
                Some(p) => Some(p),
                None => return Err(unknown("product", name, &Product::ALL.iter().map(|p| p.name()).collect::<Vec<_>>())),
            },
        };
        let status = match (status, product) {
            (None, _) => None,
            (Some(s), Some(p)) => Some(one_of(&format!("{} status", p.name()), s, &statuses(p))?),
            (Some(s), None) => {
                let mut every: Vec<&'static str> = Vec::new();
                for name in Product::ALL.iter().flat_map(|p| statuses(*p)) {
                    if !every.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                        every.push(name);
                    }
                }
                Some(one_of("status", s, &every)?)
            }
        };
        Ok(Filter { product: product.map(|p| p.name().to_string()), status: status.map(str::to_string), ..Filter::default() })
    }
}

/// One task's line: what every product shares, then what it alone has.
fn line<S: Status>(product: Product, id: String, tenant: Option<&str>, created: Millis, lifecycle: &Lifecycle<S>, stage: &Stage<S>, extra: Value) -> Value {
    let mut fields = Map::new();
    fields.insert("product".into(), json!(product.name()));
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

/// How many of each thing a listing matched, under the one name each is known by everywhere
/// (`GET /_emu/health`, `GET /_emu/tasks`, `taskemu tasks`, `taskemu healthcheck`, the
/// dashboard): `tasks` (ECS, SAS, HSS image scans, HSS tasks: one line each), AVDS `scans` (the
/// schedules) and their `sessions` (the runs, one line each). A listing's `total` is its lines:
/// `tasks + sessions`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub tasks: usize,
    /// AVDS scans created by now that the product and tenant filters keep (whatever the status).
    pub scans: usize,
    pub sessions: usize,
}

/// The lines kept so far (from `offset`, at most `limit`) and how many matched in all.
struct Listing {
    offset: usize,
    limit: usize,
    total: usize,
    out: Vec<Value>,
    counts: Counts,
}

impl Listing {
    fn emit(&mut self, make: impl FnOnce() -> Value) {
        if self.total >= self.offset && self.out.len() < self.limit {
            self.out.push(make());
        }
        self.total += 1;
        self.counts.tasks += 1;
    }
}

/// What a listing found: the window's lines, how many lines matched in all, and of what.
#[derive(Debug)]
pub struct Listed {
    pub total: usize,
    pub lines: Vec<Value>,
    pub counts: Counts,
}

/// The world's counts at `now`, unfiltered: what health reports, and what an unfiltered listing
/// says (a test holds them equal). Counted, not listed: binary searches over creation and the
/// sessions' arithmetic, so a health poll costs nothing like a walk through a million tasks.
pub fn counts(world: &World, now: Millis) -> Counts {
    let mut counts = Counts::default();
    for &product in Product::ALL {
        match product {
            Product::Ecs => counts.tasks += world.ecs.created_by(now),
            Product::Sas => counts.tasks += world.sas.created_by(now),
            Product::Avds => {
                counts.scans = world.avds.created_by(now);
                counts.sessions = avds::page(&world.avds, &avds::AvdsQuery::default(), |_| true, None, 0, 0, now, false).total;
            }
            Product::HssImage => counts.tasks += world.hss_image.created_by(now),
            Product::HssTask => counts.tasks += world.hss_task.created_by(now),
        }
    }
    counts
}

/// Every task visible at `now` that the filter keeps, and how many there are in all.
pub fn list(world: &World, now: Millis, filter: &Filter) -> Listed {
    let wants = |product: Product| filter.product.as_deref().is_none_or(|p| p == product.name());
    let tenant_ok = |tenant: Option<&str>| filter.tenant.as_deref().is_none_or(|t| tenant == Some(t));
    let status_ok = |status: &str| filter.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(status));
    let mut listing = Listing { offset: filter.offset, limit: filter.limit, total: 0, out: Vec::new(), counts: Counts::default() };
    // Every product, in the world's order; a new one is a compile error here until it is listed.
    for &product in Product::ALL.iter().filter(|p| wants(**p)) {
        match product {
            Product::Ecs => {
                for t in world.ecs.iter().filter(|t| t.created <= now && tenant_ok(t.owner.0.as_deref())) {
                    let stage = t.lifecycle.at(t.created, now);
                    if status_ok(stage.status.name()) {
                        listing.emit(|| line(Product::Ecs, t.id.to_string(), t.owner.0.as_deref(), t.created, &t.lifecycle, &stage, json!({ "region": &*t.region, "action": t.action, "resource_id": t.resource_id })));
                    }
                }
            }
            Product::Sas => {
                for t in world.sas.iter().filter(|t| t.created <= now && tenant_ok(t.owner.0.as_deref())) {
                    let stage = t.lifecycle.at(t.created, now);
                    if status_ok(stage.status.name()) {
                        let targets: Vec<&str> = t.targets.iter().map(|x| x.name.as_str()).collect();
                        listing.emit(|| line(Product::Sas, t.id.to_string(), t.owner.0.as_deref(), t.created, &t.lifecycle, &stage, json!({ "targets": targets })));
                    }
                }
            }
            Product::Avds => {
                // Sessions are counted from their scans' schedules and only the page's are made: an
                // hourly scan has millions after a jump of centuries.
                let statuses: Option<Vec<AvdsStatus>> = match filter.status.as_deref() {
                    Some(name) => AvdsStatus::from_name(&name.to_ascii_lowercase()).map(|s| vec![s]),
                    None => Some(Vec::new()),
                };
                if let Some(statuses) = statuses {
                    let query = avds::AvdsQuery { statuses, ..Default::default() };
                    let skip = listing.offset.saturating_sub(listing.total);
                    let size = listing.limit.saturating_sub(listing.out.len());
                    let page = avds::page(&world.avds, &query, |scan| tenant_ok(scan.owner.0.as_deref()), None, skip, size, now, false);
                    // The page's sessions are the ones the running offset and limit keep.
                    for s in &page.items {
                        listing.out.push(line(Product::Avds, s.task_id.to_string(), s.scan.owner.0.as_deref(), s.started, &s.scan.lifecycle, &s.stage, json!({ "scan_id": s.scan.scan_id, "name": s.scan.name, "report": s.report.name() })));
                    }
                    listing.total = listing.total.saturating_add(page.total);
                    listing.counts.sessions = listing.counts.sessions.saturating_add(page.total);
                }
                listing.counts.scans += world.avds.iter().filter(|scan| scan.created <= now && tenant_ok(scan.owner.0.as_deref())).count();
            }
            Product::HssImage => {
                for t in world.hss_image.iter().filter(|t| t.created <= now && tenant_ok(Some(&t.project_id))) {
                    let stage = t.lifecycle.at(t.created, now);
                    if status_ok(stage.status.name()) {
                        let v = t.view(stage, now);
                        listing.emit(|| {
                            line(Product::HssImage, t.task_id.to_string(), Some(&t.project_id), t.created, &t.lifecycle, &stage, json!({ "name": t.task_name, "task_type": t.task_type, "images": t.images, "success": v.success, "failed": v.failed, "status_code": v.status_code }))
                        });
                    }
                }
            }
            Product::HssTask => {
                for t in world.hss_task.iter().filter(|t| t.created <= now && tenant_ok(Some(&t.project_id))) {
                    let stage = t.lifecycle.at(t.created, now);
                    if status_ok(stage.status.name()) {
                        let c = t.view(stage, now).counts;
                        listing.emit(|| {
                            line(Product::HssTask, t.task_id.to_string(), Some(&t.project_id), t.created, &t.lifecycle, &stage, json!({ "name": t.task_name, "task_type": t.kind.name(), "total": c.total, "succeeded": c.succeeded, "failed": c.failed, "in_progress": c.in_progress }))
                        });
                    }
                }
            }
        }
    }
    Listed { total: listing.total, lines: listing.out, counts: listing.counts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, Source};

    /// The counted counts are the listed ones, before the world starts, at it, and as tasks and
    /// sessions come and go.
    #[test]
    fn counting_agrees_with_listing() {
        let loaded = scenario::load(&[Source::demo()], 0, None).unwrap();
        for offset in [-crate::instant::DAY, -crate::instant::MINUTE, 0, 10 * crate::instant::MINUTE, 3 * crate::instant::HOUR, 400 * crate::instant::DAY] {
            let now = loaded.settings.clock_start + offset;
            assert_eq!(counts(&loaded.world, now), list(&loaded.world, now, &Filter::default()).counts, "at {offset} ms");
        }
    }

    /// Every window of the listing (offsets across products, AVDS sessions paged rather than
    /// listed) is the same slice of the whole listing, with the same total.
    #[test]
    fn a_window_is_a_slice_of_the_whole_listing() {
        let loaded = scenario::load(&[Source::demo()], 0, None).unwrap();
        let now = loaded.settings.clock_start + 10 * crate::instant::MINUTE;
        for product in [None, Some("avds")] {
            for status in [None, Some("finished"), Some("Running")] {
                let filter = |offset, limit| Filter { product: product.map(str::to_string), status: status.map(str::to_string), offset, limit, ..Filter::default() };
                let Listed { total, lines: all, counts } = list(&loaded.world, now, &filter(0, usize::MAX));
                assert_eq!(total, counts.tasks + counts.sessions, "{product:?} {status:?}");
                assert!(total == all.len() && (total > 0 || status.is_some()), "{product:?} {status:?}");
                for offset in 0..=total + 1 {
                    for limit in [0, 1, 3, 7] {
                        let Listed { total: windowed_total, lines: window, counts: windowed_counts } = list(&loaded.world, now, &filter(offset, limit));
                        assert_eq!(windowed_counts, counts, "a window counts what the whole listing does");
                        let end = (offset + limit).min(total);
                        assert_eq!(windowed_total, total);
                        assert_eq!(window, all[offset.min(total)..end.max(offset.min(total))].to_vec(), "{product:?} {status:?} from {offset}, {limit}");
                    }
                }
            }
        }
    }
}
