//! The scenario file format as serde types. Field values that may be drawn at random (a list to
//! choose from, a `lo..hi` range) parse here into specs; drawing happens in `build`. Anything wrong
//! fails deserialisation with the span of the offending value, so errors name line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::suggest::did_you_mean;
use crate::instant::{parse_duration, parse_rfc3339, Millis};
use crate::world::lifecycle::Status;

// Each product's entries are declared beside its build step.
pub use super::ecs::{EcsSection, EcsSpec};
pub use super::sas::{SasSection, SasSpec};
pub use super::avds::{AvdsSection, AvdsSpec};
pub use super::hss_image::ImageTaskSpec;
pub use super::hss_task::HssTaskSpec;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Option<String>,
    /// The file's own note to its readers: accepted, never read.
    #[allow(dead_code)]
    pub description: Option<String>,
    pub seed: Option<Spanned<u64>>,
    pub clock: Option<ClockSpec>,
    /// Pinned RequestId / X-Request-Id per operation name, for byte-for-byte repeatable answers.
    #[serde(default)]
    pub request_ids: BTreeMap<Spanned<String>, String>,
    /// Extra Alibaba region ids this world answers for, beyond the real ones.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub ecs: EcsSection,
    #[serde(default)]
    pub sas: SasSection,
    #[serde(default)]
    pub avds: AvdsSection,
    #[serde(default)]
    pub hss: HssSection,
    /// Fields pinned in every answer of an operation (`[responses.DescribeScanSessions]`), by
    /// wire name; a dotted name reaches into an object (`data.TotalCount`).
    #[serde(default)]
    pub responses: BTreeMap<Spanned<String>, ResponsePins>,
    /// Who may call; none means anyone (auth off unless `--auth on`).
    #[serde(default)]
    pub credentials: Vec<Spanned<CredentialSpec>>,
    /// Fault rules active from the start, as `POST /_emu/faults` would add them.
    /// Each key and value spanned, so that a rule's error points at the field it is about.
    #[serde(default)]
    pub faults: Vec<FaultTable>,
    /// Huawei project ids this file's tasks may use although they are not 32 hex characters.
    #[serde(default)]
    pub projects: Vec<String>,
}

impl ScenarioFile {
    /// Adds what another piece of the same file declares (its pieces never declare the same
    /// key twice: TOML refuses a key defined twice before this runs).
    pub fn absorb(&mut self, part: ScenarioFile) {
        let ScenarioFile { name, description, seed, clock, request_ids, mut regions, ecs, sas, avds, hss, responses, mut credentials, mut faults, mut projects } = part;
        self.name = self.name.take().or(name);
        self.description = self.description.take().or(description);
        self.seed = self.seed.take().or(seed);
        if let Some(part) = clock {
            let mine = self.clock.get_or_insert(ClockSpec { start: None, rate: None });
            mine.start = mine.start.take().or(part.start);
            mine.rate = mine.rate.take().or(part.rate);
        }
        self.request_ids.extend(request_ids);
        self.regions.append(&mut regions);
        let (EcsSection { tasks: mut ecs_tasks, generate: mut ecs_generate }, SasSection { tasks: mut sas_tasks, generate: mut sas_generate }) = (ecs, sas);
        self.ecs.tasks.append(&mut ecs_tasks);
        self.ecs.generate.append(&mut ecs_generate);
        self.sas.tasks.append(&mut sas_tasks);
        self.sas.generate.append(&mut sas_generate);
        let AvdsSection { mut scans, mut generate } = avds;
        self.avds.scans.append(&mut scans);
        self.avds.generate.append(&mut generate);
        let HssSection { mut image_tasks, mut image_generate, mut tasks, mut generate } = hss;
        self.hss.image_tasks.append(&mut image_tasks);
        self.hss.image_generate.append(&mut image_generate);
        self.hss.tasks.append(&mut tasks);
        self.hss.generate.append(&mut generate);
        self.responses.extend(responses);
        self.credentials.append(&mut credentials);
        self.faults.append(&mut faults);
        self.projects.append(&mut projects);
    }

    /// Whether the file declares anything at all: a task, a setting, a rule.
    pub fn declares_nothing(&self) -> bool {
        let ScenarioFile { name, description, seed, clock, request_ids, regions, ecs, sas, avds, hss, responses, credentials, faults, projects } = self;
        name.is_none()
            && description.is_none()
            && seed.is_none()
            && clock.is_none()
            && request_ids.is_empty()
            && regions.is_empty()
            && ecs.tasks.is_empty()
            && ecs.generate.is_empty()
            && sas.tasks.is_empty()
            && sas.generate.is_empty()
            && avds.scans.is_empty()
            && avds.generate.is_empty()
            && hss.image_tasks.is_empty()
            && hss.image_generate.is_empty()
            && hss.tasks.is_empty()
            && hss.generate.is_empty()
            && responses.is_empty()
            && credentials.is_empty()
            && faults.is_empty()
            && projects.is_empty()
    }
}

/// A `[[faults]]` table as written, checked as `POST /_emu/faults` checks a rule.
pub type FaultTable = Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsePins {
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

/// One credential: an Alibaba access key pair, a Huawei AK/SK pair, or a Huawei static token, with
/// the operations it may call (`ecs:DescribeTasks`, `sas:*`, `*`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
/// Each field spanned, so that an entry of the wrong shape is told at the field that breaks it.
pub struct CredentialSpec {
    pub access_key_id: Option<Spanned<String>>,
    pub access_key_secret: Option<Spanned<String>>,
    pub ak: Option<Spanned<String>>,
    pub sk: Option<Spanned<String>>,
    pub token: Option<Spanned<String>>,
    /// The Huawei project a token or AK acts in (any project when absent).
    pub project_id: Option<Spanned<String>>,
    pub allow: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    pub start: Option<Spanned<When>>,
    pub rate: Option<Spanned<f64>>,
}




#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HssSection {
    #[serde(default)]
    pub image_tasks: Vec<Spanned<ImageTaskSpec>>,
    #[serde(default)]
    pub image_generate: Vec<Spanned<ImageTaskSpec>>,
    #[serde(default)]
    pub tasks: Vec<Spanned<HssTaskSpec>>,
    #[serde(default)]
    pub generate: Vec<Spanned<HssTaskSpec>>,
}

pub type Lifecycle<S> = Spanned<Vec<Spanned<PhaseSpec<S>>>>;










#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound = "S: Status")]
pub struct PhaseSpec<S: Status> {
    pub status: Choice<StatusName<S>>,
    #[serde(rename = "for")]
    pub duration: Option<DurationSpec>,
    pub reads: Option<IntSpec>,
    /// Snapshot state of a read-bounded phase: reads already counted in it (it is the current one).
    pub reads_counted: Option<u32>,
    /// Snapshot state of a read-bounded phase: the instant its last read was counted (it is over).
    pub exhausted_at: Option<Spanned<When>>,
}

/// A status name checked against its product's vocabulary while parsing.
#[derive(Debug, Clone, Copy)]
pub struct StatusName<S>(pub S);

impl<'de, S: Status> Deserialize<'de> for StatusName<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        S::from_name(&name).map(StatusName).ok_or_else(|| {
            let known: Vec<&str> = S::all().iter().map(|s| s.name()).collect();
            de::Error::custom(format!("unknown status {name:?}: expected one of {}{}", known.join(", "), did_you_mean(&name, known.iter().copied())))
        })
    }
}

/// A closed vocabulary of words (an action, a type, a period ...), checked while parsing.
pub trait Vocabulary {
    const WHAT: &'static str;
    const WORDS: &'static [&'static str];
}

#[derive(Debug, Clone, Copy)]
pub struct Word<V>(pub &'static str, PhantomData<V>);

impl<'de, V: Vocabulary> Deserialize<'de> for Word<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        V::WORDS
            .iter()
            .find(|w| **w == text)
            .map(|w| Word(w, PhantomData))
            .ok_or_else(|| de::Error::custom(format!("unknown {} {text:?}: expected one of {}{}", V::WHAT, V::WORDS.join(", "), did_you_mean(&text, V::WORDS.iter().copied()))))
    }
}

macro_rules! vocabulary {
    ($($name:ident: $what:literal = $words:expr;)*) => {$(
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Vocabulary for $name {
            const WHAT: &'static str = $what;
            const WORDS: &'static [&'static str] = $words;
        }
    )*};
}

vocabulary! {
    EcsAction: "ECS action" = crate::world::ecs::ACTIONS;
    SasTargetKind: "target type" = crate::world::sas::TARGET_KINDS;
    AvdsTrigger: "trigger" = &["date", "interval"];
    AvdsPeriod: "period" = crate::world::avds::Period::NAMES;
    AvdsReport: "report outcome" = &["finished", "failed"];
    ImageTaskType: "image task_type" = crate::world::hss_image::TASK_TYPES;
    ImageType: "image_type" = crate::world::hss_image::IMAGE_TYPES;
    RegistryType: "registry_type" = crate::world::hss_image::REGISTRY_TYPES;
    HssTaskType: "task_type" = crate::world::hss_task::TASK_TYPES;
    TriggerType: "trigger_type" = crate::world::hss_task::TRIGGER_TYPES;
    FileType: "file_type" = crate::world::hss_task::FILE_TYPES;
}

/// One value, or a list to draw from (uniformly, from the scenario's seed).
#[derive(Debug, Clone)]
pub struct Choice<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Choice<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChoiceVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ChoiceVisitor<T> {
            type Value = Choice<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a non-empty list of values to choose from")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                if items.is_empty() {
                    return Err(de::Error::custom("an empty list leaves nothing to choose from"));
                }
                Ok(Choice(items))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| Choice(vec![t]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(|t| Choice(vec![t]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(de::value::BoolDeserializer::new(v)).map(|t| Choice(vec![t]))
            }
        }
        d.deserialize_any(ChoiceVisitor(PhantomData))
    }
}

/// A duration (`"10m"`) or a range to draw from (`"5m..2h"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationSpec {
    pub low: Millis,
    pub high: Millis,
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (low, high) = split_range(&text);
        let low = parse_duration(low).map_err(de::Error::custom)?;
        let high = match high {
            Some(h) => parse_duration(h).map_err(de::Error::custom)?,
            None => low,
        };
        if high < low {
            return Err(de::Error::custom(inverted(&text)));
        }
        Ok(DurationSpec { low, high })
    }
}

/// A whole number, or a `"lo..hi"` range (inclusive) to draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntSpec {
    pub low: i64,
    pub high: i64,
}

impl<'de> Deserialize<'de> for IntSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = IntSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number or a range such as \"10..50\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntSpec, E> {
                if v < 0 {
                    return Err(E::custom(format!("{v} is negative: counts start at 0")));
                }
                Ok(IntSpec { low: v, high: v })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntSpec, E> {
                let bad = || E::custom(format!("bad range {v:?}: expected \"lo..hi\" with whole numbers"));
                let (low, high) = split_range(v);
                let low: i64 = low.trim().parse().map_err(|_| bad())?;
                let high: i64 = high.map_or(Ok(low), |h| h.trim().parse()).map_err(|_| bad())?;
                if low < 0 {
                    return Err(E::custom(format!("range {v:?} starts at {low}, below 0: counts start at 0")));
                }
                if high < low {
                    return Err(E::custom(inverted(v)));
                }
                Ok(IntSpec { low, high })
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

/// A `lo..hi` range whose low end is above its high end (it would draw nothing), said with both
/// ends as written.
fn inverted(text: &str) -> String {
    let (low, high) = split_range(text);
    format!("low end {} is above high end {} in {text:?}: write the range low..high", low.trim(), high.unwrap_or_default().trim())
}

fn split_range(text: &str) -> (&str, Option<&str>) {
    match text.split_once("..") {
        Some((low, high)) => (low, Some(high)),
        None => (text, None),
    }
}

/// An instant: absolute (RFC 3339, as a string or a TOML datetime) or relative to the clock's
/// start (`"+90s"`, `"-2h"`); a `"-2h..+0s"` range is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub low: Instant,
    pub high: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    Absolute(Millis),
    Relative(Millis),
}

impl Instant {
    pub fn resolve(self, start: Millis) -> Millis {
        match self {
            Instant::Absolute(at) => at,
            Instant::Relative(offset) => start.saturating_add(offset),
        }
    }

    fn parse(text: &str) -> Result<Instant, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('+') {
            return parse_duration(rest).map(Instant::Relative);
        }
        if let Some(rest) = text.strip_prefix('-') {
            return parse_duration(rest).map(|d| Instant::Relative(-d));
        }
        parse_rfc3339(text).map(Instant::Absolute).ok_or_else(|| {
            format!("bad instant {text:?}: expected RFC 3339 (\"2026-11-22T08:00:00Z\") or an offset from the clock start (\"+5m\", \"-2h\")")
        })
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct WhenVisitor;
        impl<'de> Visitor<'de> for WhenVisitor {
            type Value = When;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an instant: RFC 3339, or an offset such as \"+5m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<When, E> {
                let (low, high) = match v.split_once("..") {
                    Some((low, high)) => {
                        let (low, high) = (Instant::parse(low).map_err(E::custom)?, Instant::parse(high).map_err(E::custom)?);
                        // Both ends of one kind compare now; a mix compares only once the clock
                        // start is known, and draws the low end if inverted.
                        let above = match (low, high) {
                            (Instant::Absolute(l), Instant::Absolute(h)) | (Instant::Relative(l), Instant::Relative(h)) => l > h,
                            _ => false,
                        };
                        if above {
                            return Err(E::custom(inverted(v)));
                        }
                        (low, high)
                    }
                    None => {
                        let at = Instant::parse(v).map_err(E::custom)?;
                        (at, at)
                    }
                };
                Ok(When { low, high })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<When, A::Error> {
                let datetime = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
                self.visit_str(&datetime.to_string())
            }
        }
        d.deserialize_any(WhenVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<T: for<'de> Deserialize<'de>>(toml_value: &str) -> Result<T, String> {
        T::deserialize(toml::de::ValueDeserializer::parse(toml_value).map_err(|e| e.to_string())?).map_err(|e| e.message().to_string())
    }

    #[test]
    fn an_inverted_range_names_both_ends() {
        assert_eq!(value::<When>("\"+1h..-1h\"").unwrap_err(), "low end +1h is above high end -1h in \"+1h..-1h\": write the range low..high");
        assert_eq!(value::<When>("\"2026-01-02T00:00:00Z..2026-01-01T00:00:00Z\"").unwrap_err(), "low end 2026-01-02T00:00:00Z is above high end 2026-01-01T00:00:00Z in \"2026-01-02T00:00:00Z..2026-01-01T00:00:00Z\": write the range low..high");
        assert_eq!(value::<IntSpec>("\"5..2\"").unwrap_err(), "low end 5 is above high end 2 in \"5..2\": write the range low..high");
        assert_eq!(value::<DurationSpec>("\"2h..5m\"").unwrap_err(), "low end 2h is above high end 5m in \"2h..5m\": write the range low..high");
        assert_eq!(value::<IntSpec>("\"-3..2\"").unwrap_err(), "range \"-3..2\" starts at -3, below 0: counts start at 0");
        assert_eq!(value::<IntSpec>("-1").unwrap_err(), "-1 is negative: counts start at 0");
        // Equal ends and the right order are fine.
        assert_eq!(value::<IntSpec>("\"2..2\"").unwrap(), IntSpec { low: 2, high: 2 });
        assert!(value::<When>("\"-1h..+1h\"").is_ok());
        assert!(value::<DurationSpec>("\"5m..2h\"").is_ok());
    }

    #[test]
    fn an_unknown_word_suggests_the_nearest() {
        let status = value::<StatusName<crate::world::ecs::EcsStatus>>("\"Finshed\"").unwrap_err();
        assert!(status.ends_with("(did you mean \"Finished\"?)"), "{status}");
        let period = value::<Word<AvdsPeriod>>("\"huor\"").unwrap_err();
        assert!(period.starts_with("unknown period \"huor\": expected one of ") && period.ends_with("(did you mean \"hour\"?)"), "{period}");
        let far = value::<Word<AvdsPeriod>>("\"fortnightly\"").unwrap_err();
        assert!(!far.contains("did you mean"), "{far}");
    }
}
