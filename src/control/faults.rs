//! Fault injection: rules that make an operation fail on purpose (an error in the cloud's own
//! envelope), slow down (fixed or ranged latency), or throttle (over N requests a second), for the
//! next N calls or with a probability drawn from the seed. Rules come from scenarios or the
//! control API; both are checked the same way before anything changes.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::instant::parse_duration;

/// The operation names a rule may target (or `*`).
pub const OPERATIONS: &[&str] = &["DescribeTasks", "DescribeScanTaskProgress", "DescribeScanSessions", "ListImageScanTask", "ListTasks"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    pub code: String,
    pub status: Option<u16>,
    pub message: Option<String>,
}

/// A rule as written (JSON body or scenario table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default = "any")]
    pub operation: String,
    /// Only for this caller (AccessKeyId or Huawei project); everyone when absent.
    pub tenant: Option<String>,
    pub error: Option<ErrorSpec>,
    /// `"200ms"` or `"100ms..2s"`.
    pub latency: Option<String>,
    /// Requests per second allowed before the cloud's throttling error.
    pub throttle: Option<u32>,
    /// Fire for the next N matching calls only.
    pub times: Option<u32>,
    /// Fire with this probability (0..=1), drawn from the seed.
    pub probability: Option<f64>,
}

fn any() -> String {
    "*".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatencyRange {
    pub min_ms: u64,
    pub max_ms: u64,
}

impl FaultSpec {
    /// Checks a rule; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.operation != "*" && !OPERATIONS.contains(&self.operation.as_str()) {
            return Err(format!("unknown operation {:?}: expected * or one of {}", self.operation, OPERATIONS.join(", ")));
        }
        let effects = usize::from(self.error.is_some()) + usize::from(self.latency.is_some()) + usize::from(self.throttle.is_some());
        if effects != 1 {
            return Err("a fault rule needs exactly one of error, latency, throttle".into());
        }
        if let Some(e) = &self.error {
            if e.code.trim().is_empty() {
                return Err("error.code must not be empty".into());
            }
            if e.status.is_some_and(|s| !(400..=599).contains(&s)) {
                return Err("error.status must be from 400 to 599".into());
            }
        }
        self.latency_range()?;
        if self.throttle == Some(0) {
            return Err("throttle must allow at least 1 request per second".into());
        }
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must be from 0 to 1".into());
        }
        if self.times == Some(0) {
            return Err("times must be at least 1".into());
        }
        Ok(())
    }

    fn latency_range(&self) -> Result<Option<LatencyRange>, String> {
        let Some(text) = &self.latency else { return Ok(None) };
        let (low, high) = text.split_once("..").unwrap_or((text, text));
        let (low, high) = (parse_duration(low)?, parse_duration(high)?);
        if high < low || high > 60_000 {
            return Err(format!("latency {text:?} must be a range within 0..60s"));
        }
        Ok(Some(LatencyRange { min_ms: low as u64, max_ms: high as u64 }))
    }
}

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

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub remaining: Option<u32>,
    pub fired: u64,
}

#[derive(Debug)]
struct Rules {
    rules: Vec<Rule>,
    next_id: u64,
    rng: StdRng,
}

#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Rules>,
    /// Whether there is any rule: read without the lock by every call, nearly always to learn
    /// there is none (a lock there was a cache line the cores passed back and forth).
    armed: std::sync::atomic::AtomicBool,
}

/// The rules locked; on release, `armed` says whether any is left.
struct RulesGuard<'a> {
    guard: std::sync::MutexGuard<'a, Rules>,
    armed: &'a std::sync::atomic::AtomicBool,
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
        self.armed.store(!self.guard.rules.is_empty(), std::sync::atomic::Ordering::Release);
    }
}

impl Faults {
    pub fn new(seed: u64) -> Faults {
        Faults { inner: Mutex::new(Rules { rules: Vec::new(), next_id: 1, rng: StdRng::seed_from_u64(seed) }), armed: Default::default() }
    }

    /// The rules, for a change or a decision; `armed` follows them when the guard drops.
    fn lock(&self) -> RulesGuard<'_> {
        RulesGuard { guard: self.inner.lock().unwrap_or_else(|p| p.into_inner()), armed: &self.armed }
    }

    /// Adds checked rules, all or none; returns their ids.
    pub fn add(&self, specs: Vec<FaultSpec>) -> Result<Vec<u64>, String> {
        let mut prepared = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            spec.validate().map_err(|e| if i == 0 { e } else { format!("rule {}: {e}", i + 1) })?;
            let latency = spec.latency_range()?;
            prepared.push((spec, latency));
        }
        let mut rules = self.lock();
        let mut ids = Vec::new();
        for (spec, latency) in prepared {
            let id = rules.next_id;
            rules.next_id += 1;
            ids.push(id);
            let remaining = spec.times;
            rules.rules.push(Rule { id, spec, latency, remaining, recent: VecDeque::new(), fired: 0 });
        }
        Ok(ids)
    }

    /// Replaces every rule (a reset to the scenarios' own).
    pub fn replace(&self, specs: Vec<FaultSpec>, seed: u64) -> Result<(), String> {
        {
            let mut rules = self.lock();
            rules.rules.clear();
            rules.rng = StdRng::seed_from_u64(seed);
        }
        self.add(specs).map(|_| ())
    }

    pub fn list(&self, tenant: Option<&str>) -> Vec<RuleView> {
        self.lock()
            .rules
            .iter()
            .filter(|r| tenant.is_none_or(|t| r.spec.tenant.as_deref() == Some(t)))
            .map(|r| RuleView { id: r.id, spec: r.spec.clone(), remaining: r.remaining, fired: r.fired })
            .collect()
    }

    /// Removes every rule (one tenant's, when given); says how many went.
    pub fn clear(&self, tenant: Option<&str>) -> usize {
        let mut rules = self.lock();
        let before = rules.rules.len();
        rules.rules.retain(|r| tenant.is_some_and(|t| r.spec.tenant.as_deref() != Some(t)));
        before - rules.rules.len()
    }

    pub fn remove(&self, id: u64) -> bool {
        let mut rules = self.lock();
        let before = rules.rules.len();
        rules.rules.retain(|r| r.id != id);
        rules.rules.len() != before
    }

    /// Decides what a call to `operation` by `tenant` meets: the sum of matching latencies and
    /// the first matching failure. Rules used up by `times` are dropped.
    pub fn decide(&self, operation: &str, tenant: Option<&str>) -> Effect {
        if !self.armed.load(std::sync::atomic::Ordering::Acquire) {
            return Effect::default();
        }
        let mut guard = self.lock();
        let Rules { rules, rng, .. } = &mut *guard;
        if rules.is_empty() {
            return Effect::default();
        }
        let now = Instant::now();
        let mut effect = Effect::default();
        for rule in rules.iter_mut() {
            let spec = &rule.spec;
            if (spec.operation != "*" && spec.operation != operation) || spec.tenant.as_deref().is_some_and(|t| Some(t) != tenant) {
                continue;
            }
            let fires = match spec.throttle {
                Some(limit) => {
                    while rule.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                        rule.recent.pop_front();
                    }
                    let over = rule.recent.len() >= limit as usize;
                    if !over {
                        rule.recent.push_back(now);
                    }
                    over
                }
                None => true,
            };
            if !fires || effect.failure.is_some() && spec.latency.is_none() {
                continue;
            }
            if spec.probability.is_some_and(|p| !rng.random_bool(p)) {
                continue;
            }
            if let Some(range) = rule.latency {
                let ms = if range.max_ms > range.min_ms { rng.random_range(range.min_ms..=range.max_ms) } else { range.min_ms };
                effect.delay += Duration::from_millis(ms);
            } else if let Some(error) = &spec.error {
                effect.failure = Some(Failure::Error(error.clone()));
            } else {
                effect.failure = Some(Failure::Throttled);
            }
            rule.fired += 1;
            if let Some(left) = rule.remaining.as_mut() {
                *left -= 1;
            }
        }
        rules.retain(|r| r.remaining != Some(0));
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
        let faults = Faults::new(1);
        faults.add(vec![error_rule(Some(2))]).unwrap();
        assert_eq!(faults.decide("ListTasks", None), Effect::default());
        assert!(faults.decide("DescribeTasks", Some("k")).failure.is_some());
        assert!(faults.decide("DescribeTasks", None).failure.is_some());
        assert_eq!(faults.decide("DescribeTasks", None), Effect::default());
        assert!(faults.list(None).is_empty(), "a used-up rule is gone");
    }

    #[test]
    fn throttle_counts_requests_per_second_and_latency_adds_up() {
        let faults = Faults::new(1);
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
        let faults = Faults::new(1);
        let bad = FaultSpec { latency: Some("1s".into()), ..error_rule(None) };
        assert!(faults.add(vec![error_rule(None), bad]).unwrap_err().contains("exactly one"));
        assert!(faults.list(None).is_empty());
        assert!(FaultSpec { operation: "Nope".into(), ..error_rule(None) }.validate().is_err());
        assert!(FaultSpec { probability: Some(1.5), ..error_rule(None) }.validate().is_err());
    }

    #[test]
    fn tenant_rules_touch_only_their_tenant() {
        let faults = Faults::new(1);
        faults.add(vec![FaultSpec { tenant: Some("a".into()), ..error_rule(None) }]).unwrap();
        assert!(faults.decide("DescribeTasks", Some("b")).failure.is_none());
        assert!(faults.decide("DescribeTasks", None).failure.is_none());
        assert!(faults.decide("DescribeTasks", Some("a")).failure.is_some());
        assert_eq!(faults.clear(Some("b")), 0);
        assert_eq!(faults.clear(Some("a")), 1);
    }
}
