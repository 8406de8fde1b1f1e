//! HSS container-image tasks (ListImageScanTask): image scans and registry synchronisations, per
//! project. Counters, failed images and the progress number grow across the scanning phase.

use super::lifecycle::{Lifecycle, Stage, Status};
use super::{Page, Pins, Record};
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
}

/// Values from the SDK model docstrings (sdk-notes §6).
pub const TASK_TYPES: &[&str] = &["cycle", "manual", "autoSync", "manualSync"];
pub const IMAGE_TYPES: &[&str] = &["local", "registry"];
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
    pub registry_id: String,
    pub registry_name: String,
    pub image_name: String,
    pub image_version: String,
    pub namespace: String,
    pub registry_type: String,
    pub failed_reason: String,
}

#[derive(Debug)]
pub struct HssImageTask {
    pub task_id: String,
    pub project_id: String,
    pub enterprise_project_id: String,
    pub policy_id: Option<String>,
    pub task_name: String,
    pub task_type: &'static str,
    pub image_type: &'static str,
    pub scan_scope: i64,
    pub rate_limit: Option<i64>,
    pub is_all: bool,
    pub images: u32,
    pub failures: u32,
    pub risky: u32,
    pub failed_images: Vec<FailedImage>,
    pub sync_task_type: Option<String>,
    pub failed_reason: Option<String>,
    pub created: Millis,
    pub lifecycle: Lifecycle<ImageTaskStatus>,
    pub pins: Pins,
}

impl Record for HssImageTask {
    fn id(&self) -> &str {
        &self.task_id
    }
    fn created(&self) -> Millis {
        self.created
    }
}

impl HssImageTask {
    /// `image_sync` for synchronisations, `image_scan` for scans: the query's required `type`.
    pub fn general_type(&self) -> &'static str {
        if self.task_type.ends_with("Sync") {
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
fn share(whole: u32, progress: f64) -> u32 {
    ((f64::from(whole) * progress).floor() as u32).min(whole)
}

impl HssImageTask {
    pub fn view(&self, stage: Stage<ImageTaskStatus>, now: Millis) -> ImageTaskView<'_> {
        let progress = if stage.status == ImageTaskStatus::Finished { 1.0 } else { stage.progress };
        let status_code = match stage.status {
            ImageTaskStatus::Waiting => 0,
            ImageTaskStatus::Scanning => ((progress * 100.0).floor() as i64).min(99),
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
pub struct ImageTaskQuery {
    pub project_id: String,
    /// `None` means the default enterprise project; `all_granted_eps` means all.
    pub enterprise_project_id: Option<String>,
    pub general_type: String,
    pub task_type: Option<String>,
    pub image_type: Option<String>,
    pub task_name: Option<String>,
    pub task_id: Option<String>,
    pub created_from: Option<Millis>,
    pub ended_by: Option<Millis>,
    /// `scanning` (not ended) or `finished` (ended, however).
    pub status: Option<String>,
    pub scan_scope: Option<i64>,
    pub offset: usize,
    pub limit: usize,
}

pub fn list<'a>(tasks: &'a super::Store<HssImageTask>, q: &ImageTaskQuery, now: Millis) -> Page<ImageTaskView<'a>> {
    let enterprise = q.enterprise_project_id.as_deref().unwrap_or(DEFAULT_ENTERPRISE_PROJECT);
    let candidates: Box<dyn Iterator<Item = &HssImageTask>> = match &q.task_id {
        Some(id) => Box::new(tasks.get(id).into_iter()),
        None => Box::new(tasks.iter()),
    };
    let matching = candidates
        .filter(|t| {
            t.project_id == q.project_id
                && t.created <= now
                && (enterprise == ALL_ENTERPRISE_PROJECTS || t.enterprise_project_id == enterprise)
                && t.general_type() == q.general_type
                && q.task_type.as_deref().is_none_or(|v| v == t.task_type)
                && q.image_type.as_deref().is_none_or(|v| v == t.image_type)
                && q.task_name.as_deref().is_none_or(|v| t.task_name.to_lowercase().contains(&v.to_lowercase()))
                && q.created_from.is_none_or(|from| t.created >= from)
                && q.scan_scope.is_none_or(|scope| if scope == 0 { t.scan_scope == 0 } else { t.scan_scope & scope != 0 })
        })
        .filter(|t| {
            if q.status.is_none() && q.ended_by.is_none() {
                return true;
            }
            let stage = t.lifecycle.at(t.created, now);
            let ended = stage.status.terminal();
            q.status.as_deref().is_none_or(|s| (s == "finished") == ended)
                && q.ended_by.is_none_or(|by| stage.ended_at.is_some_and(|at| at <= by))
        });
    Page::collect_offset(matching, q.offset, q.limit, |t| t.view(t.lifecycle.read(t.created, now), now))
}
