//! Fault injection: rules that make an operation fail on purpose (an error in the cloud's own
//! envelope), slow down (fixed or ranged latency), or throttle (over N requests a second), for the
//! next N calls or with a probability drawn from the seed. Rules come from scenarios or the
//! control API; both are checked the same way before anything changes, and both count against
//! one bound (`--max-fault-rules`): a change past it is refused whole. A call walks only the rules
//! of its own operation and the wildcard ones, so rules for other operations cost it nothing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;


pub use crate::scenario::fault::{ErrorSpec, FaultSpec, LatencyRange};

/// What a request meets on its way in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effect {
    pub delay: Duration,
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Error(ErrorSpec),
    Throttled,
}

#[derive(Debug)]
struct Rule {
    id: u64,
    spec: FaultSpec,
    latency: Option<LatencyRange>,
    remaining: Option<u32>,
    recent: VecDeque<Instant>,
    fired: u64,
}

impl Rule {
    fn view(&self) -> RuleView {
        RuleView { id: self.id, spec: self.spec.clone(), remaining: self.remaining, fired: self.fired }
    }

    /// Applies this rule to a call by `tenant` (its operation already matches); says whether it
    /// is used up.
    fn meet(&mut self, tenant: Option<&str>, now: Instant, rng: &mut StdRng, effect: &mut Effect) -> bool {
        let spec = &self.spec;
        if spec.tenant.as_deref().is_some_and(|t| Some(t) != tenant) {
            return false;
        }
        let fires = match spec.throttle {
            Some(limit) => {
                while self.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                    self.recent.pop_front();
                }
                let over = self.recent.len() >= limit as usize;
                if !over {
                    self.recent.push_back(now);
                }
                over
            }
            None => true,
        };
        if !fires || effect.failure.is_some() && spec.latency.is_none() {
            return false;
        }
        if spec.probability.is_some_and(|p| !rng.random_bool(p)) {
            return false;
        }
        if let Some(range) = self.latency {
            let ms = if range.max_ms > range.min_ms { rng.random_range(range.min_ms..=range.max_ms) } else { range.min_ms };
            effect.delay += Duration::from_millis(ms);
        } else if let Some(error) = &spec.error {
            effect.failure = Some(Failure::Error(error.clone()));
        } else {
            effect.failure = Some(Failure::Throttled);
        }
        self.fired += 1;
        match self.remaining.as_mut() {
            Some(left) => {
                *left -= 1;
                *left == 0
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub remaining: Option<u32>,
    pub fired: u64,
}

/// The default of `--max-fault-rules`.
pub const DEFAULT_MAX_RULES: usize = 1_000;

/// Rules kept by the operation they target, so that a call meets only its operation's rules and
/// the wildcard ones: bucket 0 is `*`, bucket `i + 1` is the catalogue's `i`th operation ([`crate::ops::ALL`]). Each bucket is in id
/// order, and a call walks its two buckets merged by id, so rules apply in the order they were
/// added, as one list would.
#[derive(Debug)]
struct Rules {
    buckets: [Vec<Rule>; crate::ops::ALL.len() + 1],
    count: usize,
    next_id: u64,
    rng: StdRng,
}

fn bucket_of(operation: &str) -> Option<usize> {
    if operation == "*" {
        return Some(0);
    }
    crate::ops::rows().position(|row| row.name == operation).map(|i| i + 1)
}

impl Rules {
    fn all(&self) -> impl Iterator<Item = &Rule> {
        let mut all: Vec<&Rule> = self.buckets.iter().flatten().collect();
        all.sort_unstable_by_key(|r| r.id);
        all.into_iter()
    }

    /// Keeps the rules `keep` says to, in every bucket; says how many went.
    fn retain(&mut self, mut keep: impl FnMut(&Rule) -> bool) -> usize {
        let before = self.count;
        for bucket in &mut self.buckets {
            bucket.retain(&mut keep);
        }
        self.count = self.buckets.iter().map(Vec::len).sum();
        before - self.count
    }

    /// Which buckets hold a rule, as bits: what `decide` reads without the lock.
    fn armed_bits(&self) -> u32 {
        self.buckets.iter().enumerate().filter(|(_, b)| !b.is_empty()).fold(0, |bits, (i, _)| bits | 1 << i)
    }
}

#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Rules>,
    /// Which buckets hold any rule (bit `i` for bucket `i`): read without the lock by every call,
    /// nearly always to learn there is none for it (a lock there was a cache line the cores passed
    /// back and forth).
    armed: AtomicU32,
    /// The most rules held at once (`--max-fault-rules`), scenarios' and the control API's alike.
    max_rules: usize,
}

/// The rules locked; on release, `armed` says which buckets hold any.
struct RulesGuard<'a> {
    guard: std::sync::MutexGuard<'a, Rules>,
    armed: &'a AtomicU32,
}

impl std::ops::Deref for RulesGuard<'_> {
    type Target = Rules;
    fn deref(&self) -> &Rules {
        &self.guard
    }
}

impl std::ops::DerefMut for RulesGuard<'_> {
    fn deref_mut(&mut self) -> &mut Rules {
        &mut self.guard
    }
}

impl Drop for RulesGuard<'_> {
    fn drop(&mut self) {
        self.armed.store(self.guard.armed_bits(), Ordering::Release);
    }
}

type Prepared = Vec<(FaultSpec, Option<LatencyRange>)>;

impl Faults {
    pub fn new(seed: u64, max_rules: usize) -> Faults {
        let rules = Rules { buckets: Default::default(), count: 0, next_id: 1, rng: StdRng::seed_from_u64(seed) };
        Faults { inner: Mutex::new(rules), armed: AtomicU32::new(0), max_rules }
    }

    /// The rules, for a change or a decision; `armed` follows them when the guard drops.
    fn lock(&self) -> RulesGuard<'_> {
        RulesGuard { guard: self.inner.lock().unwrap_or_else(|p| p.into_inner()), armed: &self.armed }
    }

    /// Checks every rule before any is added.
    fn prepare(specs: Vec<FaultSpec>) -> Result<Prepared, String> {
        let mut prepared = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            spec.validate().map_err(|e| if i == 0 { e } else { format!("rule {}: {e}", i + 1) })?;
            let latency = spec.latency_range()?;
            prepared.push((spec, latency));
        }
        Ok(prepared)
    }

    /// Refuses a change that would hold more than `--max-fault-rules` rules.
    fn check_bound(&self, held: usize, adding: usize) -> Result<(), String> {
        if held.saturating_add(adding) > self.max_rules {
            return Err(format!(
                "too many fault rules: {adding} more would make {} with {held} already set, over the bound of {} (--max-fault-rules); remove some first (DELETE /_emu/faults)",
                held.saturating_add(adding),
                self.max_rules
            ));
        }
        Ok(())
    }

    fn insert(rules: &mut Rules, prepared: Prepared) -> Vec<RuleView> {
        let mut added = Vec::with_capacity(prepared.len());
        for (spec, latency) in prepared {
            let id = rules.next_id;
            rules.next_id += 1;
            let remaining = spec.times;
            // `validate` let through only `*` and the known operations.
            let bucket = bucket_of(&spec.operation).unwrap_or(0);
            let rule = Rule { id, spec, latency, remaining, recent: VecDeque::new(), fired: 0 };
            added.push(rule.view());
            rules.buckets[bucket].push(rule);
            rules.count += 1;
        }
        added
    }

    /// Adds checked rules, all or none (none when they would be more than the bound); returns
    /// them as added, ids and all.
    pub fn add(&self, specs: Vec<FaultSpec>) -> Result<Vec<RuleView>, String> {
        let prepared = Self::prepare(specs)?;
        let mut rules = self.lock();
        self.check_bound(rules.count, prepared.len())?;
        Ok(Self::insert(&mut rules, prepared))
    }

    /// Replaces every rule (a reset to the scenarios' own); a refusal leaves the rules as they were.
    pub fn replace(&self, specs: Vec<FaultSpec>, seed: u64) -> Result<(), String> {
        let prepared = Self::prepare(specs)?;
        self.check_bound(0, prepared.len())?;
        let mut rules = self.lock();
        rules.retain(|_| false);
        rules.rng = StdRng::seed_from_u64(seed);
        Self::insert(&mut rules, prepared);
        Ok(())
    }

    pub fn list(&self, tenant: Option<&str>) -> Vec<RuleView> {
        self.lock().all().filter(|r| tenant.is_none_or(|t| r.spec.tenant.as_deref() == Some(t))).map(Rule::view).collect()
    }

    /// Removes every rule (one tenant's, when given); says how many went.
    pub fn clear(&self, tenant: Option<&str>) -> usize {
        self.lock().retain(|r| tenant.is_some_and(|t| r.spec.tenant.as_deref() != Some(t)))
    }

    pub fn remove(&self, id: u64) -> bool {
        self.lock().retain(|r| r.id != id) > 0
    }

    /// Decides what a call to `operation` by `tenant` meets: the sum of matching latencies and
    /// the first matching failure. Only the operation's rules and the wildcard ones are walked;
    /// rules used up by `times` are dropped.
    pub fn decide(&self, operation: &str, tenant: Option<&str>) -> Effect {
        let specific = bucket_of(operation).filter(|b| *b != 0);
        let wanted = 1 | specific.map_or(0, |b| 1u32 << b);
        if self.armed.load(Ordering::Acquire) & wanted == 0 {
            return Effect::default();
        }
        let mut guard = self.lock();
        let Rules { buckets, rng, count, .. } = &mut *guard;
        let (wildcard, by_operation) = buckets.split_at_mut(1);
        let wildcard = &mut wildcard[0];
        let mut no_rules = Vec::new();
        let specific: &mut Vec<Rule> = match specific {
            Some(b) => &mut by_operation[b - 1],
            None => &mut no_rules,
        };
        let now = Instant::now();
        let mut effect = Effect::default();
        let (mut w, mut s, mut used_up) = (0, 0, false);
        loop {
            let from_wildcard = match (wildcard.get(w).map(|r| r.id), specific.get(s).map(|r| r.id)) {
                (Some(a), Some(b)) => a < b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let rule = if from_wildcard {
                w += 1;
                &mut wildcard[w - 1]
            } else {
                s += 1;
                &mut specific[s - 1]
            };
            used_up |= rule.meet(tenant, now, rng, &mut effect);
        }
        if used_up {
            wildcard.retain(|r| r.remaining != Some(0));
            specific.retain(|r| r.remaining != Some(0));
            *count = buckets.iter().map(Vec::len).sum();
        }
        effect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_rule(times: Option<u32>) -> FaultSpec {
        FaultSpec {
            operation: "DescribeTasks".into(),
            tenant: None,
            error: Some(ErrorSpec { code: "ServiceUnavailable".into(), status: None, message: None }),
            latency: None,
            throttle: None,
            times,
            probability: None,
        }
    }

    #[test]
    fn an_error_rule_fires_for_the_next_n_calls_of_its_operation() {
        let faults = Faults::new(1, DEFAULT_MAX_RULES);
        faults.add(vec![error_rule(Some(2))]).unwrap();
        assert_eq!(faults.decide("ListTasks", None), Effect::default());
        assert!(faults.decide("DescribeTasks", Some("k")).failure.is_some());
        assert!(faults.decide("DescribeTasks", None).failure.is_some());
        assert_eq!(faults.decide("DescribeTasks", None), Effect::default());
        assert!(faults.list(None).is_empty(), "a used-up rule is gone");
    }

    #[test]
    fn throttle_counts_requests_per_second_and_latency_adds_up() {
        let faults = Faults::new(1, DEFAULT_MAX_RULES);
        let throttle = FaultSpec { error: None, throttle: Some(2), ..error_rule(None) };
        let slow = FaultSpec { error: None, latency: Some("5ms".into()), operation: "*".into(), ..error_rule(None) };
        faults.add(vec![throttle, slow]).unwrap();
        assert_eq!(faults.decide("DescribeTasks", None).failure, None);
        assert_eq!(faults.decide("DescribeTasks", None).failure, None);
        let third = faults.decide("DescribeTasks", None);
        assert_eq!((third.failure, third.delay), (Some(Failure::Throttled), Duration::from_millis(5)));
    }

    #[test]
    fn bad_rules_are_refused_whole() {
        let faults = Faults::new(1, DEFAULT_MAX_RULES);
        let bad = FaultSpec { latency: Some("1s".into()), ..error_rule(None) };
        assert!(faults.add(vec![error_rule(None), bad]).unwrap_err().contains("exactly one"));
        assert!(faults.list(None).is_empty());
        assert!(FaultSpec { operation: "Nope".into(), ..error_rule(None) }.validate().is_err());
        assert!(FaultSpec { probability: Some(1.5), ..error_rule(None) }.validate().is_err());
    }

    #[test]
    fn tenant_rules_touch_only_their_tenant() {
        let faults = Faults::new(1, DEFAULT_MAX_RULES);
        faults.add(vec![FaultSpec { tenant: Some("a".into()), ..error_rule(None) }]).unwrap();
        assert!(faults.decide("DescribeTasks", Some("b")).failure.is_none());
        assert!(faults.decide("DescribeTasks", None).failure.is_none());
        assert!(faults.decide("DescribeTasks", Some("a")).failure.is_some());
        assert_eq!(faults.clear(Some("b")), 0);
        assert_eq!(faults.clear(Some("a")), 1);
    }

    #[test]
    fn rules_apply_in_the_order_they_were_added_across_operations() {
        let faults = Faults::new(1, DEFAULT_MAX_RULES);
        let wildcard_error = FaultSpec { operation: "*".into(), error: Some(ErrorSpec { code: "First".into(), status: None, message: None }), ..error_rule(None) };
        let slow = FaultSpec { error: None, latency: Some("3ms".into()), ..error_rule(None) };
        let added = faults.add(vec![error_rule(None), wildcard_error, slow.clone()]).unwrap();
        assert_eq!(added.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2, 3]);
        let effect = faults.decide("DescribeTasks", None);
        assert_eq!(effect.failure, Some(Failure::Error(error_rule(None).error.unwrap())), "the older rule's error wins");
        assert_eq!(effect.delay, Duration::from_millis(3));
        assert_eq!(faults.decide("ListTasks", None).failure, Some(Failure::Error(ErrorSpec { code: "First".into(), status: None, message: None })));
        assert_eq!(faults.list(None).iter().map(|r| (r.id, r.fired)).collect::<Vec<_>>(), [(1, 1), (2, 1), (3, 1)]);
        assert!(faults.remove(2) && !faults.remove(2));
        assert_eq!(faults.decide("ListTasks", None), Effect::default(), "no rule left for ListTasks");
    }

    #[test]
    fn the_bound_refuses_the_whole_batch_and_counts_scenario_rules() {
        let faults = Faults::new(1, 3);
        faults.add(vec![error_rule(None), error_rule(None)]).unwrap();
        let refused = faults.add(vec![error_rule(None), error_rule(None)]).unwrap_err();
        assert!(refused.contains("over the bound of 3 (--max-fault-rules)"), "{refused}");
        assert_eq!(faults.list(None).len(), 2, "nothing added");
        assert!(faults.replace(vec![error_rule(None); 4], 1).is_err());
        assert_eq!(faults.list(None).len(), 2, "a refused replace keeps the rules");
        faults.replace(vec![error_rule(None); 3], 1).unwrap();
        assert_eq!(faults.list(None).len(), 3);
        // A used-up rule frees its place.
        faults.replace(vec![error_rule(Some(1)), error_rule(None), error_rule(None)], 1).unwrap();
        faults.decide("DescribeTasks", None);
        assert_eq!(faults.add(vec![error_rule(None)]).map(|v| v.len()), Ok(1));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]

        #[test]
        fn batches_are_taken_while_they_fit_and_refused_whole_past_the_bound(
            max in 0usize..12,
            batches in proptest::collection::vec((0usize..6, proptest::sample::select(vec!["*", "DescribeTasks", "ListTasks"])), 1..8),
        ) {
            let faults = Faults::new(1, max);
            let mut held = 0;
            for (size, operation) in batches {
                let specs = vec![FaultSpec { operation: operation.into(), ..error_rule(None) }; size];
                let result = faults.add(specs);
                if size == 0 {
                    proptest::prop_assert!(result.is_ok());
                } else if held + size <= max {
                    proptest::prop_assert_eq!(result.map(|v| v.len()), Ok(size));
                    held += size;
                } else {
                    proptest::prop_assert!(result.is_err());
                }
                proptest::prop_assert_eq!(faults.list(None).len(), held);
            }
        }
    }
}
