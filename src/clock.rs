//! The virtual clock: the one source of "now" for the world. Frozen at the scenario's start by
//! default; runs `rate` virtual seconds per real second when asked. Tasks never tick: readers ask
//! the clock for an instant and derive state from it, so moving the clock is O(1).
//!
//! The clock never reads outside years 1970–9999 ([`EARLIEST`]..=[`LATEST`], what every format the
//! clouds use can write): a move or a jump beyond is refused with [`ClockError::OutOfRange`] and
//! changes nothing, and a running clock (up to [`MAX_RATE`], ten thousand years in four months of
//! a long demo) stops at [`LATEST`] when it gets there.

use std::sync::atomic::{fence, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::instant::{format_rfc3339, in_range, range_message, Millis, EARLIEST, LATEST};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockState {
    pub now: Millis,
    pub rate: f64,
    pub paused: bool,
}

#[derive(Debug)]
struct Anchor {
    virtual_at: Millis,
    real_at: Instant,
    rate: f64,
    paused: bool,
}

impl Anchor {
    fn now(&self) -> Millis {
        self.at(Instant::now())
    }

    /// The virtual instant at a real one, held within the range (a running clock saturates at
    /// [`LATEST`]).
    fn at(&self, real: Instant) -> Millis {
        if self.paused || self.rate == 0.0 {
            return within_range(self.virtual_at);
        }
        // `as` saturates a huge or infinite float product, and the sum saturates too.
        let elapsed = real.saturating_duration_since(self.real_at).as_secs_f64() * 1000.0 * self.rate;
        within_range(self.virtual_at.saturating_add(elapsed as Millis))
    }

    /// Puts virtual time at `to` from the real instant `real` on; says where.
    fn jump(&mut self, to: Millis, real: Instant) -> Millis {
        self.virtual_at = to;
        self.real_at = real;
        to
    }

    /// Moves the anchor to the present so that a change of rate or pause applies from now on.
    fn rebase(&mut self) {
        self.virtual_at = self.now();
        self.real_at = Instant::now();
    }
}

#[derive(Debug)]
pub struct Clock {
    /// Changes are made here, one at a time, and published below.
    anchor: Mutex<Anchor>,
    /// The instant of a stopped clock (paused or rate 0), or [`RUNNING`].
    still: AtomicI64,
    /// A running clock's anchor, for readers: every request reads the clock, and a lock there
    /// was a cache line the cores passed back and forth (issue 6).
    running: Published,
}

/// The anchor in atomics under a sequence number (a seqlock): odd while a change is being
/// written; a reader that saw it odd or changed reads again.
#[derive(Debug)]
struct Published {
    seq: AtomicU64,
    virtual_at: AtomicI64,
    /// `real_at` as nanoseconds since `epoch`.
    real_at: AtomicU64,
    rate: AtomicU64,
    epoch: Instant,
}

impl Published {
    fn new(anchor: &Anchor) -> Published {
        let published = Published { seq: AtomicU64::new(0), virtual_at: AtomicI64::new(0), real_at: AtomicU64::new(0), rate: AtomicU64::new(0), epoch: anchor.real_at };
        published.store(anchor);
        published
    }

    /// Called with the anchor's lock held: one writer at a time.
    fn store(&self, anchor: &Anchor) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.virtual_at.store(anchor.virtual_at, Ordering::Relaxed);
        let since = anchor.real_at.saturating_duration_since(self.epoch).as_nanos();
        self.real_at.store(u64::try_from(since).unwrap_or(u64::MAX), Ordering::Relaxed);
        // A paused clock reads as one that does not move.
        self.rate.store(if anchor.paused { 0f64.to_bits() } else { anchor.rate.to_bits() }, Ordering::Relaxed);
        self.seq.store(seq + 2, Ordering::Release);
    }

    fn load(&self) -> Anchor {
        loop {
            let before = self.seq.load(Ordering::Acquire);
            let virtual_at = self.virtual_at.load(Ordering::Relaxed);
            let real_at = self.epoch + Duration::from_nanos(self.real_at.load(Ordering::Relaxed));
            let rate = f64::from_bits(self.rate.load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if before.is_multiple_of(2) && self.seq.load(Ordering::Relaxed) == before {
                return Anchor { virtual_at, real_at, rate, paused: false };
            }
            std::hint::spin_loop();
        }
    }
}

/// Never an instant the clock reads: [`within_range`] keeps them all from 1970 on.
const RUNNING: Millis = Millis::MIN;

/// The clock's instants are held in years 1970–9999 (what a start given from outside may not be).
fn within_range(at: Millis) -> Millis {
    at.clamp(EARLIEST, LATEST)
}

/// Why a clock change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ClockError {
    BadRate(f64),
    /// A move or jump to beyond years 1970–9999; `None` when the sum itself overflows.
    OutOfRange(Option<Millis>),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::BadRate(rate) => write!(f, "rate must be a finite number from 0 to 1000000, got {rate}"),
            ClockError::OutOfRange(Some(at)) => write!(f, "the clock would be at {}: {}", format_rfc3339(*at), range_message()),
            ClockError::OutOfRange(None) => write!(f, "the clock would leave its range: {}", range_message()),
        }
    }
}

impl std::error::Error for ClockError {}

pub const MAX_RATE: f64 = 1_000_000.0;

impl Clock {
    pub fn new(start: Millis, rate: f64) -> Result<Clock, ClockError> {
        check_rate(rate)?;
        let anchor = Anchor { virtual_at: start, real_at: Instant::now(), rate, paused: false };
        let still = AtomicI64::new(Self::still_at(&anchor));
        let running = Published::new(&anchor);
        Ok(Clock { anchor: Mutex::new(anchor), still, running })
    }

    fn still_at(anchor: &Anchor) -> Millis {
        if anchor.paused || anchor.rate == 0.0 {
            within_range(anchor.virtual_at)
        } else {
            RUNNING
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Anchor) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update of two plain fields;
        // the anchor is still usable, and the clock must keep answering.
        let mut anchor = self.anchor.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = f(&mut anchor);
        // Published under the lock, so that it never goes back to an older change: the running
        // anchor first, so that a reader who sees the clock running finds its anchor.
        self.running.store(&anchor);
        self.still.store(Self::still_at(&anchor), Ordering::Release);
        result
    }

    pub fn now(&self) -> Millis {
        match self.still.load(Ordering::Acquire) {
            RUNNING => self.running.load().now(),
            still => still,
        }
    }

    /// The virtual instant at a real one already read (a request's arrival): one clock read
    /// serves the journal and the operation.
    pub fn at(&self, real: Instant) -> Millis {
        match self.still.load(Ordering::Acquire) {
            RUNNING => self.running.load().at(real),
            still => still,
        }
    }

    pub fn state(&self) -> ClockState {
        self.with(|a| ClockState { now: a.now(), rate: a.rate, paused: a.paused })
    }

    /// Moves virtual time forward (or back, with a negative amount); refused, and nothing moves,
    /// when that leaves years 1970–9999. What the control API does.
    pub fn try_advance(&self, by: Millis) -> Result<Millis, ClockError> {
        self.with(|a| {
            let real = Instant::now();
            match a.at(real).checked_add(by) {
                Some(to) if in_range(to) => Ok(a.jump(to, real)),
                to => Err(ClockError::OutOfRange(to)),
            }
        })
    }

    /// Moves virtual time by `by`, stopping at the range's ends (for callers in process, whose
    /// amounts are their own).
    pub fn advance(&self, by: Millis) -> Millis {
        self.with(|a| {
            let real = Instant::now();
            a.jump(within_range(a.at(real).saturating_add(by)), real)
        })
    }

    /// Jumps to an instant in years 1970–9999; refused, and nothing moves, beyond.
    pub fn try_set(&self, to: Millis) -> Result<(), ClockError> {
        if !in_range(to) {
            return Err(ClockError::OutOfRange(Some(to)));
        }
        self.set(to);
        Ok(())
    }

    /// Jumps to an instant, held within the range.
    pub fn set(&self, to: Millis) {
        self.with(|a| a.jump(within_range(to), Instant::now()));
    }

    pub fn set_rate(&self, rate: f64) -> Result<(), ClockError> {
        check_rate(rate)?;
        self.with(|a| {
            a.rebase();
            a.rate = rate;
        });
        Ok(())
    }

    pub fn set_paused(&self, paused: bool) {
        self.with(|a| {
            a.rebase();
            a.paused = paused;
        })
    }

    /// Back to a start instant and rate, running: what a reset does.
    pub fn restart(&self, start: Millis, rate: f64) {
        self.with(|a| *a = Anchor { virtual_at: start, real_at: Instant::now(), rate, paused: false })
    }
}

fn check_rate(rate: f64) -> Result<(), ClockError> {
    if rate.is_finite() && (0.0..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(ClockError::BadRate(rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stays_until_moved() {
        let clock = Clock::new(1_000, 0.0).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.advance(500), 1_500);
        clock.set(42);
        assert_eq!(clock.now(), 42);
    }

    #[test]
    fn moves_beyond_the_range_are_refused_and_a_running_clock_stops_at_its_end() {
        let clock = Clock::new(LATEST - 1_000, 0.0).unwrap();
        assert_eq!(clock.try_advance(1_001), Err(ClockError::OutOfRange(Some(LATEST + 1))));
        assert_eq!(clock.try_advance(Millis::MAX), Err(ClockError::OutOfRange(None)));
        assert!(clock.try_set(LATEST + 1).is_err() && clock.try_set(EARLIEST - 1).is_err());
        assert_eq!(clock.now(), LATEST - 1_000, "a refused change moves nothing");
        assert!(clock.try_advance(-(LATEST - 1_000) - 1).unwrap_err().to_string().contains("1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z"));
        assert_eq!(clock.try_advance(1_000), Ok(LATEST));
        // In process, a move stops at the ends.
        assert_eq!(clock.advance(Millis::MAX), LATEST);
        assert_eq!(clock.advance(Millis::MIN), EARLIEST);
        clock.set(-1);
        assert_eq!(clock.now(), EARLIEST);
        // At the highest rate a millisecond of real time is over sixteen virtual minutes.
        clock.try_set(LATEST - 10).unwrap();
        clock.set_rate(MAX_RATE).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), LATEST);
        assert_eq!(clock.at(Instant::now() + Duration::from_secs(86_400 * 365 * 1000)), LATEST);
        assert_eq!(clock.state().now, LATEST);
        // A start given from outside is held within the range too.
        assert_eq!(Clock::new(-5, 0.0).unwrap().now(), EARLIEST);
        assert_eq!(Clock::new(Millis::MAX, 1.0).unwrap().now(), LATEST);
    }

    #[test]
    fn running_clock_moves_at_its_rate_and_pauses() {
        let clock = Clock::new(0, 1000.0).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let moved = clock.now();
        assert!(moved >= 20_000, "1000x for 20ms should pass 20s of virtual time, got {moved}");
        clock.set_paused(true);
        let paused_at = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), paused_at);
        assert!(clock.state().paused);
    }

    #[test]
    fn readers_never_see_a_torn_anchor_while_it_changes() {
        // Two rates whose virtual times are far apart: a reader mixing one change's fields with
        // another's would see time jump backwards or to a start never set.
        let clock = std::sync::Arc::new(Clock::new(0, 1.0).unwrap());
        let writer = {
            let clock = clock.clone();
            std::thread::spawn(move || {
                for i in 0..2_000 {
                    clock.restart(if i % 2 == 0 { 1_000_000_000 } else { 2_000_000_000 }, 1.0);
                }
            })
        };
        while !writer.is_finished() {
            let now = clock.now();
            assert!((1_000_000_000..1_000_060_000).contains(&now) || (2_000_000_000..2_000_060_000).contains(&now) || now < 60_000, "torn read: {now}");
        }
        writer.join().unwrap();
    }

    #[test]
    fn rejects_absurd_rates() {
        assert!(Clock::new(0, -1.0).is_err());
        let clock = Clock::new(0, 0.0).unwrap();
        assert!(clock.set_rate(f64::NAN).is_err());
        assert!(clock.set_rate(2e6).is_err());
        assert!(clock.set_rate(60.0).is_ok());
        assert_eq!(clock.state().rate, 60.0);
    }
}
