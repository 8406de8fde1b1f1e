//! ECS tasks (`[[ecs.tasks]]`, `[[ecs.generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use serde::Deserialize;
use toml::Spanned;

use super::build::{draw_tasks, Builder, DEFAULT_REGION};
use super::schema::{self, *};
use crate::instant::{MINUTE, SECOND};
use crate::world::ecs::{EcsStatus, EcsTask};
use crate::world::{Term, Text};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsSection {
    #[serde(default)]
    pub tasks: Vec<Spanned<EcsSpec>>,
    #[serde(default)]
    pub generate: Vec<Spanned<EcsSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsSpec {
    pub count: Option<Spanned<u32>>,
    pub id: Option<Spanned<String>>,
    pub region: Option<Spanned<Choice<String>>>,
    pub owner: Option<String>,
    pub action: Option<Choice<Word<EcsAction>>>,
    pub resource_id: Option<String>,
    pub created: Option<Spanned<When>>,
    pub support_cancel: Option<bool>,
    pub lifecycle: Option<schema::Lifecycle<crate::world::ecs::EcsStatus>>,
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

impl Builder<'_> {
    pub fn ecs(&mut self, specs: &[Spanned<schema::EcsSpec>], generated: bool) {
        let section = if generated { "ecs.generate" } else { "ecs.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.id.is_some(), generated, "id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            if spec.region.as_ref().is_some_and(|r| !self.regions_known(r)) {
                continue;
            }
            self.warn_if_alike(&entry, created, &spec.lifecycle);
            let mut draw = self.draw(section, index);
            let owner = self.built.interner.owner(spec.owner.as_deref());
            let regions: Vec<crate::world::Shared> = match &spec.region {
                Some(choice) => choice.get_ref().0.iter().map(|r| self.built.interner.get(r)).collect(),
                None => vec![self.built.interner.get(DEFAULT_REGION)],
            };
            let pins = Self::pins(&spec.set, &spec.unset);
            // The lifecycle is checked at the entry's first task: an entry of none says nothing.
            if entry.count == 0 {
                continue;
            }
            let mut plans = [None, None];
            let Some(plan) = self.planned(&mut plans, &spec.lifecycle, &[(EcsStatus::Waiting, Some(30 * SECOND)), (EcsStatus::Processing, Some(10 * MINUTE)), (EcsStatus::Finished, None)], false) else { continue };
            let start = self.start;
            let tasks = draw_tasks(&mut draw, entry.count, |draw, _| {
                let lifecycle = plan.draw(draw);
                let id = spec.id.as_ref().map_or_else(|| draw.ecs_task_id(), |id| Text::new(id.get_ref()));
                EcsTask {
                    id,
                    // Drawn as the list is (an index), so that the same seed draws the same world.
                    region: if spec.region.is_some() { regions[draw.index(regions.len())].clone() } else { regions[0].clone() },
                    owner: owner.clone(),
                    action: Term::known(spec.action.as_ref().map_or("ImportImage", |a| draw.one(a).0)),
                    resource_id: spec.resource_id.as_deref().map(Text::new).or_else(|| entry.generated.then(|| draw.resource_id())),
                    created: created.map_or(start, |w| draw.when(w, start)),
                    support_cancel: spec.support_cancel,
                    lifecycle,
                    pins: pins.clone(),
                }
            });
            self.built.ecs.extend(tasks, spec.id.as_ref().map_or(entry.at, |id| id.span().start));
        }
    }
}
