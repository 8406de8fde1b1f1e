//! HSS image scan tasks (`[[hss.image_tasks]]`, `[[hss.image_generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use rand::RngExt;
use serde::Deserialize;
use toml::Spanned;

use super::build::{Builder, DEFAULT_PROJECT, MAX_COUNTER};
use super::schema::{self, *};
use crate::instant::MINUTE;
use crate::world::hss_image::{FailedImage, HssImageTask, ImageTaskStatus, RareFields, DEFAULT_ENTERPRISE_PROJECT};
use crate::world::{Shared, Term, Text};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageTaskSpec {
    pub count: Option<Spanned<u32>>,
    pub task_id: Option<Spanned<String>>,
    pub project_id: Option<Spanned<String>>,
    pub enterprise_project_id: Option<String>,
    pub policy_id: Option<String>,
    pub task_name: Option<String>,
    pub task_type: Option<Choice<Word<ImageTaskType>>>,
    pub image_type: Option<Choice<Word<ImageType>>>,
    pub scan_scope: Option<Spanned<i64>>,
    pub rate_limit: Option<Spanned<i64>>,
    pub is_all: Option<bool>,
    pub images: Option<Spanned<IntSpec>>,
    /// How many of the images fail; each failed image is listed in `failed_images`: those given,
    /// then generated ones (seeded, `fake` names) up to this many.
    pub failures: Option<Spanned<IntSpec>>,
    pub risky: Option<Spanned<IntSpec>>,
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
            if !self.image_counts_valid(spec, entry.at) {
                continue;
            }
            self.warn_if_alike(&entry, created, &spec.lifecycle);
            let mut draw = self.draw(section, index);
            let project: Shared = self.built.interner.get(spec.project_id.as_ref().map_or(DEFAULT_PROJECT, |p| p.get_ref()));
            let enterprise: Shared = self.built.interner.get(spec.enterprise_project_id.as_deref().unwrap_or(DEFAULT_ENTERPRISE_PROJECT));
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
            let mut plans = [None, None];
            for _ in 0..entry.count {
                let Some(plan) = self.planned(&mut plans, &spec.lifecycle, &[(ImageTaskStatus::Scanning, Some(10 * MINUTE)), (ImageTaskStatus::Finished, None)], false) else { break };
                let lifecycle = plan.draw(&mut draw);
                let task_type = spec.task_type.as_ref().map_or("manual", |t| draw.one(t).0);
                let created = created.map_or(self.start, |w| draw.when(w, self.start));
                let images = draw.count(spec.images.as_ref().map(|s| *s.get_ref()), DEFAULT_IMAGES);
                // Checked above: never more than the images, never fewer than the images listed.
                let failures = draw.count(spec.failures.as_ref().map(|s| *s.get_ref()), declared_failed.len() as u32).min(images);
                // `failed_num` and `failed_images` agree: the listed ones, then drawn ones up to `failures`.
                let failed_images: Box<[FailedImage]> = if declared_failed.len() as u32 >= failures {
                    declared_failed.clone()
                } else {
                    let mut all = declared_failed.to_vec();
                    all.extend((declared_failed.len() as u32..failures).map(|i| FailedImage {
                        id: i64::from(i) + 1,
                        registry_id: Text::from(format!("reg-{}", draw.hex(6))),
                        registry_name: Text::new("swr"),
                        image_name: Text::new(draw.word()),
                        image_version: Text::from(format!("1.{}.{}", draw.0.random_range(0..30), draw.0.random_range(0..10))),
                        namespace: Text::new("default"),
                        registry_type: "SwrPrivate",
                        failed_reason: Text::new("image pull timed out"),
                    }));
                    all.into_boxed_slice()
                };
                let task_name = spec.task_name.as_deref().map_or_else(
                    || {
                        if task_type.ends_with("Sync") {
                            Text::from(format!("AutomaticImageAssetSynchronization_{created}"))
                        } else {
                            {
                            let mut name = String::from("ImageScan_");
                            name.push_str(draw.word());
                            Text::from(name)
                        }
                        }
                    },
                    Text::new,
                );
                let task = HssImageTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid(), |t| Text::new(t.get_ref())),
                    project_id: project.clone(),
                    enterprise_project_id: enterprise.clone(),
                    task_name,
                    task_type: Term::known(task_type),
                    image_type: Term::known(spec.image_type.as_ref().map_or("registry", |t| draw.one(t).0)),
                    scan_scope: spec.scan_scope.as_ref().map_or(0x7fff_ffff, |s| *s.get_ref()),
                    is_all: spec.is_all.unwrap_or(true),
                    risky: draw.count(spec.risky.as_ref().map(|s| *s.get_ref()), 0).min(images),
                    images,
                    failures,
                    failed_images,
                    rare: RareFields {
                        policy_id: spec.policy_id.as_deref().map(Text::new),
                        rate_limit: spec.rate_limit.as_ref().map(|r| *r.get_ref()),
                        sync_task_type: spec.sync_task_type.as_deref().map(Text::new),
                        failed_reason: spec.failed_reason.as_deref().map(Text::new),
                    }
                    .boxed(),
                    created,
                    lifecycle,
                    pins: pins.clone(),
                };
                self.built.hss_image.push(task, spec.task_id.as_ref().map_or(entry.at, |t| t.span().start));
            }
        }
    }
}

/// Images a task scans when its entry says nothing.
const DEFAULT_IMAGES: u32 = 10;

impl Builder<'_> {
    /// The entry's project and numbers, each at its value: the project's form, each field within
    /// what ListImageScanTask documents, and the parts (`failures`, `risky`, the listed
    /// `failed_images`) never more than the images. Says whether all hold.
    fn image_counts_valid(&mut self, spec: &ImageTaskSpec, at: usize) -> bool {
        let project_ok = spec.project_id.as_ref().is_none_or(|p| self.project_known(p));
        let mut ok = self.bounded_number("rate_limit", spec.rate_limit.as_ref(), 0..=1000);
        ok &= self.bounded_number("scan_scope", spec.scan_scope.as_ref(), 0..=i64::from(i32::MAX));
        for (field, value) in [("images", &spec.images), ("failures", &spec.failures), ("risky", &spec.risky)] {
            ok &= self.bounded_spec(field, value.as_ref(), 0..=MAX_COUNTER);
        }
        // Parts are compared with wholes only when each is a count at all.
        if !ok {
            return false;
        }
        ok &= project_ok;
        let images = ("images", spec.images.as_ref());
        ok &= self.part_of(("failures", spec.failures.as_ref()), images, i64::from(DEFAULT_IMAGES));
        ok &= self.part_of(("risky", spec.risky.as_ref()), images, i64::from(DEFAULT_IMAGES));
        let listed = spec.failed_images.len() as i64;
        let fewest_images = spec.images.as_ref().map_or(i64::from(DEFAULT_IMAGES), |i| i.get_ref().low);
        match &spec.failures {
            Some(failures) if failures.get_ref().low < listed => {
                let message = format!(
                    "`failures` = {} can be fewer than the {listed} failed_images listed: failed_num would not match the list (at least {listed}, or leave `failures` out: it defaults to the list's length)",
                    self.written(failures.span())
                );
                self.error(failures.span().start, message);
                ok = false;
            }
            None if listed > fewest_images => {
                let message = format!("{listed} failed_images listed but `images` can be {fewest_images}: a task cannot fail more images than it scans");
                self.error(spec.images.as_ref().map_or(at, |i| i.span().start), message);
                ok = false;
            }
            _ => {}
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::super::{build, schema, Located};

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, failure_persistence: None, ..Default::default() })]

        /// Whatever an entry says (images, failures, some failed images listed) and whenever it
        /// is asked, failed_num is the number of failed images shown (issue 14, item 4).
        #[test]
        fn failed_num_is_the_length_of_failed_images(images in 0u32..40, failures_share in 0u32..=100, listed_share in 0u32..=100, minutes in 0i64..15, generated: bool) {
            let failures = images * failures_share / 100;
            let listed = failures * listed_share / 100;
            let list: Vec<String> = (0..listed).map(|i| format!("{{ image_name = \"img-{i}\" }}")).collect();
            let (table, id) = if generated { ("image_generate", "count = 2") } else { ("image_tasks", "task_id = \"i-1\"") };
            let text = format!(
                "[[hss.{table}]]\n{id}\nimages = {images}\nfailures = {failures}\nfailed_images = [{}]\nlifecycle = [{{ status = \"scanning\", for = \"10m\" }}, {{ status = \"finished\" }}]\n",
                list.join(", ")
            );
            let file: schema::ScenarioFile = toml::from_str(&text).expect("the scenario parses");
            let start = 1_767_225_600_000;
            let (errors, built) = build::build_file(&Located { name: "p.toml", text: &text }, start, 3, &file, (&Default::default(), &Default::default()));
            proptest::prop_assert!(errors.is_empty(), "{:?}", errors);
            for task in &built.hss_image.tasks {
                let now = start + minutes * crate::instant::MINUTE;
                let view = task.view(task.lifecycle.at(task.created, now), now);
                proptest::prop_assert_eq!(view.failed as usize, view.failed_images.len());
                if minutes >= 10 {
                    proptest::prop_assert_eq!(view.failed, failures);
                }
            }
        }
    }
}
