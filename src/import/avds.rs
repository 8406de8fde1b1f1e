//! AVDS DescribeScanSessions captures: the `sdk` shape (top-level `List` of PascalCase sessions),
//! the `docs` shape (a `data` wrapper, mixed-case keys) and XML. Sessions are grouped by ScanId
//! into scans: one session of a `date` scan, or the sessions of an `interval` scan, the oldest
//! captured being its first (TaskId `first + k` starts `k` periods later). All sessions of a scan
//! live one lifecycle: the run length comes from a finished session's FinishedAt − CreatedAt, or a
//! running one's RunPercent at the capture instant. The scan is checked against the world's own
//! listing of its sessions; what differs in every session alike is pinned, the rest refused.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{differences, pins, Imported, Node, PathError, Read, ResponsePins};
use crate::instant::{Millis, SECOND};
use crate::world::avds::{self, AvdsQuery, AvdsScan, AvdsSession, AvdsStatus, Period, ReportPlan, Trigger};
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd, Status};
use crate::world::{Owner, Store, Text};

/// Running sessions whose percentages the lifecycle is fitted to, and how many milliseconds
/// either side of each one's own solution are tried: bounds on the work a capture can ask.
const MAX_RUNNING_CHECKED: usize = 8;
const SEARCH: Millis = 250;

/// The report URL when a capture shows none (the scenario loader's default).
const DEFAULT_REPORT_URL: &str = "https://avds-report.example.com/{ScanId}/{TaskId}.pdf";

pub(crate) struct Page {
    pub request_id: Option<String>,
    docs: bool,
    xml: bool,
    /// The answer's own fields, and the path of its `List` (for errors).
    answer: serde_json::Map<String, Value>,
    sessions: Vec<Session>,
}

struct Session {
    path: String,
    fields: serde_json::Map<String, Value>,
    task_id: i64,
    scan_id: String,
    /// None for the docs example's empty JobStatus (pinned).
    status: Option<AvdsStatus>,
    created: Millis,
    finished: Option<Millis>,
    /// None in the `docs` dialect, which does not show it.
    run_percent: Option<f64>,
    name: String,
    periodic: Option<(Period, u32)>,
    report: String,
    report_url: Option<String>,
    targets: Vec<String>,
}

impl Page {
    pub fn instants(&self) -> Vec<Millis> {
        self.sessions.iter().flat_map(|s| [Some(s.created), s.finished]).flatten().collect()
    }
}

/// The session keys in each dialect: (sdk, docs).
const KEYS: &[(&str, &str)] = &[
    ("TaskId", "TaskId"),
    ("ScanId", "ScanId"),
    ("JobStatus", "JobStatus"),
    ("CreatedAt", "CreatedAt"),
    ("FinishedAt", "FinishedAt"),
    ("Name", "name"),
    ("TriggerType", "triggerType"),
    ("Period", "period"),
    ("Interval", "interval"),
    ("ReportStatus", "reportStatus"),
    ("ReportUrl", "reportUrl"),
    ("RunPercent", "RunPercent"),
    ("Targets", "targets"),
];

fn key(docs: bool, sdk_key: &str) -> &'static str {
    KEYS.iter().find(|(s, _)| *s == sdk_key).map_or("", |(s, d)| if docs { d } else { s })
}

pub(crate) fn read(root: &Node) -> Read<Page> {
    let (docs, answer) = match root.get("data") {
        Some(data) if data.get("List").is_some() || data.get("PageNumber").is_some() => (true, data),
        _ => (false, root.clone()),
    };
    let mut sessions = Vec::new();
    for item in answer.list("List") {
        let Value::Object(fields) = item.value else { return Err(item.error("expected an object")) };
        let k = |sdk_key: &str| key(docs, sdk_key);
        let status_node = item.need(k("JobStatus"))?;
        let status = match status_node.value {
            Value::String(s) if s.is_empty() => None,
            _ => Some(status_node.status()?),
        };
        let finished = item.get(k("FinishedAt")).map(|n| n.instant()).transpose()?.filter(|&f| !(docs && f == 0));
        let trigger = item.opt_text(k("TriggerType"))?.unwrap_or_default();
        let periodic = if trigger == "interval" {
            let period_node = item.need(k("Period"))?;
            let period_text = period_node.text()?;
            let period = Period::from_name(&period_text).ok_or_else(|| {
                period_node.error(format!("unknown period {period_text:?}{}: expected one of {}", crate::scenario::suggest::did_you_mean(&period_text, Period::NAMES.iter().copied()), Period::NAMES.join(", ")))
            })?;
            let interval_node = item.need(k("Interval"))?;
            let interval = interval_node.count()?;
            if interval == 0 {
                return Err(interval_node.error("an interval scan repeats every 1 or more periods"));
            }
            Some((period, interval))
        } else {
            None
        };
        sessions.push(Session {
            path: item.path.clone(),
            task_id: item.need(k("TaskId"))?.int()?,
            scan_id: item.need(k("ScanId"))?.text()?,
            status,
            created: item.need(k("CreatedAt"))?.instant()?,
            finished,
            run_percent: item.get(k("RunPercent")).map(|r| r.float()).transpose()?,
            name: item.opt_text(k("Name"))?.unwrap_or_default(),
            periodic,
            report: item.opt_text(k("ReportStatus"))?.unwrap_or_default(),
            report_url: item.opt_text(k("ReportUrl"))?.filter(|u| !u.is_empty()),
            targets: item.list(k("Targets")).iter().map(|t| t.text()).collect::<Read<_>>()?,
            fields: fields.clone(),
        });
    }
    let Value::Object(fields) = answer.value else { return Err(answer.error("expected an object")) };
    Ok(Page { request_id: root.opt_text(if docs { "requestId" } else { "RequestId" })?, docs, xml: root.xml, answer: fields.clone(), sessions })
}

fn run_percent(progress: f64) -> f64 {
    (progress * 10_000.0).round() / 100.0
}

/// The lifecycle every session of the scan lives, from what its sessions show at `at`: a
/// finished session gives the whole length (waiting and running), a running one its share of the
/// run, a waiting one a lower bound on the wait.
fn lifecycle(sessions: &[&Session], at: Millis) -> Vec<Phase<AvdsStatus>> {
    use AvdsStatus::*;
    let one = |status| Phase { status, end: PhaseEnd::Never };
    let status = |s: &Session| s.status.unwrap_or(if s.finished.is_some() { Finished } else { Running });
    let ended = sessions.iter().find(|s| status(s).terminal() && s.finished.is_some_and(|f| f >= s.created));
    let whole = ended.map(|s| s.finished.unwrap_or(s.created) - s.created);
    let end = ended.map_or(Finished, |s| status(s));
    // The longest any session has been seen waiting: the wait is longer.
    let waited = sessions.iter().filter(|s| status(s) == Waiting).map(|s| at - s.created).max();
    // Every running session's percentage must come out: the candidates near each one's own
    // solution are tried against them all (a bounded number of sessions and candidates).
    let runs: Vec<(&&Session, f64)> = sessions.iter().filter(|s| status(s) == Running && at >= s.created).filter_map(|s| Some((s, s.run_percent?))).take(MAX_RUNNING_CHECKED).collect();
    let running = runs.first().map(|(s, _)| *s);
    let phases = |wait: Millis, run: Millis| {
        let mut phases = Vec::with_capacity(3);
        if wait > 0 {
            phases.push(Phase { status: Waiting, end: PhaseEnd::After(wait) });
        }
        phases.push(Phase { status: Running, end: PhaseEnd::After(run) });
        phases.push(one(end));
        phases
    };
    let fits = |elapsed: Millis, wait: Millis, run: Millis, percent: f64| run > 0 && elapsed >= wait && elapsed - wait < run && run_percent((elapsed - wait) as f64 / run as f64) == percent;
    match (whole, running) {
        // Known length, a run under way: the wait that gives its percentage.
        (Some(whole), Some(s)) => {
            let elapsed = at - s.created;
            let guesses = runs.iter().map(|(s, percent)| {
                let (elapsed, p) = (at - s.created, percent / 100.0);
                if p >= 1.0 { elapsed } else { ((elapsed as f64 - p * whole as f64) / (1.0 - p)).round() as Millis }
            });
            let found = guesses
                .take(1)
                .flat_map(|g| (g.saturating_sub(SEARCH)..=g.saturating_add(SEARCH)).rev())
                .filter(|&w| (0..=elapsed).contains(&w))
                .find(|&w| runs.iter().all(|(s, percent)| fits(at - s.created, w, whole - w, *percent)));
            match found {
                Some(wait) => phases(wait, whole - wait),
                None => phases(0, whole),
            }
        }
        (Some(whole), None) => {
            let wait = waited.map_or(0, |w| (w + 1).min(whole));
            if whole == 0 {
                vec![one(end)]
            } else {
                phases(wait, whole - wait)
            }
        }
        // A run under way, its end unknown: the run whose share at `at` rounds to its percentage.
        (None, Some(s)) => {
            let wait = waited.map_or(0, |w| (w + 1).min(at - s.created));
            let elapsed = at - s.created - wait;
            if s.run_percent.is_none_or(|p| p <= 0.0) || elapsed <= 0 {
                let mut phases = phases(wait, 1);
                phases.truncate(phases.len() - 2);
                phases.push(one(Running));
                return phases;
            }
            let guesses = runs.iter().filter(|(_, p)| *p > 0.0).map(|(s, p)| ((at - s.created - wait) as f64 * 100.0 / p).round() as Millis);
            let found = guesses
                .take(1)
                .flat_map(|g| (g.saturating_sub(SEARCH)..=g.saturating_add(SEARCH)).rev())
                .find(|&run| runs.iter().all(|(s, p)| fits(at - s.created, wait, run, *p)));
            match found {
                Some(run) => phases(wait, run),
                None => vec![one(Running)],
            }
        }
        (None, None) => match sessions.iter().find(|s| status(s).terminal()) {
            Some(s) => vec![one(status(s))],
            None => vec![one(sessions.first().map_or(Running, |s| status(s)))],
        },
    }
}

/// How the reports turn out: failed or not, after what delay, at which URL.
fn report_plan(sessions: &[&Session], at: Millis, scan_id: &str) -> ReportPlan {
    let done: Vec<&&Session> = sessions.iter().filter(|s| s.report == "finished" || s.report == "failed").collect();
    let pending: Vec<&&Session> = sessions.iter().filter(|s| s.report == "running").collect();
    let since = |s: &Session| at - s.finished.unwrap_or(at);
    let delay = match pending.iter().map(|s| since(s)).max() {
        Some(longest) => longest + 30 * SECOND,
        None => done.iter().map(|s| since(s)).min().map_or(30 * SECOND, |shortest| shortest.clamp(0, 30 * SECOND)),
    };
    let url = done.iter().find_map(|s| s.report_url.as_ref().map(|u| (u, s.task_id))).map_or_else(
        || DEFAULT_REPORT_URL.to_string(),
        |(url, task_id)| if sessions.len() > 1 { url.replace(scan_id, "{ScanId}").replace(&task_id.to_string(), "{TaskId}") } else { url.clone() },
    );
    ReportPlan { delay, fails: done.first().is_some_and(|s| s.report == "failed"), url: url.as_str().into() }
}

/// The scan of these sessions (newest first); `limit` caps a periodic one's sessions.
fn scan(first: &Session, sessions: &[&Session], at: Millis, limit: Option<u32>, pins: crate::world::Pins) -> AvdsScan {
    let first_task_id = sessions.iter().map(|s| s.task_id).min().unwrap_or(first.task_id);
    AvdsScan {
        scan_id: Text::new(&first.scan_id),
        name: Text::new(&first.name),
        targets: first.targets.iter().map(|t| Text::new(t)).collect(),
        owner: Owner::shared(),
        first_task_id,
        created: sessions.iter().find(|s| s.task_id == first_task_id).map_or(first.created, |s| s.created),
        trigger: match first.periodic {
            Some((period, interval)) => Trigger::Every { period, interval, limit },
            None => Trigger::Once,
        },
        lifecycle: Lifecycle::new(lifecycle(sessions, at)),
        report: report_plan(sessions, at, &first.scan_id),
        pins,
    }
}

/// A session as the emulator writes it in the capture's dialect, by wire name.
fn rendered(s: &AvdsSession, docs: bool) -> Vec<(&'static str, Option<Value>)> {
    let (period, interval) = match s.scan.trigger {
        Trigger::Once => (None, None),
        Trigger::Every { period, interval, .. } => (Some(period.name()), Some(interval)),
    };
    let trigger = if s.scan.trigger == Trigger::Once { "date" } else { "interval" };
    let targets: Vec<Value> = s.scan.targets.iter().map(|t| Value::from(&**t)).collect();
    if docs {
        let scan_id = s.scan.scan_id.parse::<i64>().map_or_else(|_| Value::from(&*s.scan.scan_id), Value::from);
        return vec![
            ("reportUrl", Some(s.report_url.map(|u| u.fill()).unwrap_or_default().into())),
            ("interval", Some(interval.unwrap_or(0).into())),
            ("name", Some((*s.scan.name).into())),
            ("reportStatus", Some(s.report.name().into())),
            ("JobStatus", Some(s.stage.status.name().into())),
            ("TaskId", Some(s.task_id.into())),
            ("period", Some(period.unwrap_or_default().into())),
            ("triggerType", Some(trigger.into())),
            ("targets", Some(Value::Array(targets))),
            ("FinishedAt", Some(s.stage.ended_at.unwrap_or(0).into())),
            ("CreatedAt", Some(s.started.into())),
            ("ScanId", Some(scan_id)),
        ];
    }
    vec![
        ("TaskId", Some(s.task_id.into())),
        ("ScanId", Some((*s.scan.scan_id).into())),
        ("JobStatus", Some(s.stage.status.name().into())),
        ("CreatedAt", Some(s.started.into())),
        ("FinishedAt", s.stage.ended_at.map(Value::from)),
        ("Name", Some((*s.scan.name).into())),
        ("TriggerType", Some(trigger.into())),
        ("Period", period.map(Value::from)),
        ("Interval", interval.map(Value::from)),
        ("ReportStatus", Some(s.report.name().into())),
        ("ReportUrl", s.report_url.map(|u| Value::from(u.fill()))),
        ("RunPercent", Some(run_percent(s.stage.progress).into())),
        ("Targets", Some(Value::Array(targets))),
    ]
}

pub(crate) fn derive(page: Page, at: Millis, out: &mut Imported) -> Read<ResponsePins> {
    let mut by_scan: BTreeMap<&str, Vec<&Session>> = BTreeMap::new();
    for s in &page.sessions {
        by_scan.entry(&s.scan_id).or_default().push(s);
    }
    for (scan_id, mut sessions) in by_scan {
        if !out.first_sight(super::Kind::Avds, scan_id) {
            continue;
        }
        // Newest first, as the listing has them.
        sessions.sort_by_key(|s| std::cmp::Reverse(s.task_id));
        let newest = sessions[0];
        if newest.periodic.is_none() && sessions.len() > 1 {
            return Err(PathError { path: sessions[1].path.clone(), message: format!("ScanId {scan_id:?} has more than one session, but its TriggerType is not \"interval\"") });
        }
        // A schedule that would have started more sessions by now than the newest captured one
        // ended with it.
        let sessions_shown = u32::try_from(newest.task_id.saturating_sub(sessions[sessions.len() - 1].task_id).saturating_add(1)).unwrap_or(u32::MAX);
        let unlimited = scan(newest, &sessions, at, None, None);
        let limit = (newest.periodic.is_some() && unlimited.sessions_started(at) > u64::from(sessions_shown)).then_some(sessions_shown);
        let trial = scan(newest, &sessions, at, limit, None);
        let store = Store::from_tasks(vec![trial]);
        let query = AvdsQuery { scan_id: None, search: None, statuses: Vec::new(), page: 1, page_size: sessions.len() + 1 };
        let listed = avds::describe_sessions(&store, &query, &Owner::shared(), at);
        if listed.items.len() != sessions.len() {
            return Err(PathError {
                path: newest.path.clone(),
                message: format!("ScanId {scan_id:?}: {} sessions captured, but its schedule has {} by the capture instant", sessions.len(), listed.items.len()),
            });
        }
        let pinned = differences(&newest.fields, &rendered(&listed.items[0], page.docs), page.xml);
        for (session, derived) in sessions.iter().zip(&listed.items).skip(1) {
            let again = differences(&session.fields, &rendered(derived, page.docs), page.xml);
            if again != pinned {
                let (key, _) = again.iter().chain(&pinned).find(|p| !pinned.contains(p) || !again.contains(p)).cloned().unwrap_or_default();
                let derived_value = rendered(derived, page.docs).into_iter().find(|(k, _)| *k == key).and_then(|(_, v)| v);
                return Err(PathError {
                    path: format!("{}.{key}", session.path),
                    message: format!(
                        "ScanId {scan_id:?}: captured {}, but the lifecycle its other sessions show gives {} (a pin would change every session alike)",
                        session.fields.get(&key).map_or("nothing".into(), Value::to_string),
                        derived_value.map_or("nothing".into(), |v| v.to_string()),
                    ),
                });
            }
        }
        out.avds.push(scan(newest, &sessions, at, limit, pins(pinned)));
    }
    // The answer's counters beside the sessions it holds.
    let shown = page.sessions.len() as i64;
    let mut set = Vec::new();
    let prefix = if page.docs { "data." } else { "" };
    let total = page.answer.get("TotalCount").and_then(super::int_of);
    if let Some(total) = total.filter(|&t| t != shown) {
        set.push((format!("{prefix}TotalCount"), Some(page.answer.get("TotalCount").cloned().unwrap_or(Value::from(total)))));
    }
    if !page.docs {
        let size = page.answer.get("PageSize").and_then(super::int_of).unwrap_or(20).max(1);
        let pages = if shown == 0 { 0 } else { (shown - 1) / size + 1 };
        if let Some(count) = page.answer.get("PageCount").filter(|c| super::int_of(c) != Some(pages)) {
            set.push(("PageCount".into(), Some(count.clone())));
        }
    }
    Ok((!set.is_empty()).then_some(set))
}
