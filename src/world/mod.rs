//! The world: every task of every product, grouped per product and ordered newest first, with the
//! queries each operation runs. Nothing here knows HTTP, JSON casing or XML: operations get typed
//! queries and return typed views whose state is derived from the instant they are asked about.

pub mod avds;
pub mod ecs;
pub mod hss_image;
pub mod hss_task;
pub mod lifecycle;
pub mod sas;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::instant::Millis;

/// Whose world a task belongs to: `None` is shared by every caller; `Some(key)` is seen only by the
/// caller with that access key (Alibaba AccessKeyId) or project (Huawei).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Owner(pub Option<String>);

impl Owner {
    pub fn shared() -> Owner {
        Owner(None)
    }

    pub fn visible_to(&self, caller: &Owner) -> bool {
        match &self.0 {
            None => true,
            Some(key) => caller.0.as_deref() == Some(key),
        }
    }
}

/// Response fields a scenario pins to fixed values (`set`) or leaves out (`unset`, a `None`), by
/// their wire name; applied by the edges when they render a task, so that every documented field
/// can be set whatever the lifecycle derives.
pub type Pins = Option<Box<[(String, Option<serde_json::Value>)]>>;

/// What a task must tell its store.
pub trait Record {
    fn id(&self) -> &str;
    fn created(&self) -> Millis;
}

/// One product's tasks, newest first (ties by id), with an index by id.
#[derive(Debug)]
pub struct Store<T> {
    items: Vec<Arc<T>>,
    by_id: HashMap<String, usize>,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store { items: Vec::new(), by_id: HashMap::new() }
    }
}

impl<T> Clone for Store<T> {
    fn clone(&self) -> Self {
        Store { items: self.items.clone(), by_id: self.by_id.clone() }
    }
}

impl<T: Record> Store<T> {
    pub fn from_tasks(tasks: impl IntoIterator<Item = Arc<T>>) -> Store<T> {
        let mut items: Vec<Arc<T>> = tasks.into_iter().collect();
        items.sort_by(|a, b| b.created().cmp(&a.created()).then_with(|| a.id().cmp(b.id())));
        let by_id = items.iter().enumerate().map(|(i, t)| (t.id().to_string(), i)).collect();
        Store { items, by_id }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Drops the task with this id; says whether there was one.
    pub fn remove(&mut self, id: &str) -> bool {
        if !self.by_id.contains_key(id) {
            return false;
        }
        *self = Store::from_tasks(self.items.drain(..).filter(|t| t.id() != id));
        true
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter().map(|t| t.as_ref())
    }

    pub fn arcs(&self) -> impl Iterator<Item = &Arc<T>> {
        self.items.iter()
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.by_id.get(id).map(|&i| self.items[i].as_ref())
    }

    /// The tasks with these ids, once each, in store order; unknown ids are skipped.
    pub fn by_ids<'a>(&'a self, ids: &[String]) -> impl Iterator<Item = &'a T> + 'a {
        let mut found: Vec<usize> = ids.iter().filter_map(|id| self.by_id.get(id).copied()).collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| self.items[i].as_ref())
    }
}

/// One page of a filtered list, and how many matched in all.
#[derive(Debug)]
pub struct Page<V> {
    pub total: usize,
    pub items: Vec<V>,
}

impl<V> Page<V> {
    /// Counts every match and renders only the page's (1-based `number`).
    pub fn collect<T>(matching: impl Iterator<Item = T>, number: usize, size: usize, view: impl Fn(T) -> V) -> Page<V> {
        let skip = number.saturating_sub(1).saturating_mul(size);
        Self::collect_offset(matching, skip, size, view)
    }

    pub fn collect_offset<T>(matching: impl Iterator<Item = T>, skip: usize, size: usize, view: impl Fn(T) -> V) -> Page<V> {
        let mut total = 0;
        let mut items = Vec::new();
        for item in matching {
            if total >= skip && items.len() < size {
                items.push(view(item));
            }
            total += 1;
        }
        Page { total, items }
    }
}

/// Everything the scenarios describe, ready to query. Cloned (cheaply, tasks are shared) when the
/// control plane changes it, so readers never wait on a writer.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub ecs: Store<ecs::EcsTask>,
    pub sas: Store<sas::SasTask>,
    pub avds: Store<avds::AvdsScan>,
    pub hss_images: Store<hss_image::HssImageTask>,
    pub hss_tasks: Store<hss_task::HssTask>,
    /// Alibaba regions this world answers for: the real ones plus any a scenario uses.
    pub regions: BTreeSet<String>,
}

/// Alibaba Cloud region ids, so that ECS answers any real region (empty when it holds no task) and
/// rejects a made-up one with InvalidRegionId.NotFound, as the cloud does.
pub const ALIBABA_REGIONS: &[&str] = &[
    "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-hangzhou",
    "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu",
    "cn-hongkong", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "us-east-1",
    "us-west-1", "eu-west-1", "eu-central-1", "me-east-1", "me-central-1", "na-south-1",
];

impl World {
    pub fn task_count(&self) -> usize {
        self.ecs.len() + self.sas.len() + self.avds.len() + self.hss_images.len() + self.hss_tasks.len()
    }

    /// The world less the task (of whichever product) with this id; None when there is none.
    pub fn without(&self, id: &str) -> Option<World> {
        let mut world = self.clone();
        let removed = world.ecs.remove(id) || world.sas.remove(id) || world.avds.remove(id) || world.hss_images.remove(id) || world.hss_tasks.remove(id);
        removed.then_some(world)
    }

    pub fn has_region(&self, region: &str) -> bool {
        ALIBABA_REGIONS.contains(&region) || self.regions.contains(region)
    }
}

impl Record for ecs::EcsTask {
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> Millis {
        self.created
    }
}
