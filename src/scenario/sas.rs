//! Security Center scan tasks (`[[sas.tasks]]`, `[[sas.generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use rand::RngExt;
use serde::Deserialize;
use toml::Spanned;

use super::build::Builder;
use super::schema::{self, *};
use crate::instant::{MINUTE, SECOND};
use crate::world::sas::{SasStatus, SasTask, ScanTarget};
use crate::world::Text;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SasSection {
    #[serde(default)]
    pub tasks: Vec<Spanned<SasSpec>>,
    #[serde(default)]
    pub generate: Vec<Spanned<SasSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SasSpec {
    pub count: Option<Spanned<u32>>,
    pub id: Option<Spanned<i64>>,
    pub owner: Option<String>,
    pub created: Option<Spanned<When>>,
    #[serde(default)]
    pub targets: Vec<SasTargetSpec>,
    /// For generators: how many random servers each task scans.
    pub target_count: Option<IntSpec>,
    pub lifecycle: Option<schema::Lifecycle<crate::world::sas::SasStatus>>,
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SasTargetSpec {
    #[serde(rename = "type")]
    pub kind: Word<SasTargetKind>,
    pub name: String,
    pub target: String,
}

impl Builder<'_> {
    pub fn sas(&mut self, specs: &[Spanned<schema::SasSpec>], generated: bool) {
        let section = if generated { "sas.generate" } else { "sas.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.id.is_some(), generated, "id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            if !self.bounded_number("id", spec.id.as_ref(), 1..=i64::MAX) {
                continue;
            }
            self.warn_if_alike(&entry, created, &spec.lifecycle);
            let mut draw = self.draw(section, index);
            let base: i64 = draw.0.random_range(100_000..900_000_000);
            let owner = self.built.interner.owner(spec.owner.as_deref());
            let pins = Self::pins(&spec.set, &spec.unset);
            self.built.sas.reserve(entry.count);
            let mut plans = [None, None];
            for n in 0..entry.count {
                let Some(plan) = self.planned(&mut plans, &spec.lifecycle, &[(SasStatus::Init, Some(10 * SECOND)), (SasStatus::Processing, Some(5 * MINUTE)), (SasStatus::Success, None)], false) else { break };
                let lifecycle = plan.draw(&mut draw);
                let mut targets: Vec<ScanTarget> = spec.targets.iter().map(|t| ScanTarget { kind: t.kind.0, name: Text::new(&t.name), target: Text::new(&t.target) }).collect();
                if targets.is_empty() {
                    let count = draw.count(spec.target_count, 1);
                    // Room for what the entry most often draws, not for a typo's billions.
                    targets.reserve(count.min(16) as usize);
                    for _ in 0..count {
                        targets.push(ScanTarget { kind: "uuid", name: draw.host().into(), target: draw.uuid() });
                    }
                }
                let id = spec.id.as_ref().map_or(base + i64::from(n), |id| *id.get_ref());
                let created = created.map_or(self.start, |w| draw.when(w, self.start));
                self.built.sas.push(SasTask::new(id, owner.clone(), created, targets, lifecycle, pins.clone()), spec.id.as_ref().map_or(entry.at, |id| id.span().start));
            }
        }
    }
}
