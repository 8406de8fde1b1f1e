//! One product's tasks and their indexes. State is derived from the instant asked about, so the
//! indexes are over what does not change with time (ids, partitions, creation order) plus, per
//! status, the instants a task enters and leaves it: `count(status S at t)` is then
//! `#entries ≤ t − #exits ≤ t`, two binary searches, whatever the clock says.
//!
//! * Tasks live in chunks shared between world versions (a run-time load adds a chunk, a delete
//!   rebuilds only the indexes); a task is known by its slot, a `u32`.
//! * `order`: every live slot, newest first (ties by id): the product's listing order.
//! * `ids`: an open-addressing table of slots by id hash (4 bytes a slot, no copy of the id).
//! * partitions (ECS: region and owner; HSS: project, enterprise project, type): each its slots
//!   newest first with their creation instants (a binary search finds "created by now" or a
//!   StartTime/EndTime range), and per indexed status the sorted entry and exit instants, plus the
//!   smallest and largest offsets from creation, which bound where a task in that status can sit
//!   in creation order. Tasks whose lifecycle has a read-bounded phase cannot be indexed by time:
//!   they are on a side list that counts evaluate one by one. For a status no task of the
//!   partition leaves once in it (ECS Finished), a settled index (`Settled`) lets a page's walk
//!   skip the tasks that had not entered it yet, a block of 32 (or 1,024) at a time.
//! * searchable tasks (AVDS scans): their texts lower-cased side by side in one buffer, its
//!   trigram index (`ngram.rs`: which tasks a search must check), and the matches of recent
//!   searches remembered by key (bounded in bytes, process-wide), per store version: a memo of
//!   what does not change, not state.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::ngram::GramIndex;
use crate::instant::Millis;

/// A partition's key: up to three words (region and owner; project, enterprise project, type).
pub type PartKey<'a> = [Option<&'a str>; 3];

/// What a task must tell its store.
pub trait Record: Send + Sync + 'static {
    fn id(&self) -> &str;
    fn created(&self) -> Millis;
    /// The partition the task lists in; None for a product whose queries are not partitioned.
    fn part(&self) -> Option<PartKey<'_>> {
        None
    }
    /// How many status predicates a partition indexes.
    const PREDICATES: usize = 0;
    /// Calls `f(predicate, from, to)` for every interval in which the task satisfies a predicate
    /// (`to` = `Millis::MAX`: never ends); false when its state depends on reads.
    fn intervals(&self, _f: &mut dyn FnMut(usize, Millis, Millis)) -> bool {
        true
    }
    /// Whether the task satisfies the predicate at `now` (not counting a read).
    fn satisfies(&self, _predicate: usize, _now: Millis) -> bool {
        false
    }
    /// Whether a free-text search looks through the tasks: the store then keeps their texts,
    /// lower-cased, side by side in one buffer.
    const SEARCHABLE: bool = false;
    /// Calls `f` with each text a search looks through (an AVDS scan's name and targets).
    fn search_texts(&self, _f: &mut dyn FnMut(&str)) {}
}

/// Appends `text.to_lowercase()` to `out`: ASCII lower-cased in place, byte for byte (no
/// allocation), anything else the Unicode way.
pub(crate) fn push_lowered(out: &mut String, text: &str) {
    let start = out.len();
    if text.is_ascii() {
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// The lower-cased texts of every task, one after another in memory order (a few bytes a task,
/// not a cache miss a task), and their trigram index: a search reads the tasks its pattern's
/// grams point at, or all of them when its pattern has no gram the index keeps.
#[derive(Debug, Default)]
struct TextIndex {
    text: String,
    /// Per task: its slot and the end of its texts in `ends` (they start where the previous
    /// task's end).
    tasks: Vec<(u32, u32)>,
    /// Each text's end in `text` (it starts where the previous one ends): 4 bytes a text.
    ends: Vec<u32>,
    grams: GramIndex,
}

/// Task `i`'s texts, from a [`TextIndex`]'s parts.
fn texts_of<'t>(text: &'t str, tasks: &[(u32, u32)], ends: &'t [u32], i: usize) -> impl Iterator<Item = &'t str> + 't {
    let from = if i == 0 { 0 } else { tasks[i - 1].1 as usize };
    (from..tasks[i].1 as usize).map(move |k| {
        let start = if k == 0 { 0 } else { ends[k - 1] as usize };
        &text[start..ends[k] as usize]
    })
}

impl TextIndex {
    /// The texts of the live tasks (`order`), in slot order, and their index.
    fn build<'a, T: Record>(order: &[u32], get: impl Fn(u32) -> &'a T) -> TextIndex {
        let mut live = order.to_vec();
        live.sort_unstable();
        let (mut bytes, mut texts) = (0usize, 0usize);
        for &s in &live {
            get(s).search_texts(&mut |t| {
                bytes += t.len();
                texts += 1;
            });
        }
        let mut index = TextIndex { text: String::with_capacity(bytes), tasks: Vec::with_capacity(live.len()), ends: Vec::with_capacity(texts), grams: GramIndex::default() };
        for s in live {
            get(s).search_texts(&mut |t| {
                push_lowered(&mut index.text, t);
                index.ends.push(index.text.len() as u32);
            });
            index.tasks.push((s, index.ends.len() as u32));
        }
        index.text.shrink_to_fit();
        let started = std::time::Instant::now();
        let (text, tasks, ends) = (index.text.as_str(), &index.tasks, &index.ends);
        index.grams = GramIndex::build(tasks.len(), text.len(), |i, f| texts_of(text, tasks, ends, i).for_each(|t| f(t.as_bytes())));
        tracing::debug!(tasks = tasks.len(), text_bytes = text.len(), gram_bytes = index.grams.bytes(), micros = started.elapsed().as_micros() as u64, "search texts indexed");
        index
    }

    /// Whether one of task `i`'s texts `matches`.
    fn task_matches(&self, i: usize, matches: &impl Fn(&str) -> bool) -> bool {
        texts_of(&self.text, &self.tasks, &self.ends, i).any(matches)
    }

    /// Calls `found` with the slot of each task (in memory order) one of whose texts `matches`,
    /// where `pieces` are what a matching text holds whole: the index's candidates checked, or
    /// every task when the pieces narrow nothing.
    fn matching<P: AsRef<[u8]>>(&self, pieces: &[P], matches: impl Fn(&str) -> bool, mut found: impl FnMut(u32)) {
        match self.grams.candidates(pieces) {
            Some(listed) => listed.into_iter().filter(|&i| self.task_matches(i as usize, &matches)).for_each(|i| found(self.tasks[i as usize].0)),
            None => (0..self.tasks.len()).filter(|&i| self.task_matches(i, &matches)).for_each(|i| found(self.tasks[i].0)),
        }
    }
}

/// Bytes every store's search cache may hold (`serve --search-cache-bytes`), process-wide.
static SEARCH_CACHE_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_SEARCH_CACHE_BYTES);

/// The default of `--search-cache-bytes`: 16 MiB, the matches of a few dozen broad patterns over
/// the 1M world's 125,000 scans (4 bytes a match).
pub const DEFAULT_SEARCH_CACHE_BYTES: usize = 16 << 20;

/// Sets the bound of every store's search cache (0 turns the cache off: every search reads the
/// index's candidates).
pub fn set_search_cache_bytes(bytes: usize) {
    SEARCH_CACHE_BYTES.store(bytes, Ordering::Relaxed);
}

/// What a search found, kept for the next request with the same key: the matching slots split
/// by the caller into `first` (in the caller's order) and `rest` (in memory order).
#[derive(Debug, Default)]
pub struct Matched {
    pub first: Box<[u32]>,
    pub rest: Box<[u32]>,
}

impl Matched {
    /// What an entry is charged against the bound: its slots, its key and the bookkeeping.
    fn cost(&self, key: &str) -> usize {
        (self.first.len() + self.rest.len()) * 4 + 2 * key.len() + 96
    }
}

/// Searches already answered on this store version, by key (the caller's lower-cased pattern and
/// whatever else decides what matches), up to [`SEARCH_CACHE_BYTES`]; the oldest entry is
/// forgotten first. Per store version, so a load or a delete starts it afresh.
#[derive(Debug, Default)]
struct SearchCache {
    entries: HashMap<Box<str>, Arc<Matched>>,
    /// Keys in insertion order, the oldest first.
    age: VecDeque<Box<str>>,
    bytes: usize,
}

impl SearchCache {
    fn insert(&mut self, key: &str, matched: Arc<Matched>, bound: usize) {
        let cost = matched.cost(key);
        if cost > bound || self.entries.contains_key(key) {
            return;
        }
        while self.bytes + cost > bound {
            let Some(old) = self.age.pop_front() else { break };
            if let Some(gone) = self.entries.remove(&old) {
                self.bytes -= gone.cost(&old);
            }
        }
        self.entries.insert(key.into(), matched);
        self.age.push_back(key.into());
        self.bytes += cost;
    }
}

/// A fast string hash for the id table and partition keys (FxHash's step, murmur's finish).
pub fn hash_str(text: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let bytes = text.as_bytes();
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn hash_key(key: &PartKey) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64;
    for word in key {
        h = h.rotate_left(17) ^ word.map_or(0x5bd1_e995, hash_str);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Slots by id: open addressing with linear probing over `u32`s (slot + 1; 0 is empty), sized
/// at 1.5× the entries. Ids are compared through the caller's `id_of`, so none is copied.
#[derive(Debug, Default, Clone)]
pub struct IdIndex {
    table: Vec<u32>,
    len: usize,
}

impl IdIndex {
    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn with_capacity(n: usize) -> IdIndex {
        IdIndex { table: vec![0; n + n / 2 + 1], len: 0 }
    }

    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.table.len() as u128) >> 64) as usize
    }

    pub fn find<'a>(&self, id: &str, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let mut at = self.home(hash_str(id));
        loop {
            match self.table[at] {
                0 => return None,
                s if id_of(s - 1) == id => return Some(s - 1),
                _ => at = if at + 1 == self.table.len() { 0 } else { at + 1 },
            }
        }
    }

    /// Room for `n` entries in all without growing.
    pub fn reserve<'a>(&mut self, n: usize, id_of: impl Fn(u32) -> &'a str) {
        if n * 3 > self.table.len() * 2 {
            let old = std::mem::take(&mut self.table);
            let len = self.len;
            *self = IdIndex::with_capacity(n.max(len));
            self.table.iter_mut().for_each(|e| *e = 0);
            self.len = 0;
            for s in old.into_iter().filter(|&s| s != 0) {
                self.place(s - 1, &id_of);
            }
        }
    }

    fn place<'a>(&mut self, slot: u32, id_of: &impl Fn(u32) -> &'a str) {
        let mut at = self.home(hash_str(id_of(slot)));
        while self.table[at] != 0 {
            at = if at + 1 == self.table.len() { 0 } else { at + 1 };
        }
        self.table[at] = slot + 1;
        self.len += 1;
    }

    /// Adds a slot unless one with the same id is there; returns that one.
    pub fn insert<'a>(&mut self, slot: u32, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        if (self.len + 1) * 3 > self.table.len() * 2 {
            self.grow(&id_of);
        }
        let id = id_of(slot);
        let mut at = self.home(hash_str(id));
        loop {
            match self.table[at] {
                0 => {
                    self.table[at] = slot + 1;
                    self.len += 1;
                    return None;
                }
                s if id_of(s - 1) == id => return Some(s - 1),
                _ => at = if at + 1 == self.table.len() { 0 } else { at + 1 },
            }
        }
    }

    fn grow<'a>(&mut self, id_of: &impl Fn(u32) -> &'a str) {
        let old = std::mem::take(&mut self.table);
        *self = IdIndex::with_capacity((self.len * 2).max(16));
        // The ids are distinct already: each goes to the first free place from its home.
        for s in old.into_iter().filter(|&s| s != 0) {
            self.place(s - 1, id_of);
        }
    }
}

/// Entry and exit instants of one indexed status within a partition.
#[derive(Debug, Default)]
struct PredicateIndex {
    entries: Box<[Millis]>,
    /// Only the finite ones.
    exits: Box<[Millis]>,
    /// Over every interval: the least entry offset from creation, and the greatest exit offset
    /// (`Millis::MAX` when some interval never ends).
    min_entry: Millis,
    max_exit: Millis,
}

impl PredicateIndex {
    fn count(&self, now: Millis) -> usize {
        let entered = self.entries.partition_point(|&e| e <= now);
        let left = self.exits.partition_point(|&e| e <= now);
        entered - left
    }
}

#[derive(Debug)]
struct Partition {
    /// Slots, newest first (ties by id), and their creation instants.
    order: Box<[u32]>,
    created: Box<[Millis]>,
    predicates: Box<[PredicateIndex]>,
    /// Tasks whose state depends on reads: counted by evaluating them.
    side: Box<[u32]>,
    /// Where the tasks in a settling predicate entered it, for walks that skip the others.
    settled: Settled,
}

/// Predicate `p`'s bit in a set of predicates (none past the 32nd: those never settle).
fn bit(p: usize) -> u32 {
    u32::try_from(p).ok().and_then(|p| 1u32.checked_shl(p)).unwrap_or(0)
}

/// `p`'s rank among the predicates of a set (how many come before it), if it is in it.
fn rank_in(predicates: u32, p: usize) -> Option<usize> {
    let bit = bit(p);
    (predicates & bit != 0).then(|| (predicates & (bit - 1)).count_ones() as usize)
}

/// The bits of a [`Settled`] key that say which predicate a task ends in.
fn tag_mask(tag_bits: u32) -> u32 {
    1u32.checked_shl(tag_bits).map_or(u32::MAX, |b| b - 1)
}

/// Tasks per block of [`Settled`]'s first level (and blocks per block of its second).
const BLOCK_BITS: u32 = 5;
const BLOCK: usize = 1 << BLOCK_BITS;
const GROUP_BITS: u32 = 2 * BLOCK_BITS;

/// A partition's settling predicates: those a task never leaves once in them (every task that
/// satisfies one at some instant satisfies it from then on: an ECS task Finished or Failed).
/// In such a predicate, the tasks satisfying it at `now` are exactly those that entered it by
/// `now`, so a walk for it can skip, without reading a task, every block of the listing where
/// nothing had entered yet: the newest tasks, mostly still running, which a walk would otherwise
/// evaluate one by one (their number grows with the world's density).
///
/// Per position (listing order): one `u32`, the predicate the task ends in (+1; 0 for none) in
/// the low `tag_bits`, and in the rest its entry into that final predicate as an offset from its
/// creation, saturated (a lower bound: a candidate is still checked exactly). Per block of
/// [`BLOCK`] positions, and per group of [`BLOCK`] blocks, per settling predicate: the least
/// entry instant of a task ending in it (`Millis::MAX`: none). About 4.5 bytes a task, and
/// nothing for a partition without a settling predicate (or with tasks on the side list).
#[derive(Debug, Default)]
struct Settled {
    /// Bit `p`: predicate `p` settles in this partition.
    predicates: u32,
    tag_bits: u32,
    keys: Box<[u32]>,
    /// `[block][k]`: the least entry in block `block` into the `k`-th settling predicate.
    blocks: Box<[Millis]>,
    groups: Box<[Millis]>,
}

impl Settled {
    /// The `u32` of a task ending in `predicate`, entered `offset` after its creation.
    fn key(tag_bits: u32, predicate: usize, offset: Millis) -> u32 {
        let most = u32::MAX.checked_shr(tag_bits).unwrap_or(0);
        let offset = u32::try_from(offset.max(0)).map_or(most, |o| o.min(most));
        offset.checked_shl(tag_bits).unwrap_or(0) | (predicate as u32 + 1)
    }

    /// From the keys of a partition's tasks (`created` their creation instants) and the
    /// predicates that settle in it: the block minima, or nothing when none settles.
    fn build(keys: Vec<u32>, created: &[Millis], predicates: u32, tag_bits: u32) -> Settled {
        if predicates == 0 {
            return Settled::default();
        }
        let width = predicates.count_ones() as usize;
        let blocks_len = keys.len().div_ceil(BLOCK);
        let mut blocks = vec![Millis::MAX; blocks_len * width];
        let mut groups = vec![Millis::MAX; blocks_len.div_ceil(BLOCK) * width];
        // Each tag's rank, looked up once a task (a load builds this for a million).
        let ranks: Vec<Option<usize>> = (0..=tag_mask(tag_bits).min(64)).map(|tag| Settled::rank(predicates, tag_bits, tag)).collect();
        for (i, &key) in keys.iter().enumerate() {
            let Some(&Some(k)) = ranks.get((key & tag_mask(tag_bits)) as usize) else { continue };
            let entered = created[i].saturating_add(Millis::from(key >> tag_bits));
            let (b, g) = ((i >> BLOCK_BITS) * width + k, (i >> GROUP_BITS) * width + k);
            blocks[b] = blocks[b].min(entered);
            groups[g] = groups[g].min(entered);
        }
        Settled { predicates, tag_bits, keys: keys.into_boxed_slice(), blocks: blocks.into_boxed_slice(), groups: groups.into_boxed_slice() }
    }

    /// Which of the settling predicates a key ends in (its rank among them), if one.
    fn rank(predicates: u32, tag_bits: u32, key: u32) -> Option<usize> {
        let p = (key & tag_mask(tag_bits)).checked_sub(1)?;
        rank_in(predicates, p as usize)
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.keys.len() * 4 + (self.blocks.len() + self.groups.len()) * std::mem::size_of::<Millis>()
    }
}

/// A walk's way past the tasks that cannot satisfy a settling predicate at `now`.
#[derive(Debug, Clone, Copy)]
struct Sieve {
    /// The predicate's tag (predicate + 1) and its rank among the partition's settling ones.
    tag: u32,
    rank: usize,
    now: Millis,
}

impl Sieve {
    /// For `predicate` at `now` in `part`, if it settles there.
    fn of(part: &Partition, predicate: usize, now: Millis) -> Option<Sieve> {
        rank_in(part.settled.predicates, predicate).map(|rank| Sieve { tag: predicate as u32 + 1, rank, now })
    }

    /// Whether the task at position `i` may satisfy the predicate: it ends in it, entered by now.
    fn candidate(&self, part: &Partition, i: usize) -> bool {
        let settled = &part.settled;
        let key = settled.keys[i];
        key & tag_mask(settled.tag_bits) == self.tag && part.created[i].saturating_add(Millis::from(key >> settled.tag_bits)) <= self.now
    }

    fn block_open(&self, part: &Partition, block: usize) -> bool {
        let width = part.settled.predicates.count_ones() as usize;
        part.settled.blocks[block * width + self.rank] <= self.now
    }

    fn group_open(&self, part: &Partition, group: usize) -> bool {
        let width = part.settled.predicates.count_ones() as usize;
        part.settled.groups[group * width + self.rank] <= self.now
    }

    /// The first candidate position in `[lo, hi)`, or `hi`.
    fn first(&self, part: &Partition, lo: usize, hi: usize) -> usize {
        let mut i = lo;
        while i < hi {
            if !self.group_open(part, i >> GROUP_BITS) {
                i = ((i >> GROUP_BITS) + 1) << GROUP_BITS;
                continue;
            }
            let end = (((i >> BLOCK_BITS) + 1) << BLOCK_BITS).min(hi);
            if self.block_open(part, i >> BLOCK_BITS) {
                if let Some(found) = (i..end).find(|&j| self.candidate(part, j)) {
                    return found;
                }
            }
            i = end;
        }
        hi
    }

    /// One past the last candidate position in `[lo, hi)`, or `lo`.
    fn last(&self, part: &Partition, lo: usize, hi: usize) -> usize {
        let mut i = hi;
        while i > lo {
            let at = i - 1;
            if !self.group_open(part, at >> GROUP_BITS) {
                i = ((at >> GROUP_BITS) << GROUP_BITS).max(lo);
                continue;
            }
            let start = ((at >> BLOCK_BITS) << BLOCK_BITS).max(lo);
            if self.block_open(part, at >> BLOCK_BITS) {
                if let Some(found) = (start..i).rev().find(|&j| self.candidate(part, j)) {
                    return found + 1;
                }
            }
            i = start;
        }
        lo
    }
}

impl Partition {
    /// Positions `[lo, hi)` created in `[from, upper]`.
    fn range(&self, upper: Millis, from: Option<Millis>) -> (usize, usize) {
        let lo = self.created.partition_point(|&c| c > upper);
        let hi = match from {
            Some(from) => self.created.partition_point(|&c| c >= from),
            None => self.created.len(),
        };
        (lo, hi.max(lo))
    }
}

#[derive(Debug)]
struct Inner<T> {
    chunks: Vec<Arc<Vec<T>>>,
    /// The first slot of each chunk.
    bases: Vec<u32>,
    order: Vec<u32>,
    ids: IdIndex,
    partitions: Vec<Partition>,
    /// (key hash, partition), sorted by hash.
    lookup: Vec<(u64, u32)>,
    texts: TextIndex,
    searches: Mutex<SearchCache>,
}

/// One product's tasks, newest first (ties by id), indexed. Cloning shares everything.
#[derive(Debug)]
pub struct Store<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Store<T> {
    fn clone(&self) -> Self {
        Store { inner: self.inner.clone() }
    }
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store { inner: Arc::new(Inner { chunks: Vec::new(), bases: Vec::new(), order: Vec::new(), ids: IdIndex::default(), partitions: Vec::new(), lookup: Vec::new(), texts: TextIndex::default(), searches: Mutex::default() }) }
    }
}

fn slot_in<'a, T>(chunks: &'a [Arc<Vec<T>>], bases: &[u32], slot: u32) -> &'a T {
    if chunks.len() == 1 {
        return &chunks[0][slot as usize];
    }
    let chunk = bases.partition_point(|&b| b <= slot) - 1;
    &chunks[chunk][(slot - bases[chunk]) as usize]
}

/// An instant as a `u64` in the same order (the sign bit flipped).
fn ordered(at: Millis) -> u64 {
    (at as u64) ^ (1 << 63)
}

/// Sorts by `key`, stably: a least-significant-digit radix sort, 11 bits a pass over only the
/// bits in which the keys differ (three passes for instants within a few weeks), for the sorts
/// of a load (a million instants: a comparison sort was a tenth of building the world).
fn radix_sort_by_key<T: Copy>(items: &mut [T], key: impl Fn(&T) -> u64) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    if items.len() < 1024 {
        items.sort_by_key(|t| key(t));
        return;
    }
    let (low, high) = items.iter().fold((u64::MAX, 0), |(low, high), t| (low.min(key(t)), high.max(key(t))));
    let bits = u64::BITS - (high - low).leading_zeros();
    let mut from = items.to_vec();
    let mut to = items.to_vec();
    for pass in 0..bits.div_ceil(DIGIT) {
        let shift = pass * DIGIT;
        let digit = |t: &T| (((key(t) - low) >> shift) & MASK) as usize;
        let mut starts = [0usize; 1 << DIGIT];
        for t in &from {
            starts[digit(t)] += 1;
        }
        let mut sum = 0;
        for start in starts.iter_mut() {
            (*start, sum) = (sum, sum + *start);
        }
        for t in &from {
            let d = digit(t);
            to[starts[d]] = *t;
            starts[d] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    items.copy_from_slice(&from);
}

/// Newest first, ties by id: the listing order.
fn newer<T: Record>(a: &T, b: &T) -> std::cmp::Ordering {
    b.created().cmp(&a.created()).then_with(|| a.id().cmp(b.id()))
}

impl<T: Record> Store<T> {
    pub fn from_tasks(tasks: Vec<T>) -> Store<T> {
        Store::default().extend(tasks)
    }

    /// This store plus `tasks` (whose ids must be new): the existing tasks are shared, read
    /// counters and all.
    pub fn extend(&self, tasks: Vec<T>) -> Store<T> {
        self.extend_indexed(tasks, IdIndex::default())
    }

    /// [`extend`](Self::extend) with `ids`, the new tasks' ids already indexed by their position
    /// in `tasks` (the loader's duplicate check made it): on an empty store those positions are
    /// the slots, and the index is kept instead of built again. Otherwise it is not used.
    pub fn extend_indexed(&self, tasks: Vec<T>, ids: IdIndex) -> Store<T> {
        if tasks.is_empty() {
            return self.clone();
        }
        let mut chunks = self.inner.chunks.clone();
        let mut bases = self.inner.bases.clone();
        let first = bases.last().zip(chunks.last()).map_or(0, |(b, c)| b + c.len() as u32);
        // Sorted on (created, slot) pairs side by side, the ids looked at only on a tie: the same
        // order as `newer`, without two chunk lookups and two task reads a comparison (a sort of
        // a million tasks was a sixth of a load).
        // A radix sort on the instants (newest first), then ties (equal instants, side by side)
        // by id: the same order as a comparison sort, in a few linear passes.
        let mut keyed: Vec<(Millis, u32)> = tasks.iter().zip(first..).map(|(t, s)| (t.created(), s)).collect();
        radix_sort_by_key(&mut keyed, |&(created, _)| !ordered(created));
        let id = |s: u32| tasks[(s - first) as usize].id();
        let mut tie = 0;
        while tie < keyed.len() {
            let end = tie + keyed[tie..].iter().take_while(|k| k.0 == keyed[tie].0).count();
            if end - tie > 1 {
                keyed[tie..end].sort_unstable_by(|a, b| id(a.1).cmp(id(b.1)));
            }
            tie = end;
        }
        let fresh: Vec<u32> = keyed.into_iter().map(|(_, s)| s).collect();
        bases.push(first);
        chunks.push(Arc::new(tasks));
        let order = if self.inner.order.is_empty() {
            fresh
        } else {
            let (old, mut merged) = (&self.inner.order, Vec::with_capacity(self.inner.order.len() + fresh.len()));
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < fresh.len() {
                if newer(slot_in(&chunks, &bases, old[i]), slot_in(&chunks, &bases, fresh[j])).is_le() {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(fresh[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&old[i..]);
            merged.extend_from_slice(&fresh[j..]);
            merged
        };
        let ids = (first == 0 && ids.len() == order.len()).then_some(ids);
        Store { inner: Arc::new(Inner::assemble(chunks, bases, order, ids)) }
    }

    /// The store less the task with this id; None when there is none.
    pub fn without(&self, id: &str) -> Option<Store<T>> {
        let gone = self.slot_of(id)?;
        let order: Vec<u32> = self.inner.order.iter().copied().filter(|&s| s != gone).collect();
        Some(Store { inner: Arc::new(Inner::assemble(self.inner.chunks.clone(), self.inner.bases.clone(), order, None)) })
    }

    pub fn len(&self) -> usize {
        self.inner.order.len()
    }

    /// How many tasks are created by `now`: a binary search over the listing (newest first).
    pub fn created_by(&self, now: Millis) -> usize {
        let order = &self.inner.order;
        order.len() - order.partition_point(|&s| self.slot(s).created() > now)
    }

    pub fn is_empty(&self) -> bool {
        self.inner.order.is_empty()
    }

    fn slot(&self, slot: u32) -> &T {
        slot_in(&self.inner.chunks, &self.inner.bases, slot)
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        self.inner.ids.find(id, |s| self.slot(s).id())
    }

    /// Every task, newest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.inner.order.iter().map(move |&s| self.slot(s))
    }

    /// Every task in no particular order: in memory order, the fastest way through all of them
    /// (a listing order costs a cache miss a task on a big store).
    pub fn scan(&self) -> impl Iterator<Item = &T> {
        let slots: usize = self.inner.chunks.iter().map(|c| c.len()).sum();
        // Tasks deleted at run time stay in their chunk: then only the listing knows who is live.
        let whole = slots == self.inner.order.len();
        let in_memory = whole.then(|| self.inner.chunks.iter().flat_map(|c| c.iter()));
        let listed = (!whole).then(|| self.iter());
        in_memory.into_iter().flatten().chain(listed.into_iter().flatten())
    }

    /// Calls `found` with each task (in memory order) one of whose search texts (lower-cased)
    /// `matches` holds for. `pieces` are byte strings every text `matches` holds whole (a
    /// pattern's literal parts): the trigram index narrows the tasks read to those holding them all.
    pub fn search<'s, P: AsRef<[u8]>>(&'s self, pieces: &[P], matches: impl Fn(&str) -> bool, mut found: impl FnMut(&'s T)) {
        self.inner.texts.matching(pieces, matches, |slot| found(self.slot(slot)));
    }

    /// How many tasks the trigram index names for `pieces` (None: it narrows nothing).
    #[cfg(test)]
    pub(crate) fn search_candidates<P: AsRef<[u8]>>(&self, pieces: &[P]) -> Option<usize> {
        self.inner.texts.grams.candidates(pieces).map(|c| c.len())
    }

    /// Whether `predicate` settles in the partition `key` (its walks skip by [`Settled`]).
    #[cfg(test)]
    pub(crate) fn settles(&self, key: &PartKey, predicate: usize) -> bool {
        self.partition(key).is_some_and(|p| rank_in(p.settled.predicates, predicate).is_some())
    }

    /// What [`search_cached`](Self::search_cached) remembers under `key`, if it does: a lookup.
    pub fn remembered(&self, key: &str) -> Option<Arc<Matched>> {
        if SEARCH_CACHE_BYTES.load(Ordering::Relaxed) == 0 {
            return None;
        }
        // Poisoned: see `search_cached`.
        self.inner.searches.lock().unwrap_or_else(|e| e.into_inner()).entries.get(key).cloned()
    }

    /// The live tasks one of whose search texts `matches` holds for (`pieces` as for
    /// [`search`](Self::search)), split by `first` (those it ranks, sorted by rank then by
    /// `order`; the rest in memory order), remembered under `key`: the next search with the same
    /// key costs a lookup. `key` must decide `pieces`, `matches`, `keep`, `first` and `order`.
    /// (Ranks are read once a task: a sort that compared tasks would miss the cache per compare.)
    #[allow(clippy::too_many_arguments)]
    pub fn search_cached<P: AsRef<[u8]>, K: Ord>(&self, key: &str, pieces: &[P], matches: impl Fn(&str) -> bool, keep: impl Fn(&T) -> bool, first: impl Fn(&T) -> Option<K>, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> Arc<Matched> {
        if let Some(hit) = self.remembered(key) {
            return hit;
        }
        let (mut firsts, mut rest) = (Vec::new(), Vec::new());
        self.inner.texts.matching(pieces, matches, |slot| {
            let task = self.slot(slot);
            if keep(task) {
                match first(task) {
                    Some(rank) => firsts.push((rank, slot)),
                    None => rest.push(slot),
                }
            }
        });
        firsts.sort_by(|(r, a), (q, b)| r.cmp(q).then_with(|| order(self.slot(*a), self.slot(*b))));
        let first: Box<[u32]> = firsts.into_iter().map(|(_, slot)| slot).collect();
        let matched = Arc::new(Matched { first, rest: rest.into_boxed_slice() });
        let bound = SEARCH_CACHE_BYTES.load(Ordering::Relaxed);
        if bound > 0 {
            // A poisoned lock only means a panic elsewhere mid-insert: the cache is still
            // consistent enough to use (the worst is a missing entry).
            self.inner.searches.lock().unwrap_or_else(|e| e.into_inner()).insert(key, matched.clone(), bound);
        }
        matched
    }

    /// The task in a slot that [`search_cached`](Self::search_cached) returned.
    pub fn at_slot(&self, slot: u32) -> &T {
        self.slot(slot)
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.slot_of(id).map(|s| self.slot(s))
    }

    /// The tasks with these ids, once each, in store order; unknown ids are skipped.
    pub fn by_ids<'a>(&'a self, ids: &[String]) -> impl Iterator<Item = &'a T> + 'a {
        let mut found: Vec<u32> = ids.iter().filter_map(|id| self.slot_of(id)).collect();
        found.sort_unstable();
        found.dedup();
        let mut tasks: Vec<&T> = found.into_iter().map(|s| self.slot(s)).collect();
        tasks.sort_by(|a, b| newer(*a, *b));
        tasks.into_iter()
    }

    fn partition(&self, key: &PartKey) -> Option<&Partition> {
        let hash = hash_key(key);
        let lookup = &self.inner.lookup;
        let from = lookup.partition_point(|&(h, _)| h < hash);
        lookup[from..].iter().take_while(|&&(h, _)| h == hash).map(|&(_, p)| &self.inner.partitions[p as usize]).find(|p| self.slot(p.order[0]).part().as_ref() == Some(key))
    }

    /// The tasks of these partitions (each at most once; missing ones are empty) created in
    /// `[from, to]` and by `now`, for paging and counting.
    pub fn runs<'a>(&'a self, keys: &[PartKey], now: Millis, from: Option<Millis>, to: Option<Millis>) -> Runs<'a, T> {
        let upper = to.map_or(now, |to| to.min(now));
        let mut runs = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                continue;
            }
            if let Some(part) = self.partition(key) {
                let (lo, hi) = part.range(upper, from);
                if lo < hi {
                    runs.push(Run { part, lo, hi });
                }
            }
        }
        Runs { store: self, runs, countable: from.is_none() && to.is_none_or(|to| to >= now) }
    }
}

impl<T: Record> Inner<T> {
    /// The indexes of the live slots `order` (listing order); `ids`, when given, already
    /// indexes exactly them.
    fn assemble(chunks: Vec<Arc<Vec<T>>>, bases: Vec<u32>, order: Vec<u32>, ids: Option<IdIndex>) -> Inner<T> {
        let get = |s: u32| slot_in(&chunks, &bases, s);
        let ids = ids.unwrap_or_else(|| {
            let mut ids = IdIndex::with_capacity(order.len());
            for &s in &order {
                ids.insert(s, |x| get(x).id());
            }
            ids
        });
        let mut partitions: Vec<Partition> = Vec::new();
        let mut lookup: Vec<(u64, u32)> = Vec::new();
        if order.first().is_some_and(|&s| get(s).part().is_some()) {
            struct Building {
                order: Vec<u32>,
                created: Vec<Millis>,
                entries: Vec<Vec<Millis>>,
                exits: Vec<Vec<Millis>>,
                min_entry: Vec<Millis>,
                max_exit: Vec<Millis>,
                side: Vec<u32>,
                /// [`Settled`]'s keys, and bit `p` set when some task satisfies predicate `p`
                /// other than from its entry into its final phase on (so `p` does not settle).
                keys: Vec<u32>,
                unsettled: u32,
                /// Bit `p` set when some task ends in predicate `p`.
                ended_in: u32,
            }
            let tag_bits = usize::BITS - T::PREDICATES.leading_zeros();
            let mut building: Vec<Building> = Vec::new();
            let mut by_hash: HashMap<u64, Vec<u32>> = HashMap::new();
            let mut last: Option<(u32, usize)> = None;
            for &s in &order {
                let task = get(s);
                let key = task.part().unwrap_or_default();
                // Consecutive tasks are often in the same partition: skip the hashing then.
                let index = match last {
                    Some((rep, index)) if get(rep).part() == Some(key) => index,
                    _ => {
                        let hash = hash_key(&key);
                        let candidates = by_hash.entry(hash).or_default();
                        match candidates.iter().map(|&p| p as usize).find(|&p| get(building[p].order[0]).part() == Some(key)) {
                            Some(p) => p,
                            None => {
                                candidates.push(building.len() as u32);
                                lookup.push((hash, building.len() as u32));
                                building.push(Building {
                                    order: Vec::new(),
                                    created: Vec::new(),
                                    entries: vec![Vec::new(); T::PREDICATES],
                                    exits: vec![Vec::new(); T::PREDICATES],
                                    min_entry: vec![Millis::MAX; T::PREDICATES],
                                    max_exit: vec![Millis::MIN; T::PREDICATES],
                                    side: Vec::new(),
                                    keys: Vec::new(),
                                    unsettled: 0,
                                    ended_in: 0,
                                });
                                building.len() - 1
                            }
                        }
                    }
                };
                last = Some((s, index));
                let b = &mut building[index];
                b.order.push(s);
                let created = task.created();
                b.created.push(created);
                // The task's runs of one predicate (adjacent intervals joined; empty ones, never
                // seen, skipped): every run but a last one that never ends unsettles its predicate.
                let mut run: Option<(usize, Millis, Millis)> = None;
                let mut unsettled = 0u32;
                let indexed = task.intervals(&mut |p, from, to| {
                    b.entries[p].push(from);
                    b.min_entry[p] = b.min_entry[p].min(from.saturating_sub(created));
                    if to == Millis::MAX {
                        b.max_exit[p] = Millis::MAX;
                    } else {
                        b.exits[p].push(to);
                        b.max_exit[p] = b.max_exit[p].max(to.saturating_sub(created));
                    }
                    if from < to {
                        run = match run {
                            Some((q, entered, end)) if q == p && end == from => Some((q, entered, to)),
                            Some((q, _, _)) => {
                                unsettled |= bit(q);
                                Some((p, from, to))
                            }
                            None => Some((p, from, to)),
                        };
                    }
                });
                let key = match run {
                    Some((p, entered, Millis::MAX)) => {
                        b.ended_in |= bit(p);
                        Settled::key(tag_bits, p, entered.saturating_sub(created))
                    }
                    Some((q, _, _)) => {
                        unsettled |= bit(q);
                        0
                    }
                    None => 0,
                };
                b.keys.push(key);
                b.unsettled |= unsettled;
                if !indexed {
                    b.side.push(s);
                }
            }
            partitions = building
                .into_iter()
                .map(|b| {
                    // A predicate settles where some task ends in it and none leaves it.
                    let settling = if b.side.is_empty() && T::PREDICATES <= 32 { b.ended_in & !b.unsettled } else { 0 };
                    let settled = Settled::build(b.keys, &b.created, settling, tag_bits);
                    let predicates = b
                        .entries
                        .into_iter()
                        .zip(b.exits)
                        .zip(b.min_entry.into_iter().zip(b.max_exit))
                        .map(|((mut entries, mut exits), (min_entry, max_exit))| {
                            radix_sort_by_key(&mut entries, |&e| ordered(e));
                            radix_sort_by_key(&mut exits, |&e| ordered(e));
                            PredicateIndex { entries: entries.into_boxed_slice(), exits: exits.into_boxed_slice(), min_entry, max_exit }
                        })
                        .collect();
                    Partition { order: b.order.into_boxed_slice(), created: b.created.into_boxed_slice(), predicates, side: b.side.into_boxed_slice(), settled }
                })
                .collect();
            lookup.sort_unstable();
        }
        let texts = if T::SEARCHABLE { TextIndex::build(&order, get) } else { TextIndex::default() };
        Inner { chunks, bases, order, ids, partitions, lookup, texts, searches: Mutex::default() }
    }
}

#[derive(Debug, Clone, Copy)]
struct Run<'a> {
    part: &'a Partition,
    lo: usize,
    hi: usize,
}

/// Which way a listing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    NewestFirst,
    OldestFirst,
}

/// The tasks of a few partitions within a creation range: one listing, merged in store order.
pub struct Runs<'a, T> {
    store: &'a Store<T>,
    runs: Vec<Run<'a>>,
    /// Whether the range is exactly "created by now", so that the status indexes count it.
    countable: bool,
}

impl<'a, T: Record> Runs<'a, T> {
    pub fn total(&self) -> usize {
        self.runs.iter().map(|r| r.hi - r.lo).sum()
    }

    /// Whether [`count`](Self::count) applies (no StartTime/EndTime narrowing the range).
    pub fn countable(&self) -> bool {
        self.countable
    }

    /// How many tasks satisfy the predicate at `now` (the instant the runs were made for).
    pub fn count(&self, predicate: usize, now: Millis) -> usize {
        debug_assert!(self.countable);
        self.runs
            .iter()
            .map(|r| {
                let side = r.part.side.iter().filter(|&&s| {
                    let task = self.store.slot(s);
                    task.created() <= now && task.satisfies(predicate, now)
                });
                r.part.predicates[predicate].count(now) + side.count()
            })
            .sum()
    }

    /// The listing, from `skip` on.
    pub fn walk(&self, direction: Direction, skip: usize) -> Walk<'a, T> {
        let mut walk = Walk::new(self.store, self.runs.iter().map(|r| Head { part: r.part, lo: r.lo, hi: r.hi, sieve: None }).collect(), direction);
        walk.skip_to(skip);
        walk
    }

    /// The listing narrowed to where a task satisfying `predicate` at `now` can be: created at
    /// least its least entry offset before `now`, and less than its greatest exit offset before;
    /// where the predicate settles (`Settled`), only the tasks that had entered it by `now`
    /// (and a few that had not, an entry too far from creation being kept as a lower bound: the
    /// caller still checks each task it gets).
    /// (Unnarrowed when the partition has tasks on the side list.)
    pub fn walk_window(&self, direction: Direction, predicate: usize, now: Millis) -> Walk<'a, T> {
        let runs = self
            .runs
            .iter()
            .map(|r| {
                if !r.part.side.is_empty() {
                    return Head { part: r.part, lo: r.lo, hi: r.hi, sieve: None };
                }
                let index = &r.part.predicates[predicate];
                if index.entries.is_empty() {
                    return Head { part: r.part, lo: r.lo, hi: r.lo, sieve: None };
                }
                let (lo, _) = r.part.range(now.saturating_sub(index.min_entry), None);
                let hi = if index.max_exit == Millis::MAX { r.hi } else { r.part.created.partition_point(|&c| c > now.saturating_sub(index.max_exit)) };
                let lo = lo.max(r.lo);
                Head { part: r.part, lo, hi: hi.min(r.hi).max(lo), sieve: Sieve::of(r.part, predicate, now) }
            })
            .collect();
        Walk::new(self.store, runs, direction)
    }
}

/// A walk's remaining positions `[lo, hi)` of one partition, and what lets it skip some.
#[derive(Debug, Clone, Copy)]
struct Head<'a> {
    part: &'a Partition,
    lo: usize,
    hi: usize,
    sieve: Option<Sieve>,
}

/// The tasks of some runs in listing order (a merge when there are several).
pub struct Walk<'a, T> {
    store: &'a Store<T>,
    /// Per run: its partition, the next position and the end, in the walk's direction.
    heads: Vec<Head<'a>>,
    direction: Direction,
}

impl<'a, T: Record> Walk<'a, T> {
    fn new(store: &'a Store<T>, runs: Vec<Head<'a>>, direction: Direction) -> Walk<'a, T> {
        // Each head is a run's remaining [lo, hi): newest first takes from lo, oldest first from hi.
        Walk { store, heads: runs.into_iter().filter(|h| h.lo < h.hi).collect(), direction }
    }

    /// The position of the k-th task of a run along the walk.
    fn nth_position(&self, run: usize, k: usize) -> usize {
        let Head { lo, hi, .. } = self.heads[run];
        match self.direction {
            Direction::NewestFirst => lo + k,
            Direction::OldestFirst => hi - 1 - k,
        }
    }

    fn length(&self, run: usize) -> usize {
        let Head { lo, hi, .. } = self.heads[run];
        hi - lo
    }

    /// Moves a sieved run's head past the positions its sieve rules out, to its next candidate.
    fn sift(&mut self, run: usize) {
        let head = &mut self.heads[run];
        if let Some(sieve) = head.sieve {
            match self.direction {
                Direction::NewestFirst => head.lo = sieve.first(head.part, head.lo, head.hi),
                Direction::OldestFirst => head.hi = sieve.last(head.part, head.lo, head.hi),
            }
        }
    }

    /// Whether the k-th of run `a` comes before the l-th of run `b` along the walk.
    fn before(&self, a: usize, k: usize, b: usize, l: usize) -> bool {
        let (pa, pb) = (self.heads[a].part, self.heads[b].part);
        let (ia, ib) = (self.nth_position(a, k), self.nth_position(b, l));
        let ordering = pb.created[ib].cmp(&pa.created[ia]).then_with(|| self.store.slot(pa.order[ia]).id().cmp(self.store.slot(pb.order[ib]).id()));
        match self.direction {
            Direction::NewestFirst => ordering.is_lt(),
            Direction::OldestFirst => ordering.is_gt(),
        }
    }

    /// Moves past the first `n` tasks: a step for one run, a binary search for two, a merge
    /// otherwise. (Positions, not candidates: for walks without a sieve.)
    fn skip_to(&mut self, n: usize) {
        match self.heads.len() {
            0 => {}
            1 => self.advance(0, n.min(self.length(0))),
            2 => {
                let (la, lb) = (self.length(0), self.length(1));
                let n = n.min(la + lb);
                // Find i (from run 0) + j (from run 1) = n with the merge order respected.
                let (mut low, mut high) = (n.saturating_sub(lb), n.min(la));
                while low < high {
                    let i = (low + high) / 2;
                    let j = n - i;
                    // Too few from run 0 if its i-th comes before run 1's (j-1)-th.
                    if j > 0 && i < la && self.before(0, i, 1, j - 1) {
                        low = i + 1;
                    } else {
                        high = i;
                    }
                }
                let i = low;
                self.advance(0, i);
                self.advance(1, n - i);
            }
            _ => {
                for _ in 0..n {
                    if self.next().is_none() {
                        break;
                    }
                }
            }
        }
    }

    fn advance(&mut self, run: usize, n: usize) {
        let head = &mut self.heads[run];
        match self.direction {
            Direction::NewestFirst => head.lo += n,
            Direction::OldestFirst => head.hi -= n,
        }
    }
}

impl<'a, T: Record> Iterator for Walk<'a, T> {
    type Item = &'a T;

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (0..self.heads.len()).map(|run| self.length(run)).sum();
        let sieved = self.heads.iter().any(|h| h.sieve.is_some());
        (if sieved { 0 } else { left }, Some(left))
    }

    fn next(&mut self) -> Option<&'a T> {
        let mut best: Option<usize> = None;
        for run in 0..self.heads.len() {
            self.sift(run);
            if self.length(run) == 0 {
                continue;
            }
            best = match best {
                Some(b) if !self.before(run, 0, b, 0) => Some(b),
                _ => Some(run),
            };
        }
        let run = best?;
        let part = self.heads[run].part;
        let position = self.nth_position(run, 0);
        self.advance(run, 1);
        Some(self.store.slot(part.order[position]))
    }
}

/// The page of a walk's tasks that `keep` holds for (`skip` of them skipped, at most `size`),
/// stopping as soon as the page is full or the `total` known to match have all been seen.
pub fn page_matching<'a, T: Record>(walk: Walk<'a, T>, total: usize, skip: usize, size: usize, mut keep: impl FnMut(&T) -> bool) -> Vec<&'a T> {
    let mut items = Vec::new();
    let mut found = 0usize;
    if skip >= total || size == 0 {
        return items;
    }
    for task in walk {
        if keep(task) {
            if found >= skip {
                items.push(task);
                if items.len() == size {
                    break;
                }
            }
            found += 1;
            if found == total {
                break;
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task with no predicate intervals, for the tests of the listing alone.
    fn task(id: &str, created: Millis, part: &'static str) -> Phased {
        Phased { id: id.into(), created, part, intervals: Vec::new() }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]
        /// The search cache never holds more than its bound, whatever is put in it, and keeps
        /// the newest entry that fits.
        #[test]
        fn the_search_cache_stays_within_its_bound(bound in 0usize..4096, puts in proptest::collection::vec((0u8..20, 0usize..600), 0..60)) {
            let mut cache = SearchCache::default();
            for (key, slots) in puts {
                let key = format!("k{key}");
                let matched = Arc::new(Matched { first: vec![0; slots / 2].into(), rest: vec![0; slots - slots / 2].into() });
                let (cost, fresh) = (matched.cost(&key), !cache.entries.contains_key(key.as_str()));
                cache.insert(&key, matched, bound);
                proptest::prop_assert!(cache.bytes <= bound);
                proptest::prop_assert_eq!(cache.bytes, cache.entries.iter().map(|(k, m)| m.cost(k)).sum::<usize>());
                proptest::prop_assert_eq!(cache.entries.len(), cache.age.len());
                proptest::prop_assert_eq!(cache.entries.contains_key(key.as_str()), !fresh || cost <= bound);
            }
        }
    }

    /// A task with its predicate intervals given outright.
    #[derive(Debug)]
    struct Phased {
        id: String,
        created: Millis,
        part: &'static str,
        intervals: Vec<(usize, Millis, Millis)>,
    }

    impl Record for Phased {
        fn id(&self) -> &str {
            &self.id
        }
        fn created(&self) -> Millis {
            self.created
        }
        fn part(&self) -> Option<PartKey<'_>> {
            Some([Some(self.part), None, None])
        }
        const PREDICATES: usize = 3;
        fn intervals(&self, f: &mut dyn FnMut(usize, Millis, Millis)) -> bool {
            self.intervals.iter().for_each(|&(p, from, to)| f(p, from, to));
            true
        }
        fn satisfies(&self, predicate: usize, now: Millis) -> bool {
            self.intervals.iter().any(|&(p, from, to)| p == predicate && from <= now && now < to)
        }
    }

    /// Tasks in two partitions, each running (predicate 0) then ending in predicate 1 or 2 (or
    /// in neither); in partition "b", when `unsettle`, one task leaves predicate 1 again. One in
    /// twenty ends at once; the rest run for 5 to 45 s (created over 100 s): the newest blocks,
    /// and groups of blocks, hold no ended task.
    fn phased(n: usize, unsettle: bool, seed: u64) -> Vec<Phased> {
        let mut x = seed | 1;
        let mut draw = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as Millis
        };
        (0..n)
            .map(|i| {
                let created = draw(100_000);
                let ran = if draw(20) == 0 { created } else { created + 5_000 + draw(40_000) };
                let part = if draw(3) == 0 || (unsettle && i == n / 2) { "b" } else { "a" };
                let mut intervals = vec![(0, created, ran)];
                match draw(5) {
                    0 => intervals.push((0, ran, Millis::MAX)),
                    1 | 2 => intervals.push((1, ran, Millis::MAX)),
                    _ => intervals.push((2, ran, Millis::MAX)),
                }
                if unsettle && part == "b" && i == n / 2 {
                    intervals = vec![(1, created, created + 10), (2, created + 10, Millis::MAX)];
                }
                Phased { id: format!("t{i:05}"), created, part, intervals }
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, failure_persistence: None, ..Default::default() })]
        /// A walk for a predicate, skipping by the settled index where the predicate settles,
        /// gives (once filtered) the tasks a full walk gives, both ways, over partitions of
        /// several groups of blocks, one of them where predicate 1 does not settle.
        #[test]
        fn a_settled_walk_finds_what_a_full_walk_finds(n in 0usize..6000, seed in 1u64..u64::MAX, now in 0i64..150_000, at_entry in proptest::option::of(0usize..6000), unsettle: bool) {
            let tasks = phased(n, unsettle, seed);
            // Half the time, the instant a task ends at (block minima equal to `now`).
            let now = at_entry.filter(|_| n > 0).map_or(now, |k| tasks[k % n].intervals.last().map_or(now, |i| i.1));
            let store = Store::from_tasks(tasks);
            let keys = [[Some("a"), None, None], [Some("b"), None, None]];
            let runs = store.runs(&keys, now, None, None);
            for predicate in 0..3 {
                let expected: Vec<&str> = store.iter().filter(|t| t.created <= now && t.satisfies(predicate, now)).map(|t| t.id.as_str()).collect();
                proptest::prop_assert_eq!(runs.count(predicate, now), expected.len());
                let got: Vec<&str> = runs.walk_window(Direction::NewestFirst, predicate, now).filter(|t| t.satisfies(predicate, now)).map(|t| t.id.as_str()).collect();
                proptest::prop_assert_eq!(&got, &expected, "newest first, predicate {}", predicate);
                let mut got: Vec<&str> = runs.walk_window(Direction::OldestFirst, predicate, now).filter(|t| t.satisfies(predicate, now)).map(|t| t.id.as_str()).collect();
                got.reverse();
                proptest::prop_assert_eq!(&got, &expected, "oldest first, predicate {}", predicate);
            }
            let has = |part: &str, p: usize| store.iter().any(|t| t.part == part && t.intervals.last().is_some_and(|i| i.0 == p));
            let leaves = |part: &str, p: usize| store.iter().any(|t| t.part == part && t.intervals.iter().any(|&(q, from, to)| q == p && from < to && to < Millis::MAX) && t.intervals.last().is_some_and(|i| i.0 != p));
            for (key, part) in keys.iter().zip(["a", "b"]) {
                proptest::prop_assert_eq!(store.settles(key, 0), has(part, 0) && !leaves(part, 0), "a predicate tasks leave does not settle");
            }
            proptest::prop_assert_eq!(store.settles(&keys[0], 1), has("a", 1));
            proptest::prop_assert_eq!(store.settles(&keys[1], 1), has("b", 1) && !unsettle);
            proptest::prop_assert_eq!(store.settles(&keys[1], 2), has("b", 2));
        }
    }

    /// Lone tasks in a settling predicate among 3000 that are in none, at and around every
    /// block and group boundary: a walk either way yields exactly them (nothing else read), and
    /// none before they enter.
    #[test]
    fn a_settled_walk_stops_at_block_and_group_boundaries() {
        let n = 3000usize;
        let edges = [0usize, 1, 31, 32, 33, 63, 64, 1023, 1024, 1025, 2047, 2048, 2049, 2999];
        for &j in &edges {
            for lone in [vec![j], vec![j, (j + 1) % n], vec![j, (j + 1000) % n]] {
                let tasks: Vec<Phased> = (0..n)
                    .map(|i| {
                        let created = (n - i) as Millis * 10;
                        let intervals = if lone.contains(&i) { vec![(1, created + 5, Millis::MAX)] } else { Vec::new() };
                        Phased { id: format!("t{i:05}"), created, part: "a", intervals }
                    })
                    .collect();
                let store = Store::from_tasks(tasks);
                assert!(store.settles(&[Some("a"), None, None], 1));
                let mut expected: Vec<String> = lone.iter().map(|i| format!("t{i:05}")).collect();
                expected.sort();
                let runs = store.runs(&[[Some("a"), None, None]], n as Millis * 10 + 5, None, None);
                let got: Vec<String> = runs.walk_window(Direction::NewestFirst, 1, n as Millis * 10 + 5).map(|t| t.id.clone()).collect();
                assert_eq!(got, expected, "newest first, {lone:?}");
                let mut got: Vec<String> = runs.walk_window(Direction::OldestFirst, 1, n as Millis * 10 + 5).map(|t| t.id.clone()).collect();
                got.reverse();
                assert_eq!(got, expected, "oldest first, {lone:?}");
                for direction in [Direction::NewestFirst, Direction::OldestFirst] {
                    for &i in &lone {
                        // Just before task i enters: all but it (and the ones entering later).
                        let now = (n - i) as Millis * 10 + 4;
                        let runs = store.runs(&[[Some("a"), None, None]], now, None, None);
                        let got: Vec<String> = runs.walk_window(direction, 1, now).map(|t| t.id.clone()).collect();
                        assert!(!got.contains(&format!("t{i:05}")), "{direction:?} at {now}: {got:?}");
                        assert_eq!(got.len(), lone.iter().filter(|&&k| ((n - k) as Millis * 10 + 5) <= now).count());
                    }
                }
            }
        }
    }

    /// The settled index costs about 4.5 bytes a task (a key, and two predicates' block minima).
    #[test]
    fn the_settled_index_is_four_and_a_half_bytes_a_task() {
        let store = Store::from_tasks(phased(20_000, false, 7));
        let part = store.partition(&[Some("a"), None, None]).expect("partition a");
        let tasks = part.order.len();
        assert!(tasks > 10_000 && part.settled.predicates == 0b110, "{tasks} tasks, settling {:b}", part.settled.predicates);
        assert!(part.settled.bytes() * 100 <= tasks * 455, "{} bytes for {tasks} tasks", part.settled.bytes());
    }

    #[derive(Debug)]
    struct Named(String, Millis);

    impl Record for Named {
        fn id(&self) -> &str {
            &self.0
        }
        fn created(&self) -> Millis {
            self.1
        }
        const SEARCHABLE: bool = true;
        fn search_texts(&self, f: &mut dyn FnMut(&str)) {
            f(&self.0);
        }
    }

    /// A remembered search is the store version's: a load (or a delete) answers afresh, and the
    /// same version answers a repeat from what it remembered.
    #[test]
    fn remembered_searches_belong_to_their_store_version() {
        let ids = |store: &Store<Named>, m: &Matched| -> Vec<String> { m.first.iter().chain(m.rest.iter()).map(|&s| store.at_slot(s).0.clone()).collect() };
        let search = |store: &Store<Named>| store.search_cached("web", &["web"], |t| t.contains("web"), |_| true, |t| (t.1 % 2 == 0).then_some(std::cmp::Reverse(t.1)), |a, b| b.1.cmp(&a.1));
        let store = Store::from_tasks(vec![Named("WEB-1".into(), 1), Named("db".into(), 2), Named("web-2".into(), 2), Named("web-4".into(), 4)]);
        let first = search(&store);
        assert_eq!(ids(&store, &first), ["web-4", "web-2", "WEB-1"], "lower-cased, the even ones first, newest first");
        assert!(Arc::ptr_eq(&first, &search(&store)), "a repeat is remembered");
        let more = store.extend(vec![Named("web-3".into(), 3)]);
        assert_eq!(ids(&more, &search(&more)), ["web-4", "web-2", "WEB-1", "web-3"]);
        let fewer = more.without("web-4").unwrap_or_default();
        assert_eq!(ids(&fewer, &search(&fewer)), ["web-2", "WEB-1", "web-3"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]
        /// The radix sort orders as a stable comparison sort does, for instants near and far
        /// apart, negative ones, ties, and lists on both sides of its small-list cut.
        #[test]
        fn the_radix_sort_is_a_stable_sort(values in proptest::collection::vec(proptest::prop_oneof![0i64..50, -3_000_000_000i64..3_000_000_000, proptest::num::i64::ANY], 0..4000)) {
            let mut tagged: Vec<(Millis, usize)> = values.iter().copied().zip(0..).collect();
            let mut expected = tagged.clone();
            expected.sort_by_key(|&(v, _)| std::cmp::Reverse(v));
            radix_sort_by_key(&mut tagged, |&(v, _)| !ordered(v));
            proptest::prop_assert_eq!(&tagged, &expected);
            let mut plain = values.clone();
            radix_sort_by_key(&mut plain, |&v| ordered(v));
            let mut sorted = values;
            sorted.sort_unstable();
            proptest::prop_assert_eq!(plain, sorted);
        }
    }

    #[test]
    fn the_id_index_finds_every_id_and_no_other() {
        let ids: Vec<String> = (0..1000).map(|i| format!("t-{i}")).collect();
        let mut index = IdIndex::with_capacity(1);
        for i in 0..ids.len() as u32 {
            assert_eq!(index.insert(i, |s| &ids[s as usize]), None);
        }
        assert_eq!(index.insert(7, |s| &ids[s as usize]), Some(7));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.find(id, |s| &ids[s as usize]), Some(i as u32));
        }
        assert_eq!(index.find("t-1000", |s| &ids[s as usize]), None);
    }

    #[test]
    fn a_store_lists_newest_first_then_by_id_however_its_tasks_came() {
        // Many ties on `created`, ids out of order, two loads: the order is the full sort's.
        let made = |from: u32, to: u32| -> Vec<Phased> { (from..to).map(|i| task(&format!("t{:03}", (i * 37) % 500), Millis::from((i * 11) % 17), "a")).collect() };
        let store = Store::from_tasks(made(0, 300)).extend(made(300, 500));
        let mut expected: Vec<(Millis, String)> = made(0, 500).into_iter().map(|t| (t.created, t.id)).collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let got: Vec<(Millis, String)> = store.iter().map(|t| (t.created, t.id.clone())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_big_store_with_ties_lists_newest_first_then_by_id() {
        // Past the radix sort's small-list cut: ties (equal instants) still go by id.
        let tasks: Vec<Phased> = (0..5000u32).map(|i| task(&format!("t{:05}", (i * 7919) % 5000), Millis::from(i % 97) * 1_000_003 - 50_000_000, "a")).collect();
        let mut expected: Vec<(Millis, String)> = tasks.iter().map(|t| (t.created, t.id.clone())).collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let store = Store::from_tasks(tasks);
        let got: Vec<(Millis, String)> = store.iter().map(|t| (t.created, t.id.clone())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn two_runs_merge_in_store_order_from_any_skip() {
        let mut tasks = Vec::new();
        for i in 0..40 {
            tasks.push(task(&format!("a{i:02}"), (i * 7 % 23) as Millis, "a"));
            tasks.push(task(&format!("b{i:02}"), (i * 5 % 19) as Millis, if i % 3 == 0 { "c" } else { "b" }));
        }
        let store = Store::from_tasks(tasks);
        let keys = [[Some("a"), None, None], [Some("b"), None, None]];
        let expected: Vec<&str> = store.iter().filter(|t| t.part != "c" && t.created <= 15).map(|t| t.id.as_str()).collect();
        let runs = store.runs(&keys, 15, None, None);
        assert_eq!(runs.total(), expected.len());
        for skip in 0..=expected.len() + 1 {
            let got: Vec<&str> = runs.walk(Direction::NewestFirst, skip).map(|t| t.id.as_str()).collect();
            assert_eq!(got, expected[skip.min(expected.len())..].to_vec(), "newest first from {skip}");
            let got: Vec<&str> = runs.walk(Direction::OldestFirst, skip).map(|t| t.id.as_str()).collect();
            let mut reversed = expected.clone();
            reversed.reverse();
            assert_eq!(got, reversed[skip.min(expected.len())..].to_vec(), "oldest first from {skip}");
        }
        let more = store.extend(vec![task("a99", 3, "a"), task("z", 100, "b")]);
        assert_eq!(more.len(), store.len() + 2);
        assert_eq!(more.iter().next().unwrap().id, "z");
        assert!(more.get("a99").is_some() && store.get("a99").is_none());
        let fewer = more.without("a99").unwrap();
        assert!(fewer.get("a99").is_none() && fewer.get("z").is_some());
        assert_eq!(fewer.len(), store.len() + 1);
    }
}
