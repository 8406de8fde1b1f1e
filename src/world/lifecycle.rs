//! Lifecycles: a task's ordered phases, and its state at an instant derived from them.
//!
//! A phase ends after a duration, after N reads of its task (moto's "manual" transitions, so an SDK
//! that polls sees progress with the clock frozen), or never (the last one). Evaluation is a pure
//! function of (start, instant, read log); the read log is the only mutable state a task has.

use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Mutex;

use crate::instant::Millis;

/// A product's status vocabulary. The names are the API's own, used in scenarios and filters.
pub trait Status: Copy + Eq + Debug + Send + Sync + 'static {
    /// Progress, counters and remaining time grow across phases with this status.
    fn progressing(self) -> bool;
    /// Reaching this status ends the task: end/finish times appear.
    fn terminal(self) -> bool;
    fn name(self) -> &'static str;
    fn all() -> &'static [Self];
    /// The product's transition table: the statuses a phase with this status may be followed by,
    /// besides itself (a status may last over several phases). Empty exactly for the terminal
    /// statuses: a task never leaves one. Scenario lifecycles are checked against it.
    fn successors(self) -> &'static [Self];
    /// Whether a phase with `next` may follow a phase with this status.
    fn may_become(self, next: Self) -> bool {
        self == next || self.successors().contains(&next)
    }
    fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|s| s.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseEnd {
    After(Millis),
    Reads(u32),
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase<S> {
    pub status: S,
    pub end: PhaseEnd,
}

/// Which read-bounded phases have ended, and when (virtual time), plus reads seen in the current one.
#[derive(Debug, Default)]
struct ReadLog {
    reads_in_phase: u32,
    ended: Vec<(usize, Millis)>,
}

/// A task's phases. A million tasks each with a boxed slice of phases and an inline mutex would
/// spend about 100 bytes apiece on them; most lifecycles have at most three phases, all but the
/// last ending after a duration, and those are kept inline (24 bytes), the rest boxed.
#[derive(Debug)]
enum Phases<S> {
    Short { len: u8, statuses: [S; 3], durations: [Millis; 2] },
    Long(Box<Long<S>>),
}

/// A lifecycle that is not short: its phases, and its read log when a phase ends after reads.
/// Boxed whole, so that a lifecycle is 24 bytes (the short form's), not 32.
#[derive(Debug)]
struct Long<S> {
    phases: Box<[Phase<S>]>,
    /// Present only when a phase ends after reads: tasks without one stay lock-free.
    reads: Option<Mutex<ReadLog>>,
}

#[derive(Debug)]
pub struct Lifecycle<S> {
    phases: Phases<S>,
}

/// A task's lifecycle state at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage<S> {
    pub status: S,
    pub phase: usize,
    pub phase_started: Millis,
    /// Known when the phase ends after a duration.
    pub phase_ends: Option<Millis>,
    /// 0.0..=1.0 across the progressing phases (equal weight each); 1.0 once they are all behind.
    pub progress: f64,
    /// When the first terminal phase began, once reached.
    pub ended_at: Option<Millis>,
    /// Until the last progressing phase ends; None when a read-bounded phase lies in the way.
    pub remaining: Option<Millis>,
}

impl<S: Status> Lifecycle<S> {
    /// The phases must be non-empty and only the last may be `Never`; the scenario loader checks that
    /// with line numbers, and this is the backstop.
    pub fn new(phases: Vec<Phase<S>>) -> Lifecycle<S> {
        Lifecycle::build(Cow::Owned(phases))
    }

    /// [`new`](Self::new) from borrowed phases: a short lifecycle (the common one) is kept inline
    /// without a vector made for it first (a generator builds a million of them).
    pub fn from_slice(phases: &[Phase<S>]) -> Lifecycle<S> {
        Lifecycle::build(Cow::Borrowed(phases))
    }

    fn build(phases: Cow<[Phase<S>]>) -> Lifecycle<S> {
        assert!(!phases.is_empty(), "a lifecycle needs a phase");
        let last = phases.len() - 1;
        let reads = phases[..last].iter().any(|p| matches!(p.end, PhaseEnd::Reads(_))).then(|| Mutex::new(ReadLog::default()));
        let timed = phases[..last].iter().all(|p| matches!(p.end, PhaseEnd::After(_)));
        let phases = if phases.len() <= 3 && timed {
            let mut statuses = [phases[last].status; 3];
            let mut durations = [0; 2];
            for (i, phase) in phases[..last].iter().enumerate() {
                statuses[i] = phase.status;
                if let PhaseEnd::After(d) = phase.end {
                    durations[i] = d;
                }
            }
            Phases::Short { len: phases.len() as u8, statuses, durations }
        } else {
            let mut phases = phases.into_owned();
            if let Some(last) = phases.last_mut() {
                last.end = PhaseEnd::Never;
            }
            Phases::Long(Box::new(Long { phases: phases.into_boxed_slice(), reads }))
        };
        Lifecycle { phases }
    }

    pub fn len(&self) -> usize {
        match &self.phases {
            Phases::Short { len, .. } => usize::from(*len),
            Phases::Long(long) => long.phases.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn phase(&self, index: usize) -> Phase<S> {
        match &self.phases {
            Phases::Short { len, statuses, durations } => {
                let end = if index + 1 >= usize::from(*len) { PhaseEnd::Never } else { PhaseEnd::After(durations[index]) };
                Phase { status: statuses[index], end }
            }
            Phases::Long(long) => long.phases[index],
        }
    }

    fn status_of(&self, index: usize) -> S {
        match &self.phases {
            Phases::Short { statuses, .. } => statuses[index],
            Phases::Long(long) => long.phases[index].status,
        }
    }

    /// The phases, in order (a copy: they are stored packed).
    pub fn phases(&self) -> Vec<Phase<S>> {
        (0..self.len()).map(|i| self.phase(i)).collect()
    }

    pub fn final_status(&self) -> S {
        self.status_of(self.len() - 1)
    }

    /// Whether some phase ends after reads (the task's state then depends on more than the clock).
    pub fn read_bounded(&self) -> bool {
        self.reads().is_some()
    }

    /// For a lifecycle of durations only, started at `start`: each phase's status and the interval
    /// `[from, to)` it covers (`to` is `Millis::MAX` for the last phase, which never ends), what
    /// the status indexes count with. None when a phase ends after reads or a duration is negative.
    pub fn intervals(&self, start: Millis, mut f: impl FnMut(S, Millis, Millis)) -> bool {
        if self.read_bounded() {
            return false;
        }
        let len = self.len();
        if (0..len).any(|i| matches!(self.phase(i).end, PhaseEnd::After(d) if d < 0)) {
            return false;
        }
        let mut cursor = start;
        for i in 0..len {
            let phase = self.phase(i);
            let end = match phase.end {
                PhaseEnd::After(d) => cursor.saturating_add(d),
                _ => Millis::MAX,
            };
            f(phase.status, cursor, end);
            cursor = end;
        }
        true
    }

    /// When the last phase (the one that never ends) begins for a task started at `start`, as
    /// [`intervals`](Self::intervals) would give it: None when a phase ends after reads or a
    /// duration is negative. A sum for a short lifecycle, asked once a task by the load.
    pub fn last_phase_starts(&self, start: Millis) -> Option<Millis> {
        match &self.phases {
            Phases::Short { len, durations, .. } => {
                let timed = &durations[..usize::from(*len) - 1];
                timed.iter().all(|&d| d >= 0).then(|| timed.iter().fold(start, |at, &d| at.saturating_add(d)))
            }
            _ => {
                let mut last_start = None;
                self.intervals(start, |_, from, to| {
                    if to == Millis::MAX {
                        last_start = Some(from);
                    }
                })
                .then_some(())?;
                last_start
            }
        }
    }

    fn reads(&self) -> Option<&Mutex<ReadLog>> {
        match &self.phases {
            Phases::Short { .. } => None,
            Phases::Long(long) => long.reads.as_ref(),
        }
    }

    fn log<T>(&self, f: impl FnOnce(&mut ReadLog) -> T) -> Option<T> {
        self.reads().map(|m| f(&mut m.lock().unwrap_or_else(|p| p.into_inner())))
    }

    /// Just the status at `now`, as [`at`](Self::at) would give it: what filters and status walks
    /// ask, without the progress and remaining-time arithmetic.
    pub fn status_at(&self, start: Millis, now: Millis) -> S {
        if self.read_bounded() {
            return self.at(start, now).status;
        }
        let last = self.len() - 1;
        let mut cursor = start;
        for i in 0..last {
            match self.phase(i).end {
                PhaseEnd::After(duration) => {
                    let end = cursor.saturating_add(duration);
                    if now < end {
                        return self.status_of(i);
                    }
                    cursor = end;
                }
                _ => return self.status_of(i),
            }
        }
        self.status_of(last)
    }

    /// State at `now` for a task that started at `start` (callers hide tasks not yet started).
    pub fn at(&self, start: Millis, now: Millis) -> Stage<S> {
        match &self.phases {
            Phases::Short { len, statuses, durations } => Self::short_at(usize::from(*len), statuses, durations, start, now),
            Phases::Long(_) => self.long_at(start, now),
        }
    }

    /// [`at`](Self::at) for a short lifecycle, the one nearly every task has: the same walk as
    /// [`long_at`](Self::long_at)'s, over the inline arrays, with no read log to look at (issue
    /// 16: the general walk was a tenth of a page's instructions; a test holds the two equal).
    #[inline]
    fn short_at(len: usize, statuses: &[S; 3], durations: &[Millis; 2], start: Millis, now: Millis) -> Stage<S> {
        let last = len.clamp(1, 3) - 1;
        let mut cursor = start;
        let mut ended_at = None;
        let mut index = 0;
        let (phase_ends, fraction) = loop {
            let status = statuses[index];
            if ended_at.is_none() && status.terminal() {
                ended_at = Some(cursor);
            }
            if index >= last {
                break (None, 0.0);
            }
            let duration = durations[index];
            let end = cursor.saturating_add(duration);
            if now < end {
                let fraction = if duration == 0 { 1.0 } else { (now - cursor) as f64 / duration as f64 };
                break (Some(end), fraction);
            }
            cursor = end;
            index += 1;
        };
        let status_of = |i: usize| statuses[i];
        let end_of = |i: usize| if i < last { PhaseEnd::After(durations[i]) } else { PhaseEnd::Never };
        Stage {
            status: statuses[index],
            phase: index,
            phase_started: cursor,
            phase_ends,
            progress: progress_over(last + 1, index, fraction, status_of),
            // Only a terminal phase at or before this one sets it.
            ended_at,
            remaining: remaining_over(last + 1, index, now, phase_ends, status_of, end_of),
        }
    }

    /// [`at`](Self::at) for any lifecycle: phases of every kind, and the read log.
    fn long_at(&self, start: Millis, now: Millis) -> Stage<S> {
        let (ended, reads_in_phase) = self.log(|log| (log.ended.clone(), log.reads_in_phase)).unwrap_or_default();
        let len = self.len();
        let mut cursor = start;
        let mut ended_at = None;
        let mut terminal_before = false;
        let mut index = 0;
        let (phase_ends, fraction) = loop {
            let phase = self.phase(index);
            if phase.status.terminal() && ended_at.is_none() {
                ended_at = Some(cursor);
            }
            let ends = match phase.end {
                PhaseEnd::After(duration) if index + 1 < len => {
                    let end = cursor.saturating_add(duration);
                    if now < end {
                        let fraction = if duration == 0 { 1.0 } else { (now - cursor) as f64 / duration as f64 };
                        break (Some(end), fraction);
                    }
                    end
                }
                PhaseEnd::Reads(limit) if index + 1 < len => match ended.iter().find(|(i, _)| *i == index) {
                    Some(&(_, at)) if now >= at => at.max(cursor),
                    Some(_) => break (None, 1.0),
                    None => break (None, f64::from(reads_in_phase.min(limit)) / f64::from(limit.max(1))),
                },
                _ => break (None, 0.0),
            };
            terminal_before |= phase.status.terminal();
            cursor = ends;
            index += 1;
        };
        let status = self.status_of(index);
        Stage {
            status,
            phase: index,
            phase_started: cursor,
            phase_ends,
            progress: self.progress(index, fraction),
            ended_at: if status.terminal() || terminal_before { ended_at } else { None },
            remaining: self.remaining(index, now, phase_ends),
        }
    }

    fn progress(&self, current: usize, fraction: f64) -> f64 {
        progress_over(self.len(), current, fraction, |i| self.status_of(i))
    }

    fn remaining(&self, current: usize, now: Millis, phase_ends: Option<Millis>) -> Option<Millis> {
        remaining_over(self.len(), current, now, phase_ends, |i| self.status_of(i), |i| self.phase(i).end)
    }

    /// The read log as it stands: each exhausted read-bounded phase with the instant its last read
    /// was counted, and the reads counted in the current one. None when no phase ends after reads.
    /// What a snapshot writes, so that a restored world reads on where this one stopped.
    pub fn read_state(&self) -> Option<(Vec<(usize, Millis)>, u32)> {
        self.log(|log| (log.ended.clone(), log.reads_in_phase))
    }

    /// Puts back a read log [`read_state`](Self::read_state) gave (the scenario loader has checked
    /// that each index is a read-bounded phase); no-op for a lifecycle without one.
    pub fn restore_reads(&self, mut ended: Vec<(usize, Millis)>, reads_in_phase: u32) {
        ended.sort_by_key(|(index, _)| *index);
        self.log(|log| {
            log.ended = ended;
            log.reads_in_phase = reads_in_phase;
        });
    }

    /// Evaluates like [`at`](Self::at) and counts one read: the read that exhausts a read-bounded
    /// phase still sees it, the next one sees what follows.
    pub fn read(&self, start: Millis, now: Millis) -> Stage<S> {
        let stage = self.at(start, now);
        // Only a lifecycle with a read log has a phase that ends after reads.
        if self.reads().is_none() {
            return stage;
        }
        if let PhaseEnd::Reads(limit) = self.phase(stage.phase).end {
            self.log(|log| {
                if log.ended.iter().all(|(i, _)| *i != stage.phase) {
                    log.reads_in_phase += 1;
                    if log.reads_in_phase >= limit {
                        log.ended.push((stage.phase, now));
                        log.reads_in_phase = 0;
                    }
                }
            });
        }
        stage
    }
}

/// Progress in the phase `current` of `len`, `fraction` of the way through it.
#[inline(always)]
fn progress_over<S: Status>(len: usize, current: usize, fraction: f64, status_of: impl Fn(usize) -> S) -> f64 {
    let mut total = 0usize;
    let mut done = 0usize;
    for i in 0..len {
        if status_of(i).progressing() {
            total += 1;
            if i < current {
                done += 1;
            }
        }
    }
    if total == 0 {
        return if status_of(current).terminal() { 1.0 } else { 0.0 };
    }
    let partial = if status_of(current).progressing() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    ((done as f64 + partial) / total as f64).clamp(0.0, 1.0)
}

/// Time left in the phase `current` of `len` (which ends at `phase_ends`) and the progressing
/// phases after it.
#[inline(always)]
fn remaining_over<S: Status>(len: usize, current: usize, now: Millis, phase_ends: Option<Millis>, status_of: impl Fn(usize) -> S, end_of: impl Fn(usize) -> PhaseEnd) -> Option<Millis> {
    let Some(last_progressing) = (0..len).rev().find(|&i| status_of(i).progressing()) else {
        return Some(0);
    };
    if current > last_progressing {
        return Some(0);
    }
    let mut left = phase_ends? - now;
    for i in current + 1..=last_progressing {
        match end_of(i) {
            PhaseEnd::After(duration) => left = left.saturating_add(duration),
            _ => return None,
        }
    }
    Some(left)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Demo {
        Waiting,
        Running,
        Done,
        Failed,
    }

    impl Status for Demo {
        fn progressing(self) -> bool {
            self == Demo::Running
        }
        fn terminal(self) -> bool {
            matches!(self, Demo::Done | Demo::Failed)
        }
        fn name(self) -> &'static str {
            match self {
                Demo::Waiting => "waiting",
                Demo::Running => "running",
                Demo::Done => "done",
                Demo::Failed => "failed",
            }
        }
        fn all() -> &'static [Self] {
            &[Demo::Waiting, Demo::Running, Demo::Done, Demo::Failed]
        }
        fn successors(self) -> &'static [Self] {
            match self {
                Demo::Waiting => &[Demo::Running, Demo::Failed],
                Demo::Running => &[Demo::Done, Demo::Failed],
                Demo::Done | Demo::Failed => &[],
            }
        }
    }

    /// Each product's transition table says what its `terminal` says: a status has no way out
    /// exactly when it ends the task, and every status a table names is one of the product's.
    fn table_agrees_with_terminal<S: Status>() {
        for &status in S::all() {
            assert_eq!(status.successors().is_empty(), status.terminal(), "{status:?}");
            assert!(status.successors().iter().all(|next| S::all().contains(next) && *next != status), "{status:?}");
            assert!(status.may_become(status), "a status may last over several phases");
        }
    }

    #[test]
    fn every_products_transition_table_ends_at_its_terminal_statuses() {
        table_agrees_with_terminal::<Demo>();
        table_agrees_with_terminal::<crate::world::ecs::EcsStatus>();
        table_agrees_with_terminal::<crate::world::sas::SasStatus>();
        table_agrees_with_terminal::<crate::world::avds::AvdsStatus>();
        table_agrees_with_terminal::<crate::world::hss_image::ImageTaskStatus>();
        table_agrees_with_terminal::<crate::world::hss_task::HssTaskStatus>();
    }

    fn timed() -> Lifecycle<Demo> {
        Lifecycle::new(vec![
            Phase { status: Demo::Waiting, end: PhaseEnd::After(10) },
            Phase { status: Demo::Running, end: PhaseEnd::After(100) },
            Phase { status: Demo::Done, end: PhaseEnd::Never },
        ])
    }

    #[test]
    fn timed_phases_follow_the_instant() {
        let life = timed();
        let s = life.at(1000, 1000);
        assert_eq!((s.status, s.progress, s.ended_at, s.remaining), (Demo::Waiting, 0.0, None, Some(110)));
        let s = life.at(1000, 1060);
        assert_eq!((s.status, s.phase_started, s.phase_ends, s.remaining), (Demo::Running, 1010, Some(1110), Some(50)));
        assert!((s.progress - 0.5).abs() < 1e-9);
        let s = life.at(1000, 5000);
        assert_eq!((s.status, s.progress, s.ended_at, s.remaining), (Demo::Done, 1.0, Some(1110), Some(0)));
        for now in [0, 999, 1000, 1009, 1010, 1109, 1110, 5000] {
            assert_eq!(life.status_at(1000, now), life.at(1000, now).status, "{now}");
        }
        // Pure: asking again, or going back in time, gives the earlier answer.
        assert_eq!(life.at(1000, 1060).status, Demo::Running);
    }

    #[test]
    fn read_bounded_phase_advances_on_the_reads_after_the_limit() {
        let life = Lifecycle::new(vec![
            Phase { status: Demo::Waiting, end: PhaseEnd::Reads(2) },
            Phase { status: Demo::Running, end: PhaseEnd::After(60) },
            Phase { status: Demo::Failed, end: PhaseEnd::Never },
        ]);
        assert_eq!(life.read(0, 5).status, Demo::Waiting);
        assert_eq!(life.at(0, 5).status, Demo::Waiting, "evaluating without reading counts nothing");
        assert_eq!(life.read(0, 7).status, Demo::Waiting);
        let s = life.read(0, 7);
        assert_eq!((s.status, s.phase_started), (Demo::Running, 7));
        assert_eq!(life.at(0, 67).status, Demo::Failed);
        assert_eq!(life.at(0, 67).ended_at, Some(67));
        assert_eq!(life.at(0, 6).status, Demo::Waiting, "before the exhausting read, the first phase again");
    }

    #[test]
    fn last_phase_never_ends_even_if_given_a_duration() {
        let life = Lifecycle::new(vec![Phase { status: Demo::Running, end: PhaseEnd::After(5) }]);
        assert_eq!(life.at(0, 1_000_000).status, Demo::Running);
        assert_eq!(life.at(0, 1_000_000).remaining, None);
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]
        /// Built from a slice or a vector, a lifecycle is the same; where its last phase starts
        /// is what its intervals say (short ones are summed, long and read-bounded ones walked).
        #[test]
        fn the_last_phase_starts_where_the_intervals_say(ends in proptest::collection::vec(proptest::prop_oneof![(-5i64..100).prop_map(PhaseEnd::After), (1u32..4).prop_map(PhaseEnd::Reads), proptest::num::i64::ANY.prop_map(PhaseEnd::After)], 1..6), start in -1000i64..1000) {
            let phases: Vec<Phase<Demo>> = ends.iter().map(|&end| Phase { status: Demo::Running, end }).collect();
            let (owned, borrowed) = (Lifecycle::new(phases.clone()), Lifecycle::from_slice(&phases));
            proptest::prop_assert_eq!(owned.phases(), borrowed.phases());
            proptest::prop_assert_eq!(owned.read_bounded(), borrowed.read_bounded());
            let mut last = None;
            let indexed = owned.intervals(start, |_, from, to| if to == Millis::MAX { last = Some(from) });
            proptest::prop_assert_eq!(borrowed.last_phase_starts(start), if indexed { last } else { None });
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]
        /// The short lifecycles' own walk gives what the general one gives, at every instant:
        /// before the start, at phase edges, past the end, with zero, negative and the longest durations.
        #[test]
        fn a_short_lifecycle_reads_as_the_general_walk(
            statuses in proptest::collection::vec(0usize..4, 1..=3),
            durations in proptest::collection::vec(proptest::prop_oneof![-5i64..200, proptest::strategy::Just(0i64), proptest::strategy::Just(crate::instant::LATEST)], 2),
            start in -100i64..1000,
            offset in -300i64..1500,
        ) {
            let phases: Vec<Phase<Demo>> = statuses
                .iter()
                .enumerate()
                .map(|(i, &s)| Phase { status: Demo::all()[s], end: if i + 1 < statuses.len() { PhaseEnd::After(durations[i]) } else { PhaseEnd::Never } })
                .collect();
            let life = Lifecycle::new(phases);
            let short = matches!(life.phases, Phases::Short { .. });
            proptest::prop_assert!(short);
            let now = start + offset;
            proptest::prop_assert_eq!(life.at(start, now), life.long_at(start, now));
            proptest::prop_assert_eq!(life.read(start, now), life.long_at(start, now));
        }
    }
}
