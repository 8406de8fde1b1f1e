//! Security Center virus-scan tasks (DescribeScanTaskProgress): one task, its progress word and the
//! assets it scans.

use super::lifecycle::{Lifecycle, Stage, Status};
use super::{Owner, Pins, Record, Text};
use crate::instant::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SasStatus {
    Init,
    Processing,
    Success,
    Failed,
}

impl Status for SasStatus {
    fn progressing(self) -> bool {
        self == SasStatus::Processing
    }
    fn terminal(self) -> bool {
        matches!(self, SasStatus::Success | SasStatus::Failed)
    }
    fn name(self) -> &'static str {
        match self {
            SasStatus::Init => "init",
            SasStatus::Processing => "Processing",
            SasStatus::Success => "Success",
            SasStatus::Failed => "Failed",
        }
    }
    fn all() -> &'static [Self] {
        &[SasStatus::Init, SasStatus::Processing, SasStatus::Success, SasStatus::Failed]
    }
    fn successors(self) -> &'static [Self] {
        match self {
            SasStatus::Init => &[SasStatus::Processing, SasStatus::Success, SasStatus::Failed],
            SasStatus::Processing => &[SasStatus::Success, SasStatus::Failed],
            SasStatus::Success | SasStatus::Failed => &[],
        }
    }
}

/// One asset a scan covers; `kind` is the doc's `type`: `uuid` (a server) or `groupId` (a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTarget {
    pub kind: &'static str,
    pub name: Text,
    pub target: Text,
}

pub const TARGET_KINDS: &[&str] = &["uuid", "groupId"];

#[derive(Debug)]
pub struct SasTask {
    pub id: i64,
    id_text: Text,
    pub owner: Owner,
    pub created: Millis,
    pub targets: Box<[ScanTarget]>,
    pub lifecycle: Lifecycle<SasStatus>,
    pub pins: Pins,
}

impl SasTask {
    pub fn new(id: i64, owner: Owner, created: Millis, targets: Vec<ScanTarget>, lifecycle: Lifecycle<SasStatus>, pins: Pins) -> SasTask {
        SasTask { id, id_text: Text::from(id.to_string()), owner, created, targets: targets.into_boxed_slice(), lifecycle, pins }
    }
}

impl Record for SasTask {
    fn id(&self) -> &str {
        &self.id_text
    }
    fn created(&self) -> Millis {
        self.created
    }
}

/// The task with this id as the caller sees it now, counting the read; None when it does not exist
/// for this caller (or not yet, on the virtual timeline).
pub fn progress<'a>(tasks: &'a super::Store<SasTask>, id: i64, caller: &Owner, now: Millis) -> Option<(&'a SasTask, Stage<SasStatus>)> {
    let task = tasks.get(&id.to_string())?;
    (task.owner.visible_to(caller) && task.created <= now).then(|| (task, task.lifecycle.read(task.created, now)))
}
