//! A fault rule as written, in a scenario's `[[faults]]` or a `POST /_emu/faults` body: plain
//! data and its checks. What a rule does to a request is `crate::faults`'s.

use serde::{Deserialize, Serialize};

use crate::instant::parse_duration;

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
        if self.operation != "*" && crate::ops::named(&self.operation).is_none() {
            let suggestion = super::suggest::did_you_mean(&self.operation, crate::ops::ALL.iter().map(|op| op.spec().name));
            return Err(format!("unknown operation {:?}: expected * or one of {}{suggestion}", self.operation, crate::ops::names()));
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

    pub fn latency_range(&self) -> Result<Option<LatencyRange>, String> {
        let Some(text) = &self.latency else { return Ok(None) };
        let (low, high) = text.split_once("..").unwrap_or((text, text));
        let (low, high) = (parse_duration(low)?, parse_duration(high)?);
        if high < low || high > 60_000 {
            return Err(format!("latency {text:?} must be a range within 0..60s"));
        }
        Ok(Some(LatencyRange { min_ms: low as u64, max_ms: high as u64 }))
    }
}
