//! ECS asynchronous tasks (DescribeTasks): image import/export and instance redeploys, per region.

use super::lifecycle::{Lifecycle, Stage, Status};
use super::store::{page_matching, Direction, PartKey, Record, Store};
use super::{Owner, Page, Pins, Shared, Term, Text, Words};
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
    fn successors(self) -> &'static [Self] {
        use EcsStatus::*;
        match self {
            Waiting => &[Processing, Paused, Finished, Failed, Deleted],
            Processing => &[Paused, Finished, Failed, Deleted],
            Paused => &[Processing, Failed, Deleted],
            Finished | Failed | Deleted => &[],
        }
    }
}

impl EcsStatus {
    /// The doc: "only Finished, Processing and Failed take effect" as a TaskStatus filter.
    pub fn filterable(self) -> bool {
        matches!(self, EcsStatus::Finished | EcsStatus::Processing | EcsStatus::Failed)
    }

    /// Its status index in a region's partition: the filterable ones.
    fn predicate(self) -> Option<usize> {
        match self {
            EcsStatus::Processing => Some(0),
            EcsStatus::Finished => Some(1),
            EcsStatus::Failed => Some(2),
            _ => None,
        }
    }
}

/// TaskAction values the DescribeTasks doc lists.
pub const ACTIONS: &[&str] = &["ImportImage", "ExportImage", "RedeployInstance"];

/// [`EcsTask::action`]'s vocabulary: [`ACTIONS`].
#[derive(Debug)]
pub struct Actions;

impl Words for Actions {
    const WORDS: &'static [&'static str] = ACTIONS;
}

#[derive(Debug)]
pub struct EcsTask {
    pub id: Text,
    pub region: Shared,
    pub owner: Owner,
    pub action: Term<Actions>,
    pub resource_id: Option<Text>,
    pub created: Millis,
    pub lifecycle: Lifecycle<EcsStatus>,
    /// Pinned by the scenario; otherwise cancellable until the task ends.
    pub support_cancel: Option<bool>,
    pub pins: Pins,
}

impl Record for EcsTask {
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> Millis {
        self.created
    }
    /// Listed per region and owner.
    fn part(&self) -> Option<PartKey<'_>> {
        Some([Some(&self.region), self.owner.key(), None])
    }
    const PREDICATES: usize = 3;
    fn intervals(&self, f: &mut dyn FnMut(usize, Millis, Millis)) -> bool {
        self.lifecycle.intervals(self.created, |status, from, to| {
            if let Some(p) = status.predicate() {
                f(p, from, to)
            }
        })
    }
    fn satisfies(&self, predicate: usize, now: Millis) -> bool {
        self.lifecycle.status_at(self.created, now).predicate() == Some(predicate)
    }
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
pub struct EcsQuery<'a> {
    pub region: &'a str,
    pub task_ids: Option<Vec<String>>,
    pub action: Option<String>,
    /// `ResourceIds.N`: tasks on any of these resources (images, instances).
    pub resource_ids: Option<Vec<String>>,
    /// Already reduced to a filterable status (the edge drops the others, as the doc says).
    pub status: Option<EcsStatus>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    pub page_number: usize,
    pub page_size: usize,
}

/// One page of DescribeTasks. Ids go through the id index; otherwise the region's partitions
/// (shared tasks and the caller's own) are merged in store order: a plain page is found by
/// position, a status filter is counted by the status index and its page found by walking newest
/// first where that status can be; TaskAction, ResourceIds, or a status with StartTime/EndTime,
/// filter the walk of the region's tasks created in the range.
pub fn describe<'a>(tasks: &'a Store<EcsTask>, query: &EcsQuery<'_>, caller: &Owner, now: Millis) -> Page<EcsView<'a>> {
    let view = |task: &'a EcsTask| task.view(task.lifecycle.read(task.created, now));
    let matches = |task: &&EcsTask| {
        query.action.as_deref().is_none_or(|a| a == task.action.name())
            && query.resource_ids.as_ref().is_none_or(|ids| task.resource_id.as_deref().is_some_and(|r| ids.iter().any(|id| id == r)))
            && query.status.is_none_or(|s| s == task.lifecycle.status_at(task.created, now))
    };
    if let Some(ids) = &query.task_ids {
        let found = tasks.by_ids(ids).filter(|task| {
            *task.region == *query.region
                && task.owner.visible_to(caller)
                && task.created <= now
                && query.created_from.is_none_or(|from| task.created >= from)
                && query.created_to.is_none_or(|to| task.created <= to)
        });
        return Page::collect(found.filter(matches), query.page_number, query.page_size, view);
    }
    let keys = [[Some(query.region), None, None], [Some(query.region), caller.key(), None]];
    let runs = tasks.runs(&keys, now, query.created_from, query.created_to);
    let skip = query.page_number.saturating_sub(1).saturating_mul(query.page_size);
    let walk_filtered = query.action.is_some() || query.resource_ids.is_some();
    match (walk_filtered, query.status) {
        (false, None) => Page { total: runs.total(), items: runs.walk(Direction::NewestFirst, skip).take(query.page_size).map(view).collect() },
        (false, Some(status)) if runs.countable() && status.predicate().is_some() => {
            let predicate = status.predicate().unwrap_or_default();
            let total = runs.count(predicate, now);
            let walk = runs.walk_window(Direction::NewestFirst, predicate, now);
            let items = page_matching(walk, total, skip, query.page_size, |t| t.lifecycle.status_at(t.created, now) == status);
            Page { total, items: items.into_iter().map(view).collect() }
        }
        _ => Page::collect(runs.walk(Direction::NewestFirst, 0).filter(matches), query.page_number, query.page_size, view),
    }
}
