//! HSS tasks (`[[hss.tasks]]`, `[[hss.generate]]`): this product's scenario schema and the build step that
//! turns its entries into the world's tasks, side by side.

use serde::Deserialize;
use toml::Spanned;

use super::build::{Builder, DEFAULT_PROJECT};
use super::schema::{self, *};
use crate::instant::MINUTE;
use crate::world::hss_image::DEFAULT_ENTERPRISE_PROJECT;
use crate::world::hss_task::{HssTask, HssTaskStatus, TaskKind};
use crate::world::Text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HssTaskSpec {
    pub count: Option<Spanned<u32>>,
    pub task_id: Option<Spanned<String>>,
    pub project_id: Option<String>,
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
    pub clusters: Option<IntSpec>,
    pub failures: Option<IntSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IacScanSpec {
    pub file_type: Option<Choice<Word<FileType>>>,
    pub files: Option<IntSpec>,
    pub failures: Option<IntSpec>,
}

impl Builder<'_> {
    pub fn hss_task(&mut self, specs: &[Spanned<schema::HssTaskSpec>], generated: bool) {
        let section = if generated { "hss.generate" } else { "hss.tasks" };
        for (index, spanned) in specs.iter().enumerate() {
            let spec = spanned.get_ref();
            let Some(entry) = self.entry(spanned.span().start, spec.count.as_ref(), spec.task_id.is_some(), generated, "task_id") else { continue };
            let Some(created) = self.created(&spec.created) else { continue };
            let mut draw = self.draw(section, index);
            let project: std::sync::Arc<str> = self.built.interner.get(spec.project_id.as_deref().unwrap_or(DEFAULT_PROJECT));
            let enterprise: std::sync::Arc<str> = self.built.interner.get(spec.enterprise_project_id.as_deref().unwrap_or(DEFAULT_ENTERPRISE_PROJECT));
            let pins = Self::pins(&spec.set, &spec.unset);
            let scan_types: std::sync::Arc<[String]> = spec.cluster_scan.as_ref().and_then(|c| c.scan_types.clone()).unwrap_or_else(|| vec!["cluster_vul".into()]).into();
            self.built.hss_task.reserve(entry.count);
            for _ in 0..entry.count {
                let Some(lifecycle) = self.lifecycle(&spec.lifecycle, &[(HssTaskStatus::Ready, Some(MINUTE)), (HssTaskStatus::Running, Some(10 * MINUTE)), (HssTaskStatus::Finished, None)], false, &mut draw) else { break };
                let cluster = spec.task_type.as_ref().map_or(spec.iac_scan.is_none(), |t| draw.one(t).0 == "cluster_scan");
                let kind = if cluster {
                    let info = spec.cluster_scan.as_ref();
                    let clusters = draw.count(info.and_then(|c| c.clusters), 3);
                    let failures = draw.count(info.and_then(|c| c.failures), 0);
                    if failures > clusters {
                        self.error(entry.at, "cluster_scan.failures cannot exceed cluster_scan.clusters");
                        break;
                    }
                    TaskKind::ClusterScan { scan_types: scan_types.clone(), clusters, failures }
                } else {
                    let info = spec.iac_scan.as_ref();
                    let files = draw.count(info.and_then(|c| c.files), 5);
                    let failures = draw.count(info.and_then(|c| c.failures), 0);
                    if failures > files {
                        self.error(entry.at, "iac_scan.failures cannot exceed iac_scan.files");
                        break;
                    }
                    let file_type = info.and_then(|c| c.file_type.as_ref()).map_or("dockerfile", |f| draw.one(f).0);
                    TaskKind::IacScan { file_type, files, failures }
                };
                let task = HssTask {
                    task_id: spec.task_id.as_ref().map_or_else(|| draw.uuid().into(), |t| Text::new(t.get_ref())),
                    project_id: project.clone(),
                    enterprise_project_id: enterprise.clone(),
                    task_name: spec.task_name.as_deref().map_or_else(|| Text::from(format!("{}-{}", kind.name().replace('_', "-"), draw.word())), Text::new),
                    trigger_type: spec.trigger_type.as_ref().map_or("manual", |t| draw.one(t).0),
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
