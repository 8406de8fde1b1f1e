//! The scenario WRITER: world task records and [`Settings`] → scenario TOML text that the loader
//! reads back to the same records. Everything is written explicitly (ids, absolute instants to
//! the millisecond, every drawn value, owners and projects, pins, and the read log of read-bounded
//! phases), so the text does not depend on a seed or a generator. A snapshot (`GET
//! /_emu/snapshot`), the `--state` file and `taskemu import` all write through it: one format.
//!
//! Two entry points: [`write_world`] for a whole world, and [`Writer`] for a list of tasks built
//! by hand (what `import` makes), one call per task, then [`Writer::finish`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::credentials::{Credential, Secret};
use super::fault::FaultSpec;
use super::Settings;
use crate::instant::{format_rfc3339, Millis, DAY, HOUR, MINUTE, SECOND};
use crate::world::avds::{AvdsScan, Trigger};
use crate::world::ecs::EcsTask;
use crate::world::hss_image::HssImageTask;
use crate::world::hss_task::{HssTask, TaskKind};
use crate::world::lifecycle::{Lifecycle, PhaseEnd, Status};
use crate::world::sas::SasTask;
use crate::world::{is_huawei_project_id, Owner, Pins, World, ALIBABA_REGIONS};

/// The whole world and its settings as one scenario file. Regions beyond the real ones the world
/// answers for, and the made-up projects it declared, are written too.
pub fn write_world(world: &World, settings: &Settings) -> String {
    let mut writer = Writer::new(settings, world.regions.iter().map(String::as_str));
    writer.projects.extend(world.projects.iter().cloned());
    world.ecs.iter().for_each(|t| writer.ecs(t));
    world.sas.iter().for_each(|t| writer.sas(t));
    world.avds.iter().for_each(|t| writer.avds(t));
    world.hss_image.iter().for_each(|t| writer.hss_image(t));
    world.hss_task.iter().for_each(|t| writer.hss_task(t));
    writer.finish()
}

/// Settings with nothing but a name and a clock start (frozen, seed 0, no pins, credentials or
/// fault rules): what a writer of captured tasks (`import`) starts from.
// `import` (issue 15, item 1) is its caller outside the tests, on its own branch.
#[cfg_attr(not(test), allow(dead_code))]
pub fn plain_settings(name: &str, clock_start: Millis) -> Settings {
    Settings {
        name: name.to_string(),
        seed: 0,
        clock_start,
        clock_rate: 0.0,
        request_ids: Default::default(),
        credentials: Vec::new(),
        faults: Vec::new(),
        responses: Default::default(),
    }
}

/// A scenario file written piece by piece: the settings first, then any number of tasks of any
/// product (each product's entries kept together, in the order given). The made-up regions and
/// projects the tasks use are declared at the top (`regions`, `projects`), as the loader requires.
pub struct Writer {
    /// `name` and `seed`: the declarations follow them.
    title: String,
    head: String,
    regions: BTreeSet<String>,
    projects: BTreeSet<String>,
    ecs: String,
    sas: String,
    avds: String,
    hss_image: String,
    hss_task: String,
}

impl Writer {
    /// Starts a file with these settings (name, seed, clock start and rate, request ids, response
    /// pins, credentials, fault rules) and these Alibaba regions (the real ones need no
    /// declaration and are left out).
    pub fn new<'r>(settings: &Settings, regions: impl IntoIterator<Item = &'r str>) -> Writer {
        let mut title = String::new();
        let _ = writeln!(title, "name = {}", string(&settings.name));
        let _ = writeln!(title, "seed = {}", settings.seed);
        let mut head = String::new();
        let _ = writeln!(head, "\n[clock]\nstart = {}\nrate = {}", string(&format_rfc3339(settings.clock_start)), float(settings.clock_rate));
        if !settings.request_ids.is_empty() {
            head.push_str("\n[request_ids]\n");
            for (operation, id) in &settings.request_ids {
                let _ = writeln!(head, "{} = {}", key(operation), string(id));
            }
        }
        for (operation, pins) in &settings.responses {
            let _ = writeln!(head, "\n[responses.{}]", key(operation));
            head.push_str(&pin_lines(pins));
        }
        for credential in &settings.credentials {
            head.push_str("\n[[credentials]]\n");
            head.push_str(&credential_lines(credential));
        }
        for rule in &settings.faults {
            head.push_str("\n[[faults]]\n");
            head.push_str(&fault_lines(rule));
        }
        let mut writer = Writer { title, head, regions: BTreeSet::new(), projects: BTreeSet::new(), ecs: String::new(), sas: String::new(), avds: String::new(), hss_image: String::new(), hss_task: String::new() };
        regions.into_iter().for_each(|r| writer.region(r));
        // A credential's made-up project is declared as a task's is, or the file would not load.
        settings.credentials.iter().filter_map(|c| c.project_id.as_deref()).for_each(|p| writer.project(p));
        writer
    }

    fn region(&mut self, region: &str) {
        if !ALIBABA_REGIONS.contains(&region) {
            self.regions.insert(region.to_string());
        }
    }

    fn project(&mut self, project: &str) {
        if !is_huawei_project_id(project) {
            self.projects.insert(project.to_string());
        }
    }

    pub fn ecs(&mut self, task: &EcsTask) {
        self.region(&task.region);
        let out = &mut self.ecs;
        out.push_str("\n[[ecs.tasks]]\n");
        let _ = writeln!(out, "id = {}", string(&task.id));
        let _ = writeln!(out, "region = {}", string(&task.region));
        owner_line(out, &task.owner);
        let _ = writeln!(out, "action = {}", string(task.action.name()));
        if let Some(resource) = &task.resource_id {
            let _ = writeln!(out, "resource_id = {}", string(resource));
        }
        let _ = writeln!(out, "created = {}", instant(task.created));
        if let Some(cancel) = task.support_cancel {
            let _ = writeln!(out, "support_cancel = {cancel}");
        }
        lifecycle_line(out, &task.lifecycle);
        out.push_str(&pin_lines(&task.pins));
    }

    pub fn sas(&mut self, task: &SasTask) {
        let out = &mut self.sas;
        out.push_str("\n[[sas.tasks]]\n");
        let _ = writeln!(out, "id = {}", task.id);
        owner_line(out, &task.owner);
        let _ = writeln!(out, "created = {}", instant(task.created));
        if task.targets.is_empty() {
            // Without targets the loader would draw one.
            out.push_str("target_count = 0\n");
        } else {
            let targets: Vec<String> = task.targets.iter().map(|t| format!("{{ type = {}, name = {}, target = {} }}", string(t.kind), string(&t.name), string(&t.target))).collect();
            let _ = writeln!(out, "targets = [{}]", targets.join(", "));
        }
        lifecycle_line(out, &task.lifecycle);
        out.push_str(&pin_lines(&task.pins));
    }

    pub fn avds(&mut self, scan: &AvdsScan) {
        let out = &mut self.avds;
        out.push_str("\n[[avds.scans]]\n");
        let _ = writeln!(out, "scan_id = {}", string(&scan.scan_id));
        let _ = writeln!(out, "task_id = {}", scan.first_task_id);
        let _ = writeln!(out, "name = {}", string(&scan.name));
        owner_line(out, &scan.owner);
        let targets: Vec<String> = scan.targets.iter().map(|t| string(t)).collect();
        let _ = writeln!(out, "targets = [{}]", targets.join(", "));
        let _ = writeln!(out, "created = {}", instant(scan.created));
        match scan.trigger {
            Trigger::Once => out.push_str("trigger = \"date\"\n"),
            Trigger::Every { period, interval, limit } => {
                let _ = writeln!(out, "trigger = \"interval\"\nperiod = {}\ninterval = {interval}", string(period.name()));
                if let Some(limit) = limit {
                    let _ = writeln!(out, "sessions = {limit}");
                }
            }
        }
        let _ = writeln!(out, "report = {}", string(if scan.report.fails { "failed" } else { "finished" }));
        let _ = writeln!(out, "report_delay = {}", string(&duration(scan.report.delay)));
        let _ = writeln!(out, "report_url = {}", string(&scan.report.url));
        lifecycle_line(out, &scan.lifecycle);
        out.push_str(&pin_lines(&scan.pins));
    }

    pub fn hss_image(&mut self, task: &HssImageTask) {
        self.project(&task.project_id);
        let out = &mut self.hss_image;
        out.push_str("\n[[hss.image_tasks]]\n");
        let _ = writeln!(out, "task_id = {}", string(&task.task_id));
        let _ = writeln!(out, "project_id = {}", string(&task.project_id));
        let _ = writeln!(out, "enterprise_project_id = {}", string(&task.enterprise_project_id));
        if let Some(policy) = &task.rare().policy_id {
            let _ = writeln!(out, "policy_id = {}", string(policy));
        }
        let _ = writeln!(out, "task_name = {}", string(&task.task_name));
        let _ = writeln!(out, "task_type = {}", string(task.task_type.name()));
        let _ = writeln!(out, "image_type = {}", string(task.image_type.name()));
        let _ = writeln!(out, "scan_scope = {}", task.scan_scope);
        if let Some(limit) = task.rare().rate_limit {
            let _ = writeln!(out, "rate_limit = {limit}");
        }
        let _ = writeln!(out, "is_all = {}", task.is_all);
        let _ = writeln!(out, "images = {}\nfailures = {}\nrisky = {}", task.images, task.failures, task.risky);
        if let Some(sync) = &task.rare().sync_task_type {
            let _ = writeln!(out, "sync_task_type = {}", string(sync));
        }
        if let Some(reason) = &task.rare().failed_reason {
            let _ = writeln!(out, "failed_reason = {}", string(reason));
        }
        let _ = writeln!(out, "created = {}", instant(task.created));
        lifecycle_line(out, &task.lifecycle);
        out.push_str(&pin_lines(&task.pins));
        // Sub-tables last: after them, a key would belong to the last one.
        for failed in &*task.failed_images {
            out.push_str("\n[[hss.image_tasks.failed_images]]\n");
            let _ = writeln!(out, "id = {}", failed.id);
            let _ = writeln!(out, "registry_id = {}", string(&failed.registry_id));
            let _ = writeln!(out, "registry_name = {}", string(&failed.registry_name));
            let _ = writeln!(out, "image_name = {}", string(&failed.image_name));
            let _ = writeln!(out, "image_version = {}", string(&failed.image_version));
            let _ = writeln!(out, "namespace = {}", string(&failed.namespace));
            let _ = writeln!(out, "registry_type = {}", string(failed.registry_type));
            let _ = writeln!(out, "failed_reason = {}", string(&failed.failed_reason));
        }
    }

    pub fn hss_task(&mut self, task: &HssTask) {
        self.project(&task.project_id);
        let out = &mut self.hss_task;
        out.push_str("\n[[hss.tasks]]\n");
        let _ = writeln!(out, "task_id = {}", string(&task.task_id));
        let _ = writeln!(out, "project_id = {}", string(&task.project_id));
        let _ = writeln!(out, "enterprise_project_id = {}", string(&task.enterprise_project_id));
        let _ = writeln!(out, "task_name = {}", string(&task.task_name));
        let _ = writeln!(out, "task_type = {}", string(task.kind.name()));
        let _ = writeln!(out, "trigger_type = {}", string(task.trigger_type.name()));
        match &task.kind {
            TaskKind::ClusterScan { scan_types, clusters, failures } => {
                let types: Vec<String> = scan_types.iter().map(|t| string(t)).collect();
                let _ = writeln!(out, "cluster_scan = {{ scan_types = [{}], clusters = {clusters}, failures = {failures} }}", types.join(", "));
            }
            TaskKind::IacScan { file_type, files, failures } => {
                let _ = writeln!(out, "iac_scan = {{ file_type = {}, files = {files}, failures = {failures} }}", string(file_type.name()));
            }
        }
        let _ = writeln!(out, "created = {}", instant(task.created));
        lifecycle_line(out, &task.lifecycle);
        out.push_str(&pin_lines(&task.pins));
    }

    /// The file's text.
    pub fn finish(self) -> String {
        let mut out = self.title;
        for (key, names) in [("regions", &self.regions), ("projects", &self.projects)] {
            if !names.is_empty() {
                let names: Vec<String> = names.iter().map(|n| string(n)).collect();
                let _ = writeln!(out, "{key} = [{}]", names.join(", "));
            }
        }
        out.push_str(&self.head);
        for part in [self.ecs, self.sas, self.avds, self.hss_image, self.hss_task] {
            out.push_str(&part);
        }
        out
    }
}

fn owner_line(out: &mut String, owner: &Owner) {
    if let Some(key) = owner.key() {
        let _ = writeln!(out, "owner = {}", string(key));
    }
}

/// `lifecycle = [{ status = …, for = … }, …]`, with a read-bounded phase's log (`reads_counted`
/// on the current one, `exhausted_at` on those already over).
fn lifecycle_line<S: Status>(out: &mut String, lifecycle: &Lifecycle<S>) {
    let (ended, counted) = lifecycle.read_state().unwrap_or_default();
    let current = (0..lifecycle.len()).find(|i| matches!(lifecycle.phase(*i).end, PhaseEnd::Reads(_)) && ended.iter().all(|(e, _)| e != i));
    let phases: Vec<String> = (0..lifecycle.len())
        .map(|i| {
            let phase = lifecycle.phase(i);
            let mut text = format!("{{ status = {}", string(phase.status.name()));
            match phase.end {
                PhaseEnd::After(d) if i + 1 < lifecycle.len() => text.push_str(&format!(", for = {}", string(&duration(d)))),
                PhaseEnd::Reads(n) if i + 1 < lifecycle.len() => {
                    text.push_str(&format!(", reads = {n}"));
                    if let Some((_, at)) = ended.iter().find(|(e, _)| *e == i) {
                        text.push_str(&format!(", exhausted_at = {}", instant(*at)));
                    } else if current == Some(i) && counted > 0 {
                        text.push_str(&format!(", reads_counted = {counted}"));
                    }
                }
                _ => {}
            }
            text.push_str(" }");
            text
        })
        .collect();
    let _ = writeln!(out, "lifecycle = [{}]", phases.join(", "));
}

/// `set = {…}` and `unset = […]` lines for pins (nothing when there are none).
fn pin_lines(pins: &Pins) -> String {
    let Some(pins) = pins else { return String::new() };
    let set: Vec<String> = pins.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{} = {}", key(k), json_as_toml(v)))).collect();
    let unset: Vec<String> = pins.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| string(k)).collect();
    let mut out = String::new();
    // An empty table still makes pins (`Some` of nothing), as it did when it was loaded.
    if !set.is_empty() || unset.is_empty() {
        let _ = writeln!(out, "set = {{ {} }}", set.join(", "));
    }
    if !unset.is_empty() {
        let _ = writeln!(out, "unset = [{}]", unset.join(", "));
    }
    out
}

fn credential_lines(credential: &Credential) -> String {
    let mut out = String::new();
    match &credential.secret {
        Secret::Alibaba { key_id, secret } => {
            let _ = writeln!(out, "access_key_id = {}\naccess_key_secret = {}", string(key_id), string(secret));
        }
        Secret::HuaweiAkSk { ak, sk } => {
            let _ = writeln!(out, "ak = {}\nsk = {}", string(ak), string(sk));
        }
        Secret::HuaweiToken { token } => {
            let _ = writeln!(out, "token = {}", string(token));
        }
    }
    if let Some(project) = &credential.project_id {
        let _ = writeln!(out, "project_id = {}", string(project));
    }
    if let Some(allow) = &credential.allow {
        let _ = writeln!(out, "allow = [{}]", allow.iter().map(|p| string(p)).collect::<Vec<_>>().join(", "));
    }
    if !credential.deny.is_empty() {
        let _ = writeln!(out, "deny = [{}]", credential.deny.iter().map(|p| string(p)).collect::<Vec<_>>().join(", "));
    }
    out
}

fn fault_lines(rule: &FaultSpec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "operation = {}", string(&rule.operation));
    if let Some(tenant) = &rule.tenant {
        let _ = writeln!(out, "tenant = {}", string(tenant));
    }
    if let Some(error) = &rule.error {
        let mut text = format!("error = {{ code = {}", string(&error.code));
        if let Some(status) = error.status {
            text.push_str(&format!(", status = {status}"));
        }
        if let Some(message) = &error.message {
            text.push_str(&format!(", message = {}", string(message)));
        }
        let _ = writeln!(out, "{text} }}");
    }
    if let Some(latency) = &rule.latency {
        let _ = writeln!(out, "latency = {}", string(latency));
    }
    if let Some(throttle) = rule.throttle {
        let _ = writeln!(out, "throttle = {throttle}");
    }
    if let Some(times) = rule.times {
        let _ = writeln!(out, "times = {times}");
    }
    if let Some(probability) = rule.probability {
        let _ = writeln!(out, "probability = {}", float(probability));
    }
    out
}

/// An instant as a TOML string the loader reads back to the millisecond.
fn instant(at: Millis) -> String {
    string(&format_rfc3339(at))
}

/// A duration in the loader's units, exact to the millisecond (`"1h30m"`, `"250ms"`, `"0"`).
pub(crate) fn duration(mut ms: Millis) -> String {
    if ms <= 0 {
        return "0".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND), ("ms", 1)] {
        if ms >= size {
            let _ = write!(out, "{}{unit}", ms / size);
            ms %= size;
        }
    }
    out
}

/// A TOML basic string: quotes, backslashes and every control character escaped.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key: bare when TOML allows it, quoted otherwise (a dotted pin name stays one key).
fn key(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        text.to_string()
    } else {
        string(text)
    }
}

fn float(value: f64) -> String {
    if value.is_nan() {
        "nan".into()
    } else if value.is_infinite() {
        if value > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        // Debug prints the shortest text that reads back to the same value, with a `.0` or an
        // exponent, both of which TOML reads as a float.
        format!("{value:?}")
    }
}

/// A pinned value back in TOML: the inverse of the loader's `toml_to_json` (a `null`, which only
/// a non-finite float makes, goes back as `nan`).
fn json_as_toml(value: &serde_json::Value) -> String {
    use serde_json::Value as Json;
    match value {
        Json::Null => "nan".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if n.is_f64() => float(f),
            // A u64 above i64::MAX: no TOML integer holds it.
            _ => string(&n.to_string()),
        },
        Json::String(s) => string(s),
        Json::Array(items) => format!("[{}]", items.iter().map(json_as_toml).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => format!("{{ {} }}", map.iter().map(|(k, v)| format!("{} = {}", key(k), json_as_toml(v))).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::scenario::{load, Loaded, Source};

    /// Every record of both worlds, as their Debug text (read logs included), product by product.
    fn records(world: &World) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(world.ecs.iter().map(|t| format!("{t:?}")));
        out.extend(world.sas.iter().map(|t| format!("{t:?}")));
        out.extend(world.avds.iter().map(|t| format!("{t:?}")));
        out.extend(world.hss_image.iter().map(|t| format!("{t:?}")));
        out.extend(world.hss_task.iter().map(|t| format!("{t:?}")));
        out
    }

    /// Writes, loads back, and checks every record and setting is the same.
    fn round_trip(loaded: &Loaded) -> String {
        let text = write_world(&loaded.world, &loaded.settings);
        let again = load(&[Source::new("written.toml", text.clone())], 0, None).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
        assert_eq!(again.settings, loaded.settings, "{text}");
        assert_eq!(again.world.regions, loaded.world.regions);
        let (before, after) = (records(&loaded.world), records(&again.world));
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(b, a, "\n---\n{text}");
        }
        assert_eq!(write_world(&again.world, &again.settings), text, "writing is stable");
        text
    }

    /// Reads some of the read-bounded tasks, so their logs have something to write.
    fn read_some(world: &World, now: Millis, reads: usize) {
        for (i, task) in world.ecs.iter().enumerate() {
            for _ in 0..(i % (reads + 1)) {
                task.lifecycle.read(task.created, now);
            }
        }
        for (i, task) in world.hss_image.iter().enumerate() {
            for _ in 0..(i % (reads + 1)) {
                task.lifecycle.read(task.created, now + (i as Millis) * SECOND);
            }
        }
    }

    #[test]
    fn the_shipped_scenarios_and_fixtures_round_trip() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![Source::demo()];
        for dir in ["scenarios", "fixtures/docs"] {
            sources.extend(Source::read_path(&root.join(dir)).unwrap_or_default());
        }
        assert!(sources.len() > 3);
        for source in sources {
            let loaded = load(std::slice::from_ref(&source), 1_700_000_000_000, None).unwrap_or_else(|e| panic!("{e}"));
            read_some(&loaded.world, loaded.settings.clock_start + 90 * SECOND, 3);
            round_trip(&loaded);
        }
    }

    #[test]
    fn read_logs_settings_and_odd_text_round_trip() {
        let text = r#"
name = "odd \"names\"\n"
seed = 3
regions = ["xx-test-1"]
projects = ["p1"]
request_ids = { DescribeTasks = "fixed-id" }
[clock]
start = "2026-01-02T03:04:05.678Z"
rate = 2.5
[responses.ListTasks]
set = { "data.total" = 5, nested = { a = [1, 2.5, "x"] } }
unset = ["b"]
[[credentials]]
access_key_id = "AK1"
access_key_secret = "S\u0001ecret"
allow = ["ecs:*"]
[[credentials]]
token = "tok"
project_id = "p1"
deny = ["hss:ListTasks"]
[[faults]]
operation = "DescribeTasks"
error = { code = "Throttling", status = 503 }
times = 2
tenant = "AK1"
[[faults]]
latency = "10ms..20ms"
probability = 0.3
[[ecs.tasks]]
id = "t-reads"
owner = "AK1"
region = "xx-test-1"
support_cancel = false
lifecycle = [{ status = "Waiting", reads = 2 }, { status = "Processing", for = "1500ms" }, { status = "Paused", reads = 3 }, { status = "Failed" }]
set = { TaskStatus = "x\u007f" }
[[sas.tasks]]
id = 7
target_count = 0
[[avds.scans]]
scan_id = "s1"
trigger = "interval"
period = "month"
interval = 2
sessions = 4
report = "failed"
"#;
        let loaded = load(&[Source::new("odd.toml", text)], 0, None).unwrap();
        let task = loaded.world.ecs.get("t-reads").unwrap();
        let at = loaded.settings.clock_start;
        for k in 0..4 {
            task.lifecycle.read(task.created, at + k * 1000);
        }
        let (ended, counted) = task.lifecycle.read_state().unwrap();
        assert_eq!((ended.len(), counted), (1, 1), "one phase over, one read into the next read-bounded one");
        let written = round_trip(&loaded);
        assert!(written.contains("exhausted_at") && written.contains("reads_counted = 1"), "{written}");
    }

    /// What `import` does: tasks made by hand, no world, written and read back.
    #[test]
    fn tasks_built_by_hand_are_written_without_a_world() {
        use crate::world::ecs::EcsStatus;
        use crate::world::lifecycle::Phase;
        let start = 1_795_334_400_000;
        let lifecycle = Lifecycle::new(vec![Phase { status: EcsStatus::Processing, end: PhaseEnd::After(90 * SECOND) }, Phase { status: EcsStatus::Finished, end: PhaseEnd::Never }]);
        let task = EcsTask { id: "t-captured".into(), region: "cn-beijing".into(), owner: Owner::shared(), action: crate::world::Term::known("ExportImage"), resource_id: Some("m-1".into()), created: start - 30 * SECOND, lifecycle, support_cancel: None, pins: None };
        let mut writer = Writer::new(&plain_settings("captured", start), []);
        writer.ecs(&task);
        let text = writer.finish();
        let loaded = load(&[Source::new("captured.toml", text.clone())], 0, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(loaded.settings, plain_settings("captured", start));
        assert_eq!(format!("{:?}", loaded.world.ecs.get("t-captured").unwrap()), format!("{task:?}"));
    }

    #[test]
    fn a_read_log_on_a_timed_phase_is_refused_at_its_line() {
        let text = "[[ecs.tasks]]\nid = \"t\"\nlifecycle = [{ status = \"Waiting\", for = \"1m\", reads_counted = 1 }, { status = \"Finished\" }]\n";
        let errors = load(&[Source::new("bad.toml", text)], 0, None).unwrap_err();
        assert!(errors.to_string().contains("bad.toml:3:") && errors.to_string().contains("reads_counted"), "{errors}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        /// Generated worlds of every product (owners, projects, read-bounded and periodic
        /// lifecycles, pins), some tasks read, written and loaded back.
        #[test]
        fn generated_worlds_round_trip(seed in 0u64..1_000_000, count in 1u32..12, reads in 0usize..4) {
            let text = format!(r#"
seed = {seed}
projects = ["proj-{seed}"]
[clock]
start = "2026-05-01T00:00:00Z"
[[ecs.generate]]
count = {count}
owner = "AK-{seed}"
region = ["cn-hangzhou", "cn-beijing"]
action = ["ImportImage", "ExportImage"]
created = "-3h..+1h"
lifecycle = [{{ status = ["Waiting", "Paused"], reads = "1..3" }}, {{ status = "Processing", for = "1m..2h" }}, {{ status = ["Finished", "Failed"] }}]
set = {{ Extra = 1 }}
[[ecs.generate]]
count = {count}
[[sas.generate]]
count = {count}
target_count = "0..3"
created = "-1d..+0s"
[[avds.generate]]
count = {count}
trigger = ["date", "interval"]
period = ["hour", "day", "month"]
interval = "1..3"
report = ["finished", "failed"]
report_delay = "1s..5m"
created = "-2d..+0s"
lifecycle = [{{ status = "waiting", for = "1m..5m" }}, {{ status = "running", for = "5m..30m" }}, {{ status = "finished" }}]
[[hss.image_generate]]
count = {count}
project_id = "proj-{seed}"
task_type = ["manual", "autoSync", "cycle"]
images = "5..20"
failures = "0..3"
risky = "0..5"
lifecycle = [{{ status = "waiting", reads = "1..2" }}, {{ status = "scanning", for = "10m" }}, {{ status = ["finished", "failed"] }}]
[[hss.generate]]
count = {count}
task_type = ["cluster_scan", "iac_scan"]
trigger_type = ["manual", "schedule"]
"#);
            let loaded = load(&[Source::new("gen.toml", text)], 0, None).unwrap_or_else(|e| panic!("{e}"));
            read_some(&loaded.world, loaded.settings.clock_start, reads);
            round_trip(&loaded);
        }
    }
}
