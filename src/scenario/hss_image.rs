//! HSS image scan tasks (`[[hss.image_tasks]]`, `[[hss.image_generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use rand::RngExt;
use serde::Deserialize;
use toml::Spanned;

use super::build::{Builder, DEFAULT_PROJECT};
use super::schema::{self, *};
use crate::instant::MINUTE;
use crate::world::hss_image::{FailedImage, HssImageTask, ImageTaskStatus, DEFAULT_ENTERPRISE_PROJECT};
use crate::world::Text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageTaskSpec {
    pub count: Option<Spanned<u32>>,
    pub task_id: Option<Spanned<String>>,
    pub project_id: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub policy_id: Option<String>,
    pub task_name: Option<String>,
    pub task_type: Option<Choice<Word<ImageTaskType>>>,
    pub image_type: Option<Choice<Word<ImageType>>>,
    pub scan_scope: Option<i64>,
    pub rate_limit: Option<i64>,
    pub is_all: Option<bool>,
    pub images: Option<IntSpec>,
    pub failures: Option<IntSpec>,
    pub risky: Option<IntSpec>,
    #[serde(default)]
    pub failed_images: Vec<FailedImageSpec>,
    pub sync_task_type: Option<String>,
    pub failed_reason: Option<String>,
    pub created: Option<Spanned<When>>,
    pub lifecycle: Option<schema::Lifecycle<crate::world::hss_image::ImageTaskStatus>>,
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedImageSpec {
    pub id: Option<i64>,
    pub registry_id: Option<String>,
    pub registry_name: Option<String>,
    pub image_name: String,
    pub image_version: Option<String>,
    pub namespace: Option<String>,
    pub registry_type: Option<Word<RegistryType>>,
    pub failed_reason: Option<String>,
}

impl Builder<'_> {
    pub fn hss_image(&mut self, specs: &[Spanned<schema::ImageTaskSpec>], generated: bool) {
        let section = if generated { "hss.image_generate" } else { "hss.image_tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.task_id.is_some(), generated, "task_id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            let mut draw = self.draw(section, index);
            let project: std::sync::Arc<str> = self.built.interner.get(spec.project_id.as_deref().unwrap_or(DEFAULT_PROJECT));
            let enterprise: std::sync::Arc<str> = self.built.interner.get(spec.enterprise_project_id.as_deref().unwrap_or(DEFAULT_ENTERPRISE_PROJECT));
            let pins = Self::pins(&spec.set, &spec.unset);
            let declared_failed: Box<[FailedImage]> = spec
                .failed_images
                .iter()
                .enumerate()
                .map(|(i, f)| FailedImage {
                    id: f.id.unwrap_or(i as i64 + 1),
                    registry_id: Text::new(f.registry_id.as_deref().unwrap_or_default()),
                    registry_name: Text::new(f.registry_name.as_deref().unwrap_or_default()),
                    image_name: Text::new(&f.image_name),
                    image_version: Text::new(f.image_version.as_deref().unwrap_or("latest")),
                    namespace: Text::new(f.namespace.as_deref().unwrap_or("default")),
                    registry_type: f.registry_type.map_or("SwrPrivate", |r| r.0),
                    failed_reason: Text::new(f.failed_reason.as_deref().unwrap_or("scan timeout")),
                })
                .collect();
            self.built.hss_image.reserve(entry.count);
            for _ in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(ImageTaskStatus::Scanning, Some(10 * MINUTE)), (ImageTaskStatus::Finished, None)], false, &mut draw) else { break };
                let task_type = spec.task_type.as_ref().map_or("manual", |t| draw.one(t).0);
                let created = created.map_or(self.start, |w| draw.when(w, self.start));
                let images = draw.count(spec.images, 10);
                let mut failures = draw.count(spec.failures, declared_failed.len() as u32);
                let failed_images: Box<[FailedImage]> = if declared_failed.is_empty() && entry.generated {
                    (0..failures.min(images))
                        .map(|i| FailedImage {
                            id: i64::from(i) + 1,
                            registry_id: Text::from(format!("reg-{}", draw.hex(6))),
                            registry_name: Text::new("swr"),
                            image_name: Text::from(draw.word()),
                            image_version: Text::from(format!("1.{}.{}", draw.0.random_range(0..30), draw.0.random_range(0..10))),
                            namespace: Text::new("default"),
                            registry_type: "SwrPrivate",
                            failed_reason: Text::new("image pull timed out"),
                        })
                        .collect()
                } else {
                    declared_failed.clone()
                };
                if failures > images {
                    self.error(entry.at, format!("{failures} failures out of {images} images: `failures` cannot exceed `images`"));
                    failures = images;
                }
                let task_name = spec.task_name.as_deref().map_or_else(
                    || {
                        if task_type.ends_with("Sync") {
                            Text::from(format!("AutomaticImageAssetSynchronization_{created}"))
                        } else {
                            Text::from(format!("ImageScan_{}", draw.word()))
                        }
                    },
                    Text::new,
                );
                let task = HssImageTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid().into(), |t| Text::new(t.get_ref())),
                    project_id: project.clone(),
                    enterprise_project_id: enterprise.clone(),
                    policy_id: spec.policy_id.as_deref().map(Text::new),
                    task_name,
                    task_type,
                    image_type: spec.image_type.as_ref().map_or("registry", |t| draw.one(t).0),
                    scan_scope: spec.scan_scope.unwrap_or(0x7fff_ffff),
                    rate_limit: spec.rate_limit,
                    is_all: spec.is_all.unwrap_or(true),
                    risky: draw.count(spec.risky, 0).min(images),
                    images,
                    failures,
                    failed_images,
                    sync_task_type: spec.sync_task_type.as_deref().map(Text::new),
                    failed_reason: spec.failed_reason.as_deref().map(Text::new),
                    created,
                    lifecycle,
                    pins: pins.clone(),
                };
                self.built.hss_image.push(task, spec.task_id.as_ref().map_or(entry.at, |t| t.span().start));
            }
        }
    }
}
