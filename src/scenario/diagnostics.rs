//! What a load found besides the world: errors (which refuse it) and warnings (legal, likely a
//! mistake; errors under `check --strict`), each at its place, sorted by file (in the order the
//! files were given), line and column. Also the checks that look across the files of one load:
//! files that disagree on the clock or the seed, a RequestId or a credential declared twice, a
//! task that appears only after every other task has ended.

use std::collections::BTreeMap;
use std::fmt;

use toml::Spanned;

use super::schema::{ScenarioFile, When};
use super::{Located, ScenarioError, Source};
use crate::instant::Millis;
use crate::world::lifecycle::{Lifecycle, Status};

/// Something legal that is likely a mistake, at its place: shown as `FILE:LINE:COLUMN: warning: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub ScenarioError);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ScenarioError { file, line, column, message } = &self.0;
        if *line == 0 {
            write!(f, "{file}: warning: {message}")
        } else {
            write!(f, "{file}:{line}:{column}: warning: {message}")
        }
    }
}

/// Every problem of a load: errors and warnings, each list sorted by file, line and column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub errors: Vec<ScenarioError>,
    pub warnings: Vec<Warning>,
}

impl Diagnostics {
    /// Sorts both lists by file (files in `order` first, in that order, then the others by first
    /// appearance), then line and column; an error found twice is shown once.
    pub fn sort(&mut self, order: &[&str]) {
        let mut ranks: BTreeMap<String, usize> = BTreeMap::new();
        for file in order.iter().copied().chain(self.errors.iter().chain(self.warnings.iter().map(|w| &w.0)).map(|e| e.file.as_str())) {
            let next = ranks.len();
            ranks.entry(file.to_string()).or_insert(next);
        }
        let rank = |e: &ScenarioError| (ranks.get(&e.file).copied().unwrap_or(usize::MAX), e.line, e.column);
        self.errors.sort_by_key(|e| rank(e));
        self.errors.dedup();
        self.warnings.sort_by_key(|w| rank(&w.0));
        self.warnings.dedup();
    }
}

/// Errors, then warnings, one per line.
impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.errors.iter().map(ToString::to_string).chain(self.warnings.iter().map(ToString::to_string));
        for (i, line) in lines.enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{line}")?;
        }
        Ok(())
    }
}

/// `FILE:LINE:COLUMN` of an offset in a file, for a message that names a second place.
pub(super) fn place(source: &Located, offset: usize) -> String {
    let at = source.error_at(offset, "");
    format!("{}:{}:{}", at.file, at.line, at.column)
}

/// The files given together (not loaded at run time: those follow the running clock) must agree
/// on `[clock] start` and `[clock] rate`: one world has one clock. Each disagreement is an error at
/// the later file's value, naming the first. Seeds may differ (each file draws its own tasks from
/// its own seed), but only the first is the fault rules' seed: a warning says so.
pub(super) fn agree(parsed: &[(&Source, ScenarioFile)], default_start: Millis, errors: &mut Vec<ScenarioError>, warnings: &mut Vec<Warning>) {
    type Pick<'f, T> = fn(&'f ScenarioFile) -> Option<&'f Spanned<T>>;
    /// Each value that differs from the first one set: (where, the value, the first, where that is).
    fn differ<'f, T, K: PartialEq + fmt::Display>(parsed: &'f [(&Source, ScenarioFile)], pick: Pick<'f, T>, key: impl Fn(&Source, &T) -> K, mut found: impl FnMut(ScenarioError, String, String)) {
        let mut first: Option<(&Source, &Spanned<T>, K)> = None;
        for (source, file) in parsed.iter().filter(|(s, _)| s.anchor.is_none()) {
            let Some(value) = pick(file) else { continue };
            let k = key(source, value.get_ref());
            match &first {
                None => first = Some((source, value, k)),
                Some((first_source, first_value, first_key)) if *first_key != k => {
                    let at = Located { name: &source.name, text: &source.text }.error_at(value.span().start, "");
                    let there = place(&Located { name: &first_source.name, text: &first_source.text }, first_value.span().start);
                    found(at, k.to_string(), format!("{first_key} set at {there}"));
                }
                Some(_) => {}
            }
        }
    }
    fn clock<'e>(what: &'static str, errors: &'e mut Vec<ScenarioError>) -> impl FnMut(ScenarioError, String, String) + 'e {
        move |at, k, first| errors.push(ScenarioError { message: format!("{what} {k} differs from {first}: the files of one load share one clock; set its {what} in one file only, or the same in each"), ..at })
    }
    let start = |s: &Source, w: &When| crate::instant::format_rfc3339(w.low.resolve(s.anchor.unwrap_or(default_start)));
    differ(parsed, |f| f.clock.as_ref()?.start.as_ref(), start, clock("clock start", errors));
    differ(parsed, |f| f.clock.as_ref()?.rate.as_ref(), |_, r: &f64| *r, clock("clock rate", errors));
    differ(parsed, |f| f.seed.as_ref(), |_, s: &u64| *s, |at, k, first| {
        let message = format!("seed {k} differs from {first}: this file draws its own tasks from seed {k}, but the fault rules draw from the first seed (unless --seed is given)");
        warnings.push(Warning(ScenarioError { message, ..at }));
    });
}

/// A RequestId pinned for one operation by two files with different values (the later one wins),
/// and a credential key declared twice (the first one is the one that is used): warnings at the
/// second declaration.
pub(super) fn declared_twice(parsed: &[(&Source, ScenarioFile)], warnings: &mut Vec<Warning>) {
    let mut pins: BTreeMap<&str, (&Source, usize, &str)> = BTreeMap::new();
    let mut keys: BTreeMap<&str, (&Source, usize)> = BTreeMap::new();
    for (source, file) in parsed {
        let located = Located { name: &source.name, text: &source.text };
        for (operation, id) in &file.request_ids {
            let at = operation.span().start;
            match pins.get(operation.get_ref().as_str()) {
                Some((first, first_at, first_id)) if first_id != id => {
                    let there = place(&Located { name: &first.name, text: &first.text }, *first_at);
                    warnings.push(Warning(located.error_at(at, format!("{} RequestId {id:?} replaces {first_id:?} pinned at {there}", operation.get_ref()))));
                }
                Some(_) => {}
                None => {
                    pins.insert(operation.get_ref(), (source, at, id));
                }
            }
        }
        for spec in &file.credentials {
            let c = spec.get_ref();
            let Some(key) = [&c.access_key_id, &c.ak, &c.token].into_iter().find_map(|k| k.as_ref().map(|k| k.get_ref().as_str())) else { continue };
            let at = spec.span().start;
            match keys.get(key) {
                Some((first, first_at)) => {
                    let there = place(&Located { name: &first.name, text: &first.text }, *first_at);
                    warnings.push(Warning(located.error_at(at, format!("credential {key:?} is already declared at {there}: only that first declaration is used (its secret, project and permissions)"))));
                }
                None => {
                    keys.insert(key, (source, at));
                }
            }
        }
    }
}

/// When a task settles into its last status: the end of its last timed phase. None when that
/// depends on reads, or never comes (a periodic scan).
pub(super) fn settles<S: Status>(created: Millis, lifecycle: &Lifecycle<S>) -> Option<Millis> {
    lifecycle.last_phase_starts(created)
}

/// One task as the "created after everything else settled" warning sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moment {
    pub created: Millis,
    /// None: never (read-bounded, periodic).
    pub settles: Option<Millis>,
    /// The instant its file counts from (the clock start, or the load's "now").
    pub now: Millis,
    /// Where it was declared: file, offset.
    pub declared: (u32, usize),
}

/// The declarations of tasks created in the future (after their file's start) and after every
/// other task of the load has settled: nothing else happens by then, which is seldom meant (a
/// `+` for a `-`, hours for minutes). `each` walks the load's tasks (twice: nothing is copied, a
/// load may hold millions); each declaration once, with the instant the others settle by.
/// `each(None, f)` must give every task; `each(Some(after), f)` may leave out a task created at or
/// before `after` or its file's now (it cannot be late), without working out when it settles: the
/// second walk, where hardly any task is created in the future.
pub(super) fn late(each: impl Fn(Option<Millis>, &mut dyn FnMut(Moment))) -> Vec<(u32, usize, Millis)> {
    let (mut count, mut never) = (0usize, 0usize);
    let (mut best, mut second) = (Millis::MIN, Millis::MIN);
    each(None, &mut |m| {
        count += 1;
        never += usize::from(m.settles.is_none());
        let s = m.settles.unwrap_or(Millis::MAX);
        if s > best {
            second = best;
            best = s;
        } else if s > second {
            second = s;
        }
    });
    let mut late: BTreeMap<(u32, usize), Millis> = BTreeMap::new();
    if count < 2 {
        return Vec::new();
    }
    // A task settling last sees the second latest end as the others', any other the latest: no
    // task created by the second latest can be late.
    each(Some(second), &mut |m| {
        let others_never = never - usize::from(m.settles.is_none()) > 0;
        let others_end = if m.settles.unwrap_or(Millis::MAX) == best { second } else { best };
        if !others_never && m.created > m.now && m.created > others_end {
            late.entry(m.declared).or_insert(others_end);
        }
    });
    late.into_iter().map(|((file, at), end)| (file, at, end)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: usize, column: usize) -> ScenarioError {
        ScenarioError { file: file.into(), line, column, message: "m".into() }
    }

    #[test]
    fn sorted_by_file_order_then_line_and_column() {
        let mut d = Diagnostics { errors: vec![error("b", 1, 1), error("a", 3, 2), error("x", 1, 1), error("a", 3, 1), error("b", 1, 1)], warnings: vec![] };
        d.sort(&["b", "a"]);
        let order: Vec<(&str, usize, usize)> = d.errors.iter().map(|e| (e.file.as_str(), e.line, e.column)).collect();
        assert_eq!(order, [("b", 1, 1), ("a", 3, 1), ("a", 3, 2), ("x", 1, 1)]);
    }

    #[test]
    fn a_warning_shows_as_one() {
        assert_eq!(Warning(error("a.toml", 2, 3)).to_string(), "a.toml:2:3: warning: m");
        assert_eq!(Warning(error("a.toml", 0, 0)).to_string(), "a.toml: warning: m");
    }

    /// The late tasks, found by a walk that gives every task each time and by one that leaves
    /// out what it may: the same.
    fn late_of(tasks: &[(Millis, Option<Millis>)]) -> Vec<(u32, usize, Millis)> {
        let walk = |skip: bool| {
            late(|future, f| {
                for (i, &(created, settles)) in tasks.iter().enumerate() {
                    if !skip || future.is_none_or(|after| created > after && created > 0) {
                        f(Moment { created, settles, now: 0, declared: (0, i + 1) });
                    }
                }
            })
        };
        let all = walk(false);
        assert_eq!(walk(true), all, "{tasks:?}");
        all
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Leaving out, on the second walk, the tasks created by the second latest end or by
        /// their file's now changes no warning.
        #[test]
        fn the_second_walk_may_leave_out_what_cannot_be_late(tasks in proptest::collection::vec((-50i64..50, proptest::option::weighted(0.9, -50i64..80)), 0..12)) {
            late_of(&tasks);
        }
    }

    #[test]
    fn a_task_after_every_other_end_is_late() {
        assert_eq!(late_of(&[(0, Some(100)), (50, Some(120)), (500, Some(600))]), vec![(0, 3, 120)]);
        // Not when another task never settles, nor when it is in the past, nor alone.
        assert_eq!(late_of(&[(0, Some(100)), (50, Some(120)), (500, Some(600)), (0, None)]), vec![]);
        assert_eq!(late_of(&[(-500, Some(-400)), (-100, Some(10))]), vec![]);
        assert_eq!(late_of(&[(500, Some(600))]), vec![]);
    }

    fn run(files: &[(&str, &str)], budget: &super::super::Budget) -> Diagnostics {
        let sources: Vec<Source> = files.iter().map(|(name, text)| Source::new(*name, *text)).collect();
        super::super::check_within(&sources, 0, None, budget).1
    }

    fn shown(d: &Diagnostics) -> Vec<String> {
        d.errors.iter().map(ToString::to_string).chain(d.warnings.iter().map(ToString::to_string)).collect()
    }

    #[test]
    fn files_of_one_load_agree_on_clock_rate_and_seed() {
        let d = run(&[("a.toml", "seed = 1\n[clock]\nrate = 2.0\n"), ("b.toml", "seed = 1\n[clock]\nrate = 3.0\n"), ("c.toml", "seed = 2\n")], &Default::default());
        assert_eq!(
            shown(&d),
            [
                "b.toml:3:8: clock rate 3 differs from 2 set at a.toml:3:8: the files of one load share one clock; set its clock rate in one file only, or the same in each",
                "c.toml:1:8: warning: seed 2 differs from 1 set at a.toml:1:8: this file draws its own tasks from seed 2, but the fault rules draw from the first seed (unless --seed is given)",
            ]
        );
        // The same start written two ways is the same start.
        let d = run(&[("a.toml", "[clock]\nstart = \"2026-01-01T00:00:00Z\"\n"), ("b.toml", "[clock]\nstart = 2026-01-01T00:00:00Z\n")], &Default::default());
        assert_eq!(shown(&d), Vec::<String>::new());
    }

    #[test]
    fn a_file_loaded_at_run_time_keeps_the_running_clock() {
        let mut late = Source::new("late.toml", "[clock]\nstart = \"2030-01-01T00:00:00Z\"\n");
        late.anchor = Some(5);
        let sources = [Source::new("a.toml", "[clock]\nstart = \"2026-01-01T00:00:00Z\"\n"), late];
        assert!(super::super::check_within(&sources, 0, None, &Default::default()).1.errors.is_empty());
    }

    #[test]
    fn a_budget_error_hides_no_other_error() {
        let budget = super::super::Budget { max_tasks: 1, max_phases: 100 };
        let d = run(&[("a.toml", "[[ecs.generate]]\ncount = 5\n"), ("b.toml", "[[ecs.tasks]]\nidd = \"t\"\n")], &budget);
        let shown = shown(&d);
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(shown[0].starts_with("a.toml:2:9: 5 more task(s) bring the load to 5 tasks, over the budget"), "{shown:#?}");
        assert!(shown[1].starts_with("b.toml:2:1: unknown field `idd`") && shown[1].ends_with("(did you mean \"id\"?)"), "{shown:#?}");
    }

    #[test]
    fn a_file_that_declares_nothing_is_an_error_about_the_whole_file() {
        let d = run(&[("empty.toml", "# nothing\n")], &Default::default());
        assert_eq!(d.errors.len(), 1);
        assert_eq!((d.errors[0].line, d.errors[0].column), (0, 0));
        assert!(d.errors[0].to_string().starts_with("empty.toml: this file declares nothing"));
        // A file whose only entry is wrong says what is wrong, not that it declares nothing.
        let d = run(&[("bad.toml", "[[ecs.tasks]]\nid = 1\n")], &Default::default());
        assert_eq!(shown(&d), ["bad.toml:2:6: invalid type: integer `1`, expected a string"]);
    }

    #[test]
    fn the_demo_has_nothing_to_say() {
        let d = super::super::check_within(&[Source::demo()], 0, None, &Default::default()).1;
        assert_eq!(shown(&d), Vec::<String>::new());
    }

    #[test]
    fn a_fault_rule_error_points_at_its_field_with_a_suggestion() {
        let text = "[[faults]]\nlatencyy = \"1s\"\n[[faults]]\noperation = \"DescribeTask\"\nlatency = \"1s\"\n[[faults]]\nerror = { code = \"X\", status = 700 }\n[[faults]]\nlatency = \"1s\"\nthrottle = 3\n";
        let shown = shown(&run(&[("f.toml", text)], &Default::default()));
        assert_eq!(shown.len(), 4, "{shown:#?}");
        assert!(shown[0].starts_with("f.toml:2:1: fault rule: unknown field `latencyy`") && shown[0].ends_with("(did you mean \"latency\"?)"), "{shown:#?}");
        assert!(shown[1].starts_with("f.toml:4:13: fault rule: unknown operation \"DescribeTask\"") && shown[1].ends_with("(did you mean \"DescribeTasks\"?)"), "{shown:#?}");
        assert_eq!(shown[2], "f.toml:7:9: fault rule: error.status must be from 400 to 599");
        assert_eq!(shown[3], "f.toml:8:1: fault rule: a fault rule needs exactly one of error, latency, throttle");
    }

    #[test]
    fn a_permission_names_a_real_product_and_operation() {
        let text = "[[credentials]]\ntoken = \"a\"\nallow = [\"ecss:*\"]\n[[credentials]]\ntoken = \"b\"\ndeny = [\"hss:ListTask\"]\n[[credentials]]\ntoken = \"c\"\nallow = [\"ECS:DescribeTasks\", \"sas:*\", \"*\"]\n";
        assert_eq!(
            shown(&run(&[("c.toml", text)], &Default::default())),
            [
                "c.toml:3:10: unknown product \"ecss\" in permission \"ecss:*\": expected one of ecs, sas, avds, hss (did you mean \"ecs\"?)",
                "c.toml:6:9: unknown operation \"ListTask\" in permission \"hss:ListTask\": hss has * or ListImageScanTask, ListTasks (did you mean \"ListTasks\"?)",
            ]
        );
    }

    #[test]
    fn a_request_id_pinned_for_an_unknown_operation_is_an_error_at_its_name() {
        let shown = shown(&run(&[("r.toml", "[request_ids]\nDescribeTask = \"x\"\n")], &Default::default()));
        assert_eq!(shown.len(), 1);
        assert!(shown[0].starts_with("r.toml:2:1: unknown operation \"DescribeTask\" in [request_ids]: expected one of ") && shown[0].ends_with("(did you mean \"DescribeTasks\"?)"), "{shown:?}");
    }
}
