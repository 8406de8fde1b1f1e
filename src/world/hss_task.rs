//! HSS common tasks (ListTasks): cluster scans and IaC file scans, per project. Cluster and file
//! counters grow across the running phase; `estimated_time` counts down.

use std::sync::Arc;

use super::lifecycle::{Lifecycle, Stage, Status};
use super::store::{page_matching, Direction, PartKey, Store};
use super::{Page, Pins, Record, Shared, Term, Text, Words};
use crate::instant::{minutes_left, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HssTaskStatus {
    Ready,
    Running,
    Finished,
}

impl Status for HssTaskStatus {
    fn progressing(self) -> bool {
        self == HssTaskStatus::Running
    }
    fn terminal(self) -> bool {
        self == HssTaskStatus::Finished
    }
    fn name(self) -> &'static str {
        match self {
            HssTaskStatus::Ready => "ready",
            HssTaskStatus::Running => "running",
            HssTaskStatus::Finished => "finished",
        }
    }
    fn all() -> &'static [Self] {
        &[HssTaskStatus::Ready, HssTaskStatus::Running, HssTaskStatus::Finished]
    }
    fn successors(self) -> &'static [Self] {
        match self {
            HssTaskStatus::Ready => &[HssTaskStatus::Running, HssTaskStatus::Finished],
            HssTaskStatus::Running => &[HssTaskStatus::Finished],
            HssTaskStatus::Finished => &[],
        }
    }
}

pub const TASK_TYPES: &[&str] = &["cluster_scan", "iac_scan"];
pub const TRIGGER_TYPES: &[&str] = &["manual", "schedule"];
pub const FILE_TYPES: &[&str] = &["dockerfile", "k8s_yaml"];
/// [`HssTask::trigger_type`]'s vocabulary: [`TRIGGER_TYPES`].
#[derive(Debug)]
pub struct TriggerTypes;

impl Words for TriggerTypes {
    const WORDS: &'static [&'static str] = TRIGGER_TYPES;
}

/// An IaC scan's `file_type` vocabulary: [`FILE_TYPES`].
#[derive(Debug)]
pub struct FileTypes;

impl Words for FileTypes {
    const WORDS: &'static [&'static str] = FILE_TYPES;
}

pub const SORT_KEYS: &[&str] = &["start_time"];
pub const SORT_DIRS: &[&str] = &["asc", "desc"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskKind {
    /// The scan types are shared by the tasks of a generator.
    ClusterScan { scan_types: Arc<[String]>, clusters: u32, failures: u32 },
    IacScan { file_type: Term<FileTypes>, files: u32, failures: u32 },
}

impl TaskKind {
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::ClusterScan { .. } => "cluster_scan",
            TaskKind::IacScan { .. } => "iac_scan",
        }
    }
}

#[derive(Debug)]
pub struct HssTask {
    pub task_id: Text,
    pub project_id: Shared,
    pub enterprise_project_id: Shared,
    pub task_name: Text,
    pub trigger_type: Term<TriggerTypes>,
    pub kind: TaskKind,
    pub created: Millis,
    pub lifecycle: Lifecycle<HssTaskStatus>,
    pub pins: Pins,
}

/// Each status is indexed: ready, running, finished.
fn predicate(status: HssTaskStatus) -> usize {
    status as usize
}

impl Record for HssTask {
    fn id(&self) -> &str {
        &self.task_id
    }
    fn created(&self) -> Millis {
        self.created
    }
    /// Listed per project and enterprise project.
    fn part(&self) -> Option<PartKey<'_>> {
        Some([Some(&self.project_id), Some(&self.enterprise_project_id), None])
    }
    const PREDICATES: usize = 3;
    fn intervals(&self, f: &mut dyn FnMut(usize, Millis, Millis)) -> bool {
        self.lifecycle.intervals(self.created, |status, from, to| f(predicate(status), from, to))
    }
    fn satisfies(&self, p: usize, now: Millis) -> bool {
        predicate(self.lifecycle.status_at(self.created, now)) == p
    }
}

/// Items in flight, done well and done badly at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub total: u32,
    pub in_progress: u32,
    pub succeeded: u32,
    pub failed: u32,
}

#[derive(Debug, Clone)]
pub struct HssTaskView<'a> {
    pub task: &'a HssTask,
    pub stage: Stage<HssTaskStatus>,
    pub estimated_minutes: i64,
    pub counts: Counts,
}

impl HssTask {
    pub fn view(&self, stage: Stage<HssTaskStatus>, now: Millis) -> HssTaskView<'_> {
        let (total, failures) = match &self.kind {
            TaskKind::ClusterScan { clusters, failures, .. } => (*clusters, *failures),
            TaskKind::IacScan { files, failures, .. } => (*files, *failures),
        };
        let progress = if stage.status.terminal() { 1.0 } else { stage.progress };
        // Truncating casts: the floor for a product that is never negative (and 0 either way if it
        // were), without a call to libm's `floor`.
        let done = ((f64::from(total) * progress) as u32).min(total);
        let failed = ((f64::from(failures) * progress) as u32).min(done);
        let in_progress = if stage.status == HssTaskStatus::Running { total - done } else { 0 };
        HssTaskView {
            task: self,
            stage,
            estimated_minutes: stage.remaining.map_or(0, |left| minutes_left(now, now + left)),
            counts: Counts { total, in_progress, succeeded: done - failed, failed },
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct TaskQuery<'a> {
    pub project_id: &'a str,
    pub enterprise_project_id: Option<&'a str>,
    pub task_type: Option<&'a str>,
    pub task_id: Option<&'a str>,
    pub task_name: Option<&'a str>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    pub trigger_type: Option<&'a str>,
    pub status: Option<HssTaskStatus>,
    pub ascending: bool,
    /// A task matches only if it scanned every listed type (empty: no filter).
    pub scan_types: Vec<&'a str>,
    pub file_type: Option<&'a str>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of ListTasks. Without filters other than the status, the project's partition pages
/// by position from either end, and a status is counted by its index and its page found by
/// walking from that end; other filters (and `all_granted_eps`) filter a walk.
pub fn list<'a>(tasks: &'a Store<HssTask>, q: &TaskQuery, now: Millis) -> Page<HssTaskView<'a>> {
    use super::hss_image::{ALL_ENTERPRISE_PROJECTS, DEFAULT_ENTERPRISE_PROJECT};
    let enterprise = q.enterprise_project_id.unwrap_or(DEFAULT_ENTERPRISE_PROJECT);
    let keep = |t: &&HssTask| {
        *t.project_id == *q.project_id
            && t.created <= now
            && (enterprise == ALL_ENTERPRISE_PROJECTS || *t.enterprise_project_id == *enterprise)
            && q.task_type.is_none_or(|v| v == t.kind.name())
            && q.task_id.is_none_or(|v| v == t.task_id)
            && q.task_name.is_none_or(|v| t.task_name.to_lowercase().contains(&v.to_lowercase()))
            && q.created_from.is_none_or(|from| t.created >= from)
            && q.created_to.is_none_or(|to| t.created <= to)
            && q.trigger_type.is_none_or(|v| v == t.trigger_type.name())
            && match &t.kind {
                TaskKind::ClusterScan { scan_types, .. } => q.file_type.is_none() && q.scan_types.iter().all(|s| scan_types.iter().any(|t| t == s)),
                TaskKind::IacScan { file_type, .. } => q.scan_types.is_empty() && q.file_type.is_none_or(|v| v == file_type.name()),
            }
            && q.status.is_none_or(|s| t.lifecycle.status_at(t.created, now) == s)
    };
    let view = |t: &'a HssTask| t.view(t.lifecycle.read(t.created, now), now);
    // The store is newest first, which is start_time descending.
    let direction = if q.ascending { Direction::OldestFirst } else { Direction::NewestFirst };
    if let Some(id) = &q.task_id {
        return Page::collect_offset(tasks.get(id).into_iter().filter(keep), q.offset, q.limit, view);
    }
    if enterprise == ALL_ENTERPRISE_PROJECTS {
        return if q.ascending {
            Page::collect_offset(tasks.iter().rev().filter(keep), q.offset, q.limit, view)
        } else {
            Page::collect_offset(tasks.iter().filter(keep), q.offset, q.limit, view)
        };
    }
    let runs = tasks.runs(&[[Some(q.project_id), Some(enterprise), None]], now, None, None);
    let plain = q.task_type.is_none()
        && q.task_name.is_none()
        && q.created_from.is_none()
        && q.created_to.is_none()
        && q.trigger_type.is_none()
        && q.scan_types.is_empty()
        && q.file_type.is_none();
    match q.status {
        _ if !plain => Page::collect_offset(runs.walk(direction, 0).filter(keep), q.offset, q.limit, view),
        None => Page { total: runs.total(), items: runs.walk(direction, q.offset).take(q.limit).map(view).collect() },
        Some(status) => {
            let total = runs.count(predicate(status), now);
            let walk = runs.walk_window(direction, predicate(status), now);
            let items = page_matching(walk, total, q.offset, q.limit, |t| t.lifecycle.status_at(t.created, now) == status);
            Page { total, items: items.into_iter().map(view).collect() }
        }
    }
}
