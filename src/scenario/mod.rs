//! Scenarios: TOML files that say what the world holds at the clock's start and how each task
//! lives. This module reads them (from disk, the embedded demo, or a control-API body), reports
//! every problem as `FILE:LINE:COLUMN: message`, and builds a [`World`] from a set of them.

mod build;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use build::{DEFAULT_PROJECT, DEFAULT_REGION, MAX_GENERATED};
use schema::ScenarioFile;

use crate::instant::{Millis, SECOND};
use crate::world::{Record, Store, World};

/// The scenario served when none is given: a small world with every kind of task in every status.
pub const DEMO: &str = include_str!("../../scenarios/demo.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
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

    /// Reads a file, or every `*.toml` in a folder (sorted by name).
    pub fn read_path(path: &Path) -> Result<Vec<Source>, ScenarioErrors> {
        let io_error = |p: &Path, e: std::io::Error| ScenarioErrors(vec![ScenarioError { file: p.display().to_string(), line: 1, column: 1, message: format!("cannot read: {e}") }]);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| io_error(path, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            files.sort();
            files.iter().map(|p| Self::read_file(p)).collect()
        } else {
            Self::read_file(path).map(|s| vec![s])
        }
    }

    fn read_file(path: &Path) -> Result<Source, ScenarioErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioErrors(vec![ScenarioError { file: path.display().to_string(), line: 1, column: 1, message: format!("cannot read: {e}") }]))?;
        Ok(Source::new(path.display().to_string(), text))
    }

    fn parse(&self) -> Result<ScenarioFile, ScenarioError> {
        let located = Located { name: &self.name, text: &self.text };
        toml::from_str::<ScenarioFile>(&self.text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            located.error_at(offset, e.message().trim_end().to_string())
        })
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
}

/// What a set of scenarios makes: the world and the settings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub world: World,
    pub settings: Settings,
}

/// Parses and builds every source into one world. `default_start` is the clock start when no
/// scenario sets one; `seed` overrides the scenarios' seeds.
pub fn load(sources: &[Source], default_start: Millis, seed: Option<u64>) -> Result<Loaded, ScenarioErrors> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for source in sources {
        match source.parse() {
            Ok(file) => parsed.push((source, file)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }
    let clock_start = parsed
        .iter()
        .find_map(|(s, f)| f.clock.as_ref()?.start.as_ref().map(|at| at.get_ref().low.resolve(s.anchor.unwrap_or(default_start))))
        .unwrap_or(default_start);
    let clock_rate = parsed.iter().find_map(|(_, f)| f.clock.as_ref()?.rate).unwrap_or(0.0);
    let mut settings = Settings {
        name: parsed.iter().find_map(|(_, f)| f.name.clone()).unwrap_or_else(|| sources.first().map_or("empty".into(), |s| s.name.clone())),
        seed: seed.or_else(|| parsed.iter().find_map(|(_, f)| f.seed)).unwrap_or(0),
        clock_start,
        clock_rate,
        request_ids: BTreeMap::new(),
    };
    let mut world = World::default();
    let mut places = Places::default();
    for (source, file) in &parsed {
        let located = Located { name: &source.name, text: &source.text };
        if let Some(rate) = file.clock.as_ref().and_then(|c| c.rate) {
            if !(0.0..=crate::clock::MAX_RATE).contains(&rate) {
                errors.push(located.error_at(source.text.find("rate").unwrap_or(0), format!("clock rate {rate} is out of range 0..=1000000")));
            }
        }
        settings.request_ids.extend(file.request_ids.clone());
        world.regions.extend(file.regions.iter().cloned());
        let mut builder = build::Builder { source: &located, start: source.anchor.unwrap_or(clock_start), seed: file.seed.or(seed).unwrap_or(settings.seed), errors: Vec::new(), built: build::Built::default() };
        builder.ecs(&file.ecs.tasks, false);
        builder.ecs(&file.ecs.generate, true);
        builder.sas(&file.sas.tasks, false);
        builder.sas(&file.sas.generate, true);
        builder.avds(&file.avds.scans, false);
        builder.avds(&file.avds.generate, true);
        builder.hss_images(&file.hss.image_tasks, false);
        builder.hss_images(&file.hss.image_generate, true);
        builder.hss_tasks(&file.hss.tasks, false);
        builder.hss_tasks(&file.hss.generate, true);
        errors.append(&mut builder.errors);
        let built = builder.built;
        let owner = source.owner.clone();
        places.add(&located, &mut errors, "ECS task", built.ecs, |mut t| {
            world.regions.insert(t.region.clone());
            if owner.is_some() {
                t.owner.0 = owner.clone();
            }
            t
        });
        places.add(&located, &mut errors, "SAS task", built.sas, |mut t| {
            if owner.is_some() {
                t.owner.0 = owner.clone();
            }
            t
        });
        places.add(&located, &mut errors, "AVDS scan", built.avds, |mut t| {
            if owner.is_some() {
                t.owner.0 = owner.clone();
            }
            t
        });
        places.add(&located, &mut errors, "HSS image task", built.hss_images, |t| t);
        places.add(&located, &mut errors, "HSS task", built.hss_tasks, |t| t);
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }
    world.ecs = Store::from_tasks(places.ecs.drain(..));
    world.sas = Store::from_tasks(places.sas.drain(..));
    world.avds = Store::from_tasks(places.avds.drain(..));
    world.hss_images = Store::from_tasks(places.hss_images.drain(..));
    world.hss_tasks = Store::from_tasks(places.hss_tasks.drain(..));
    Ok(Loaded { world, settings })
}

/// Collects tasks of all files, catching an id declared twice (with both places).
#[derive(Default)]
struct Places {
    seen: HashMap<(&'static str, String), String>,
    ecs: Vec<Arc<crate::world::ecs::EcsTask>>,
    sas: Vec<Arc<crate::world::sas::SasTask>>,
    avds: Vec<Arc<crate::world::avds::AvdsScan>>,
    hss_images: Vec<Arc<crate::world::hss_image::HssImageTask>>,
    hss_tasks: Vec<Arc<crate::world::hss_task::HssTask>>,
}

trait Bucket<T> {
    fn bucket(&mut self) -> &mut Vec<Arc<T>>;
}

macro_rules! bucket {
    ($($field:ident: $ty:ty),*) => {$(
        impl Bucket<$ty> for Places {
            fn bucket(&mut self) -> &mut Vec<Arc<$ty>> {
                &mut self.$field
            }
        }
    )*};
}

bucket!(ecs: crate::world::ecs::EcsTask, sas: crate::world::sas::SasTask, avds: crate::world::avds::AvdsScan,
        hss_images: crate::world::hss_image::HssImageTask, hss_tasks: crate::world::hss_task::HssTask);

impl Places {
    fn add<T: Record>(&mut self, source: &Located, errors: &mut Vec<ScenarioError>, what: &'static str, tasks: Vec<(T, usize)>, adjust: impl FnMut(T) -> T)
    where
        Places: Bucket<T>,
    {
        let mut adjust = adjust;
        for (task, at) in tasks {
            let here = source.error_at(at, "");
            let place = format!("{}:{}:{}", here.file, here.line, here.column);
            if let Some(first) = self.seen.insert((what, task.id().to_string()), place.clone()) {
                if first != place {
                    errors.push(source.error_at(at, format!("{what} id {:?} is already declared at {first}", task.id())));
                } else {
                    errors.push(source.error_at(at, format!("this generator drew {what} id {:?} twice: give it another seed", task.id())));
                }
                continue;
            }
            let task = adjust(task);
            self.bucket().push(Arc::new(task));
        }
    }
}

/// The instant a world starts at when no scenario sets one: now, to the second.
pub fn wall_clock_start() -> Millis {
    let now = chrono::Utc::now().timestamp_millis();
    now - now % SECOND
}
