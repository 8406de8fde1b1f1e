//! The running emulator's state: the clock, the world built from the loaded scenarios, and the
//! settings the edges need. The world sits behind an `Arc` that writers replace whole, so a request
//! holds its snapshot without a lock while it renders.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::instant::Millis;
use crate::scenario::{self, ScenarioErrors, Settings, Source};
use crate::world::World;

/// Which shapes ECS DescribeTasks and AVDS DescribeScanSessions answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// What the official SDKs parse (the docs' response tables and XML examples).
    #[default]
    Sdk,
    /// The documented JSON examples, verbatim.
    Docs,
}

impl Dialect {
    pub fn parse(text: &str) -> Option<Dialect> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sdk" => Some(Dialect::Sdk),
            "docs" => Some(Dialect::Docs),
            _ => None,
        }
    }
}

/// How the emulator was started; fixed for its life.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub dialect: Dialect,
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenarios' clock rate.
    pub clock_rate: Option<f64>,
}

/// One consistent view of what is loaded.
#[derive(Debug)]
pub struct Snapshot {
    pub world: World,
    pub settings: Settings,
    pub sources: Vec<Source>,
}

#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub clock: Clock,
    snapshot: RwLock<Arc<Snapshot>>,
    /// The clock start of the first load when no scenario sets one, kept so resets repeat it.
    default_start: Millis,
}

impl State {
    pub fn new(config: Config, sources: Vec<Source>) -> Result<State, ScenarioErrors> {
        let default_start = scenario::wall_clock_start();
        let loaded = scenario::load(&sources, default_start, config.seed)?;
        let rate = config.clock_rate.unwrap_or(loaded.settings.clock_rate);
        let clock = Clock::new(loaded.settings.clock_start, rate).map_err(|e| {
            ScenarioErrors(vec![scenario::ScenarioError { file: "--clock-rate".into(), line: 1, column: 1, message: e.to_string() }])
        })?;
        let snapshot = Snapshot { world: loaded.world, settings: loaded.settings, sources };
        Ok(State { config, clock, snapshot: RwLock::new(Arc::new(snapshot)), default_start })
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Back to the loaded scenarios' start: the world rebuilt from their text (read counters and
    /// run-time additions gone) and the clock at its start.
    pub fn reset(&self) -> Result<(), ScenarioErrors> {
        let mut slot = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        let sources = slot.sources.clone();
        let loaded = scenario::load(&sources, self.default_start, self.config.seed)?;
        self.clock.restart(loaded.settings.clock_start, self.config.clock_rate.unwrap_or(loaded.settings.clock_rate));
        *slot = Arc::new(Snapshot { world: loaded.world, settings: loaded.settings, sources });
        Ok(())
    }

    /// The RequestId a scenario pins for this operation, if any.
    pub fn pinned_request_id(&self, snapshot: &Snapshot, operation: &str) -> Option<String> {
        snapshot.settings.request_ids.get(operation).cloned()
    }
}
