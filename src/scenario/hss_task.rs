//! HSS tasks (`[[hss.tasks]]`, `[[hss.generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use serde::Deserialize;
use toml::Spanned;

use super::build::{Builder, DEFAULT_PROJECT, MAX_COUNTER};
use super::schema::{self, *};
use crate::instant::MINUTE;
use crate::world::hss_image::DEFAULT_ENTERPRISE_PROJECT;
use crate::world::hss_task::{HssTask, HssTaskStatus, TaskKind};
use crate::world::{Shared, Term, Text};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HssTaskSpec {
    pub count: Option<Spanned<u32>>,
    pub task_id: Option<Spanned<String>>,
    pub project_id: Option<Spanned<String>>,
    pub enterprise_project_id: Option<String>,
    pub task_name: Option<String>,
    pub task_type: Option<Choice<Word<HssTaskType>>>,
    pub trigger_type: Option<Choice<Word<TriggerType>>>,
    pub cluster_scan: Option<ClusterScanSpec>,
    pub iac_scan: Option<IacScanSpec>,
    pub created: Option<Spanned<When>>,
    pub lifecycle: Option<schema::Lifecycle<crate::world::hss_task::HssTaskStatus>>,
    pub set: Option<toml::Table>,
    #[serde(default)]
    pub unset: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterScanSpec {
    pub scan_types: Option<Vec<String>>,
    pub clusters: Option<Spanned<IntSpec>>,
    pub failures: Option<Spanned<IntSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IacScanSpec {
    pub file_type: Option<Choice<Word<FileType>>>,
    pub files: Option<Spanned<IntSpec>>,
    pub failures: Option<Spanned<IntSpec>>,
}

impl Builder<'_> {
    pub fn hss_task(&mut self, specs: &[Spanned<schema::HssTaskSpec>], generated: bool) {
        let section = if generated { "hss.generate" } else { "hss.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.task_id.is_some(), generated, "task_id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            if !self.task_counts_valid(spec) {
                continue;
            }
            self.warn_if_alike(&entry, created, &spec.lifecycle);
            let mut draw = self.draw(section, index);
            let project: Shared = self.built.interner.get(spec.project_id.as_ref().map_or(DEFAULT_PROJECT, |p| p.get_ref()));
            let enterprise: Shared = self.built.interner.get(spec.enterprise_project_id.as_deref().unwrap_or(DEFAULT_ENTERPRISE_PROJECT));
            let pins = Self::pins(&spec.set, &spec.unset);
            let scan_types: std::sync::Arc<[String]> = spec.cluster_scan.as_ref().and_then(|c| c.scan_types.clone()).unwrap_or_else(|| vec!["cluster_vul".into()]).into();
            self.built.hss_task.reserve(entry.count);
            let mut plans = [None, None];
            for _ in 0..entry.count {
                let Some(plan) = self.planned(&mut plans, &spec.lifecycle, &[(HssTaskStatus::Ready, Some(MINUTE)), (HssTaskStatus::Running, Some(10 * MINUTE)), (HssTaskStatus::Finished, None)], false) else { break };
                let lifecycle = plan.draw(&mut draw);
                let cluster = spec.task_type.as_ref().map_or(spec.iac_scan.is_none(), |t| draw.one(t).0 == "cluster_scan");
                let kind = if cluster {
                    let info = spec.cluster_scan.as_ref();
                    let clusters = draw.count(info.and_then(|c| c.clusters.as_ref()).map(|s| *s.get_ref()), DEFAULT_CLUSTERS);
                    // Checked above: never more than the clusters.
                    let failures = draw.count(info.and_then(|c| c.failures.as_ref()).map(|s| *s.get_ref()), 0).min(clusters);
                    TaskKind::ClusterScan { scan_types: scan_types.clone(), clusters, failures }
                } else {
                    let info = spec.iac_scan.as_ref();
                    let files = draw.count(info.and_then(|c| c.files.as_ref()).map(|s| *s.get_ref()), DEFAULT_FILES);
                    // Checked above: never more than the files.
                    let failures = draw.count(info.and_then(|c| c.failures.as_ref()).map(|s| *s.get_ref()), 0).min(files);
                    let file_type = Term::known(info.and_then(|c| c.file_type.as_ref()).map_or("dockerfile", |f| draw.one(f).0));
                    TaskKind::IacScan { file_type, files, failures }
                };
                let task = HssTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid(), |t| Text::new(t.get_ref())),
                    project_id: project.clone(),
                    enterprise_project_id: enterprise.clone(),
                    task_name: spec.task_name.as_deref().map_or_else(|| {
                        let word = draw.word();
                        let mut name = String::with_capacity(kind.name().len() + 1 + word.len());
                        name.extend(kind.name().chars().map(|c| if c == '_' { '-' } else { c }));
                        name.push('-');
                        name.push_str(word);
                        Text::from(name)
                    }, Text::new),
                    trigger_type: Term::known(spec.trigger_type.as_ref().map_or("manual", |t| draw.one(t).0)),
                    kind,
                    created: created.map_or(self.start, |w| draw.when(w, self.start)),
                    lifecycle,
                    pins: pins.clone(),
                };
                self.built.hss_task.push(task, spec.task_id.as_ref().map_or(entry.at, |t| t.span().start));
            }
        }
    }
}

/// Clusters a cluster scan covers, and files an IaC scan reads, when the entry says nothing.
const DEFAULT_CLUSTERS: u32 = 3;
const DEFAULT_FILES: u32 = 5;

impl Builder<'_> {
    /// The entry's project and counters, each at its value: the project's form, each counter
    /// within what ListTasks can show, and `failures` never more than the clusters or files it
    /// fails. Says whether all hold.
    fn task_counts_valid(&mut self, spec: &HssTaskSpec) -> bool {
        let mut ok = spec.project_id.as_ref().is_none_or(|p| self.project_known(p));
        if let Some(c) = &spec.cluster_scan {
            let counts_ok = self.bounded_spec("clusters", c.clusters.as_ref(), 0..=MAX_COUNTER) & self.bounded_spec("failures", c.failures.as_ref(), 0..=MAX_COUNTER);
            ok &= counts_ok && self.part_of(("failures", c.failures.as_ref()), ("clusters", c.clusters.as_ref()), i64::from(DEFAULT_CLUSTERS));
        }
        if let Some(i) = &spec.iac_scan {
            let counts_ok = self.bounded_spec("files", i.files.as_ref(), 0..=MAX_COUNTER) & self.bounded_spec("failures", i.failures.as_ref(), 0..=MAX_COUNTER);
            ok &= counts_ok && self.part_of(("failures", i.failures.as_ref()), ("files", i.files.as_ref()), i64::from(DEFAULT_FILES));
        }
        ok
    }
}
