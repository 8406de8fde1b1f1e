//! AVDS scans (`[[avds.scans]]`, `[[avds.generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use rand::RngExt;
use serde::Deserialize;
use toml::Spanned;

use super::build::Builder;
use super::schema::{self, *};
use crate::instant::{MINUTE, SECOND};
use crate::world::avds::{AvdsScan, AvdsStatus, Period, ReportPlan, Trigger};
use crate::world::Text;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvdsSection {
    #[serde(default)]
    pub scans: Vec<Spanned<AvdsSpec>>,
    #[serde(default)]
    pub generate: Vec<Spanned<AvdsSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvdsSpec {
    pub count: Option<Spanned<u32>>,
    pub scan_id: Option<Spanned<String>>,
    pub task_id: Option<Spanned<i64>>,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub targets: Option<Vec<String>>,
    pub target_count: Option<IntSpec>,
    pub created: Option<Spanned<When>>,
    pub trigger: Option<Choice<Word<AvdsTrigger>>>,
    pub period: Option<Choice<Word<AvdsPeriod>>>,
    pub interval: Option<Spanned<IntSpec>>,
    /// At most this many sessions of a periodic scan.
    pub sessions: Option<Spanned<u32>>,
    pub report: Option<Choice<Word<AvdsReport>>>,
    pub report_delay: Option<DurationSpec>,
    pub report_url: Option<String>,
    pub lifecycle: Option<schema::Lifecycle<crate::world::avds::AvdsStatus>>,
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

impl Builder<'_> {
    pub fn avds(&mut self, specs: &[Spanned<schema::AvdsSpec>], generated: bool) {
        let section = if generated { "avds.generate" } else { "avds.scans" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.scan_id.is_some(), generated, "scan_id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            let task_id_ok = self.bounded_number("task_id", spec.task_id.as_ref(), 1..=i64::MAX);
            let interval_ok = self.bounded_spec("interval", spec.interval.as_ref(), 1..=i64::from(u32::MAX));
            let sessions_ok = self.bounded_number("sessions", spec.sessions.as_ref(), 1..=i64::from(u32::MAX));
            if !(task_id_ok && interval_ok && sessions_ok) {
                continue;
            }
            self.warn_if_alike(&entry, created, &spec.lifecycle);
            let mut draw = self.draw(section, index);
            let owner = self.built.interner.owner(spec.owner.as_deref());
            let pins = Self::pins(&spec.set, &spec.unset);
            let url: crate::world::Shared = spec.report_url.as_deref().unwrap_or("https://avds-report.example.com/{ScanId}/{TaskId}.pdf").into();
            let fixed_targets: Option<Box<[Text]>> = spec.targets.as_ref().map(|t| t.iter().map(|x| Text::new(x)).collect());
            self.built.avds.reserve(entry.count);
            let mut plans = [None, None];
            for n in 0..entry.count {
                let periodic = spec.trigger.as_ref().is_some_and(|t| draw.one(t).0 == "interval");
                let trigger = if periodic {
                    let period = spec.period.as_ref().map_or(Period::Hour, |p| Period::from_name(draw.one(p).0).unwrap_or(Period::Hour));
                    let interval = draw.count(spec.interval.as_ref().map(|i| *i.get_ref()), 1);
                    Trigger::Every { period, interval, limit: spec.sessions.as_ref().map(|s| *s.get_ref()) }
                } else {
                    Trigger::Once
                };
                let Some(plan) = self.planned(&mut plans, &spec.lifecycle, &[(AvdsStatus::Waiting, Some(MINUTE)), (AvdsStatus::Running, Some(30 * MINUTE)), (AvdsStatus::Finished, None)], periodic) else { break };
                let lifecycle = plan.draw(&mut draw);
                let targets = match &fixed_targets {
                    Some(t) => t.clone(),
                    None => (0..draw.count(spec.target_count, 2)).map(|_| Text::from(draw.target())).collect(),
                };
                let name = spec.name.as_deref().map_or_else(|| {
                    Text::from([draw.word(), if periodic { " periodic scan" } else { " one-off scan" }].concat())
                }, Text::new);
                let scan = AvdsScan {
                    scan_id: spec.scan_id.as_ref().map_or_else(|| draw.uuid(), |s| Text::new(s.get_ref())),
                    name,
                    targets,
                    owner: owner.clone(),
                    first_task_id: spec.task_id.as_ref().map(|t| *t.get_ref()).unwrap_or_else(|| 1_000_000 + (index as i64 * 1_000 + i64::from(n)) * 100_000 + draw.0.random_range(0..1_000)),
                    created: created.map_or(self.start, |w| draw.when(w, self.start)),
                    trigger,
                    lifecycle,
                    report: ReportPlan {
                        delay: spec.report_delay.map_or(30 * SECOND, |d| draw.duration(d)),
                        fails: spec.report.as_ref().is_some_and(|r| draw.one(r).0 == "failed"),
                        url: url.clone(),
                    },
                    pins: pins.clone(),
                };
                self.built.avds.push(scan, spec.scan_id.as_ref().map_or(entry.at, |s| s.span().start));
            }
        }
    }
}
