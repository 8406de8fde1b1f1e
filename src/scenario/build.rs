//! Turns parsed scenario specs into tasks: resolves instants against the clock start, draws random
//! values (ranges, choices, fake names and ids) from a seeded generator, and checks what serde
//! cannot (phase rules, counts, duplicate ids), reporting each problem at its line and column.
//!
//! The semantic checks every product's step shares live here too: a region that is neither real
//! nor declared (`regions = [...]`), a Huawei project that is not 32 hex characters nor declared
//! (`projects = [...]`), a number outside what its field allows, a part greater than its whole
//! (`failures` over `images`), a lifecycle that leaves a terminal status or moves in a way its
//! product's transition table (`Status::successors`) does not allow; and the warning for a
//! generator whose tasks would all be created together and change status together.

use fake::locales::{Data, EN};
use rand::rngs::ChaCha12Rng;
use rand::{RngExt, SeedableRng};
use toml::Spanned;

use std::collections::BTreeSet;
use std::ops::{Range, RangeInclusive};

use super::schema::{self, Choice, DurationSpec, IntSpec, PhaseSpec, When};
use super::suggest::did_you_mean;
use super::{Located, ScenarioError};
use crate::instant::{in_range, Millis};
use crate::world::avds::AvdsScan;
use crate::world::ecs::EcsTask;
use crate::world::hss_image::HssImageTask;
use crate::world::hss_task::HssTask;
use crate::world::lifecycle::{Lifecycle, Phase, PhaseEnd, Status};
use crate::world::sas::SasTask;
use crate::world::store::IdIndex;
use crate::world::{is_huawei_project_id, Interner, Pins, Product, Text, ALIBABA_REGIONS};

/// The project Huawei tasks belong to when a scenario names none (the SDK notes' test project).
pub const DEFAULT_PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// The most tasks one generator entry may make, so a typo cannot exhaust memory.
pub const MAX_GENERATED: u32 = 2_000_000;
/// The largest counter (images, failures, clusters, files ...) the HSS API documents.
pub(super) const MAX_COUNTER: i64 = 2_147_483_547;

/// Tasks built from one file, each with where it was declared (for duplicate-id errors).
#[derive(Debug, Default)]
pub struct Built {
    pub ecs: Declared<EcsTask>,
    pub sas: Declared<SasTask>,
    pub avds: Declared<AvdsScan>,
    pub hss_image: Declared<HssImageTask>,
    pub hss_task: Declared<HssTask>,
    /// One copy of each region, project and owner key the file's tasks name.
    pub interner: Interner,
    /// What is legal but likely a mistake, at its position (errors under `check --strict`).
    pub warnings: Vec<ScenarioError>,
}

/// Tasks, and the byte offset each was declared at (side by side: a million tasks of a
/// generator share their offset, and the tasks move on to the store without a copy).
#[derive(Debug)]
pub struct Declared<T> {
    pub tasks: Vec<T>,
    pub at: Vec<usize>,
    /// The tasks' ids indexed by position, when made (on the product's own thread) and no id
    /// came twice: the loader then keeps it instead of indexing them again on its one thread.
    pub ids: Option<IdIndex>,
}

impl<T> Default for Declared<T> {
    fn default() -> Self {
        Declared { tasks: Vec::new(), at: Vec::new(), ids: None }
    }
}

impl<T: crate::world::Record> Declared<T> {
    /// Indexes the ids by position; None when one comes twice (the loader says where).
    fn index_ids(&mut self) {
        let tasks = &self.tasks;
        let mut ids = IdIndex::with_capacity(tasks.len());
        let distinct = (0..tasks.len() as u32).all(|s| ids.insert(s, |x| tasks[x as usize].id()).is_none());
        self.ids = distinct.then_some(ids);
    }
}

impl<T> Declared<T> {
    pub(super) fn push(&mut self, task: T, at: usize) {
        self.tasks.push(task);
        self.at.push(at);
    }

    /// Tasks of one entry, all declared at `at`.
    pub(super) fn extend(&mut self, tasks: Vec<T>, at: usize) {
        self.at.extend(std::iter::repeat_n(at, tasks.len()));
        if self.tasks.is_empty() {
            self.tasks = tasks;
        } else {
            self.tasks.extend(tasks);
        }
    }

    pub(super) fn reserve(&mut self, n: u32) {
        self.tasks.reserve(n as usize);
        self.at.reserve(n as usize);
    }
}

/// Builds every task a file declares: each product's from its own generators (the random draws
/// are per entry, so the order the products are built in changes nothing), side by side when the
/// file makes many. Errors come back in the order the products are listed in.
/// `declared` are the made-up regions and projects the load declares (`regions = [...]`,
/// `projects = [...]` in any of its files, or in the running world's).
pub fn build_file(source: &Located, start: Millis, seed: u64, file: &schema::ScenarioFile, (regions, projects): (&BTreeSet<String>, &BTreeSet<String>)) -> (Vec<ScenarioError>, Built) {
    let builder = || Builder { source, start, seed, regions, projects, errors: Vec::new(), built: Built::default() };
    let generated: u64 = super::budget::entries(file).filter(|e| e.generated).map(|e| u64::from(e.count.map_or(0, |c| *c.get_ref()))).sum();
    // One step per product, each its file's entries and its generators: run in turn for a small
    // file, side by side when it generates many tasks.
    let step = |b: &mut Builder, product: Product| match product {
        Product::Ecs => {
            b.ecs(&file.ecs.tasks, false);
            b.ecs(&file.ecs.generate, true);
        }
        Product::Sas => {
            b.sas(&file.sas.tasks, false);
            b.sas(&file.sas.generate, true);
        }
        Product::Avds => {
            b.avds(&file.avds.scans, false);
            b.avds(&file.avds.generate, true);
        }
        Product::HssImage => {
            b.hss_image(&file.hss.image_tasks, false);
            b.hss_image(&file.hss.image_generate, true);
        }
        Product::HssTask => {
            b.hss_task(&file.hss.tasks, false);
            b.hss_task(&file.hss.generate, true);
        }
    };
    if generated < 20_000 {
        let mut b = builder();
        for &product in Product::ALL {
            step(&mut b, product);
        }
        return (b.errors, b.built);
    }
    let step = &step;
    let parts: Vec<(Product, Builder)> = std::thread::scope(|scope| {
        let handles: Vec<_> = Product::ALL
            .iter()
            .map(|&product| {
                scope.spawn(move || {
                    let mut b = builder();
                    step(&mut b, product);
                    match product {
                        Product::Ecs => b.built.ecs.index_ids(),
                        Product::Sas => b.built.sas.index_ids(),
                        Product::Avds => b.built.avds.index_ids(),
                        Product::HssImage => b.built.hss_image.index_ids(),
                        Product::HssTask => b.built.hss_task.index_ids(),
                    }
                    (product, b)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut errors = Vec::new();
    let mut built = Built::default();
    for (product, mut part) in parts {
        errors.append(&mut part.errors);
        built.warnings.append(&mut part.built.warnings);
        match product {
            Product::Ecs => built.ecs = part.built.ecs,
            Product::Sas => built.sas = part.built.sas,
            Product::Avds => built.avds = part.built.avds,
            Product::HssImage => built.hss_image = part.built.hss_image,
            Product::HssTask => built.hss_task = part.built.hss_task,
        }
    }
    (errors, built)
}

pub struct Builder<'a> {
    pub source: &'a Located<'a>,
    pub start: Millis,
    pub seed: u64,
    /// The made-up Alibaba regions and Huawei projects the load declares on purpose.
    pub regions: &'a BTreeSet<String>,
    pub projects: &'a BTreeSet<String>,
    pub errors: Vec<ScenarioError>,
    pub built: Built,
}

/// The English lists `fake`'s fakers draw from (`Word`, `FirstName`, `DomainSuffix`): [`Draw`]
/// picks from them itself, with the draws `fake` makes, so that a seed makes the world it made
/// when `fake` did, without its allocations and formatting (a quarter of a generated load).
const WORDS: &[&str] = <EN as Data>::LOREM_WORD;
const FIRST_NAMES: &[&str] = <EN as Data>::NAME_FIRST_NAME;
const DOMAIN_SUFFIXES: &[&str] = <EN as Data>::INTERNET_DOMAIN_SUFFIX;

/// Values drawn for one entry: each entry gets its own generator so that editing one entry does
/// not reshuffle the others. ChaCha12, what rand's `StdRng` is (and what every seed's worlds
/// were drawn with), named so that a chunk of an entry can start at its place in the stream
/// ([`draw_tasks`]); `the_stream_is_std_rng_s` holds the two to the same words.
pub(super) struct Draw(pub(super) ChaCha12Rng);

impl Draw {
    pub(super) fn one<'t, T>(&mut self, choice: &'t Choice<T>) -> &'t T {
        &choice.0[self.0.random_range(0..choice.0.len())]
    }

    pub(super) fn duration(&mut self, spec: DurationSpec) -> Millis {
        if spec.low == spec.high {
            spec.low
        } else {
            self.between(spec.low, spec.high)
        }
    }

    pub(super) fn int(&mut self, spec: IntSpec) -> i64 {
        if spec.low == spec.high {
            spec.low
        } else {
            self.between(spec.low, spec.high)
        }
    }

    pub(super) fn count(&mut self, spec: Option<IntSpec>, default: u32) -> u32 {
        spec.map_or(default, |s| u32::try_from(self.int(s)).unwrap_or(u32::MAX))
    }

    pub(super) fn when(&mut self, when: When, start: Millis) -> Millis {
        let (low, high) = (when.low.resolve(start), when.high.resolve(start));
        if high <= low {
            low
        } else {
            self.between(low, high)
        }
    }

    /// A draw from `0..n` (`n` from 1 to `u32::MAX`), the very value `self.0.random_range(0..n)`
    /// draws, from the same generator calls: rand's sampler for a `usize` range this small
    /// (Canon's method on one `u32`, a second one when the first is too near a multiple), written
    /// here so that it inlines into the loops that draw ids a character at a time, where the
    /// call was a fifth of a generated load. `a_small_draw_is_random_range_s` holds it to rand's.
    #[inline]
    fn below(&mut self, n: u32) -> usize {
        use rand::Rng;
        canon(n, || self.0.next_u32())
    }

    /// A draw from `low..=high` (`low <= high`), the very value `self.0.random_range(low..=high)`
    /// draws for an `i64`, from the same generator calls: rand's sampler (Canon's method on one
    /// `u64`, a second one when the first is too near a multiple; the whole range one `u64`),
    /// written here so that it inlines: instants and durations are drawn a few times a task.
    /// `a_wide_draw_is_random_range_s` holds it to rand's.
    #[inline]
    fn between(&mut self, low: i64, high: i64) -> i64 {
        use rand::Rng;
        let range = high.wrapping_sub(low).wrapping_add(1) as u64;
        if range == 0 {
            return self.0.next_u64() as i64;
        }
        let wide = |x: u64| {
            let product = u128::from(x) * u128::from(range);
            ((product >> 64) as u64, product as u64)
        };
        let (mut result, lo) = wide(self.0.next_u64());
        if lo > range.wrapping_neg() {
            let (carry, _) = wide(self.0.next_u64());
            result += u64::from(lo.checked_add(carry).is_none());
        }
        low.wrapping_add(result as i64)
    }

    pub(super) fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[self.0.random_range(0..16)])).collect()
    }

    /// An index into a list of `len`, drawn as `self.0.random_range(0..len)` draws (through
    /// [`below`](Self::below) for any list shorter than `u32::MAX`, inlined).
    pub(super) fn index(&mut self, len: usize) -> usize {
        match u32::try_from(len) {
            Ok(n) if n > 0 => self.below(n),
            _ => self.0.random_range(0..len),
        }
    }

    /// One of `list` (not empty), drawn as `fake` and rand's `choose` draw it.
    fn pick(&mut self, list: &'static [&'static str]) -> &'static str {
        list[self.index(list.len())]
    }

    /// A `u8` drawn as rand's `random::<u8>()` draws it (`fake`'s `Faker` for a `u8`): the low
    /// byte of one word.
    fn byte(&mut self) -> u8 {
        use rand::Rng;
        self.0.next_u32() as u8
    }

    /// `m-bp` and 18 hex digits, drawn as `format!("m-bp{}", self.hex(18))` would be, without the
    /// allocations (a generator may make a million).
    pub(super) fn resource_id(&mut self) -> Text {
        let mut id = *b"m-bp000000000000000000";
        for byte in &mut id[4..] {
            *byte = b"0123456789abcdef"[self.below(16)];
        }
        Text::ascii(id)
    }

    /// A version-4 UUID, drawn as `format!("{}-{}-4{}-{}{}-{}", hex(8), hex(4), hex(3), one of
    /// "89ab", hex(3), hex(12))` would be (the same draws in the same order, so a seed makes the
    /// same world), into one buffer: generators draw one per task, and the formatting was a third
    /// of a generated load's time.
    pub(super) fn uuid(&mut self) -> Text {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = *b"00000000-0000-4000-0000-000000000000";
        // Left to right, a run of hex digits at a time (no test of the place per character).
        for run in [0..8, 9..13, 15..18] {
            id[run].iter_mut().for_each(|byte| *byte = HEX[self.below(16)]);
        }
        id[19] = b"89ab"[self.below(4)];
        for run in [20..23, 24..36] {
            id[run].iter_mut().for_each(|byte| *byte = HEX[self.below(16)]);
        }
        Text::ascii(id)
    }

    pub(super) fn ecs_task_id(&mut self) -> Text {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut id = *b"t-bp000000000000000000";
        for byte in &mut id[4..] {
            *byte = ALPHABET[self.below(ALPHABET.len() as u32)];
        }
        Text::ascii(id)
    }

    /// A lorem word, as `fake`'s `Word` draws it.
    pub(super) fn word(&mut self) -> &'static str {
        self.pick(WORDS)
    }

    /// `host-` and a user name drawn as `fake`'s `Username` draws it (a byte picks the shape:
    /// a first name alone, `word.name`, a name and a number, or `name_word`), lower-cased, each
    /// character but an ASCII letter or digit a `-`, written into one buffer (a generator draws
    /// one a task).
    pub(super) fn host(&mut self) -> String {
        let mut host = String::with_capacity(32);
        host.push_str("host-");
        match self.byte() {
            0 => push_host_part(&mut host, self.pick(FIRST_NAMES)),
            1 | 2 => {
                push_host_part(&mut host, self.word());
                host.push('-');
                push_host_part(&mut host, self.pick(FIRST_NAMES));
            }
            3 | 4 => {
                push_host_part(&mut host, self.pick(FIRST_NAMES));
                push_decimal(&mut host, self.byte());
            }
            _ => {
                push_host_part(&mut host, self.pick(FIRST_NAMES));
                host.push('-');
                push_host_part(&mut host, self.word());
            }
        }
        host
    }

    /// An IPv4 address (four bytes, as `fake`'s `IPv4` draws them) or `www.<word>.<suffix>`,
    /// even odds.
    pub(super) fn target(&mut self) -> String {
        let mut target = String::with_capacity(24);
        if self.0.random_bool(0.5) {
            for part in 0..4 {
                if part > 0 {
                    target.push('.');
                }
                push_decimal(&mut target, self.byte());
            }
        } else {
            let suffix = self.pick(DOMAIN_SUFFIXES);
            target.push_str("www.");
            target.push_str(self.word());
            target.push('.');
            target.push_str(suffix);
        }
        target
    }
}

/// A part of a host name: each character lower-cased as `str::to_lowercase` maps it (the one
/// context rule it has, a final sigma, gives a letter that is not ASCII either way), anything but
/// an ASCII letter or digit a `-`.
fn push_host_part(host: &mut String, part: &str) {
    if part.is_ascii() {
        host.extend(part.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b.to_ascii_lowercase()) } else { '-' }));
        return;
    }
    host.extend(part.chars().flat_map(char::to_lowercase).map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }));
}

/// `n` in decimal, as `Display` writes it.
fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// The fewest tasks an entry draws on more than one thread.
const SPLIT_AT: u32 = 50_000;
/// The most threads one entry's tasks are drawn on.
const MAX_CHUNKS: usize = 8;

/// `count` tasks, task `n` drawn by `make(draw, n)`: the very tasks one loop over `0..count`
/// draws, and `draw` left where that loop leaves it. A big entry is drawn in chunks side by
/// side (one big `[[ecs.generate]]` was a load's longest thread): the first task says how many
/// words a task takes (the same for every task of most entries), each chunk but the first starts
/// where that puts it in the stream, and a chunk is kept only when the one before ended exactly
/// there; otherwise (an entry whose tasks draw more or fewer words: rare rejections, lists of
/// drawn length, names of drawn shape) it is drawn again from where the one before ended. So
/// the world is always the one loop's, and a chunk drawn twice costs time, never a difference.
pub(super) fn draw_tasks<T: Send>(draw: &mut Draw, count: u32, make: impl Fn(&mut Draw, u32) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = if count < SPLIT_AT { 1 } else { threads.min(MAX_CHUNKS) };
    draw_in_chunks(draw, count, chunks, &make)
}

fn draw_in_chunks<T: Send>(draw: &mut Draw, count: u32, chunks: usize, make: &(impl Fn(&mut Draw, u32) -> T + Sync)) -> Vec<T> {
    let mut tasks = Vec::with_capacity(count as usize);
    if chunks < 2 || count < 2 {
        tasks.extend((0..count).map(|n| make(draw, n)));
        return tasks;
    }
    let start = draw.0.get_word_pos();
    tasks.push(make(draw, 0));
    let per_task = draw.0.get_word_pos() - start;
    // Chunk k draws tasks bounds[k]..bounds[k + 1] (the first task is drawn).
    let bounds: Vec<u32> = (0..=chunks as u64).map(|k| 1 + (u64::from(count - 1) * k / chunks as u64) as u32).collect();
    let guessed = |first: u32| start + u128::from(first) * per_task;
    let parts: Vec<(Vec<T>, u128)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..chunks)
            .map(|k| {
                let (first, end) = (bounds[k], bounds[k + 1]);
                // The entry's generator (its seed and stream), at the chunk's guessed place.
                let mut own = Draw(ChaCha12Rng::from_seed(draw.0.get_seed()));
                own.0.set_stream(draw.0.get_stream());
                own.0.set_word_pos(guessed(first));
                scope.spawn(move || {
                    let part: Vec<T> = (first..end).map(|n| make(&mut own, n)).collect();
                    (part, own.0.get_word_pos())
                })
            })
            .collect();
        tasks.extend((bounds[0]..bounds[1]).map(|n| make(draw, n)));
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    for (k, (part, end)) in (1..chunks).zip(parts) {
        if draw.0.get_word_pos() == guessed(bounds[k]) {
            tasks.extend(part);
            draw.0.set_word_pos(end);
        } else {
            tasks.extend((bounds[k]..bounds[k + 1]).map(|n| make(draw, n)));
        }
    }
    tasks
}

/// rand's draw from `0..n` (`n` from 1 to `u32::MAX`) for a `usize` range this small, from the
/// words `next` gives: Canon's method on one, a second one when the first is too near a multiple.
#[inline(always)]
fn canon(n: u32, mut next: impl FnMut() -> u32) -> usize {
    let wide = |x: u32| {
        let product = u64::from(x) * u64::from(n);
        ((product >> 32) as u32, product as u32)
    };
    let (mut result, low) = wide(next());
    if low > n.wrapping_neg() {
        let (carry, _) = wide(next());
        result += u32::from(low.checked_add(carry).is_none());
    }
    result as usize
}

/// One entry's lifecycle, checked once ([`Builder::lifecycle_plan`]): what each task draws.
pub(super) struct Plan<'s, S> {
    phases: Vec<Planned<'s, S>>,
    exhausted: Vec<(usize, Millis)>,
    reads_counted: u32,
}

struct Planned<'s, S> {
    status: Pick<'s, S>,
    end: PlannedEnd,
}

/// A phase's status: the product's default (nothing drawn) or one of the file's list (drawn).
enum Pick<'s, S> {
    Fixed(S),
    Drawn(&'s [schema::StatusName<S>]),
}

#[derive(Clone, Copy)]
enum PlannedEnd {
    Never,
    After(DurationSpec),
    Reads(IntSpec),
}

/// Phases a lifecycle keeps without a heap copy of its own while it is drawn (most have three).
const INLINE_PHASES: usize = 4;

impl<S: Status> Plan<'_, S> {
    /// One task's lifecycle: per phase, its end then its status, drawn in the order the file
    /// lists the phases (the draws every seed's worlds were made with).
    pub(super) fn draw(&self, draw: &mut Draw) -> Lifecycle<S> {
        let phase = |planned: &Planned<S>, draw: &mut Draw| {
            let end = match planned.end {
                PlannedEnd::Never => PhaseEnd::Never,
                PlannedEnd::After(d) => PhaseEnd::After(draw.duration(d)),
                PlannedEnd::Reads(r) => PhaseEnd::Reads(u32::try_from(draw.int(r)).unwrap_or(u32::MAX)),
            };
            let status = match planned.status {
                Pick::Fixed(status) => status,
                Pick::Drawn(names) => names[draw.index(names.len())].0,
            };
            Phase { status, end }
        };
        let lifecycle = if self.phases.len() <= INLINE_PHASES {
            let mut phases = [Phase { status: S::all()[0], end: PhaseEnd::Never }; INLINE_PHASES];
            for (slot, planned) in phases.iter_mut().zip(&self.phases) {
                *slot = phase(planned, draw);
            }
            Lifecycle::from_slice(&phases[..self.phases.len()])
        } else {
            Lifecycle::new(self.phases.iter().map(|p| phase(p, draw)).collect())
        };
        if !self.exhausted.is_empty() || self.reads_counted > 0 {
            lifecycle.restore_reads(self.exhausted.clone(), self.reads_counted);
        }
        lifecycle
    }
}

/// A pinned TOML value as the JSON the edges render. Not `serde_json::to_value`: that turns a TOML
/// datetime into toml's private `{"$__toml_private_datetime": ...}` object; a pin wants its text.
fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        // Non-finite floats have no JSON form; null, as serde_json would make them.
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(table.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

/// Where an entry stands, and whether it is a generator (`count` tasks, ids drawn) or one task.
pub(super) struct Entry {
    pub(super) at: usize,
    pub(super) count: u32,
    pub(super) generated: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.errors.push(self.source.error_at(offset, message));
    }

    pub(super) fn draw(&self, section: &str, index: usize) -> Draw {
        let mut mix = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for byte in section.bytes() {
            mix = mix.rotate_left(5) ^ u64::from(byte);
        }
        Draw(ChaCha12Rng::seed_from_u64(mix.wrapping_mul(0x100_0000_01b3).wrapping_add(index as u64)))
    }

    /// Checks `count` and `id` against the kind of entry and says how many tasks it makes.
    pub(super) fn entry(&mut self, at: usize, count: Option<&Spanned<u32>>, has_id: bool, generated: bool, id_field: &str) -> Option<Entry> {
        match (generated, count.map(|c| (*c.get_ref(), c.span().start))) {
            (false, Some(_)) => {
                self.error(at, "`count` belongs in a generator entry ([[...generate]]), not in an explicit task");
                None
            }
            (false, None) if !has_id => {
                self.error(at, format!("an explicit task needs `{id_field}` (use a [[...generate]] entry to draw ids)"));
                None
            }
            (true, _) if has_id => {
                self.error(at, format!("a generator draws its ids: remove `{id_field}`"));
                None
            }
            (true, None) => {
                self.error(at, "a generator needs `count`");
                None
            }
            (true, Some((n, count_at))) if n > MAX_GENERATED => {
                self.error(count_at, format!("count {n} is over the limit of {MAX_GENERATED} tasks per generator"));
                None
            }
            (_, count) => Some(Entry { at, count: count.map_or(1, |(n, _)| n), generated }),
        }
    }

    /// The entry's `created`, checked once for all its tasks: both ends of a range must resolve
    /// within the years 1970–9999 (the clouds' formats write no other).
    pub(super) fn created(&mut self, created: &Option<Spanned<When>>) -> Option<Option<When>> {
        let Some(spanned) = created else { return Some(None) };
        let when = *spanned.get_ref();
        if [when.low, when.high].iter().all(|end| in_range(end.resolve(self.start))) {
            return Some(Some(when));
        }
        self.errors.push(super::out_of_range(self.source, "created", spanned.span()));
        None
    }

    /// An entry's lifecycle, checked: every phase's end and status as the file writes them (the
    /// transitions, the last phase never ending, reads within range, a snapshot's read log). The
    /// checks are the same for every task of the entry, so they run once and each task only
    /// draws (see [`Plan::draw`]); `periodic` (an AVDS scan drawn periodic) forbids read-bounded
    /// phases. None, with the errors said, when the lifecycle cannot be.
    pub(super) fn lifecycle_plan<'s, S: Status>(&mut self, spec: &'s Option<schema::Lifecycle<S>>, default: &[(S, Option<Millis>)], periodic: bool) -> Option<Plan<'s, S>> {
        let Some(spec) = spec else {
            let phases = default.iter().map(|&(status, d)| Planned { status: Pick::Fixed(status), end: d.map_or(PlannedEnd::Never, |d| PlannedEnd::After(DurationSpec { low: d, high: d })) }).collect();
            return Some(Plan { phases, exhausted: Vec::new(), reads_counted: 0 });
        };
        if spec.get_ref().is_empty() {
            self.error(spec.span().start, "a lifecycle needs at least one phase");
            return None;
        }
        if !self.transitions(spec.get_ref()) {
            return None;
        }
        let last = spec.get_ref().len() - 1;
        let mut phases = Vec::with_capacity(last + 1);
        // A snapshot's read log (`reads_counted`, `exhausted_at`), put back once the phases are built.
        let mut exhausted = Vec::new();
        let mut reads_counted = 0;
        for (i, phase) in spec.get_ref().iter().enumerate() {
            let at = phase.span().start;
            let PhaseSpec { status, duration, reads, reads_counted: counted, exhausted_at } = phase.get_ref();
            if (counted.is_some() || exhausted_at.is_some()) && (reads.is_none() || i == last) {
                self.error(at, "`reads_counted` and `exhausted_at` belong to a phase that ends after `reads`");
                return None;
            }
            if let Some(when) = exhausted_at {
                let instant = when.get_ref().low.resolve(self.start);
                if !in_range(instant) {
                    self.errors.push(super::out_of_range(self.source, "exhausted_at", when.span()));
                    return None;
                }
                exhausted.push((i, instant));
            }
            reads_counted = reads_counted.max(counted.unwrap_or(0));
            let end = match (i == last, duration, reads) {
                (true, None, None) => PlannedEnd::Never,
                (true, _, _) => {
                    self.error(at, "the last phase never ends: remove its `for` / `reads`");
                    return None;
                }
                (false, Some(d), None) => PlannedEnd::After(*d),
                (false, None, Some(_)) if periodic => {
                    self.error(at, "sessions of a periodic scan cannot end after reads: use `for`");
                    return None;
                }
                (false, None, Some(r)) => {
                    // Checked over the range as written, so that no seed draws a phase of no reads.
                    if r.low < 1 || r.high > i64::from(u32::MAX) {
                        let written = if r.low == r.high { r.low.to_string() } else { format!("\"{}..{}\"", r.low, r.high) };
                        self.error(self.value_of(phase.span(), "reads"), format!("`reads` = {written} is out of range: allowed from 1 to {}", u32::MAX));
                        return None;
                    }
                    PlannedEnd::Reads(*r)
                }
                (false, Some(_), Some(_)) => {
                    self.error(at, "a phase ends either after a duration (`for`) or after reads (`reads`), not both");
                    return None;
                }
                (false, None, None) => {
                    self.error(at, "every phase but the last needs `for = \"<duration>\"` or `reads = N`");
                    return None;
                }
            };
            phases.push(Planned { status: Pick::Drawn(&status.0), end });
        }
        Some(Plan { phases, exhausted, reads_counted })
    }

    /// [`lifecycle_plan`](Self::lifecycle_plan) once per entry (and per `periodic`): `plans` keeps
    /// it between the entry's tasks. The checks run at the entry's first task, as they always
    /// did, so that an entry of no tasks says nothing about its lifecycle.
    pub(super) fn planned<'p, 's, S: Status>(&mut self, plans: &'p mut [Option<Option<Plan<'s, S>>>; 2], spec: &'s Option<schema::Lifecycle<S>>, default: &[(S, Option<Millis>)], periodic: bool) -> Option<&'p Plan<'s, S>> {
        let plan = &mut plans[usize::from(periodic)];
        if plan.is_none() {
            *plan = Some(self.lifecycle_plan(spec, default, periodic));
        }
        plan.as_ref().and_then(Option::as_ref)
    }

    pub(crate) fn pins(set: &Option<toml::Table>, unset: &[String]) -> Pins {
        if set.is_none() && unset.is_empty() {
            return None;
        }
        let mut pins: Vec<(String, Option<serde_json::Value>)> = set.iter().flatten().map(|(key, value)| (key.clone(), Some(toml_to_json(value)))).collect();
        pins.extend(unset.iter().map(|key| (key.clone(), None)));
        Some(pins.into())
    }

    /// What the file says at `span`, for quoting a value back in a message.
    pub(super) fn written(&self, span: Range<usize>) -> &str {
        self.source.text.get(span).unwrap_or_default().trim()
    }

    /// Where `key`'s value starts in the table written at `span` (`key = value`): for a field the
    /// schema keeps no position of its own. The table's start when the key is not found there.
    pub(super) fn value_of(&self, span: Range<usize>, key: &str) -> usize {
        let table = self.source.text.get(span.clone()).unwrap_or_default();
        let mut from = 0;
        while let Some(found) = table[from..].find(key).map(|i| from + i) {
            from = found + key.len();
            let starts_word = table[..found].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            // Not a word inside a string value (an odd number of unescaped quotes before it).
            let in_string = table[..found].replace("\\\"", "").matches('"').count() % 2 == 1;
            let rest = &table[from..];
            let after_eq = rest.trim_start_matches([' ', '\t']);
            if starts_word && !in_string && after_eq.starts_with('=') {
                let value = &after_eq[1..];
                return span.start + table.len() - value.trim_start_matches([' ', '\t']).len();
            }
        }
        span.start
    }

    /// Where the quoted name `item` is written inside the value at `span` (one name of a list),
    /// else the value's start.
    fn item_at(&self, span: Range<usize>, item: &str) -> usize {
        let value = self.source.text.get(span.clone()).unwrap_or_default();
        [format!("\"{item}\""), format!("'{item}'")].iter().find_map(|quoted| value.find(quoted.as_str())).map_or(span.start, |i| span.start + i)
    }

    /// Checks a number, or both ends of a `"lo..hi"` range, against what its field allows, at
    /// the value; says whether it is within.
    pub(super) fn bounded(&mut self, field: &str, span: Range<usize>, (low, high): (i64, i64), allowed: RangeInclusive<i64>) -> bool {
        if allowed.contains(&low) && allowed.contains(&high) {
            return true;
        }
        let allowed = if *allowed.end() == i64::MAX { format!("it must be at least {}", allowed.start()) } else { format!("allowed from {} to {}", allowed.start(), allowed.end()) };
        let message = format!("`{field}` = {} is out of range: {allowed}", self.written(span.clone()));
        self.error(span.start, message);
        false
    }

    /// [`bounded`](Self::bounded) for an optional plain number.
    pub(super) fn bounded_number<N: Copy + Into<i64>>(&mut self, field: &str, value: Option<&Spanned<N>>, allowed: RangeInclusive<i64>) -> bool {
        value.is_none_or(|v| {
            let n: i64 = (*v.get_ref()).into();
            self.bounded(field, v.span(), (n, n), allowed)
        })
    }

    /// [`bounded`](Self::bounded) for an optional whole number or range.
    pub(super) fn bounded_spec(&mut self, field: &str, spec: Option<&Spanned<IntSpec>>, allowed: RangeInclusive<i64>) -> bool {
        spec.is_none_or(|s| self.bounded(field, s.span(), (s.get_ref().low, s.get_ref().high), allowed))
    }

    /// A count of some of the whole's items (`failures` of `images`) can never be more than the
    /// whole: checked over the ranges as written (the most the part can be against the fewest
    /// the whole can be), so that no seed can draw a task that fails more than it has. At the part.
    pub(super) fn part_of(&mut self, (part, part_spec): (&str, Option<&Spanned<IntSpec>>), (whole, whole_spec): (&str, Option<&Spanned<IntSpec>>), whole_default: i64) -> bool {
        let Some(part_spec) = part_spec else { return true };
        let fewest = whole_spec.map_or(whole_default, |w| w.get_ref().low);
        if part_spec.get_ref().high <= fewest {
            return true;
        }
        let whole_written = whole_spec.map_or_else(|| format!("{whole_default} (its default)"), |w| self.written(w.span()).to_string());
        let message = format!(
            "`{part}` = {} can be more than `{whole}` = {whole_written}: a task cannot have more {part} than {whole}, so at most {fewest} here",
            self.written(part_spec.span())
        );
        self.error(part_spec.span().start, message);
        false
    }

    /// Every region of an entry must be a real Alibaba Cloud region or one the file declares in
    /// `regions = [...]`: a typo would otherwise put the task where no client asks.
    pub(super) fn regions_known(&mut self, regions: &Spanned<Choice<String>>) -> bool {
        let mut known = true;
        for region in &regions.get_ref().0 {
            if ALIBABA_REGIONS.contains(&region.as_str()) || self.regions.contains(region) {
                continue;
            }
            let hint = did_you_mean(region, ALIBABA_REGIONS.iter().copied().chain(self.regions.iter().map(String::as_str)));
            let message = format!(
                "unknown Alibaba Cloud region {region:?}{hint}: use a real region id (cn-hangzhou, ap-southeast-1, ...) or declare a made-up one at the top of the file: regions = [{region:?}]"
            );
            self.error(self.item_at(regions.span(), region), message);
            known = false;
        }
        known
    }

    /// A Huawei project id is 32 hex characters (what every HSS path carries), unless the file
    /// declares it in `projects = [...]`.
    pub(super) fn project_known(&mut self, project: &Spanned<String>) -> bool {
        let id = project.get_ref();
        if is_huawei_project_id(id) || self.projects.contains(id) {
            return true;
        }
        self.error(project.span().start, unknown_project(id, self.projects));
        false
    }

    /// Each phase's status may follow the one before by its product's transition table
    /// ([`Status::successors`]): a terminal status only last, no step backwards. Every status a
    /// phase may draw is checked against every one the phase before may.
    fn transitions<S: Status>(&mut self, phases: &[Spanned<PhaseSpec<S>>]) -> bool {
        for pair in phases.windows(2) {
            let (before, after) = (&pair[0].get_ref().status.0, &pair[1].get_ref().status.0);
            let wrong = before.iter().flat_map(|b| after.iter().map(move |a| (b.0, a.0))).find(|(b, a)| !b.may_become(*a));
            let Some((from, to)) = wrong else { continue };
            let message = if from.terminal() {
                format!("{:?} is a terminal status: the task never leaves it, so it must be the last phase ({:?} follows it here)", from.name(), to.name())
            } else {
                let allowed: Vec<String> = from.successors().iter().map(|s| format!("{:?}", s.name())).collect();
                format!("{:?} cannot follow {:?}: after {:?} comes {:?} again or one of {}", to.name(), from.name(), from.name(), from.name(), allowed.join(", "))
            };
            self.error(self.value_of(pair[1].span(), "status"), message);
            return false;
        }
        true
    }

    /// Warns about a generator of several tasks that draws nothing to set them apart in time: no
    /// range in `created` nor in its lifecycle, so every task is created at the same instant and
    /// changes status at the same instants (likely a forgotten range).
    pub(super) fn warn_if_alike<S: Status>(&mut self, entry: &Entry, created: Option<When>, lifecycle: &Option<schema::Lifecycle<S>>) {
        if !entry.generated || entry.count < 2 {
            return;
        }
        let one_instant = created.is_none_or(|w| w.low == w.high);
        let one_life = lifecycle.as_ref().is_none_or(|l| {
            l.get_ref().iter().all(|p| {
                let p = p.get_ref();
                p.status.0.len() == 1 && p.duration.is_none_or(|d| d.low == d.high) && p.reads.is_none_or(|r| r.low == r.high)
            })
        });
        if one_instant && one_life {
            let message = format!(
                "all {} tasks of this generator are created at the same instant and change status together: give `created` a range (e.g. \"-2h..+0s\") or a phase's `for` one (\"1m..10m\") to spread them",
                entry.count
            );
            self.built.warnings.push(self.source.error_at(entry.at, message));
        }
    }
}

/// Why a `project_id` (a task's or a credential's) is refused: not 32 hex characters and not
/// declared in `projects = [...]` by the load.
pub(super) fn unknown_project(id: &str, declared: &BTreeSet<String>) -> String {
    let hint = did_you_mean(id, declared.iter().map(String::as_str));
    format!("project_id {id:?} is not a Huawei project id (32 hex characters, e.g. {DEFAULT_PROJECT:?}){hint}: declare a made-up one at the top of the file: projects = [{id:?}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::faker::internet::en::{DomainSuffix, IPv4, Username};
    use fake::faker::lorem::en::Word as FakeWord;
    use fake::Fake;

    fn built(text: &str) -> (Vec<ScenarioError>, Built) {
        let file: schema::ScenarioFile = toml::from_str(text).expect("a scenario that parses");
        build_file(&Located { name: "w.toml", text }, 1_767_225_600_000, 7, &file, (&BTreeSet::new(), &BTreeSet::new()))
    }

    fn warnings(text: &str) -> Vec<String> {
        let (errors, built) = built(text);
        assert!(errors.is_empty(), "{errors:?}");
        built.warnings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_small_draw_is_random_range_s() {
        for seed in 0..50 {
            let (mut fast, mut rand) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            for n in (1..=40).chain([255, 1000, 1 << 20, u32::MAX / 3 + 7, u32::MAX]) {
                for _ in 0..50 {
                    assert_eq!(fast.below(n), rand.0.random_range(0..n as usize), "seed {seed}, 0..{n}");
                }
            }
        }
    }

    #[test]
    fn a_drawn_uuid_is_the_one_the_formatted_draws_made() {
        for seed in 0..200 {
            let (mut fast, mut formatted) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            for _ in 0..20 {
                let f = &mut formatted;
                let expected = format!("{}-{}-4{}-{}{}-{}", f.hex(8), f.hex(4), f.hex(3), char::from(b"89ab"[f.0.random_range(0..4)]), f.hex(3), f.hex(12));
                assert_eq!(fast.uuid().as_str(), expected);
            }
            assert_eq!(fast.index(1 << 20), formatted.index(1 << 20), "the generators stay in step");
        }
    }

    /// A big file's products are built (and their ids indexed) on threads of their own: the
    /// world is the one a small file's single thread makes, every id found by the index.
    #[test]
    fn ids_indexed_on_the_builders_threads_find_every_task() {
        let text = "[[sas.generate]]\ncount = 20000\ncreated = \"-1d..+0s\"\n[[ecs.generate]]\ncount = 300\ncreated = \"-1d..+0s\"\n";
        let (errors, big) = built(text);
        assert!(errors.is_empty(), "{errors:?}");
        let ids = big.sas.ids.as_ref().expect("indexed on its thread");
        for (slot, task) in big.sas.tasks.iter().enumerate() {
            assert_eq!(ids.find(crate::world::Record::id(task), |s| crate::world::Record::id(&big.sas.tasks[s as usize])), Some(slot as u32));
        }
        let loaded = super::super::load(&[super::super::Source::new("w.toml", text)], 1_767_225_600_000, Some(7)).expect("loads");
        assert_eq!(loaded.world.sas.len(), 20_000);
        for task in &big.sas.tasks {
            let found = loaded.world.sas.get(crate::world::Record::id(task)).expect("every id is found");
            assert_eq!((found.id, found.created), (task.id, task.created));
        }
        // Alone (too small for threads), the same tasks: the threads change nothing drawn.
        let (_, alone) = built("[[ecs.generate]]\ncount = 300\ncreated = \"-1d..+0s\"\n");
        let same = |a: &EcsTask, b: &EcsTask| a.id == b.id && a.created == b.created && a.resource_id == b.resource_id && a.lifecycle.phases() == b.lifecycle.phases();
        assert!(alone.ecs.ids.is_none() && alone.ecs.tasks.iter().zip(&big.ecs.tasks).all(|(a, b)| same(a, b)));
    }

    #[test]
    fn a_drawn_host_and_target_are_the_formatted_ones() {
        for seed in 0..300 {
            let (mut fast, mut formatted) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            let user: String = Username().fake_with_rng(&mut formatted.0);
            assert_eq!(fast.host(), format!("host-{}", user.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-")));
            let f = &mut formatted;
            let expected: String = if f.0.random_bool(0.5) {
                IPv4().fake_with_rng(&mut f.0)
            } else {
                let suffix: String = DomainSuffix().fake_with_rng(&mut f.0);
                let word: String = FakeWord().fake_with_rng(&mut f.0);
                format!("www.{word}.{suffix}")
            };
            assert_eq!(fast.target(), expected);
            assert_eq!(fast.index(1 << 20), formatted.index(1 << 20), "the generators stay in step");
        }
    }

    #[test]
    fn a_drawn_word_is_fakes_and_its_lists_are_ascii() {
        for seed in 0..300 {
            let (mut fast, mut formatted) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            for _ in 0..20 {
                let word: String = FakeWord().fake_with_rng(&mut formatted.0);
                assert_eq!(fast.word(), word);
            }
            assert_eq!(fast.index(1 << 20), formatted.index(1 << 20), "the generators stay in step");
        }
        // The host names' lower-casing is per character; on these lists it is ASCII's.
        assert!([WORDS, FIRST_NAMES, DOMAIN_SUFFIXES].iter().all(|list| !list.is_empty() && list.iter().all(|w| w.is_ascii())));
    }

    /// Ids drawn into one buffer are the ones drawn a character at a time through rand.
    #[test]
    fn drawn_ids_are_the_characters_rand_draws() {
        for seed in 0..40 {
            let (mut fast, mut slow) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            let mut id = String::from("t-bp");
            id.extend((0..18).map(|_| char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[slow.0.random_range(0..36usize)])));
            assert_eq!(fast.ecs_task_id().as_str(), id);
            let resource: String = format!("m-bp{}", slow.hex(18));
            assert_eq!(fast.resource_id().as_str(), resource);
            assert_eq!(fast.index(1 << 20), slow.index(1 << 20), "the generators stay in step");
        }
    }

    /// `Draw` names rand's `StdRng`'s generator: the same words from the same seed.
    #[test]
    fn the_stream_is_std_rng_s() {
        use rand::Rng;
        for seed in [0, 1, 7, 42, u64::MAX] {
            let (mut named, mut std) = (ChaCha12Rng::seed_from_u64(seed), rand::rngs::StdRng::seed_from_u64(seed));
            for _ in 0..300 {
                assert_eq!(named.next_u32(), std.next_u32());
                assert_eq!(named.next_u64(), std.next_u64());
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

        /// Drawn in chunks, an entry's tasks are the one loop's, and the draw ends where the
        /// loop's does: for tasks that take the same words each, and for tasks whose words vary
        /// (a list of drawn length; a shape picked by a drawn byte, as user names are), so that
        /// chunks start at the wrong place and are drawn again.
        #[test]
        fn tasks_drawn_in_chunks_are_the_loops(seed: u64, count in 0u32..400, chunks in 1usize..6, shape in 0u8..3) {
            let make = |draw: &mut Draw, n: u32| -> (u32, String, i64) {
                let words = match shape {
                    0 => 0,
                    1 => draw.index(3),
                    _ => usize::from(draw.byte() < 8),
                };
                let word: String = (0..words).map(|_| draw.word()).collect();
                (n, format!("{}{word}", draw.ecs_task_id().as_str()), draw.between(-5, 1_000_000))
            };
            let (mut one, mut split) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            let looped: Vec<_> = (0..count).map(|n| make(&mut one, n)).collect();
            proptest::prop_assert_eq!(draw_in_chunks(&mut split, count, chunks, &make), looped);
            proptest::prop_assert_eq!(split.0.get_word_pos(), one.0.get_word_pos());
        }
    }

    #[test]
    fn a_wide_draw_is_random_range_s() {
        let ranges = [(0, 0), (0, 1), (-5, 5), (0, 120_000), (i64::MIN, i64::MAX), (i64::MIN, 0), (i64::MIN + 1, i64::MAX), (-1, i64::MAX), (1_767_225_600_000 - 2_592_000_000, 1_767_225_600_000)];
        for seed in 0..50 {
            let (mut fast, mut rand) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            for (low, high) in ranges {
                for _ in 0..20 {
                    assert_eq!(fast.between(low, high), rand.0.random_range(low..=high), "seed {seed}, {low}..={high}");
                }
            }
            assert_eq!(fast.index(1 << 20), rand.index(1 << 20), "the generators stay in step");
        }
    }

    /// Every draw an index makes is rand's `random_range(0..len)`'s, for lists of any length.
    #[test]
    fn a_drawn_index_is_random_range_s() {
        for seed in 0..50 {
            let (mut fast, mut rand) = (Draw(ChaCha12Rng::seed_from_u64(seed)), Draw(ChaCha12Rng::seed_from_u64(seed)));
            for len in [1usize, 2, 3, 7, 36, 1 << 20, u32::MAX as usize, u32::MAX as usize + 1, usize::MAX / 3] {
                assert_eq!(fast.index(len), rand.0.random_range(0..len), "seed {seed}, 0..{len}");
            }
        }
    }

    #[test]
    fn a_generator_that_draws_nothing_in_time_is_warned_about_at_its_entry() {
        let alike = "[[ecs.generate]]\ncount = 5\ncreated = \"-1h\"\naction = [\"ImportImage\", \"ExportImage\"]\n";
        assert_eq!(
            warnings(alike),
            ["w.toml:1:1: all 5 tasks of this generator are created at the same instant and change status together: give `created` a range (e.g. \"-2h..+0s\") or a phase's `for` one (\"1m..10m\") to spread them"]
        );
        let degenerate = "\n[[hss.generate]]\ncount = 2\ncreated = \"-1h..-1h\"\nlifecycle = [{ status = \"running\", for = \"5m..5m\" }, { status = \"finished\" }]\n";
        assert_eq!(warnings(degenerate).len(), 1, "a range whose ends are equal draws one value");
        assert!(warnings(degenerate)[0].starts_with("w.toml:2:1: all 2 tasks"));
    }

    #[test]
    fn a_generator_with_a_range_in_time_or_one_task_is_not_warned_about() {
        for text in [
            "[[ecs.generate]]\ncount = 5\ncreated = \"-2h..+0s\"\n",
            "[[sas.generate]]\ncount = 5\nlifecycle = [{ status = \"Processing\", for = \"1m..9m\" }, { status = \"Success\" }]\n",
            "[[avds.generate]]\ncount = 5\nlifecycle = [{ status = \"running\", for = \"1m\" }, { status = [\"finished\", \"aborted\"] }]\n",
            "[[hss.image_generate]]\ncount = 1\n",
            "[[hss.image_tasks]]\ntask_id = \"one\"\n",
        ] {
            assert_eq!(warnings(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn value_of_finds_a_keys_value_not_a_longer_key_or_a_word_in_a_string() {
        let text = "{ statuses = 1, note = \"status = x\", status = \"Waiting\" }";
        let source = Located { name: "v.toml", text };
        let none = BTreeSet::new();
        let b = Builder { source: &source, start: 0, seed: 0, regions: &none, projects: &none, errors: Vec::new(), built: Built::default() };
        assert_eq!(&text[b.value_of(0..text.len(), "status")..], "\"Waiting\" }");
        assert_eq!(b.value_of(0..text.len(), "missing"), 0);
        let plain = "{ statuses = 1, status = \"Waiting\" }";
        let source = Located { name: "v.toml", text: plain };
        let b = Builder { source: &source, ..b };
        assert_eq!(&plain[b.value_of(0..plain.len(), "status")..], "\"Waiting\" }");
    }
}
