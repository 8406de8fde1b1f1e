//! Turns parsed scenario specs into tasks: resolves instants against the clock start, draws random
//! values (ranges, choices, fake names and ids) from a seeded generator, and checks what serde
//! cannot (phase rules, counts, duplicate ids), reporting each problem at its line and column.

use fake::faker::internet::en::{DomainSuffix, IPv4, Username};
use fake::faker::lorem::en::Word as FakeWord;
use fake::Fake;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use toml::Spanned;

use super::schema::{self, Choice, DurationSpec, IntSpec, PhaseSpec, When};
use super::{Located, ScenarioError};
use crate::instant::{Millis, MINUTE, SECOND};
use crate::world::avds::{AvdsScan, AvdsStatus, Period, ReportPlan, Trigger};
use crate::world::ecs::{EcsStatus, EcsTask};
use crate::world::hss_image::{FailedImage, HssImageTask, ImageTaskStatus, DEFAULT_ENTERPRISE_PROJECT};
use crate::world::hss_task::{HssTask, HssTaskStatus, TaskKind};
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd, Status};
use crate::world::sas::{SasStatus, SasTask, ScanTarget};
use crate::world::{Owner, Pins};

/// The project Huawei tasks belong to when a scenario names none (the SDK notes' test project).
pub const DEFAULT_PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// The most tasks one generator entry may make, so a typo cannot exhaust memory.
pub const MAX_GENERATED: u32 = 2_000_000;

/// Tasks built from one file, each with where it was declared (for duplicate-id errors).
#[derive(Debug, Default)]
pub struct Built {
    pub ecs: Vec<(EcsTask, usize)>,
    pub sas: Vec<(SasTask, usize)>,
    pub avds: Vec<(AvdsScan, usize)>,
    pub hss_images: Vec<(HssImageTask, usize)>,
    pub hss_tasks: Vec<(HssTask, usize)>,
}

pub struct Builder<'a> {
    pub source: &'a Located<'a>,
    pub start: Millis,
    pub seed: u64,
    pub errors: Vec<ScenarioError>,
    pub built: Built,
}

/// Values drawn for one entry: each entry gets its own generator so that editing one entry does
/// not reshuffle the others.
struct Draw(StdRng);

impl Draw {
    fn one<'t, T>(&mut self, choice: &'t Choice<T>) -> &'t T {
        &choice.0[self.0.random_range(0..choice.0.len())]
    }

    fn duration(&mut self, spec: DurationSpec) -> Millis {
        if spec.low == spec.high {
            spec.low
        } else {
            self.0.random_range(spec.low..=spec.high)
        }
    }

    fn int(&mut self, spec: IntSpec) -> i64 {
        if spec.low == spec.high {
            spec.low
        } else {
            self.0.random_range(spec.low..=spec.high)
        }
    }

    fn count(&mut self, spec: Option<IntSpec>, default: u32) -> u32 {
        spec.map_or(default, |s| u32::try_from(self.int(s)).unwrap_or(u32::MAX))
    }

    fn when(&mut self, when: When, start: Millis) -> Millis {
        let (low, high) = (when.low.resolve(start), when.high.resolve(start));
        if high <= low {
            low
        } else {
            self.0.random_range(low..=high)
        }
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[self.0.random_range(0..16)])).collect()
    }

    fn uuid(&mut self) -> String {
        format!("{}-{}-4{}-{}{}-{}", self.hex(8), self.hex(4), self.hex(3), char::from(b"89ab"[self.0.random_range(0..4)]), self.hex(3), self.hex(12))
    }

    fn ecs_task_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let tail: String = (0..18).map(|_| char::from(ALPHABET[self.0.random_range(0..ALPHABET.len())])).collect();
        format!("t-bp{tail}")
    }

    fn word(&mut self) -> String {
        FakeWord().fake_with_rng(&mut self.0)
    }

    fn host(&mut self) -> String {
        let user: String = Username().fake_with_rng(&mut self.0);
        format!("host-{}", user.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
    }

    fn target(&mut self) -> String {
        if self.0.random_bool(0.5) {
            IPv4().fake_with_rng(&mut self.0)
        } else {
            let suffix: String = DomainSuffix().fake_with_rng(&mut self.0);
            format!("www.{}.{suffix}", self.word())
        }
    }
}

/// A pinned TOML value as the JSON the edges render. Not `serde_json::to_value`: that turns a TOML
/// datetime into toml's private `{"$__toml_private_datetime": ...}` object; a pin wants its text.
fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        // Non-finite floats have no JSON form; null, as serde_json would make them.
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(table.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

/// Where an entry stands, and whether it is a generator (`count` tasks, ids drawn) or one task.
struct Entry {
    at: usize,
    count: u32,
    generated: bool,
}

impl<'a> Builder<'a> {
    fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.errors.push(self.source.error_at(offset, message));
    }

    fn draw(&self, section: &str, index: usize) -> Draw {
        let mut mix = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for byte in section.bytes() {
            mix = mix.rotate_left(5) ^ u64::from(byte);
        }
        Draw(StdRng::seed_from_u64(mix.wrapping_mul(0x100_0000_01b3).wrapping_add(index as u64)))
    }

    /// Checks `count` and `id` against the kind of entry and says how many tasks it makes.
    fn entry(&mut self, at: usize, count: Option<u32>, has_id: bool, generated: bool, id_field: &str) -> Option<Entry> {
        match (generated, count) {
            (false, Some(_)) => {
                self.error(at, "`count` belongs in a generator entry ([[...generate]]), not in an explicit task");
                None
            }
            (false, None) if !has_id => {
                self.error(at, format!("an explicit task needs `{id_field}` (use a [[...generate]] entry to draw ids)"));
                None
            }
            (true, _) if has_id => {
                self.error(at, format!("a generator draws its ids: remove `{id_field}`"));
                None
            }
            (true, None) => {
                self.error(at, "a generator needs `count`");
                None
            }
            (true, Some(n)) if n > MAX_GENERATED => {
                self.error(at, format!("count {n} is over the limit of {MAX_GENERATED} tasks per generator"));
                None
            }
            (_, count) => Some(Entry { at, count: count.unwrap_or(1), generated }),
        }
    }

    fn lifecycle<S: Status>(&mut self, spec: &Option<schema::Lifecycle<S>>, default: &[(S, Option<Millis>)], periodic: bool, draw: &mut Draw) -> Option<Lifecycle<S>> {
        let Some(spec) = spec else {
            return Some(Lifecycle::new(default.iter().map(|&(status, d)| Phase { status, end: d.map_or(PhaseEnd::Never, PhaseEnd::After) }).collect()));
        };
        if spec.get_ref().is_empty() {
            self.error(spec.span().start, "a lifecycle needs at least one phase");
            return None;
        }
        let last = spec.get_ref().len() - 1;
        let mut phases = Vec::with_capacity(last + 1);
        for (i, phase) in spec.get_ref().iter().enumerate() {
            let at = phase.span().start;
            let PhaseSpec { status, duration, reads } = phase.get_ref();
            let end = match (i == last, duration, reads) {
                (true, None, None) => PhaseEnd::Never,
                (true, _, _) => {
                    self.error(at, "the last phase never ends: remove its `for` / `reads`");
                    return None;
                }
                (false, Some(d), None) => PhaseEnd::After(draw.duration(*d)),
                (false, None, Some(_)) if periodic => {
                    self.error(at, "sessions of a periodic scan cannot end after reads: use `for`");
                    return None;
                }
                (false, None, Some(r)) => match u32::try_from(draw.int(*r)) {
                    Ok(n) if n > 0 => PhaseEnd::Reads(n),
                    _ => {
                        self.error(at, "`reads` must be from 1 to 4294967295");
                        return None;
                    }
                },
                (false, Some(_), Some(_)) => {
                    self.error(at, "a phase ends either after a duration (`for`) or after reads (`reads`), not both");
                    return None;
                }
                (false, None, None) => {
                    self.error(at, "every phase but the last needs `for = \"<duration>\"` or `reads = N`");
                    return None;
                }
            };
            phases.push(Phase { status: draw.one(status).0, end });
        }
        Some(Lifecycle::new(phases))
    }

    fn pins(set: &Option<toml::Table>, unset: &[String]) -> Pins {
        if set.is_none() && unset.is_empty() {
            return None;
        }
        let mut pins: Vec<(String, Option<serde_json::Value>)> = set.iter().flatten().map(|(key, value)| (key.clone(), Some(toml_to_json(value)))).collect();
        pins.extend(unset.iter().map(|key| (key.clone(), None)));
        Some(pins.into_boxed_slice())
    }

    pub fn ecs(&mut self, specs: &[Spanned<schema::EcsSpec>], generated: bool) {
        let section = if generated { "ecs.generate" } else { "ecs.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count, spec.id.is_some(), generated, "id") else { continue };
            let mut draw = self.draw(section, index);
            for _ in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(EcsStatus::Waiting, Some(30 * SECOND)), (EcsStatus::Processing, Some(10 * MINUTE)), (EcsStatus::Finished, None)], false, &mut draw) else { break };
                let id = spec.id.as_ref().map_or_else(|| draw.ecs_task_id(), |id| id.get_ref().clone());
                let task = EcsTask {
                    id,
                    region: spec.region.as_ref().map_or(DEFAULT_REGION.to_string(), |r| draw.one(r).clone()),
                    owner: Owner(spec.owner.clone()),
                    action: spec.action.as_ref().map_or("ImportImage", |a| draw.one(a).0),
                    resource_id: spec.resource_id.clone().or_else(|| entry.generated.then(|| format!("m-bp{}", draw.hex(18)))),
                    created: spec.created.map_or(self.start, |w| draw.when(w, self.start)),
                    support_cancel: spec.support_cancel,
                    lifecycle,
                    pins: Self::pins(&spec.set, &spec.unset),
                };
                self.built.ecs.push((task, spec.id.as_ref().map_or(entry.at, |id| id.span().start)));
            }
        }
    }

    pub fn sas(&mut self, specs: &[Spanned<schema::SasSpec>], generated: bool) {
        let section = if generated { "sas.generate" } else { "sas.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count, spec.id.is_some(), generated, "id") else { continue };
            let mut draw = self.draw(section, index);
            let base: i64 = draw.0.random_range(100_000..900_000_000);
            for n in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(SasStatus::Init, Some(10 * SECOND)), (SasStatus::Processing, Some(5 * MINUTE)), (SasStatus::Success, None)], false, &mut draw) else { break };
                let mut targets: Vec<ScanTarget> = spec.targets.iter().map(|t| ScanTarget { kind: t.kind.0.to_string(), name: t.name.clone(), target: t.target.clone() }).collect();
                if targets.is_empty() {
                    for _ in 0..draw.count(spec.target_count, 1) {
                        targets.push(ScanTarget { kind: "uuid".into(), name: draw.host(), target: draw.uuid() });
                    }
                }
                let id = spec.id.as_ref().map_or(base + i64::from(n), |id| *id.get_ref());
                let created = spec.created.map_or(self.start, |w| draw.when(w, self.start));
                let pins = Self::pins(&spec.set, &spec.unset);
                self.built.sas.push((SasTask::new(id, Owner(spec.owner.clone()), created, targets, lifecycle, pins), spec.id.as_ref().map_or(entry.at, |id| id.span().start)));
            }
        }
    }

    pub fn avds(&mut self, specs: &[Spanned<schema::AvdsSpec>], generated: bool) {
        let section = if generated { "avds.generate" } else { "avds.scans" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count, spec.scan_id.is_some(), generated, "scan_id") else { continue };
            let mut draw = self.draw(section, index);
            for n in 0..entry.count {
                let periodic = spec.trigger.as_ref().is_some_and(|t| draw.one(t).0 == "interval");
                let trigger = if periodic {
                    let period = spec.period.as_ref().map_or(Period::Hour, |p| Period::from_name(draw.one(p).0).unwrap_or(Period::Hour));
                    let interval = draw.count(spec.interval, 1);
                    if interval == 0 {
                        self.error(entry.at, "`interval` must be at least 1");
                        break;
                    }
                    Trigger::Every { period, interval, limit: spec.sessions }
                } else {
                    Trigger::Once
                };
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(AvdsStatus::Waiting, Some(MINUTE)), (AvdsStatus::Running, Some(30 * MINUTE)), (AvdsStatus::Finished, None)], periodic, &mut draw) else { break };
                let targets = match &spec.targets {
                    Some(t) => t.clone(),
                    None => (0..draw.count(spec.target_count, 2)).map(|_| draw.target()).collect(),
                };
                let name = spec.name.clone().unwrap_or_else(|| format!("{} {} scan", draw.word(), if periodic { "periodic" } else { "one-off" }));
                let scan = AvdsScan {
                    scan_id: spec.scan_id.as_ref().map_or_else(|| draw.uuid(), |s| s.get_ref().clone()),
                    name,
                    targets,
                    owner: Owner(spec.owner.clone()),
                    first_task_id: spec.task_id.unwrap_or_else(|| 1_000_000 + (index as i64 * 1_000 + i64::from(n)) * 100_000 + draw.0.random_range(0..1_000)),
                    created: spec.created.map_or(self.start, |w| draw.when(w, self.start)),
                    trigger,
                    lifecycle,
                    report: ReportPlan {
                        delay: spec.report_delay.map_or(30 * SECOND, |d| draw.duration(d)),
                        fails: spec.report.as_ref().is_some_and(|r| draw.one(r).0 == "failed"),
                        url: spec.report_url.clone().unwrap_or_else(|| "https://avds-report.example.com/{ScanId}/{TaskId}.pdf".into()),
                    },
                    pins: Self::pins(&spec.set, &spec.unset),
                };
                self.built.avds.push((scan, spec.scan_id.as_ref().map_or(entry.at, |s| s.span().start)));
            }
        }
    }

    pub fn hss_images(&mut self, specs: &[Spanned<schema::ImageTaskSpec>], generated: bool) {
        let section = if generated { "hss.image_generate" } else { "hss.image_tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count, spec.task_id.is_some(), generated, "task_id") else { continue };
            let mut draw = self.draw(section, index);
            for _ in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(ImageTaskStatus::Scanning, Some(10 * MINUTE)), (ImageTaskStatus::Finished, None)], false, &mut draw) else { break };
                let task_type = spec.task_type.as_ref().map_or("manual", |t| draw.one(t).0);
                let created = spec.created.map_or(self.start, |w| draw.when(w, self.start));
                let images = draw.count(spec.images, 10);
                let failed_images: Vec<FailedImage> = spec
                    .failed_images
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FailedImage {
                        id: f.id.unwrap_or(i as i64 + 1),
                        registry_id: f.registry_id.clone().unwrap_or_default(),
                        registry_name: f.registry_name.clone().unwrap_or_default(),
                        image_name: f.image_name.clone(),
                        image_version: f.image_version.clone().unwrap_or_else(|| "latest".into()),
                        namespace: f.namespace.clone().unwrap_or_else(|| "default".into()),
                        registry_type: f.registry_type.map_or("SwrPrivate", |r| r.0).to_string(),
                        failed_reason: f.failed_reason.clone().unwrap_or_else(|| "scan timeout".into()),
                    })
                    .collect();
                let mut failures = draw.count(spec.failures, failed_images.len() as u32);
                let failed_images = if failed_images.is_empty() && entry.generated {
                    (0..failures.min(images))
                        .map(|i| FailedImage {
                            id: i64::from(i) + 1,
                            registry_id: format!("reg-{}", draw.hex(6)),
                            registry_name: "swr".into(),
                            image_name: draw.word(),
                            image_version: format!("1.{}.{}", draw.0.random_range(0..30), draw.0.random_range(0..10)),
                            namespace: "default".into(),
                            registry_type: "SwrPrivate".into(),
                            failed_reason: "image pull timed out".into(),
                        })
                        .collect()
                } else {
                    failed_images
                };
                if failures > images {
                    self.error(entry.at, format!("{failures} failures out of {images} images: `failures` cannot exceed `images`"));
                    failures = images;
                }
                let task_name = spec.task_name.clone().unwrap_or_else(|| {
                    if task_type.ends_with("Sync") {
                        format!("AutomaticImageAssetSynchronization_{created}")
                    } else {
                        format!("ImageScan_{}", draw.word())
                    }
                });
                let task = HssImageTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid(), |t| t.get_ref().clone()),
                    project_id: spec.project_id.clone().unwrap_or_else(|| DEFAULT_PROJECT.into()),
                    enterprise_project_id: spec.enterprise_project_id.clone().unwrap_or_else(|| DEFAULT_ENTERPRISE_PROJECT.into()),
                    policy_id: spec.policy_id.clone(),
                    task_name,
                    task_type,
                    image_type: spec.image_type.as_ref().map_or("registry", |t| draw.one(t).0),
                    scan_scope: spec.scan_scope.unwrap_or(0x7fff_ffff),
                    rate_limit: spec.rate_limit,
                    is_all: spec.is_all.unwrap_or(true),
                    risky: draw.count(spec.risky, 0).min(images),
                    images,
                    failures,
                    failed_images,
                    sync_task_type: spec.sync_task_type.clone(),
                    failed_reason: spec.failed_reason.clone(),
                    created,
                    lifecycle,
                    pins: Self::pins(&spec.set, &spec.unset),
                };
                self.built.hss_images.push((task, spec.task_id.as_ref().map_or(entry.at, |t| t.span().start)));
            }
        }
    }

    pub fn hss_tasks(&mut self, specs: &[Spanned<schema::HssTaskSpec>], generated: bool) {
        let section = if generated { "hss.generate" } else { "hss.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count, spec.task_id.is_some(), generated, "task_id") else { continue };
            let mut draw = self.draw(section, index);
            for _ in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(HssTaskStatus::Ready, Some(MINUTE)), (HssTaskStatus::Running, Some(10 * MINUTE)), (HssTaskStatus::Finished, None)], false, &mut draw) else { break };
                let cluster = spec.task_type.as_ref().map_or(spec.iac_scan.is_none(), |t| draw.one(t).0 == "cluster_scan");
                let kind = if cluster {
                    let info = spec.cluster_scan.as_ref();
                    let clusters = draw.count(info.and_then(|c| c.clusters), 3);
                    let failures = draw.count(info.and_then(|c| c.failures), 0);
                    if failures > clusters {
                        self.error(entry.at, "cluster_scan.failures cannot exceed cluster_scan.clusters");
                        break;
                    }
                    let scan_types = info.and_then(|c| c.scan_types.clone()).unwrap_or_else(|| vec!["cluster_vul".into()]);
                    TaskKind::ClusterScan { scan_types, clusters, failures }
                } else {
                    let info = spec.iac_scan.as_ref();
                    let files = draw.count(info.and_then(|c| c.files), 5);
                    let failures = draw.count(info.and_then(|c| c.failures), 0);
                    if failures > files {
                        self.error(entry.at, "iac_scan.failures cannot exceed iac_scan.files");
                        break;
                    }
                    let file_type = info.and_then(|c| c.file_type.as_ref()).map_or("dockerfile", |f| draw.one(f).0).to_string();
                    TaskKind::IacScan { file_type, files, failures }
                };
                let task = HssTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid(), |t| t.get_ref().clone()),
                    project_id: spec.project_id.clone().unwrap_or_else(|| DEFAULT_PROJECT.into()),
                    enterprise_project_id: spec.enterprise_project_id.clone().unwrap_or_else(|| DEFAULT_ENTERPRISE_PROJECT.into()),
                    task_name: spec.task_name.clone().unwrap_or_else(|| format!("{}-{}", kind.name().replace('_', "-"), draw.word())),
                    trigger_type: spec.trigger_type.as_ref().map_or("manual", |t| draw.one(t).0),
                    kind,
                    created: spec.created.map_or(self.start, |w| draw.when(w, self.start)),
                    lifecycle,
                    pins: Self::pins(&spec.set, &spec.unset),
                };
                self.built.hss_tasks.push((task, spec.task_id.as_ref().map_or(entry.at, |t| t.span().start)));
            }
        }
    }
}
