//! ECS asynchronous tasks (DescribeTasks): image import/export and instance redeploys, per region.

use super::lifecycle::{Lifecycle, Stage, Status};
use super::{Owner, Page, Pins};
use crate::instant::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcsStatus {
    Waiting,
    Processing,
    Paused,
    Finished,
    Failed,
    Deleted,
}

impl Status for EcsStatus {
    fn progressing(self) -> bool {
        self == EcsStatus::Processing
    }
    fn terminal(self) -> bool {
        matches!(self, EcsStatus::Finished | EcsStatus::Failed | EcsStatus::Deleted)
    }
    fn name(self) -> &'static str {
        match self {
            EcsStatus::Waiting => "Waiting",
            EcsStatus::Processing => "Processing",
            EcsStatus::Paused => "Paused",
            EcsStatus::Finished => "Finished",
            EcsStatus::Failed => "Failed",
            EcsStatus::Deleted => "Deleted",
        }
    }
    fn all() -> &'static [Self] {
        use EcsStatus::*;
        &[Waiting, Processing, Paused, Finished, Failed, Deleted]
    }
}

impl EcsStatus {
    /// The doc: "only Finished, Processing and Failed take effect" as a TaskStatus filter.
    pub fn filterable(self) -> bool {
        matches!(self, EcsStatus::Finished | EcsStatus::Processing | EcsStatus::Failed)
    }
}

/// TaskAction values the DescribeTasks doc lists.
pub const ACTIONS: &[&str] = &["ImportImage", "ExportImage", "RedeployInstance"];

#[derive(Debug)]
pub struct EcsTask {
    pub id: String,
    pub region: String,
    pub owner: Owner,
    pub action: &'static str,
    pub resource_id: Option<String>,
    pub created: Millis,
    pub lifecycle: Lifecycle<EcsStatus>,
    /// Pinned by the scenario; otherwise cancellable until the task ends.
    pub support_cancel: Option<bool>,
    pub pins: Pins,
}

#[derive(Debug, Clone)]
pub struct EcsView<'a> {
    pub task: &'a EcsTask,
    pub stage: Stage<EcsStatus>,
    pub support_cancel: bool,
}

impl EcsTask {
    pub fn view(&self, stage: Stage<EcsStatus>) -> EcsView<'_> {
        let support_cancel = self.support_cancel.unwrap_or(!stage.status.terminal());
        EcsView { task: self, stage, support_cancel }
    }
}

/// A DescribeTasks query in domain terms: the edge has already checked types and ranges.
#[derive(Debug, Default, Clone)]
pub struct EcsQuery {
    pub region: String,
    pub task_ids: Option<Vec<String>>,
    pub action: Option<String>,
    /// Already reduced to a filterable status (the edge drops the others, as the doc says).
    pub status: Option<EcsStatus>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    pub page_number: usize,
    pub page_size: usize,
}

pub fn describe<'a>(tasks: &'a super::Store<EcsTask>, query: &EcsQuery, caller: &Owner, now: Millis) -> Page<EcsView<'a>> {
    let candidates: Box<dyn Iterator<Item = &EcsTask>> = match &query.task_ids {
        Some(ids) => Box::new(tasks.by_ids(ids)),
        None => Box::new(tasks.iter()),
    };
    let matching = candidates.filter(|task| {
        task.region == query.region
            && task.owner.visible_to(caller)
            && task.created <= now
            && query.action.as_deref().is_none_or(|a| a == task.action)
            && query.created_from.is_none_or(|from| task.created >= from)
            && query.created_to.is_none_or(|to| task.created <= to)
    });
    let matching = matching.filter(|task| query.status.is_none_or(|s| s == task.lifecycle.at(task.created, now).status));
    Page::collect(matching, query.page_number, query.page_size, |task| task.view(task.lifecycle.read(task.created, now)))
}
