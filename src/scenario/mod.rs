//! Scenarios: TOML files that say what the world holds at the clock's start and how each task
//! lives. This module reads them (from disk, the embedded demo, or a control-API body), reports
//! every problem of every file as `FILE:LINE:COLUMN: message` (errors refuse the load; warnings,
//! `FILE:LINE:COLUMN: warning: ...`, do not), and builds a [`World`] from a set of them.

mod avds;
mod budget;
mod build;
mod diagnostics;
mod ecs;
mod hss_image;
mod hss_task;
mod parse;
mod sas;
pub(crate) mod suggest;
pub(crate) mod credentials;
pub(crate) mod fault;
pub(crate) mod schema;
pub(crate) mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use budget::{Budget, Usage, DEFAULT_MAX_PHASES, DEFAULT_MAX_TASKS};
pub use build::{DEFAULT_PROJECT, DEFAULT_REGION, MAX_GENERATED};
pub use diagnostics::{Diagnostics, Warning};

use crate::instant::{in_range, Millis, SECOND};
use credentials::{valid_pattern, Credential, Secret};
use fault::FaultSpec;
use crate::world::store::IdIndex;
use crate::world::{Owner, Product, Record, Shared, World};

/// The scenario served when none is given: a small world with every kind of task in every status.
pub const DEMO: &str = include_str!("../../scenarios/demo.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ScenarioError {
    /// A problem of a whole file or folder (it cannot be read, it declares nothing): no line or
    /// column (both 0), shown as `FILE: message`.
    pub fn whole(file: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError { file: file.into(), line: 0, column: 0, message: message.into() }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// All the problems found in a set of scenarios (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

/// A file's text with its name, able to turn byte offsets into line and column.
pub struct Located<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Located<'_> {
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ScenarioError {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ScenarioError { file: self.name.to_string(), line, column, message: message.into() }
    }
}

/// An instant field (`created`, `[clock] start`) that resolves outside the years 1970–9999, at
/// the value as written.
fn out_of_range(source: &Located, field: &str, span: std::ops::Range<usize>) -> ScenarioError {
    let written = source.text.get(span.clone()).unwrap_or_default().trim();
    source.error_at(span.start, format!("{field} {written} lies outside the years 1970-9999 (from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)"))
}

/// A scenario as loaded: its text is kept so that a reset rebuilds the world exactly.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: Arc<str>,
    /// What relative instants count from when the file sets no clock of its own: the clock start
    /// for files given at start-up, the virtual "now" of the moment for files loaded at run time.
    pub anchor: Option<Millis>,
    /// Load the file's tasks into this tenant's world only.
    pub owner: Option<String>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        Source { name: name.into(), text: text.into(), anchor: None, owner: None }
    }

    pub fn demo() -> Source {
        Source::new("scenarios/demo.toml", DEMO)
    }

    /// Reads a file, or every `*.toml` in a folder (sorted by name). A folder without one is an
    /// error: an empty world is never what a path was given for.
    pub fn read_path(path: &Path) -> Result<Vec<Source>, ScenarioErrors> {
        let (sources, errors) = Self::read_paths(std::slice::from_ref(&path.to_path_buf()));
        if errors.is_empty() {
            Ok(sources)
        } else {
            Err(ScenarioErrors(errors))
        }
    }

    /// Reads every path (a file, or a folder's `*.toml`), keeping what can be read and an error
    /// for each file or folder that cannot, so that one unreadable file hides no other's problems.
    pub fn read_paths(paths: &[PathBuf]) -> (Vec<Source>, Vec<ScenarioError>) {
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            if !path.is_dir() {
                match Self::read_file(path) {
                    Ok(source) => sources.push(source),
                    Err(e) => errors.push(e),
                }
                continue;
            }
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(e) => {
                    errors.push(ScenarioError::whole(path.display().to_string(), format!("cannot read this folder: {e}")));
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file()).collect();
            if files.is_empty() {
                errors.push(ScenarioError::whole(path.display().to_string(), "no scenario files (*.toml) in this folder"));
            }
            files.sort();
            for file in files {
                match Self::read_file(&file) {
                    Ok(source) => sources.push(source),
                    Err(e) => errors.push(e),
                }
            }
        }
        (sources, errors)
    }

    /// A file's text; text that is not UTF-8 is an error at the first byte that is not.
    fn read_file(path: &Path) -> Result<Source, ScenarioError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ScenarioError::whole(name.clone(), format!("cannot read: {e}")))?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(name, text)),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let before = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
                Err(Located { name: &name, text: &before }.error_at(valid, "this byte is not UTF-8: a scenario is UTF-8 text"))
            }
        }
    }
}

/// Settings the scenarios give the emulator as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub name: String,
    pub seed: u64,
    pub clock_start: Millis,
    pub clock_rate: f64,
    pub request_ids: BTreeMap<String, String>,
    pub credentials: Vec<Credential>,
    pub faults: Vec<FaultSpec>,
    /// Pins for whole answers, by operation name.
    pub responses: BTreeMap<String, crate::world::Pins>,
}

/// What a set of scenarios makes: the world and the settings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub world: World,
    pub settings: Settings,
    /// The world's size as the budget counts it.
    pub usage: Usage,
    /// What is legal but likely a mistake, sorted by file, line and column.
    pub warnings: Vec<Warning>,
}

/// Parses and builds every source into one world, within the default [`Budget`]. `default_start`
/// is the clock start when no scenario sets one; `seed` overrides the scenarios' seeds.
pub fn load(sources: &[Source], default_start: Millis, seed: Option<u64>) -> Result<Loaded, ScenarioErrors> {
    load_within(sources, default_start, seed, &Budget::default())
}

/// Like [`load`], within this budget.
pub fn load_within(sources: &[Source], default_start: Millis, seed: Option<u64>, budget: &Budget) -> Result<Loaded, ScenarioErrors> {
    extend((&World::default(), Usage::default()), sources, default_start, seed, budget)
}

/// Like [`load`], on top of an existing world (and its usage, which counts against the budget):
/// its tasks are kept (read counters and all), and an id the new sources declare again is an
/// error at the new declaration.
pub fn extend(base: (&World, Usage), sources: &[Source], default_start: Millis, seed: Option<u64>, budget: &Budget) -> Result<Loaded, ScenarioErrors> {
    let (loaded, diagnostics) = diagnose(base, sources, default_start, seed, budget);
    match loaded {
        Some(mut loaded) if diagnostics.errors.is_empty() => {
            loaded.warnings = diagnostics.warnings;
            Ok(loaded)
        }
        _ => Err(ScenarioErrors(diagnostics.errors)),
    }
}

/// What `taskemu check` reports: every error and warning of the sources (as [`load_within`] would
/// find them), and the world they make when there is no error.
pub fn check_within(sources: &[Source], default_start: Millis, seed: Option<u64>, budget: &Budget) -> (Option<Loaded>, Diagnostics) {
    diagnose((&World::default(), Usage::default()), sources, default_start, seed, budget)
}

/// Every file is read, checked and (within the budget) built whatever the others hold, so that
/// one run reports every problem; the world is only returned when there is no error.
fn diagnose((base, base_usage): (&World, Usage), sources: &[Source], default_start: Millis, seed: Option<u64>, budget: &Budget) -> (Option<Loaded>, Diagnostics) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut parsed = Vec::new();
    for source in sources {
        let located = Located { name: &source.name, text: &source.text };
        match parse::parse(&located) {
            Ok(file) => {
                if file.errors.is_empty() && file.file.declares_nothing() {
                    errors.push(ScenarioError::whole(&source.name, "this file declares nothing: no tasks ([[ecs.tasks]], [[sas.generate]] ...), no settings ([clock], seed, [[credentials]] ...)"));
                }
                errors.extend(file.errors);
                parsed.push((source, file.file));
            }
            Err(e) => errors.push(e),
        }
    }
    diagnostics::agree(&parsed, default_start, &mut errors, &mut warnings);
    diagnostics::declared_twice(&parsed, &mut warnings);
    // Counted before anything is built: over the budget, nothing is (the other checks still run).
    let mut usage = base_usage;
    let mut within_budget = true;
    for (source, file) in &parsed {
        if let Err(e) = budget.admit(&mut usage, &Located { name: &source.name, text: &source.text }, file) {
            errors.push(e);
            within_budget = false;
            break;
        }
    }
    let mut clock_start = None;
    for (s, f) in &parsed {
        let Some(at) = f.clock.as_ref().and_then(|c| c.start.as_ref()) else { continue };
        let start = at.get_ref().low.resolve(s.anchor.unwrap_or(default_start));
        if !in_range(start) {
            errors.push(out_of_range(&Located { name: &s.name, text: &s.text }, "clock start", at.span()));
        }
        clock_start.get_or_insert(start);
    }
    // No file sets a start: the first file's load instant (run-time loads), else the default.
    let clock_start = clock_start.filter(|s| in_range(*s)).unwrap_or_else(|| sources.first().and_then(|s| s.anchor).unwrap_or(default_start));
    let clock_rate = parsed.iter().find_map(|(_, f)| f.clock.as_ref()?.rate.as_ref().map(|r| *r.get_ref())).unwrap_or(0.0);
    let mut settings = Settings {
        name: parsed.iter().find_map(|(_, f)| f.name.clone()).unwrap_or_else(|| sources.first().map_or("empty".into(), |s| s.name.clone())),
        seed: seed.or_else(|| parsed.iter().find_map(|(_, f)| f.seed.as_ref().map(|s| *s.get_ref()))).unwrap_or(0),
        clock_start,
        clock_rate,
        request_ids: BTreeMap::new(),
        credentials: Vec::new(),
        faults: Vec::new(),
        responses: BTreeMap::new(),
    };
    let mut world = World { regions: base.regions.clone(), projects: base.projects.clone(), ..World::default() };
    // A made-up region or project declared by any file of the load (or of the running world) may
    // be used by every file of it.
    for (_, file) in &parsed {
        world.regions.extend(file.regions.iter().cloned());
        world.projects.extend(file.projects.iter().cloned());
    }
    let mut places = Places::new();
    let mut anchors: Vec<Millis> = Vec::new();
    for (source, file) in &parsed {
        let located = Located { name: &source.name, text: &source.text };
        if let Some(rate) = file.clock.as_ref().and_then(|c| c.rate.as_ref()) {
            if !(0.0..=crate::clock::MAX_RATE).contains(rate.get_ref()) {
                // At the value itself: the first "rate" in the text may be in a comment or a word.
                errors.push(located.error_at(rate.span().start, format!("clock rate {} is out of range 0..=1000000", rate.get_ref())));
            }
        }
        for (operation, id) in &file.request_ids {
            if crate::ops::named(operation.get_ref()).is_some() {
                settings.request_ids.insert(operation.get_ref().clone(), id.clone());
            } else {
                let suggestion = suggest::did_you_mean(operation.get_ref(), crate::ops::ALL.iter().map(|op| op.spec().name));
                errors.push(located.error_at(operation.span().start, format!("unknown operation {:?} in [request_ids]: expected one of {}{suggestion}", operation.get_ref(), crate::ops::names())));
            }
        }
        for (operation, pins) in &file.responses {
            if crate::ops::named(operation.get_ref()).is_some() {
                settings.responses.insert(operation.get_ref().clone(), build::Builder::pins(&pins.set, &pins.unset));
            } else {
                let known = crate::ops::names();
                let suggestion = suggest::did_you_mean(operation.get_ref(), crate::ops::ALL.iter().map(|op| op.spec().name));
                errors.push(located.error_at(operation.span().start, format!("unknown operation {:?} in [responses]: expected one of {known}{suggestion}", operation.get_ref())));
            }
        }
        for spec in &file.credentials {
            match credential(spec, &world.projects) {
                Ok(c) => settings.credentials.push(c),
                Err(problems) => errors.extend(problems.into_iter().map(|(at, message)| located.error_at(at, message))),
            }
        }
        for table in &file.faults {
            let plain: toml::Table = table.get_ref().iter().map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone())).collect();
            let rule = serde_json::to_value(&plain)
                .map_err(|e| e.to_string())
                .and_then(|json| serde_json::from_value::<FaultSpec>(json).map_err(|e| parse::with_suggestion(&e.to_string())))
                .and_then(|rule| rule.validate().map(|_| rule));
            match rule {
                Ok(rule) => settings.faults.push(rule),
                Err(message) => errors.push(located.error_at(fault_field(table, &message), format!("fault rule: {message}"))),
            }
        }
        if !within_budget {
            continue;
        }
        let anchor = source.anchor.unwrap_or(clock_start);
        let declared = (&world.regions, &world.projects);
        let (mut built_errors, built) = build::build_file(&located, anchor, file.seed.as_ref().map(|s| *s.get_ref()).or(seed).unwrap_or(settings.seed), file, declared);
        errors.append(&mut built_errors);
        warnings.extend(built.warnings.iter().cloned().map(Warning));
        // A tenant-targeted load: Alibaba tasks go to that access key, Huawei tasks to that project.
        let owner = source.owner.as_deref().map(|key| Owner::new(Some(key)));
        let project: Option<Shared> = source.owner.as_deref().map(Shared::from);
        let mut last_region: Option<&Shared> = None;
        for task in &built.ecs.tasks {
            // Tasks share their region's text: only a new one is looked up.
            if last_region.is_none_or(|r| !r.ptr_eq(&task.region)) {
                if !world.regions.contains(&*task.region) {
                    world.regions.insert(task.region.to_string());
                }
                last_region = Some(&task.region);
            }
        }
        let file = places.file(&source.name, &source.text);
        anchors.push(anchor);
        places.ecs.add(|id| base.ecs.get(id).is_some(), &places.files, file, &mut errors, Product::Ecs.noun(), built.ecs, |t| {
            if let Some(owner) = &owner {
                t.owner = owner.clone();
            }
        });
        places.sas.add(|id| base.sas.get(id).is_some(), &places.files, file, &mut errors, Product::Sas.noun(), built.sas, |t| {
            if let Some(owner) = &owner {
                t.owner = owner.clone();
            }
        });
        places.avds.add(|id| base.avds.get(id).is_some(), &places.files, file, &mut errors, Product::Avds.noun(), built.avds, |t| {
            if let Some(owner) = &owner {
                t.owner = owner.clone();
            }
        });
        places.hss_image.add(|id| base.hss_image.get(id).is_some(), &places.files, file, &mut errors, Product::HssImage.noun(), built.hss_image, |t| {
            if let Some(project) = &project {
                t.project_id = project.clone();
            }
        });
        places.hss_task.add(|id| base.hss_task.get(id).is_some(), &places.files, file, &mut errors, Product::HssTask.noun(), built.hss_task, |t| {
            if let Some(project) = &project {
                t.project_id = project.clone();
            }
        });
    }
    for (file, at, others_end) in late_tasks(&places, &anchors) {
        let (name, text) = places.files[file as usize];
        let located = Located { name, text };
        let message = format!("this task is created after every other task has settled (the last at {}): nothing else happens by then; was a `+` meant as `-`?", crate::instant::format_rfc3339(others_end));
        warnings.push(Warning(located.error_at(at, message)));
    }
    let order: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let mut diagnostics = Diagnostics { errors, warnings };
    diagnostics.sort(&order);
    if !diagnostics.errors.is_empty() {
        return (None, diagnostics);
    }
    let Places { ecs, sas, avds, hss_image, hss_task, .. } = places;
    // The stores are indexed side by side: a world of a million tasks is mostly one or two.
    std::thread::scope(|scope| {
        let ecs = scope.spawn(|| base.ecs.extend_indexed(ecs.tasks, ecs.ids));
        let hss_image = scope.spawn(|| base.hss_image.extend_indexed(hss_image.tasks, hss_image.ids));
        world.sas = base.sas.extend_indexed(sas.tasks, sas.ids);
        world.avds = base.avds.extend_indexed(avds.tasks, avds.ids);
        world.hss_task = base.hss_task.extend_indexed(hss_task.tasks, hss_task.ids);
        world.ecs = ecs.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        world.hss_image = hss_image.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
    });
    (Some(Loaded { world, settings, usage, warnings: Vec::new() }), diagnostics)
}

/// The tasks of this load created after every other one settled (see [`diagnostics::late`]).
fn late_tasks(places: &Places, anchors: &[Millis]) -> Vec<(u32, usize, Millis)> {
    use diagnostics::{settles, Moment};
    let now = |file: u32| anchors.get(file as usize).copied().unwrap_or_default();
    diagnostics::late(|future, f| {
        let mut each = |created: Millis, settles: &dyn Fn() -> Option<Millis>, (file, at): (u32, usize)| {
            let now = now(file);
            if future.is_none_or(|after| created > after && created > now) {
                f(Moment { created, settles: settles(), now, declared: (file, at) });
            }
        };
        for (t, &declared) in places.ecs.tasks.iter().zip(&places.ecs.declared) {
            each(t.created, &|| settles(t.created, &t.lifecycle), declared);
        }
        for (t, &declared) in places.sas.tasks.iter().zip(&places.sas.declared) {
            each(t.created, &|| settles(t.created, &t.lifecycle), declared);
        }
        for (t, &declared) in places.avds.tasks.iter().zip(&places.avds.declared) {
            let periodic = matches!(t.trigger, crate::world::avds::Trigger::Every { .. });
            each(t.created, &|| settles(t.created, &t.lifecycle).filter(|_| !periodic), declared);
        }
        for (t, &declared) in places.hss_image.tasks.iter().zip(&places.hss_image.declared) {
            each(t.created, &|| settles(t.created, &t.lifecycle), declared);
        }
        for (t, &declared) in places.hss_task.tasks.iter().zip(&places.hss_task.declared) {
            each(t.created, &|| settles(t.created, &t.lifecycle), declared);
        }
    })
}

/// Where a fault rule's error belongs: at the unknown key it names, else at the value of the
/// field it names first (`operation`, `latency`, `error` ...), else at the rule.
fn fault_field(table: &schema::FaultTable, message: &str) -> usize {
    if let Some(word) = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
        if let Some((key, _)) = table.get_ref().iter().find(|(k, _)| k.get_ref() == word) {
            return key.span().start;
        }
    }
    if message.contains("exactly one of") {
        return table.span().start;
    }
    let named = |key: &str| message.match_indices(key).map(|(i, _)| i).find(|&i| {
        let before = message[..i].chars().next_back();
        let after = message[i + key.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    });
    table.get_ref().iter().filter_map(|(k, v)| named(k.get_ref()).map(|i| (i, v.span().start))).min().map_or(table.span().start, |(_, at)| at)
}

/// What a `[[credentials]]` entry may be, said with every shape error.
const CREDENTIAL_SHAPES: &str = "a credential is one of: access_key_id + access_key_secret (Alibaba), ak + sk (Huawei), or token (Huawei)";

/// Checks one `[[credentials]]` entry: exactly one kind of secret, whole; a Huawei project that is
/// one (32 hex characters) or declared in `projects` (`declared`: the load's); well-formed
/// permissions. Every problem comes with its offset: the field that breaks the shape (the entry
/// when it gives no secret), the project's value, the permission.
fn credential(entry: &toml::Spanned<schema::CredentialSpec>, declared: &std::collections::BTreeSet<String>) -> Result<Credential, Vec<(usize, String)>> {
    let spec = entry.get_ref();
    let mut problems = Vec::new();
    let secret = credential_secret(entry).map_err(|problem| problems.push(problem)).ok();
    if let Some(project) = &spec.project_id {
        if !crate::world::is_huawei_project_id(project.get_ref()) && !declared.contains(project.get_ref()) {
            problems.push((project.span().start, build::unknown_project(project.get_ref(), declared)));
        }
    }
    for pattern in spec.allow.iter().flatten().chain(&spec.deny) {
        let at = pattern.span().start;
        if !valid_pattern(pattern.get_ref()) {
            let example = crate::ops::ALL.first().map(|op| format!("{}:{}", op.spec().product, op.spec().name)).unwrap_or_default();
            problems.push((at, format!("bad permission {:?}: expected \"*\", \"product:*\" or \"product:Operation\" (e.g. {example:?})", pattern.get_ref())));
        } else if let Err(message) = permission_names_something(pattern.get_ref()) {
            problems.push((at, message));
        }
    }
    match secret {
        Some(secret) if problems.is_empty() => {
            let plain = |list: &[toml::Spanned<String>]| list.iter().map(|p| p.get_ref().clone()).collect::<Vec<String>>();
            let project_id = spec.project_id.as_ref().map(|p| p.get_ref().clone());
            Ok(Credential { secret, project_id, allow: spec.allow.as_deref().map(plain), deny: plain(&spec.deny) })
        }
        _ => Err(problems),
    }
}

/// The entry's secret, or where its shape breaks: the first field (in the file's order) of
/// another kind than the first one given, else the given half of an incomplete pair.
fn credential_secret(entry: &toml::Spanned<schema::CredentialSpec>) -> Result<Secret, (usize, String)> {
    let spec = entry.get_ref();
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Alibaba,
        HuaweiAkSk,
        HuaweiToken,
    }
    let mut given: Vec<(&str, Kind, &toml::Spanned<String>)> = [
        ("access_key_id", Kind::Alibaba, &spec.access_key_id),
        ("access_key_secret", Kind::Alibaba, &spec.access_key_secret),
        ("ak", Kind::HuaweiAkSk, &spec.ak),
        ("sk", Kind::HuaweiAkSk, &spec.sk),
        ("token", Kind::HuaweiToken, &spec.token),
    ]
    .into_iter()
    .filter_map(|(name, kind, value)| value.as_ref().map(|v| (name, kind, v)))
    .collect();
    given.sort_by_key(|(_, _, value)| value.span().start);
    let Some(&(first, kind, _)) = given.first() else {
        return Err((entry.span().start, format!("this credential gives no secret: {CREDENTIAL_SHAPES}")));
    };
    if let Some((name, _, value)) = given.iter().find(|(_, k, _)| *k != kind) {
        return Err((value.span().start, format!("`{name}` does not go with `{first}`: {CREDENTIAL_SHAPES}")));
    }
    let value = |field: &Option<toml::Spanned<String>>| field.as_ref().map(|v| v.get_ref().clone());
    let secret = match kind {
        Kind::Alibaba => value(&spec.access_key_id).zip(value(&spec.access_key_secret)).map(|(key_id, secret)| Secret::Alibaba { key_id, secret }),
        Kind::HuaweiAkSk => value(&spec.ak).zip(value(&spec.sk)).map(|(ak, sk)| Secret::HuaweiAkSk { ak, sk }),
        Kind::HuaweiToken => value(&spec.token).map(|token| Secret::HuaweiToken { token }),
    };
    // Only a pair can be incomplete, and all that is given is its one half: `first`.
    secret.ok_or_else(|| {
        let (_, _, at) = given[0];
        let partner = match first {
            "access_key_id" => "access_key_secret",
            "access_key_secret" => "access_key_id",
            "ak" => "sk",
            _ => "ak",
        };
        (at.span().start, format!("`{first}` needs `{partner}` beside it: {CREDENTIAL_SHAPES}"))
    })
}

/// A well-formed permission that names a product or an operation the emulator does not have
/// would never match: an error, with the nearest name.
fn permission_names_something(pattern: &str) -> Result<(), String> {
    let Some((product, operation)) = pattern.split_once(':') else { return Ok(()) };
    let mut products: Vec<&str> = crate::ops::ALL.iter().map(|op| op.spec().product).collect();
    products.dedup();
    let Some(product) = products.iter().copied().find(|p| p.eq_ignore_ascii_case(product)) else {
        return Err(format!("unknown product {product:?} in permission {pattern:?}: expected one of {}{}", products.join(", "), suggest::did_you_mean(product, products.iter().copied())));
    };
    let operations: Vec<&str> = crate::ops::ALL.iter().map(|op| op.spec()).filter(|op| op.product == product).map(|op| op.name).collect();
    if operation != "*" && !operations.contains(&operation) {
        return Err(format!("unknown operation {operation:?} in permission {pattern:?}: {product} has * or {}{}", operations.join(", "), suggest::did_you_mean(operation, operations.iter().copied())));
    }
    Ok(())
}

/// Collects tasks of all files, catching an id declared twice (naming both places) or already in
/// the base world.
struct Places<'a> {
    /// Each file's name and text, to turn a first declaration's offset into a line and column
    /// only on error.
    files: Vec<(&'a str, &'a str)>,
    ecs: Bucket<crate::world::ecs::EcsTask>,
    sas: Bucket<crate::world::sas::SasTask>,
    avds: Bucket<crate::world::avds::AvdsScan>,
    hss_image: Bucket<crate::world::hss_image::HssImageTask>,
    hss_task: Bucket<crate::world::hss_task::HssTask>,
}

impl<'a> Places<'a> {
    fn new() -> Places<'a> {
        Places { files: Vec::new(), ecs: Bucket::default(), sas: Bucket::default(), avds: Bucket::default(), hss_image: Bucket::default(), hss_task: Bucket::default() }
    }

    fn file(&mut self, name: &'a str, text: &'a str) -> u32 {
        self.files.push((name, text));
        (self.files.len() - 1) as u32
    }
}

/// One product's accepted tasks, where each was declared (file, offset), and their ids indexed
/// (by slot: no copy of an id).
struct Bucket<T> {
    tasks: Vec<T>,
    declared: Vec<(u32, usize)>,
    ids: IdIndex,
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket { tasks: Vec::new(), declared: Vec::new(), ids: IdIndex::default() }
    }
}

impl<T: Record> Bucket<T> {
    #[allow(clippy::too_many_arguments)]
    fn add(&mut self, in_base: impl Fn(&str) -> bool, files: &[(&str, &str)], file: u32, errors: &mut Vec<ScenarioError>, what: &'static str, mut built: build::Declared<T>, mut adjust: impl FnMut(&mut T)) {
        // The first file's tasks (a whole load, most often) become the bucket as they are: no
        // task is moved and the ids are indexed in place. On a clash (a load that errs) nothing
        // is kept, and the general path below says where each one is.
        // The builder may have indexed them already, on the product's thread.
        if self.tasks.is_empty() {
            let tasks = &built.tasks;
            let ids = built.ids.take().or_else(|| {
                let mut ids = IdIndex::with_capacity(tasks.len());
                (0..tasks.len() as u32).all(|s| ids.insert(s, |x| tasks[x as usize].id()).is_none()).then_some(ids)
            });
            if let Some(ids) = ids.filter(|_| !tasks.iter().any(|t| in_base(t.id()))) {
                self.tasks = built.tasks;
                self.tasks.iter_mut().for_each(&mut adjust);
                self.declared = built.at.into_iter().map(|at| (file, at)).collect();
                self.ids = ids;
                return;
            }
        }
        let (name, text) = files[file as usize];
        let source = Located { name, text };
        self.tasks.reserve(built.tasks.len());
        self.declared.reserve(built.tasks.len());
        self.ids.reserve(self.tasks.len() + built.tasks.len(), |s| self.tasks[s as usize].id());
        for (task, at) in built.tasks.into_iter().zip(built.at) {
            if in_base(task.id()) {
                errors.push(source.error_at(at, format!("{what} id {:?} is already in the running world", task.id())));
                continue;
            }
            let slot = self.tasks.len() as u32;
            self.tasks.push(task);
            let Bucket { tasks, declared, ids } = self;
            if let Some(first) = ids.insert(slot, |s| tasks[s as usize].id()) {
                let task = tasks.pop().unwrap_or_else(|| unreachable!("the task was just pushed"));
                let (first_file, first_at) = declared[first as usize];
                let message = if first_file == file && first_at == at {
                    format!("this generator drew {what} id {:?} twice: give it another seed", task.id())
                } else {
                    let (first_name, first_text) = files[first_file as usize];
                    let first = Located { name: first_name, text: first_text }.error_at(first_at, "");
                    format!("{what} id {:?} is already declared at {}:{}:{}", task.id(), first.file, first.line, first.column)
                };
                errors.push(source.error_at(at, message));
                continue;
            }
            declared.push((file, at));
            if let Some(task) = tasks.last_mut() {
                adjust(task);
            }
        }
    }
}

/// The instant a world starts at when no scenario sets one: now, to the second.
pub fn wall_clock_start() -> Millis {
    let now = chrono::Utc::now().timestamp_millis();
    now - now % SECOND
}
