//! HSS container-image tasks (ListImageScanTask): image scans and registry synchronisations, per
//! project. Counters, failed images and the progress number grow across the scanning phase.

use super::lifecycle::{Lifecycle, Stage, Status};
use super::store::{page_matching, Direction, PartKey, Store};
use super::{Page, Pins, Record, Shared, Term, Text, Words};
use crate::instant::{minutes_left, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageTaskStatus {
    Waiting,
    Scanning,
    Finished,
    Terminated,
    Timeout,
    Failed,
}

impl Status for ImageTaskStatus {
    fn progressing(self) -> bool {
        self == ImageTaskStatus::Scanning
    }
    fn terminal(self) -> bool {
        !matches!(self, ImageTaskStatus::Waiting | ImageTaskStatus::Scanning)
    }
    fn name(self) -> &'static str {
        match self {
            ImageTaskStatus::Waiting => "waiting",
            ImageTaskStatus::Scanning => "scanning",
            ImageTaskStatus::Finished => "finished",
            ImageTaskStatus::Terminated => "terminated",
            ImageTaskStatus::Timeout => "timeout",
            ImageTaskStatus::Failed => "failed",
        }
    }
    fn all() -> &'static [Self] {
        use ImageTaskStatus::*;
        &[Waiting, Scanning, Finished, Terminated, Timeout, Failed]
    }
    fn successors(self) -> &'static [Self] {
        use ImageTaskStatus::*;
        match self {
            Waiting => &[Scanning, Finished, Terminated, Timeout, Failed],
            Scanning => &[Finished, Terminated, Timeout, Failed],
            Finished | Terminated | Timeout | Failed => &[],
        }
    }
}

/// Values from the SDK model docstrings (sdk-notes §6).
pub const TASK_TYPES: &[&str] = &["cycle", "manual", "autoSync", "manualSync"];
pub const IMAGE_TYPES: &[&str] = &["local", "registry"];

/// [`HssImageTask::task_type`]'s vocabulary: [`TASK_TYPES`].
#[derive(Debug)]
pub struct TaskTypes;

impl Words for TaskTypes {
    const WORDS: &'static [&'static str] = TASK_TYPES;
}

/// [`HssImageTask::image_type`]'s vocabulary: [`IMAGE_TYPES`].
#[derive(Debug)]
pub struct ImageTypes;

impl Words for ImageTypes {
    const WORDS: &'static [&'static str] = IMAGE_TYPES;
}
pub const GENERAL_TYPES: &[&str] = &["image_sync", "image_scan"];
pub const STATUS_FILTERS: &[&str] = &["scanning", "finished"];
pub const REGISTRY_TYPES: &[&str] = &["SwrPrivate", "SwrShared", "SwrEnterprise", "Harbor", "Jfrog", "Other"];
/// The enterprise project a task is in unless a scenario says otherwise.
pub const DEFAULT_ENTERPRISE_PROJECT: &str = "0";
/// Asks for tasks of every enterprise project.
pub const ALL_ENTERPRISE_PROJECTS: &str = "all_granted_eps";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedImage {
    pub id: i64,
    pub registry_id: Text,
    pub registry_name: Text,
    pub image_name: Text,
    pub image_version: Text,
    pub namespace: Text,
    pub registry_type: &'static str,
    pub failed_reason: Text,
}

#[derive(Debug)]
pub struct HssImageTask {
    pub task_id: Text,
    pub project_id: Shared,
    pub enterprise_project_id: Shared,
    pub task_name: Text,
    pub task_type: Term<TaskTypes>,
    pub image_type: Term<ImageTypes>,
    pub scan_scope: i64,
    pub is_all: bool,
    pub images: u32,
    pub failures: u32,
    pub risky: u32,
    pub failed_images: Box<[FailedImage]>,
    /// What few tasks have, apart (None when the task has none of it): see [`HssImageTask::rare`].
    pub rare: Option<Box<RareFields>>,
    pub created: Millis,
    pub lifecycle: Lifecycle<ImageTaskStatus>,
    pub pins: Pins,
}

/// The fields an image task rarely has, kept behind one pointer: 88 bytes a task when inline,
/// most often all empty.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RareFields {
    pub policy_id: Option<Text>,
    pub rate_limit: Option<i64>,
    pub sync_task_type: Option<Text>,
    pub failed_reason: Option<Text>,
}

/// A task's rare fields when it has none of them.
static NO_RARE_FIELDS: RareFields = RareFields { policy_id: None, rate_limit: None, sync_task_type: None, failed_reason: None };

impl RareFields {
    /// Boxed for a task, or None when every field is empty (no allocation).
    pub fn boxed(self) -> Option<Box<RareFields>> {
        (self != RareFields::default()).then(|| Box::new(self))
    }
}

/// The one status index of a partition: ended (in a terminal status).
const ENDED: usize = 0;

impl Record for HssImageTask {
    fn id(&self) -> &str {
        &self.task_id
    }
    fn created(&self) -> Millis {
        self.created
    }
    /// Listed per project, enterprise project and type (scans or synchronisations).
    fn part(&self) -> Option<PartKey<'_>> {
        Some([Some(&self.project_id), Some(&self.enterprise_project_id), Some(self.general_type())])
    }
    const PREDICATES: usize = 1;
    fn intervals(&self, f: &mut dyn FnMut(usize, Millis, Millis)) -> bool {
        self.lifecycle.intervals(self.created, |status, from, to| {
            if status.terminal() {
                f(ENDED, from, to)
            }
        })
    }
    fn satisfies(&self, _predicate: usize, now: Millis) -> bool {
        self.lifecycle.status_at(self.created, now).terminal()
    }
}

impl HssImageTask {
    /// Its policy id, rate limit, synchronisation type and failure reason (each None when unset).
    pub fn rare(&self) -> &RareFields {
        self.rare.as_deref().unwrap_or(&NO_RARE_FIELDS)
    }

    /// `image_sync` for synchronisations, `image_scan` for scans: the query's required `type`.
    pub fn general_type(&self) -> &'static str {
        if self.task_type.name().ends_with("Sync") {
            "image_sync"
        } else {
            "image_scan"
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImageTaskView<'a> {
    pub task: &'a HssImageTask,
    pub stage: Stage<ImageTaskStatus>,
    /// 0–100 while waiting or scanning, 100 finished, -1 terminated, -2 timed out, -3 failed.
    pub status_code: i64,
    pub success: u32,
    pub failed: u32,
    pub risky: u32,
    pub remain_min: i64,
    pub failed_images: &'a [FailedImage],
}

/// `part` of `whole` at `progress`, rounded down: counters reach their totals only at the end.
/// The cast truncates, which is the floor for what it sees (a negative product saturates to 0
/// either way), without a call to libm's `floor` (issue 16: four a task).
fn share(whole: u32, progress: f64) -> u32 {
    ((f64::from(whole) * progress) as u32).min(whole)
}

impl HssImageTask {
    pub fn view(&self, stage: Stage<ImageTaskStatus>, now: Millis) -> ImageTaskView<'_> {
        let progress = if stage.status == ImageTaskStatus::Finished { 1.0 } else { stage.progress };
        let status_code = match stage.status {
            ImageTaskStatus::Waiting => 0,
            // Progress is within 0..=1: truncating is the floor.
            ImageTaskStatus::Scanning => ((progress * 100.0) as i64).min(99),
            ImageTaskStatus::Finished => 100,
            ImageTaskStatus::Terminated => -1,
            ImageTaskStatus::Timeout => -2,
            ImageTaskStatus::Failed => -3,
        };
        let processed = share(self.images, progress);
        let failed = share(self.failures, progress).min(processed);
        let shown = (failed as usize).min(self.failed_images.len());
        ImageTaskView {
            task: self,
            stage,
            status_code,
            success: processed - failed,
            failed,
            risky: share(self.risky, progress),
            remain_min: stage.remaining.map_or(0, |left| minutes_left(now, now + left)),
            failed_images: &self.failed_images[..shown],
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ImageTaskQuery<'a> {
    pub project_id: &'a str,
    /// `None` means the default enterprise project; `all_granted_eps` means all.
    pub enterprise_project_id: Option<&'a str>,
    pub general_type: &'a str,
    pub task_type: Option<&'a str>,
    pub image_type: Option<&'a str>,
    pub task_name: Option<&'a str>,
    pub task_id: Option<&'a str>,
    pub created_from: Option<Millis>,
    pub ended_by: Option<Millis>,
    /// `scanning` (not ended) or `finished` (ended, however).
    pub status: Option<&'a str>,
    pub scan_scope: Option<i64>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of ListImageScanTask. A task id goes through the id index. Without other filters,
/// the partition of (project, enterprise project, type) pages by position, and a status filter is
/// counted by the "ended" index and its page found by walking; other filters (and
/// `all_granted_eps`) filter a walk of the partition (of the whole store for `all_granted_eps`).
pub fn list<'a>(tasks: &'a Store<HssImageTask>, q: &ImageTaskQuery, now: Millis) -> Page<ImageTaskView<'a>> {
    let enterprise = q.enterprise_project_id.unwrap_or(DEFAULT_ENTERPRISE_PROJECT);
    let view = |t: &'a HssImageTask| t.view(t.lifecycle.read(t.created, now), now);
    let filtered = |t: &&HssImageTask| {
        t.project_id.as_ref() == q.project_id
            && t.created <= now
            && (enterprise == ALL_ENTERPRISE_PROJECTS || *t.enterprise_project_id == *enterprise)
            && t.general_type() == q.general_type
            && q.task_type.is_none_or(|v| v == t.task_type.name())
            && q.image_type.is_none_or(|v| v == t.image_type.name())
            && q.task_name.is_none_or(|v| t.task_name.to_lowercase().contains(&v.to_lowercase()))
            && q.created_from.is_none_or(|from| t.created >= from)
            && q.scan_scope.is_none_or(|scope| if scope == 0 { t.scan_scope == 0 } else { t.scan_scope & scope != 0 })
    };
    let status_ok = |t: &&HssImageTask| {
        if q.status.is_none() && q.ended_by.is_none() {
            return true;
        }
        let stage = t.lifecycle.at(t.created, now);
        let ended = stage.status.terminal();
        q.status.is_none_or(|s| (s == "finished") == ended) && q.ended_by.is_none_or(|by| stage.ended_at.is_some_and(|at| at <= by))
    };
    if let Some(id) = &q.task_id {
        return Page::collect_offset(tasks.get(id).into_iter().filter(filtered).filter(status_ok), q.offset, q.limit, view);
    }
    if enterprise == ALL_ENTERPRISE_PROJECTS {
        return Page::collect_offset(tasks.iter().filter(filtered).filter(status_ok), q.offset, q.limit, view);
    }
    let runs = tasks.runs(&[[Some(q.project_id), Some(enterprise), Some(q.general_type)]], now, None, None);
    let plain = q.task_type.is_none() && q.image_type.is_none() && q.task_name.is_none() && q.created_from.is_none() && q.scan_scope.is_none() && q.ended_by.is_none();
    match q.status {
        _ if !plain => Page::collect_offset(runs.walk(Direction::NewestFirst, 0).filter(filtered).filter(status_ok), q.offset, q.limit, view),
        None => Page { total: runs.total(), items: runs.walk(Direction::NewestFirst, q.offset).take(q.limit).map(view).collect() },
        Some(status) => {
            let finished = status == "finished";
            let ended = runs.count(ENDED, now);
            let total = if finished { ended } else { runs.total() - ended };
            let walk = if finished { runs.walk_window(Direction::NewestFirst, ENDED, now) } else { runs.walk(Direction::NewestFirst, 0) };
            let items = page_matching(walk, total, q.offset, q.limit, |t| t.lifecycle.status_at(t.created, now).terminal() == finished);
            Page { total, items: items.into_iter().map(view).collect() }
        }
    }
}
