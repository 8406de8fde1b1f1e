//! The running emulator's state: the clock, the world built from the loaded scenarios, and the
//! settings the edges need. The world sits behind an `Arc` that writers replace whole, so a request
//! holds its snapshot without a lock while it renders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::auth::gate::Gate;
use crate::clock::Clock;
use crate::cloud::aliyun::Dialect;
use crate::faults::Faults;
use crate::journal::{self, Journal};
use crate::instant::Millis;
use crate::scenario::{self, Budget, Loaded, ScenarioError, ScenarioErrors, Settings, Source, Usage, Warning};
use crate::world::World;

/// How the emulator was started; fixed for its life.
#[derive(Debug, Clone)]
pub struct Config {
    pub dialect: Dialect,
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenarios' clock rate.
    pub clock_rate: Option<f64>,
    /// `Some(true)` checks every request's credentials, `Some(false)` none; `None` checks them
    /// when a scenario declares credentials.
    pub auth: Option<bool>,
    /// Entries the journal keeps (`--journal-size`).
    pub journal_size: usize,
    /// Bytes of what a request sent (caller, path, query, body) one journal entry keeps; the rest
    /// is cut off (`--journal-entry-bytes`).
    pub journal_entry_bytes: usize,
    /// Bytes the whole journal keeps, oldest entries dropped first (`--journal-bytes`).
    pub journal_bytes: usize,
    /// Fault rules held at once, scenarios' and the control API's (`--max-fault-rules`).
    pub max_fault_rules: usize,
    /// When set, every control call but the dashboard's assets must send it as
    /// `Authorization: Bearer` (see `control::access`); `serve` makes one when it is required.
    pub control_token: Option<String>,
    /// Host names the control API answers for besides the loopback ones (`--allow-host`).
    pub allow_hosts: Vec<String>,
    /// The address served on, whose own name the control API answers for too.
    pub listen_ip: Option<std::net::IpAddr>,
    /// Tasks and phases a load may make, the running world included (`--max-tasks`, `--max-phases`).
    pub budget: Budget,
    /// `--state FILE`: loaded at start instead of the scenarios when it exists, and rewritten (a
    /// snapshot, see [`State::scenario`]) after every accepted control-API change.
    pub state_file: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dialect: Dialect::Sdk,
            seed: None,
            clock_rate: None,
            auth: None,
            journal_size: journal::DEFAULT_CAPACITY,
            journal_entry_bytes: journal::DEFAULT_ENTRY_BYTES,
            journal_bytes: journal::DEFAULT_TOTAL_BYTES,
            max_fault_rules: crate::faults::DEFAULT_MAX_RULES,
            control_token: None,
            allow_hosts: Vec::new(),
            listen_ip: None,
            budget: Budget::default(),
            state_file: None,
        }
    }
}

/// One consistent view of what is loaded.
#[derive(Debug)]
pub struct Snapshot {
    pub world: World,
    pub settings: Settings,
    /// The scenarios a reset rebuilds from (start-up ones and those loaded at run time).
    pub sources: Vec<Source>,
    pub gate: Gate,
    /// What the world counts against the budget of the next run-time load.
    pub usage: Usage,
}

impl Snapshot {
    fn new(world: World, settings: Settings, sources: Vec<Source>, usage: Usage) -> Snapshot {
        let gate = Gate::new(settings.credentials.clone());
        Snapshot { world, settings, sources, gate, usage }
    }

    fn from_loaded(loaded: Loaded, sources: Vec<Source>) -> Snapshot {
        Snapshot::new(loaded.world, loaded.settings, sources, loaded.usage)
    }
}

#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub clock: Clock,
    pub journal: Journal,
    pub faults: Faults,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Held by a change for its whole build, so that two never build on the same snapshot and
    /// lose each other's work; the snapshot's own lock is taken only to swap the result in.
    writer: Mutex<()>,
    /// Bumped by every change of the snapshot: what the per-thread handles check.
    generation: AtomicU64,
    /// Tells this state's handles from another's (tests run many states on the same threads).
    id: u64,
    /// Held while the state file is written, snapshot taken inside: a later write always holds a
    /// later world, so an acknowledged change is never overwritten by an older one.
    persisting: Mutex<()>,
    /// The clock start of the first load when no scenario sets one, kept so resets repeat it.
    default_start: Millis,
    /// The names of run-time loads under way (see [`State::reserve_name`]): a lock of its own,
    /// held only to pick a name, so a small load never waits for a big one to pick its own.
    names: Mutex<Names>,
}

/// Run-time scenario names being loaded, and the number of the next unnamed load.
#[derive(Debug, Default)]
struct Names {
    /// At most one per load under way (each holds a connection).
    reserved: std::collections::HashSet<String>,
    /// Never repeats within this state, whatever was replaced meanwhile.
    next_unnamed: u64,
}

/// A run-time scenario's name, held by its load: no other load gets it while this one builds,
/// and once it is published the loaded scenario holds it. Released on drop.
#[derive(Debug)]
pub struct NameReservation<'a> {
    name: String,
    names: &'a Mutex<Names>,
}

impl NameReservation<'_> {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for NameReservation<'_> {
    fn drop(&mut self) {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).reserved.remove(&self.name);
    }
}

/// A snapshot as a request holds it: a handle of the thread that took it on the shared one.
/// Taking a snapshot once per request through one shared lock and one shared reference count
/// passed their cache lines between the cores on every request (issue 6); the handle's count is
/// the thread's own.
pub type SnapshotRef = Arc<Arc<Snapshot>>;

thread_local! {
    /// This thread's handle: (state id, generation, handle).
    static HANDLE: std::cell::RefCell<Option<(u64, u64, SnapshotRef)>> = const { std::cell::RefCell::new(None) };
}

static NEXT_STATE_ID: AtomicU64 = AtomicU64::new(1);

/// The snapshot, locked for a change; the generation moves on when it is released.
struct Slot<'a> {
    guard: std::sync::RwLockWriteGuard<'a, Arc<Snapshot>>,
    generation: &'a AtomicU64,
}

impl std::ops::Deref for Slot<'_> {
    type Target = Arc<Snapshot>;
    fn deref(&self) -> &Arc<Snapshot> {
        &self.guard
    }
}

impl std::ops::DerefMut for Slot<'_> {
    fn deref_mut(&mut self) -> &mut Arc<Snapshot> {
        &mut self.guard
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // Still under the write lock: a reader who sees the new generation reads the new snapshot.
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// What a run-time change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub tasks_before: usize,
    pub tasks_after: usize,
    /// What the load found legal but likely a mistake, sorted by line and column.
    pub warnings: Vec<Warning>,
}

fn as_errors(file: &str, message: impl Into<String>) -> ScenarioErrors {
    ScenarioErrors(vec![ScenarioError { file: file.into(), line: 1, column: 1, message: message.into() }])
}

impl State {
    /// Builds the state from the sources, or, with `--state FILE` when FILE exists, from FILE
    /// alone (it is a snapshot of everything the sources made, and of what came later); the file
    /// is then written at once, so that it exists from the start.
    pub fn new(config: Config, mut sources: Vec<Source>) -> Result<State, ScenarioErrors> {
        if let Some(path) = config.state_file.as_deref().filter(|p| p.exists()) {
            sources = Source::read_path(path)?;
        }
        let state = Self::build(config, sources)?;
        state.persist().map_err(|e| as_errors("--state", e))?;
        Ok(state)
    }

    fn build(config: Config, sources: Vec<Source>) -> Result<State, ScenarioErrors> {
        let default_start = scenario::wall_clock_start();
        let loaded = scenario::load_within(&sources, default_start, config.seed, &config.budget)?;
        // Legal but likely mistakes: said once, at start-up, and the emulator starts anyway.
        for warning in &loaded.warnings {
            tracing::warn!("{warning}");
        }
        let rate = config.clock_rate.unwrap_or(loaded.settings.clock_rate);
        let clock = Clock::new(loaded.settings.clock_start, rate).map_err(|e| as_errors("--clock-rate", e.to_string()))?;
        let faults = Faults::new(loaded.settings.seed, config.max_fault_rules);
        faults.replace(loaded.settings.faults.clone(), loaded.settings.seed).map_err(|e| as_errors("faults", e))?;
        let snapshot = Snapshot::from_loaded(loaded, sources);
        crate::world::release_unused_memory();
        Ok(State {
            journal: Journal::new(journal::Bounds { entries: config.journal_size, entry_bytes: config.journal_entry_bytes, total_bytes: config.journal_bytes }),
            config,
            clock,
            faults,
            snapshot: RwLock::new(Arc::new(snapshot)),
            writer: Mutex::new(()),
            generation: AtomicU64::new(0),
            id: NEXT_STATE_ID.fetch_add(1, Ordering::Relaxed),
            persisting: Mutex::new(()),
            default_start,
            names: Mutex::new(Names { next_unnamed: 1, ..Names::default() }),
        })
    }

    /// Picks a run-time scenario's name that no loaded scenario and no load under way has: the
    /// one given (`?name=`), else `runtime-N`; taken, it gets `#2`, `#3`, ... (bounded by the
    /// scenarios held and the loads under way). Checked and reserved in one critical section, so
    /// two loads at the same instant never share a name; hold the reservation until the load
    /// has published (or failed).
    pub fn reserve_name(&self, given: Option<&str>) -> NameReservation<'_> {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        // Read under the names' lock: a load publishes before it releases its name, so a name is
        // always in one of the two places while it is in use.
        let current = self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone();
        let Names { reserved, next_unnamed } = &mut *names;
        let taken = |name: &str| reserved.contains(name) || current.sources.iter().any(|s| s.name == name);
        let base = match given {
            Some(name) => name.to_string(),
            None => loop {
                let name = format!("runtime-{next_unnamed}");
                *next_unnamed += 1;
                if !taken(&name) {
                    break name;
                }
            },
        };
        let name = if taken(&base) { (2..).map(|n| format!("{base}#{n}")).find(|name| !taken(name)).unwrap_or(base) } else { base };
        reserved.insert(name.clone());
        NameReservation { name, names: &self.names }
    }

    /// The world, settings and credentials as they are now; a request holds one throughout.
    pub fn snapshot(&self) -> SnapshotRef {
        let generation = self.generation.load(Ordering::Acquire);
        HANDLE.with(|handle| {
            let mut handle = handle.borrow_mut();
            match &*handle {
                Some((id, seen, held)) if *id == self.id && *seen == generation => held.clone(),
                _ => {
                    let fresh = Arc::new(self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone());
                    *handle = Some((self.id, generation, fresh.clone()));
                    fresh
                }
            }
        })
    }

    /// Starts a change: the writers' turn, and the snapshot it builds on. The build runs without
    /// the snapshot's lock, so requests keep being answered from the current world meanwhile.
    fn begin_change(&self) -> (std::sync::MutexGuard<'_, ()>, Arc<Snapshot>) {
        let turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone();
        (turn, current)
    }

    /// Swaps a built snapshot in (under the writers' turn, which the caller holds).
    fn publish(&self, snapshot: Snapshot) {
        let mut slot = Slot { guard: self.snapshot.write().unwrap_or_else(|p| p.into_inner()), generation: &self.generation };
        *slot = Arc::new(snapshot);
    }

    /// Whether requests must prove who they are.
    pub fn auth_on(&self, snapshot: &Snapshot) -> bool {
        self.config.auth.unwrap_or(!snapshot.gate.is_empty())
    }

    /// Back to the loaded scenarios' start: the world rebuilt from their text (read counters,
    /// tasks added or deleted at run time gone), their fault rules, and the clock at its start.
    pub fn reset(&self) -> Result<(), ScenarioErrors> {
        let (_turn, current) = self.begin_change();
        let sources = current.sources.clone();
        let loaded = scenario::load_within(&sources, self.default_start, self.config.seed, &self.config.budget)?;
        self.clock.restart(loaded.settings.clock_start, self.config.clock_rate.unwrap_or(loaded.settings.clock_rate));
        self.faults.replace(loaded.settings.faults.clone(), loaded.settings.seed).map_err(|e| as_errors("faults", e))?;
        self.publish(Snapshot::from_loaded(loaded, sources));
        Ok(())
    }

    /// Loads a scenario at run time, all or nothing; it stays loaded across resets. Its relative
    /// instants count from the virtual now. Added, it joins the world (and counts against the
    /// budget with it); replacing the world, it brings its own clock start (or keeps the virtual
    /// now when it sets none) and fault rules.
    pub fn load(&self, mut source: Source, replace: bool) -> Result<Change, ScenarioErrors> {
        let (_turn, current) = self.begin_change();
        let before = current.world.task_count();
        let now = self.clock.now();
        source.anchor = Some(now);
        if replace {
            let sources = vec![source];
            let mut loaded = scenario::load_within(&sources, now, self.config.seed, &self.config.budget)?;
            self.faults.replace(loaded.settings.faults.clone(), loaded.settings.seed).map_err(|e| as_errors("faults", e))?;
            self.clock.restart(loaded.settings.clock_start, self.config.clock_rate.unwrap_or(loaded.settings.clock_rate));
            let after = loaded.world.task_count();
            let warnings = std::mem::take(&mut loaded.warnings);
            self.publish(Snapshot::from_loaded(loaded, sources));
            return Ok(Change { tasks_before: before, tasks_after: after, warnings });
        }
        let added = scenario::extend((&current.world, current.usage), std::slice::from_ref(&source), now, self.config.seed, &self.config.budget)?;
        self.faults.add(added.settings.faults.clone()).map_err(|e| as_errors(&source.name, e))?;
        let mut settings = current.settings.clone();
        settings.request_ids.extend(added.settings.request_ids);
        settings.credentials.extend(added.settings.credentials);
        let mut sources = current.sources.clone();
        sources.push(source);
        let after = added.world.task_count();
        self.publish(Snapshot::new(added.world, settings, sources, added.usage));
        Ok(Change { tasks_before: before, tasks_after: after, warnings: added.warnings })
    }

    /// Adds tasks for this run only (a reset drops them): the same checks and budget as a scenario.
    pub fn add_tasks(&self, mut source: Source) -> Result<Change, ScenarioErrors> {
        let (_turn, current) = self.begin_change();
        let now = self.clock.now();
        source.anchor = Some(now);
        let before = current.world.task_count();
        let added = scenario::extend((&current.world, current.usage), std::slice::from_ref(&source), now, self.config.seed, &self.config.budget)?;
        let after = added.world.task_count();
        self.publish(Snapshot::new(added.world, current.settings.clone(), current.sources.clone(), added.usage));
        Ok(Change { tasks_before: before, tasks_after: after, warnings: added.warnings })
    }

    /// Deletes a task by id (any product) until the next reset; says whether one went. (Its
    /// share of the budget stays counted until then.)
    pub fn delete_task(&self, id: &str) -> bool {
        let (_turn, current) = self.begin_change();
        let Some(world) = current.world.without(id) else { return false };
        self.publish(Snapshot::new(world, current.settings.clone(), current.sources.clone(), current.usage));
        true
    }

    /// The running world as one scenario file (`GET /_emu/snapshot`, the `--state` file): every
    /// task with its read log, the settings, the clock's "now" as its start with its rate (0 when
    /// paused), and the fault rules with their remaining counts. A fresh `serve` on it answers
    /// as this one does now.
    pub fn scenario(&self) -> String {
        let current = self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone();
        let clock = self.clock.state();
        let mut settings = current.settings.clone();
        settings.clock_start = clock.now;
        settings.clock_rate = if clock.paused { 0.0 } else { clock.rate };
        settings.faults = self.faults.list(None).into_iter().map(|rule| crate::faults::FaultSpec { times: rule.remaining, ..rule.spec }).collect();
        scenario::write::write_world(&current.world, &settings)
    }

    /// Writes the snapshot to the `--state` file, if there is one, so that a crash right after
    /// loses nothing: a temporary file beside it, synced, renamed over it, and the directory
    /// synced. On failure the old file stays as it was, and the reason comes back.
    pub fn persist(&self) -> Result<(), String> {
        let Some(path) = self.config.state_file.as_deref() else { return Ok(()) };
        let _turn = self.persisting.lock().unwrap_or_else(|p| p.into_inner());
        write_atomically(path, self.scenario().as_bytes()).map_err(|e| format!("the state file {} could not be written: {e}", path.display()))
    }

    /// The RequestId a scenario pins for this operation, if any.
    pub fn pinned_request_id(&self, snapshot: &Snapshot, operation: &str) -> Option<String> {
        snapshot.settings.request_ids.get(operation).cloned()
    }
}

/// Replaces `path` with `bytes` so that a reader (or a restart after a crash) sees the old file
/// or the new one whole, never a part: write a temporary file in the same directory, sync it,
/// rename it over `path`, sync the directory (the rename itself).
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the path names no file"))?;
    // One name: a write a crash cut short is overwritten by the next.
    let temporary = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    // The rename is durable once the directory is; some systems cannot sync one (not an error).
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_handle_until_the_snapshot_changes_and_never_mixes_states() {
        let demo = State::new(Config::default(), vec![Source::demo()]).unwrap();
        let other = State::new(Config::default(), vec![Source::new("one.toml", "[[ecs.tasks]]\nid = \"t-1\"\n")]).unwrap();
        let first = demo.snapshot();
        assert!(Arc::ptr_eq(&first, &demo.snapshot()), "the same handle while nothing changed");
        assert_eq!(other.snapshot().world.task_count(), 1, "another state's snapshot, not the cached one");
        let before = demo.snapshot().world.task_count();
        assert!(before > 1);
        assert!(!demo.delete_task("no-such-task"));
        assert!(Arc::ptr_eq(&*demo.snapshot(), &*first), "a change that changed nothing keeps the snapshot");
        demo.load(Source::new("more.toml", "[[ecs.tasks]]\nid = \"t-more\"\n"), false).unwrap();
        let after = demo.snapshot();
        assert_eq!(after.world.task_count(), before + 1, "a change is seen at once");
        assert!(!Arc::ptr_eq(&first, &after));
        // Another thread takes its own handle on the same snapshot.
        let shared = std::thread::scope(|s| s.spawn(|| demo.snapshot()).join().unwrap());
        assert!(Arc::ptr_eq(&*shared, &*after) && !Arc::ptr_eq(&shared, &after));
    }

    #[test]
    fn a_reserved_name_is_nobody_elses_until_released_and_a_loaded_one_until_replaced() {
        let state = State::new(Config::default(), vec![Source::new("x.toml", "[[ecs.tasks]]\nid = \"t-1\"\n")]).unwrap();
        let first = state.reserve_name(Some("y.toml"));
        let second = state.reserve_name(Some("y.toml"));
        assert_eq!((first.name(), second.name()), ("y.toml", "y.toml#2"), "reserved, not loaded yet");
        assert_eq!(state.reserve_name(Some("x.toml")).name(), "x.toml#2", "held by a loaded scenario");
        drop(first);
        assert_eq!(state.reserve_name(Some("y.toml")).name(), "y.toml", "a failed load gives its name back");
        // Published before released: the name passes from the reservation to the loaded scenario.
        let held = state.reserve_name(None);
        let name = held.name().to_string();
        state.load(Source::new(name.clone(), "[[ecs.tasks]]\nid = \"t-2\"\n"), false).unwrap();
        drop(held);
        assert_eq!(state.reserve_name(Some(&name)).name(), format!("{name}#2"));
        assert_ne!(state.reserve_name(None).name(), name, "unnamed loads never repeat a number");
    }
}
