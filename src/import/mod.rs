//! `taskemu import`: captured answers of the five operations (JSON or XML, whole responses, the
//! `docs` dialect's shapes, or an SDK's `to_map()` dump) turned back into the tasks that answer
//! them. Each task becomes a world record whose lifecycle, anchored at the capture instant (`--at`,
//! or the newest time in the data), derives what the capture shows: status, times, progress and
//! counters. What no consistent lifecycle can give is pinned (`set`/`unset`), and only that.
//!
//! Which operation a capture is comes from its shape: the XML root (the catalogue's `xml_root`, or
//! the operation's name for AVDS's documented example) or the JSON root keys. Anything it cannot
//! read is refused with the file and the JSON path of the value (`$.TaskSet.Task[3].TaskStatus`).
//! One file per operation does the reading and the deriving (`ecs.rs`, `sas.rs`, `avds.rs`,
//! `hss_image.rs`, `hss_task.rs`); this file owns the input trees, the errors and the clock.

mod avds;
mod ecs;
mod hss_image;
mod hss_task;
mod sas;
mod tree;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::instant::Millis;
use crate::ops::{AlibabaOp, HuaweiOp};
use crate::world::avds::AvdsScan;
use crate::world::ecs::EcsTask;
use crate::world::hss_image::HssImageTask;
use crate::world::hss_task::HssTask;
use crate::world::sas::SasTask;
use crate::world::Pins;

pub(crate) use tree::Node;

/// The largest capture file read (a captured page is kilobytes; this refuses a wrong file early).
pub const MAX_CAPTURE_BYTES: usize = 64 << 20;

/// A capture that cannot be read: the file, the JSON path of the value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.message)
    }
}

impl std::error::Error for ImportError {}

/// An error at a path, before the file is known (the readers work on trees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathError {
    pub path: String,
    pub message: String,
}

pub(crate) type Read<T> = Result<T, PathError>;

/// One captured answer: the file it came from and its operation.
#[derive(Debug)]
pub struct Capture {
    pub file: String,
    pub tree: Value,
    pub kind: Kind,
    /// Read from XML (values are text).
    pub xml: bool,
}

/// The five operations, as a capture's shape tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Ecs,
    Sas,
    Avds,
    HssImage,
    HssTask,
}

impl Kind {
    /// The catalogue's name of the operation (for `[request_ids]` and `[responses.<Operation>]`).
    pub fn operation(self) -> &'static str {
        match self {
            Kind::Ecs => AlibabaOp::EcsDescribeTasks.name(),
            Kind::Sas => AlibabaOp::SasDescribeScanTaskProgress.name(),
            Kind::Avds => AlibabaOp::AvdsDescribeScanSessions.name(),
            Kind::HssImage => HuaweiOp::ListImageScanTask.name(),
            Kind::HssTask => HuaweiOp::ListTasks.name(),
        }
    }
}

/// What the captures describe: the tasks, and what the scenario sets beside them.
#[derive(Debug, Default)]
pub struct Imported {
    /// The capture instant: the scenario's `[clock] start`.
    pub at: Millis,
    pub ecs: Vec<EcsTask>,
    pub sas: Vec<SasTask>,
    pub avds: Vec<AvdsScan>,
    pub hss_image: Vec<HssImageTask>,
    pub hss_task: Vec<HssTask>,
    /// Alibaba regions the captures name that are not real ones (the scenario's `regions`).
    pub regions: Vec<String>,
    /// The captured RequestId per operation, when the captures of it agree on one.
    pub request_ids: BTreeMap<String, String>,
    /// `[responses.<Operation>]`: answer-level values no consistent page holds.
    pub responses: BTreeMap<String, Pins>,
    /// The ids imported so far, per product: a task seen again in a later capture keeps its first
    /// reading.
    seen: std::collections::HashSet<(Kind, String)>,
}

impl Imported {
    /// Whether this id is new for the product (and from now on, seen).
    pub(crate) fn first_sight(&mut self, kind: Kind, id: &str) -> bool {
        self.seen.insert((kind, id.to_string()))
    }
}

/// How to import: the capture instant, and the task id of DescribeScanTaskProgress captures (its
/// answer does not name its task).
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub at: Option<Millis>,
    pub sas_task_id: Option<i64>,
}

/// Reads one capture's text: JSON or XML, unwrapping an SDK response's `to_map()` (`body`).
pub fn parse(file: &str, text: &str) -> Result<Capture, ImportError> {
    let fail = |path: &str, message: String| ImportError { file: file.to_string(), path: path.to_string(), message };
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let (tree, xml_root) = if trimmed.starts_with('<') {
        let (root, tree) = tree::from_xml(trimmed).map_err(|e| fail("$", e))?;
        (tree, Some(root))
    } else {
        let tree: Value = serde_json::from_str(trimmed).map_err(|e| fail("$", format!("neither JSON nor XML: {e}")))?;
        (tree, None)
    };
    let tree = unwrap_sdk_response(tree);
    let kind = detect(&tree, xml_root.as_deref()).map_err(|m| fail("$", m))?;
    Ok(Capture { file: file.to_string(), tree, kind, xml: xml_root.is_some() })
}

/// An SDK's whole-response `to_map()` (`{"headers": …, "statusCode": 200, "body": {…}}`) is its
/// body; a Huawei SDK's `to_dict()` is the body already.
fn unwrap_sdk_response(tree: Value) -> Value {
    match tree {
        Value::Object(mut map) if map.get("body").is_some_and(Value::is_object) && (map.contains_key("statusCode") || map.contains_key("headers")) => {
            map.remove("body").unwrap_or_default()
        }
        other => other,
    }
}

/// The operation a capture answers, from its XML root or its JSON keys.
fn detect(tree: &Value, xml_root: Option<&str>) -> Result<Kind, String> {
    if let Some(root) = xml_root {
        let by_root = [
            (AlibabaOp::EcsDescribeTasks.spec().xml_root, Kind::Ecs),
            (AlibabaOp::SasDescribeScanTaskProgress.spec().xml_root, Kind::Sas),
            (AlibabaOp::AvdsDescribeScanSessions.spec().xml_root, Kind::Avds),
            // The AVDS doc's XML example is rooted at the operation's name.
            (AlibabaOp::AvdsDescribeScanSessions.name(), Kind::Avds),
            (HuaweiOp::ListImageScanTask.spec().xml_root, Kind::HssImage),
            (HuaweiOp::ListTasks.spec().xml_root, Kind::HssTask),
        ];
        return by_root.iter().find(|(r, _)| *r == root).map(|&(_, k)| k).ok_or_else(|| {
            let roots: Vec<&str> = by_root.iter().map(|(r, _)| *r).collect();
            format!("XML root <{root}> is none of the five operations' answers{}", crate::scenario::suggest::did_you_mean(root, roots))
        });
    }
    let Value::Object(map) = tree else {
        return Err("expected a JSON object (an answer, or an SDK's to_map() of one)".into());
    };
    let has = |k: &str| map.contains_key(k);
    if has("TaskSet") {
        return Ok(Kind::Ecs);
    }
    if has("ScanTaskProgress") || has("TargetInfo") {
        return Ok(Kind::Sas);
    }
    if has("List") || map.get("data").is_some_and(|d| d.get("List").is_some()) {
        return Ok(Kind::Avds);
    }
    if let Some(list) = map.get("data_list") {
        let first = list.as_array().and_then(|l| l.first());
        return match first {
            Some(item) if item.get("begin_time").is_some() || item.get("failed_images").is_some() || item.get("remain_min").is_some() => Ok(Kind::HssImage),
            Some(item) if item.get("start_time").is_some() || item.get("cluster_scan_info").is_some() || item.get("iac_scan_info").is_some() => Ok(Kind::HssTask),
            Some(_) => Err("$.data_list[0] is neither an image scan task (begin_time) nor a task (start_time)".into()),
            // Nothing to import either way, unless a total says there is more than it shows.
            None if map.get("total_num").is_none_or(|t| t.as_i64() == Some(0)) => Ok(Kind::HssImage),
            None => Err(format!("an empty data_list beside a total_num: no way to tell {} from {}", Kind::HssImage.operation(), Kind::HssTask.operation())),
        };
    }
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    Err(format!("not an answer of the five operations: root keys {keys:?} (expected TaskSet, ScanTaskProgress, List or data, or data_list)"))
}

/// Reads every capture and derives the tasks, anchored at `options.at` or at the newest time the
/// captures show. A task id seen again in a later capture keeps its first reading.
pub fn import(captures: &[Capture], options: &Options) -> Result<Imported, ImportError> {
    let mut read = Vec::with_capacity(captures.len());
    for capture in captures {
        let node = Node::root(&capture.tree, capture.xml);
        let fail = |e: PathError| ImportError { file: capture.file.clone(), path: e.path, message: e.message };
        let parsed = match capture.kind {
            Kind::Ecs => Parsed::Ecs(ecs::read(&node).map_err(fail)?),
            Kind::Sas => Parsed::Sas(sas::read(&node, options.sas_task_id).map_err(fail)?),
            Kind::Avds => Parsed::Avds(avds::read(&node).map_err(fail)?),
            Kind::HssImage => Parsed::HssImage(hss_image::read(&node).map_err(fail)?),
            Kind::HssTask => Parsed::HssTask(hss_task::read(&node).map_err(fail)?),
        };
        read.push((capture, parsed));
    }
    let newest = read.iter().flat_map(|(_, p)| p.instants()).max();
    // No time in the data (a DescribeScanTaskProgress answer has none): captured now.
    let at = options.at.or(newest).unwrap_or_else(crate::scenario::wall_clock_start);
    let mut out = Imported { at, ..Imported::default() };
    let mut request_ids: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    for (capture, parsed) in read {
        if let Some(id) = parsed.request_id() {
            request_ids.entry(capture.kind.operation()).and_modify(|seen| {
                if seen.as_deref() != Some(id) {
                    *seen = None;
                }
            }).or_insert_with(|| Some(id.to_string()));
        }
        let fail = |e: PathError| ImportError { file: capture.file.clone(), path: e.path, message: e.message };
        let response = match parsed {
            Parsed::Ecs(page) => ecs::derive(page, at, &mut out).map_err(fail)?,
            Parsed::Sas(answer) => sas::derive(answer, at, &mut out).map_err(fail)?,
            Parsed::Avds(page) => avds::derive(page, at, &mut out).map_err(fail)?,
            Parsed::HssImage(page) => hss_image::derive(page, at, &mut out).map_err(fail)?,
            Parsed::HssTask(page) => hss_task::derive(page, at, &mut out).map_err(fail)?,
        };
        if let Some(pins) = response {
            out.responses.entry(capture.kind.operation().to_string()).or_insert(Some(pins.into()));
        }
    }
    out.request_ids = request_ids.into_iter().filter_map(|(op, id)| Some((op.to_string(), id?))).collect();
    Ok(out)
}

/// Answer-level pins one capture asks for (`TotalCount` beside fewer tasks, …).
pub(crate) type ResponsePins = Option<Vec<(String, Option<Value>)>>;

enum Parsed {
    Ecs(ecs::Page),
    Sas(sas::Answer),
    Avds(avds::Page),
    HssImage(hss_image::Page),
    HssTask(hss_task::Page),
}

impl Parsed {
    fn instants(&self) -> Vec<Millis> {
        match self {
            Parsed::Ecs(p) => p.instants(),
            Parsed::Sas(_) => Vec::new(),
            Parsed::Avds(p) => p.instants(),
            Parsed::HssImage(p) => p.instants(),
            Parsed::HssTask(p) => p.instants(),
        }
    }

    fn request_id(&self) -> Option<&str> {
        match self {
            Parsed::Ecs(p) => p.request_id.as_deref(),
            Parsed::Sas(a) => a.request_id.as_deref(),
            Parsed::Avds(p) => p.request_id.as_deref(),
            Parsed::HssImage(_) | Parsed::HssTask(_) => None,
        }
    }
}

/// Pins as the world keeps them: `None` when there are none.
pub(crate) fn pins(list: Vec<(String, Option<Value>)>) -> Pins {
    (!list.is_empty()).then(|| list.into())
}

/// The most durations `progressing_duration` tries: a bound on the work one task can ask.
const MAX_CANDIDATES: i64 = 5_000;

/// The duration `d` of a progressing phase, `elapsed` into it at the capture instant, whose
/// remaining whole minutes (rounded up) are `remain_min`, whose progress `elapsed / d` lies in
/// `progress` (`[low, high)`, what the caller's counters allow) and `fits`: the longest such
/// duration. None when none fits.
pub(crate) fn progressing_duration(elapsed: Millis, remain_min: i64, progress: (f64, f64), fits: impl Fn(f64) -> bool) -> Option<Millis> {
    use crate::instant::MINUTE;
    if remain_min < 1 || elapsed < 0 {
        return None;
    }
    let mut high = elapsed.checked_add(remain_min.checked_mul(MINUTE)?)?;
    let mut low = elapsed + (remain_min - 1) * MINUTE + 1;
    // p = elapsed / d, so d in (elapsed / high_p, elapsed / low_p], give or take rounding.
    if progress.0 > 0.0 {
        high = high.min((elapsed as f64 / progress.0).floor() as Millis + 2);
    }
    if progress.1 > 0.0 {
        low = low.max((elapsed as f64 / progress.1).ceil() as Millis - 2);
    }
    let low = low.max(high - MAX_CANDIDATES).max(1);
    (low..=high).rev().find(|&d| fits(elapsed as f64 / d as f64))
}

/// The progress at which `floor(whole * p)` is `part`: `[part / whole, (part + 1) / whole)`.
pub(crate) fn share_range(part: u32, whole: u32) -> (f64, f64) {
    if whole == 0 {
        return (0.0, f64::INFINITY);
    }
    (f64::from(part) / f64::from(whole), (f64::from(part) + 1.0) / f64::from(whole))
}

/// Two ranges' overlap.
pub(crate) fn overlap(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0.max(b.0), a.1.min(b.1))
}

/// The pins that turn what the derived task renders (`derived`, its fields by wire name, `None`
/// for one it leaves out) into what the capture shows: a changed or added field is set, a missing
/// one unset. An object on both sides is compared field by field (`cluster_scan_info.x`). From XML
/// (`xml`), text stands for the number or boolean it spells, and no element for an empty list.
pub(crate) fn differences(captured: &serde_json::Map<String, Value>, derived: &[(&str, Option<Value>)], xml: bool) -> Vec<(String, Option<Value>)> {
    let same = |got: Option<&Value>, want: Option<&Value>| match (got, want) {
        (Some(got), Some(want)) => got == want || xml && same_text(got, want),
        (None, Some(Value::Array(want))) => xml && want.is_empty(),
        (got, want) => got == want,
    };
    let mut out = Vec::new();
    for (key, value) in derived {
        let got = captured.get(*key).filter(|v| !v.is_null());
        match (got, value) {
            (Some(Value::Object(got)), Some(Value::Object(want))) => {
                for (inner, want) in want {
                    if !same(got.get(inner), Some(want)) {
                        out.push((format!("{key}.{inner}"), got.get(inner).cloned()));
                    }
                }
                out.extend(got.iter().filter(|(inner, _)| !want.contains_key(*inner)).map(|(inner, v)| (format!("{key}.{inner}"), Some(v.clone()))));
            }
            (got, want) if !same(got, want.as_ref()) => out.push((key.to_string(), got.cloned())),
            _ => {}
        }
    }
    out.extend(captured.iter().filter(|(k, v)| !v.is_null() && !derived.iter().any(|(d, _)| d == k)).map(|(k, v)| (k.clone(), Some(v.clone()))));
    out
}

/// Whether XML's text `captured` spells `derived` (a number by value, a boolean, a one-item list).
pub(crate) fn same_text(captured: &Value, derived: &Value) -> bool {
    match (captured, derived) {
        (Value::String(c), Value::Number(d)) => *c == d.to_string() || c.parse::<f64>().ok().zip(d.as_f64()).is_some_and(|(c, d)| c == d),
        (Value::String(c), Value::Bool(d)) => *c == d.to_string(),
        // XML cannot tell a list of one from its item.
        (Value::String(_) | Value::Object(_), Value::Array(d)) if d.len() == 1 => d[0] == *captured || same_text(captured, &d[0]),
        (Value::Array(c), Value::Array(d)) => c.len() == d.len() && c.iter().zip(d).all(|(c, d)| c == d || same_text(c, d)),
        (Value::Object(c), Value::Object(d)) => c.len() == d.len() && d.iter().all(|(k, d)| c.get(k).is_some_and(|c| c == d || same_text(c, d))),
        _ => captured == derived,
    }
}

/// A whole number, from XML's text too.
pub(crate) fn int_of(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str()?.trim().parse().ok())
}

/// A boolean, from XML's text too.
pub(crate) fn bool_of(value: &Value) -> Option<bool> {
    value.as_bool().or_else(|| match value.as_str()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    })
}

/// The smallest whole `w` in `part..=max` whose share at `progress` (`floor(w * progress)`, as the
/// world counts) is `part`: how many items a counter that shows `part` so far counts in all.
pub(crate) fn whole_at(part: u32, progress: f64, max: u32) -> Option<u32> {
    let share = |w: u32| ((f64::from(w) * progress).floor() as u32).min(w);
    if part > max {
        return None;
    }
    let guess = if progress <= 0.0 { f64::from(part) } else { (f64::from(part) / progress).ceil().min(f64::from(max)) };
    let guess = (guess as u32).max(part);
    [guess.saturating_sub(1), guess, guess.saturating_add(1)].into_iter().filter(|&w| (part..=max).contains(&w)).find(|&w| share(w) == part)
}

/// The imported world as one scenario file (through the scenario writer, the format snapshots
/// use too): the clock frozen at the capture instant, the captured request ids and answer pins.
pub fn to_scenario(imported: &Imported, name: &str) -> String {
    let mut settings = crate::scenario::write::plain_settings(name, imported.at);
    settings.request_ids = imported.request_ids.clone();
    settings.responses = imported.responses.iter().map(|(op, pins)| (op.clone(), pins.clone())).collect();
    let mut writer = crate::scenario::write::Writer::new(&settings, imported.regions.iter().map(String::as_str));
    imported.ecs.iter().for_each(|t| writer.ecs(t));
    imported.sas.iter().for_each(|t| writer.sas(t));
    imported.avds.iter().for_each(|t| writer.avds(t));
    imported.hss_image.iter().for_each(|t| writer.hss_image(t));
    imported.hss_task.iter().for_each(|t| writer.hss_task(t));
    writer.finish()
}

/// `taskemu import`: reads `files` (name, text), derives their tasks and writes the scenario.
pub fn run(files: &[(String, String)], options: &Options) -> Result<String, ImportError> {
    let captures = files.iter().map(|(file, text)| parse(file, text)).collect::<Result<Vec<_>, _>>()?;
    let imported = import(&captures, options)?;
    let names: Vec<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
    Ok(to_scenario(&imported, &format!("imported from {}", names.join(", "))))
}
