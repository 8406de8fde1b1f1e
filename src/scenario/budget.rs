//! The budget of a whole load: how many tasks, and how many phases (with the lists a generator
//! draws for each task), all the files of a load together may make, on top of what the running
//! world holds. Counted from the parsed files before anything is built, at the high end of every
//! range, so that a few hundred bytes of TOML cannot ask for more memory than the machine has: the
//! entry that goes over is refused at its `count`, with the budget and the flag that raises it.

use toml::Spanned;

use super::schema::{self, IntSpec, ScenarioFile};
use super::{Located, ScenarioError};

/// Tasks per load, all files and the running world together (`--max-tasks`).
pub const DEFAULT_MAX_TASKS: u64 = 5_000_000;
/// Phases per load, counted with the targets and failed images drawn per task (`--max-phases`):
/// room for the default three phases of every task the task budget allows, and some more.
pub const DEFAULT_MAX_PHASES: u64 = 20_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_tasks: u64,
    pub max_phases: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_tasks: DEFAULT_MAX_TASKS, max_phases: DEFAULT_MAX_PHASES }
    }
}

/// What a world holds, or a load would make, as the budget counts it (an upper bound: a range
/// counts at its high end, a task deleted at run time until the next reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub tasks: u64,
    /// Lifecycle phases, plus the targets and failed images drawn per task.
    pub phases: u64,
}

/// One entry of a file as the budget sees it.
pub(crate) struct Counted<'a> {
    /// Where the entry starts (an explicit task's error goes there).
    pub at: usize,
    pub count: Option<&'a Spanned<u32>>,
    pub generated: bool,
    /// Phases and drawn list entries per task, at most.
    pub parts: u64,
}

impl Counted<'_> {
    /// How many tasks the entry makes, at most: a generator its `count` (none: refused later),
    /// an explicit entry one.
    pub fn tasks(&self) -> u64 {
        if self.generated {
            self.count.map_or(0, |c| u64::from(*c.get_ref()))
        } else {
            1
        }
    }
}

/// The most a drawn number can be: what `Draw::count` makes of the range's high end.
fn high(spec: Option<IntSpec>, default: u64) -> u64 {
    spec.map_or(default, |s| u64::try_from(s.high).unwrap_or(0).min(u64::from(u32::MAX)))
}

fn phases<S: crate::world::lifecycle::Status>(lifecycle: &Option<schema::Lifecycle<S>>, default: u64) -> u64 {
    lifecycle.as_ref().map_or(default, |l| l.get_ref().len() as u64)
}

fn counted<'a, T>(specs: &'a [Spanned<T>], generated: bool, count: impl Fn(&'a T) -> Option<&'a Spanned<u32>>, parts: impl Fn(&T) -> u64) -> impl Iterator<Item = Counted<'a>> {
    specs.iter().map(move |s| Counted { at: s.span().start, count: count(s.get_ref()), generated, parts: parts(s.get_ref()) })
}

/// Every task entry of a file, in the order the file is built in. The default lifecycles have
/// three phases (HSS image tasks two), as `build` gives them.
pub(crate) fn entries(file: &ScenarioFile) -> impl Iterator<Item = Counted<'_>> {
    let ecs = |s: &schema::EcsSpec| phases(&s.lifecycle, 3);
    let sas = |s: &schema::SasSpec| phases(&s.lifecycle, 3) + if s.targets.is_empty() { high(s.target_count, 1) } else { s.targets.len() as u64 };
    let avds = |s: &schema::AvdsSpec| phases(&s.lifecycle, 3) + s.targets.as_ref().map_or_else(|| high(s.target_count, 2), |t| t.len() as u64);
    // Failed images: the listed ones, then drawn ones up to `failures` (within `images`).
    let images = |s: &schema::ImageTaskSpec| {
        let drawn = high(s.failures.as_ref().map(|f| *f.get_ref()), 0).min(high(s.images.as_ref().map(|i| *i.get_ref()), 10));
        phases(&s.lifecycle, 2) + drawn.max(s.failed_images.len() as u64)
    };
    let tasks = |s: &schema::HssTaskSpec| phases(&s.lifecycle, 3);
    counted(&file.ecs.tasks, false, |s| s.count.as_ref(), ecs)
        .chain(counted(&file.ecs.generate, true, |s| s.count.as_ref(), ecs))
        .chain(counted(&file.sas.tasks, false, |s| s.count.as_ref(), sas))
        .chain(counted(&file.sas.generate, true, |s| s.count.as_ref(), sas))
        .chain(counted(&file.avds.scans, false, |s| s.count.as_ref(), avds))
        .chain(counted(&file.avds.generate, true, |s| s.count.as_ref(), avds))
        .chain(counted(&file.hss.image_tasks, false, |s| s.count.as_ref(), images))
        .chain(counted(&file.hss.image_generate, true, |s| s.count.as_ref(), images))
        .chain(counted(&file.hss.tasks, false, |s| s.count.as_ref(), tasks))
        .chain(counted(&file.hss.generate, true, |s| s.count.as_ref(), tasks))
}

impl Budget {
    /// Adds a file's entries to `usage`; the first entry that takes it over the budget is an
    /// error at its `count` (at the entry, for an explicit task).
    pub(crate) fn admit(&self, usage: &mut Usage, source: &Located, file: &ScenarioFile) -> Result<(), ScenarioError> {
        for entry in entries(file) {
            let tasks = entry.tasks();
            let at = entry.count.filter(|_| entry.generated).map_or(entry.at, |c| c.span().start);
            usage.tasks = usage.tasks.saturating_add(tasks);
            usage.phases = usage.phases.saturating_add(tasks.saturating_mul(entry.parts));
            if usage.tasks > self.max_tasks {
                return Err(source.error_at(
                    at,
                    format!("{tasks} more task(s) bring the load to {} tasks, over the budget of {} tasks per load (all files and the running world; raise it with --max-tasks)", usage.tasks, self.max_tasks),
                ));
            }
            if usage.phases > self.max_phases {
                return Err(source.error_at(
                    at,
                    format!(
                        "{tasks} task(s) of up to {} phases and drawn targets/failed images each bring the load to {} phases, over the budget of {} per load (raise it with --max-phases)",
                        entry.parts, usage.phases, self.max_phases
                    ),
                ));
            }
        }
        Ok(())
    }
}
