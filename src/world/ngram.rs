//! The trigram index of a store's searched texts (AVDS scans' names and targets), built at load:
//! which tasks hold a given three bytes in one of their lower-cased texts. A search pattern's
//! literal pieces (split on `*`) must each appear whole in the text that matches, so every
//! three-byte window of every piece must be in that task's list: the intersection of a few lists
//! is a superset of the matches, and each candidate is then checked with the matcher itself, so the
//! answer is exactly the scan's. Bytes, not characters: the matcher compares lower-cased UTF-8
//! byte for byte, and so does this.
//!
//! Memory: windows are hashed into a power-of-two number of buckets (scaled with the texts, at most
//! 2^16); a bucket's list is its tasks' positions (ascending, each once) as varint deltas, sized and
//! written in two passes over the texts (a counting sort). A bucket held by more than an eighth of
//! the tasks is not kept (a gram that common narrows little and would cost a byte a task): a
//! pattern made only of such grams, or of pieces shorter than three bytes, reads every task.

/// A bucket with more tasks than this share of all (1/DENSE) keeps no list.
const DENSE: usize = 8;

/// The largest number of buckets, and the windows per bucket the count is scaled to.
const MAX_BUCKET_BITS: u32 = 16;
const MIN_BUCKET_BITS: u32 = 6;
const WINDOWS_PER_BUCKET: usize = 16;

/// A bucket's count when its list was not kept.
const NOT_KEPT: u32 = u32::MAX;

/// Candidates are narrowed by another list only while that list is at most this many times as
/// long as the candidates (decoding a posting costs a small fraction of checking a candidate).
const INTERSECT_RATIO: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct GramIndex {
    /// `32 - log2(buckets)`: a window's bucket is its hash's top bits. 0 when nothing is indexed.
    shift: u32,
    /// Per bucket: where its list starts in `postings` (one more entry: the end).
    starts: Box<[u32]>,
    /// Per bucket: how many tasks its list holds, or [`NOT_KEPT`].
    counts: Box<[u32]>,
    /// Every kept list, varint-coded gaps (the first gap from -1).
    postings: Box<[u8]>,
}

/// The three bytes at the start of `w`, as a number.
fn gram(w: &[u8]) -> u32 {
    u32::from(w[0]) | u32::from(w[1]) << 8 | u32::from(w[2]) << 16
}

/// Bytes of `value` (at least 1) as a varint.
fn varint_len(value: u32) -> u32 {
    (32 - value.max(1).leading_zeros()).div_ceil(7)
}

/// Calls `f` with each three-byte window of `text`, as [`gram`] makes it (rolled: a load a byte).
fn each_gram(text: &[u8], mut f: impl FnMut(u32)) {
    let [a, b, rest @ ..] = text else { return };
    let mut g = u32::from(*a) << 8 | u32::from(*b) << 16;
    for &c in rest {
        g = g >> 8 | u32::from(c) << 16;
        f(g);
    }
}

/// A bucket while building: the last task (+ 1) put in it, so that a task's repeated windows
/// count once; its tasks; the bytes of its gaps; where pass 2 writes next. Side by side: a
/// window costs one cache line.
#[derive(Clone, Copy, Default)]
struct Building {
    last: u32,
    count: u32,
    size: u32,
    at: u32,
}

fn put_varint(out: &mut [u8], at: &mut usize, mut value: u32) {
    while value >= 0x80 {
        out[*at] = (value as u8) | 0x80;
        value >>= 7;
        *at += 1;
    }
    out[*at] = value as u8;
    *at += 1;
}

/// The positions in one list, in ascending order.
struct Postings<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The last position + 1 (0 before the first).
    last: u32,
}

impl Iterator for Postings<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let mut gap = 0u32;
        let mut shift = 0;
        loop {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            gap |= u32::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
            shift += 7;
        }
        self.last += gap;
        Some(self.last - 1)
    }
}

impl GramIndex {
    /// The index of `tasks` texts: `texts(i, f)` calls `f` with each text of task `i` (lower-cased),
    /// for `i` in `0..tasks`; `bytes` is their length in all (which sizes the buckets).
    pub(crate) fn build<'t>(tasks: usize, bytes: usize, texts: impl Fn(usize, &mut dyn FnMut(&'t [u8]))) -> GramIndex {
        if bytes < 3 || u32::try_from(tasks).is_err() {
            return GramIndex::default();
        }
        let bits = (bytes / WINDOWS_PER_BUCKET).max(1).next_power_of_two().trailing_zeros().clamp(MIN_BUCKET_BITS, MAX_BUCKET_BITS);
        let shift = 32 - bits;
        let mut buckets = vec![Building::default(); 1 << bits];
        // Pass 1: per bucket, how many tasks and how many bytes their gaps take.
        for i in 0..tasks {
            let here = i as u32 + 1;
            texts(i, &mut |t| {
                each_gram(t, |g| {
                    let b = &mut buckets[(g.wrapping_mul(0x9e37_79b1) >> shift) as usize];
                    if b.last != here {
                        b.size += varint_len(here - b.last);
                        b.count += 1;
                        b.last = here;
                    }
                })
            });
        }
        let mut starts = Vec::with_capacity(buckets.len() + 1);
        let mut counts = Vec::with_capacity(buckets.len());
        let mut total = 0u32;
        for b in &mut buckets {
            starts.push(total);
            (b.last, b.at) = (0, total);
            if b.count as usize * DENSE > tasks {
                counts.push(NOT_KEPT);
                // Never written: pass 2 finds it already "holding" every task.
                b.last = u32::MAX;
            } else {
                counts.push(b.count);
                total += b.size;
            }
        }
        starts.push(total);
        // Pass 2: the gaps, each list at its own cursor.
        let mut postings = vec![0u8; total as usize];
        for i in 0..tasks {
            let here = i as u32 + 1;
            texts(i, &mut |t| {
                each_gram(t, |g| {
                    let b = &mut buckets[(g.wrapping_mul(0x9e37_79b1) >> shift) as usize];
                    if b.last < here {
                        let mut at = b.at as usize;
                        put_varint(&mut postings, &mut at, here - b.last);
                        (b.at, b.last) = (at as u32, here);
                    }
                })
            });
        }
        GramIndex { shift, starts: starts.into_boxed_slice(), counts: counts.into_boxed_slice(), postings: postings.into_boxed_slice() }
    }

    /// Bytes the index holds.
    pub(crate) fn bytes(&self) -> usize {
        (self.starts.len() + self.counts.len()) * 4 + self.postings.len()
    }

    fn bucket(&self, w: &[u8]) -> usize {
        (gram(w).wrapping_mul(0x9e37_79b1) >> self.shift) as usize
    }

    fn list(&self, b: usize) -> Postings<'_> {
        Postings { bytes: &self.postings[self.starts[b] as usize..self.starts[b + 1] as usize], at: 0, last: 0 }
    }

    /// The tasks (ascending) that may hold every one of `pieces` in one of their texts: a superset
    /// of those that do. None when the pieces narrow nothing (all shorter than three bytes, or
    /// made of grams too common to keep): then every task is a candidate.
    pub(crate) fn candidates<P: AsRef<[u8]>>(&self, pieces: &[P]) -> Option<Vec<u32>> {
        if self.counts.is_empty() {
            return None;
        }
        let mut buckets: Vec<(u32, usize)> = pieces.iter().flat_map(|p| p.as_ref().windows(3)).map(|w| self.bucket(w)).filter(|&b| self.counts[b] != NOT_KEPT).map(|b| (self.counts[b], b)).collect();
        buckets.sort_unstable();
        buckets.dedup();
        let (&(_, rarest), others) = buckets.split_first()?;
        let mut found: Vec<u32> = self.list(rarest).collect();
        for &(count, b) in others {
            if found.len() <= 1 || count as usize > found.len() * INTERSECT_RATIO {
                break;
            }
            let mut other = self.list(b).peekable();
            found.retain(|&i| {
                while other.next_if(|&o| o < i).is_some() {}
                other.peek() == Some(&i)
            });
        }
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn index_of(tasks: &[Vec<&'static str>]) -> GramIndex {
        let bytes = tasks.iter().flatten().map(|t| t.len()).sum();
        GramIndex::build(tasks.len(), bytes, |i, f| tasks[i].iter().for_each(|t| f(t.as_bytes())))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]
        /// Every kept list holds exactly the tasks with a window in that bucket (within one of
        /// their texts, never across two), once each, ascending; a list not kept is one more
        /// than an eighth of the tasks would have.
        #[test]
        fn each_list_holds_exactly_the_tasks_with_its_grams(tasks in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(vec!["abc", "bcd", "ab", "cd", "xyzw", "été", "a", "", "İx", "abcabc", "zzzz", "qrs", "ba", "dab"]), 0..4), 0..60)) {
            let index = index_of(&tasks);
            if index.counts.is_empty() {
                proptest::prop_assert!(tasks.iter().flatten().map(|t| t.len()).sum::<usize>() < 3);
                return Ok(());
            }
            for b in 0..index.counts.len() {
                let want: BTreeSet<u32> = tasks.iter().enumerate().filter(|(_, texts)| texts.iter().any(|t| t.as_bytes().windows(3).any(|w| index.bucket(w) == b))).map(|(i, _)| i as u32).collect();
                if index.counts[b] == NOT_KEPT {
                    proptest::prop_assert!(want.len() * DENSE > tasks.len());
                    proptest::prop_assert_eq!(index.starts[b], index.starts[b + 1]);
                } else {
                    let got: Vec<u32> = index.list(b).collect();
                    proptest::prop_assert_eq!(&got, &want.iter().copied().collect::<Vec<_>>());
                    proptest::prop_assert_eq!(index.counts[b] as usize, got.len());
                }
            }
        }
    }

    #[test]
    fn candidates_narrow_to_the_tasks_holding_every_piece_and_never_lose_one() {
        let mut tasks: Vec<Vec<&'static str>> = (0..200).map(|i| vec![["one-off scan", "periodic scan"][i % 2], "www.example.com"]).collect();
        tasks[17] = vec!["rare lorem scan", "10.0.0.1"];
        tasks[150] = vec!["lorem", "ipsum.org"];
        let index = index_of(&tasks);
        let got = index.candidates(&["lorem"]).unwrap_or_default();
        assert!(got.contains(&17) && got.contains(&150) && got.len() < 10, "{got:?}");
        // The pieces of `lorem*ipsum`: a task must hold both.
        let got = index.candidates(&["lorem", "ipsum"]).unwrap_or_default();
        assert!(got.contains(&150) && got.len() < 10, "{got:?}");
        assert_eq!(index.candidates(&["zq"]), None, "shorter than a gram");
        assert_eq!(index.candidates::<&str>(&[]), None);
        assert_eq!(index.candidates(&["www.example.com"]), None, "every gram is in every task");
    }

    #[test]
    fn rolled_grams_are_the_windows() {
        for text in ["", "a", "ab", "abc", "abcdef", "été İ"] {
            let mut rolled = Vec::new();
            each_gram(text.as_bytes(), |g| rolled.push(g));
            assert_eq!(rolled, text.as_bytes().windows(3).map(gram).collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn varints_round_trip() {
        let gaps = [1u32, 127, 128, 16_383, 16_384, 1 << 21, u32::MAX / 2];
        assert_eq!(gaps.map(varint_len), [1, 1, 2, 2, 3, 4, 5]);
        let mut bytes = vec![0u8; gaps.iter().map(|&g| varint_len(g) as usize).sum()];
        let mut at = 0;
        gaps.iter().for_each(|&g| put_varint(&mut bytes, &mut at, g));
        assert_eq!(at, bytes.len());
        let mut sum = 0u32;
        let want: Vec<u32> = gaps.iter().map(|&g| {
            sum += g;
            sum - 1
        }).collect();
        assert_eq!(Postings { bytes: &bytes, at: 0, last: 0 }.collect::<Vec<_>>(), want);
    }
}
