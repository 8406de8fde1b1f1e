//! The header-read timer: a coarse [`hyper::rt::Timer`] for the one timeout hyper's HTTP/1 server
//! arms, the time a client has to send a request head. hyper arms it again for every request on a
//! keep-alive connection and drops it once the head is in; with tokio's timer that was a
//! timer-wheel insert and removal per request (issue 6's profile: half a microsecond of a paged
//! DescribeTasks). Here arming is a number stored in the connection's slot, and one sweeper task
//! per server wakes every tick (a tenth of the timeout, 10 ms to 1 s) and wakes the connections
//! whose deadline has passed. A timeout fires up to one tick late, which a slowloris guard affords.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

const DISARMED: u64 = u64::MAX;

/// The server's timer: hands each connection its own [`ConnectionTimer`] and sweeps them.
pub struct Sweeper {
    epoch: Instant,
    tick: Duration,
    slots: Mutex<Vec<Weak<Slot>>>,
}

/// One connection's deadline, in milliseconds since the sweeper's epoch.
#[derive(Default)]
struct Slot {
    deadline: AtomicU64,
    /// The deadline the sweeper found passed.
    fired: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

impl Sweeper {
    pub fn new(timeout: Duration) -> Arc<Sweeper> {
        let tick = (timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        Arc::new(Sweeper { epoch: Instant::now(), tick, slots: Mutex::new(Vec::new()) })
    }

    /// The timer a new connection's hyper builder takes.
    pub fn connection(self: &Arc<Sweeper>) -> ConnectionTimer {
        let slot = Arc::new(Slot { deadline: AtomicU64::new(DISARMED), fired: AtomicU64::new(DISARMED), waker: Mutex::new(None) });
        lock(&self.slots).push(Arc::downgrade(&slot));
        ConnectionTimer { sweeper: self.clone(), slot }
    }

    /// Sweeps every tick until the task is aborted.
    pub async fn run(self: Arc<Sweeper>) {
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.sweep(self.millis(Instant::now()));
        }
    }

    /// Wakes the connections whose deadline is at or before `now`; forgets closed ones.
    fn sweep(&self, now: u64) {
        let mut due = Vec::new();
        lock(&self.slots).retain(|weak| {
            let Some(slot) = weak.upgrade() else { return false };
            let deadline = slot.deadline.load(Ordering::Acquire);
            if deadline <= now {
                slot.fired.store(deadline, Ordering::Release);
                due.extend(lock(&slot.waker).take());
            }
            true
        });
        // Woken out of the lock: a woken connection may be polled on this thread at once.
        due.into_iter().for_each(Waker::wake);
    }

    /// Fires every armed deadline now. Armed means a connection waiting for a request head (none
    /// in flight), so at shutdown this closes exactly the connections there is nothing to finish on.
    pub fn expire_all(&self) {
        self.sweep(DISARMED - 1);
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(DISARMED - 1)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One connection's timer.
pub struct ConnectionTimer {
    sweeper: Arc<Sweeper>,
    slot: Arc<Slot>,
}

impl hyper::rt::Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let at = self.sweeper.millis(deadline);
        self.slot.deadline.store(at, Ordering::Release);
        Box::pin(Deadline { slot: self.slot.clone(), at })
    }
}

/// A deadline armed in a slot; ready once the sweeper has found it passed.
struct Deadline {
    slot: Arc<Slot>,
    at: u64,
}

impl Deadline {
    fn passed(&self) -> bool {
        self.slot.fired.load(Ordering::Acquire) == self.at
    }
}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.passed() {
            return Poll::Ready(());
        }
        {
            let mut waker = lock(&self.slot.waker);
            match &mut *waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                other => *other = Some(cx.waker().clone()),
            }
        }
        // The sweeper may have fired between the check and the waker being stored.
        if self.passed() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl hyper::rt::Sleep for Deadline {}

impl Drop for Deadline {
    fn drop(&mut self) {
        // Disarms the slot unless a newer deadline has replaced this one.
        let _ = self.slot.deadline.compare_exchange(self.at, DISARMED, Ordering::AcqRel, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::task::Wake;

    use hyper::rt::Timer;

    use super::*;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, waker: &Waker) -> Poll<()> {
        sleep.as_mut().poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_deadline_fires_once_swept_past_and_wakes_its_connection() {
        let sweeper = Sweeper::new(Duration::from_secs(10));
        assert_eq!(sweeper.tick, Duration::from_secs(1));
        let timer = sweeper.connection();
        let woken = Arc::new(Count(Default::default()));
        let waker = Waker::from(woken.clone());
        let mut sleep = timer.sleep_until(sweeper.epoch + Duration::from_millis(500));
        assert!(poll(&mut sleep, &waker).is_pending());
        sweeper.sweep(499);
        assert!(poll(&mut sleep, &waker).is_pending());
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        sweeper.sweep(500);
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut sleep, &waker).is_ready());
    }

    #[test]
    fn a_dropped_deadline_disarms_and_a_closed_connection_is_forgotten() {
        let sweeper = Sweeper::new(Duration::from_millis(300));
        assert_eq!(sweeper.tick, Duration::from_millis(30));
        let timer = sweeper.connection();
        let woken = Arc::new(Count(Default::default()));
        let mut sleep = timer.sleep_until(sweeper.epoch + Duration::from_millis(100));
        assert!(poll(&mut sleep, &Waker::from(woken.clone())).is_pending());
        // The head arrived: hyper drops the deadline, and a later sweep wakes no one.
        drop(sleep);
        sweeper.sweep(1_000);
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        // The next request's deadline is its own.
        let mut next = timer.sleep(Duration::from_secs(3600));
        assert!(poll(&mut next, &Waker::from(woken.clone())).is_pending());
        drop((next, timer));
        sweeper.sweep(u64::MAX - 1);
        assert!(lock(&sweeper.slots).is_empty());
    }

    #[test]
    fn expiring_all_fires_armed_deadlines_only() {
        let sweeper = Sweeper::new(Duration::from_secs(10));
        let (waiting, busy) = (sweeper.connection(), sweeper.connection());
        let woken = Arc::new(Count(Default::default()));
        let waker = Waker::from(woken.clone());
        let mut head = waiting.sleep(Duration::from_secs(3600));
        assert!(poll(&mut head, &waker).is_pending());
        // The other connection's head is in: its deadline is gone.
        drop(busy.sleep(Duration::from_secs(3600)));
        sweeper.expire_all();
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut head, &waker).is_ready());
    }
}
