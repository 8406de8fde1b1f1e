//! The world: every task of every product, grouped per product and ordered newest first, with the
//! queries each operation runs. Nothing here knows HTTP, JSON casing or XML: operations get typed
//! queries and return typed views whose state is derived from the instant they are asked about.

pub mod avds;
pub mod ecs;
pub mod hss_image;
pub mod hss_task;
pub mod lifecycle;
mod ngram;
pub mod sas;
pub mod store;
pub mod text;

#[cfg(test)]
mod equivalence;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

pub use store::{Record, Store};
pub use text::{Shared, Term, Text, Words};

/// Whose world a task belongs to: `None` is shared by every caller; `Some(key)` is seen only by the
/// caller with that access key (Alibaba AccessKeyId) or project (Huawei). Tasks share the key's
/// text (see [`Interner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Owner(pub Option<Shared>);

impl Owner {
    pub fn shared() -> Owner {
        Owner(None)
    }

    pub fn new(key: Option<&str>) -> Owner {
        Owner(key.map(Shared::from))
    }

    pub fn key(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn visible_to(&self, caller: &Owner) -> bool {
        match &self.0 {
            None => true,
            Some(key) => caller.0.as_deref() == Some(&**key),
        }
    }
}

/// Response fields a scenario pins to fixed values (`set`) or leaves out (`unset`, a `None`), by
/// their wire name; applied by the edges when they render a task, so that every documented field
/// can be set whatever the lifecycle derives. Shared by the tasks a generator makes; a thin
/// pointer (8 bytes, not a slice's 16), as every task of a million carries one.
pub type Pins = Option<Arc<Vec<(String, Option<serde_json::Value>)>>>;

/// Hands the memory a load freed (the parsed specs, the builders' vectors) back to the system:
/// glibc keeps freed memory in its heap, and after building a big world that was a fifth of the
/// process's size, idle.
pub fn release_unused_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only walks glibc's own free lists; it takes no pointer of ours.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// One copy of each region, project, enterprise project and owner key, shared by the tasks.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Shared>);

impl Interner {
    pub fn get(&mut self, text: &str) -> Shared {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let new = Shared::from(text);
        self.0.insert(new.clone());
        new
    }

    pub fn owner(&mut self, key: Option<&str>) -> Owner {
        Owner(key.map(|k| self.get(k)))
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

/// The products the world holds, declared once: each one's `Product` variant, its one name (also
/// its store's field in [`World`]), its task type, where a scenario file keeps its entries and what
/// one entry is called in messages. The macro makes [`Product`] and [`World`]'s stores from it.
macro_rules! products {
    ($($variant:ident $name:ident: $task:ty, section $table:literal . $list:literal, noun $noun:literal;)*) => {
        /// A product of the world. The control API (`GET /_emu/tasks?product=`, `POST /_emu/tasks`),
        /// the dashboard (via `GET /_emu/operations`) and the scenario's messages use its
        /// [`name`](Product::name); the operation catalogue's `tasks` names it the same way.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Product {
            $($variant),*
        }

        impl Product {
            pub const ALL: &'static [Product] = &[$(Product::$variant),*];

            /// The product's one name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Product::$variant => stringify!($name)),*
                }
            }

            /// Where a scenario file keeps its entries: `[[<table>.<list>]]`.
            pub const fn section(self) -> (&'static str, &'static str) {
                match self {
                    $(Product::$variant => ($table, $list)),*
                }
            }

            /// What one entry is called in messages.
            pub const fn noun(self) -> &'static str {
                match self {
                    $(Product::$variant => $noun),*
                }
            }
        }

        /// Everything the scenarios describe, ready to query: one store per product. Cloned
        /// (cheaply: stores are shared) when the control plane changes it, so readers never wait
        /// on a writer.
        #[derive(Debug, Clone, Default)]
        pub struct World {
            $(pub $name: Store<$task>,)*
            /// Alibaba regions this world answers for: the real ones plus any a scenario uses.
            pub regions: BTreeSet<String>,
            /// Huawei project ids the scenarios declared although not of the 32-hex form (so
            /// that a run-time load may use them too).
            pub projects: BTreeSet<String>,
        }

        impl World {
            pub fn task_count(&self) -> usize {
                0 $(+ self.$name.len())*
            }

            /// The world less the task (of whichever product) with this id; None when there is none.
            pub fn without(&self, id: &str) -> Option<World> {
                $(
                    if let Some(store) = self.$name.without(id) {
                        return Some(World { $name: store, ..self.clone() });
                    }
                )*
                None
            }
        }
    };
}

products! {
    Ecs ecs: ecs::EcsTask, section "ecs"."tasks", noun "ECS task";
    Sas sas: sas::SasTask, section "sas"."tasks", noun "SAS task";
    Avds avds: avds::AvdsScan, section "avds"."scans", noun "AVDS scan";
    HssImage hss_image: hss_image::HssImageTask, section "hss"."image_tasks", noun "HSS image task";
    HssTask hss_task: hss_task::HssTask, section "hss"."tasks", noun "HSS task";
}

impl Product {
    pub fn named(name: &str) -> Option<Product> {
        Product::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Every name, for messages that list what is allowed.
    pub fn names() -> String {
        Product::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }
}

/// Alibaba Cloud's public region ids (the emulator's one list of them): ECS answers any of them
/// (empty when it holds no task) and rejects a made-up one with InvalidRegionId.NotFound, as the
/// cloud does; a scenario may place a task only in one of these or in a region it declares
/// (`regions = [...]`).
/// Whether `id` has the form of a Huawei project id, the one every HSS path takes: 32 hex
/// characters. Others must be declared (`projects = [...]`) to be used.
pub fn is_huawei_project_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub const ALIBABA_REGIONS: &[&str] = &[
    "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-hangzhou",
    "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu",
    "cn-wuhan-lr", "cn-hongkong", "cn-hangzhou-finance", "cn-shanghai-finance-1", "cn-shenzhen-finance-1",
    "cn-beijing-finance-1", "cn-north-2-gov-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
    "ap-south-1", "us-east-1", "us-west-1", "eu-west-1", "eu-central-1", "me-east-1", "me-central-1",
    "na-south-1",
];

impl World {
    pub fn has_region(&self, region: &str) -> bool {
        ALIBABA_REGIONS.contains(&region) || self.regions.contains(region)
    }
}

#[cfg(test)]
mod product_tests {
    use super::Product;

    /// The catalogue names the products its operations list by the world's one spelling.
    #[test]
    fn every_operation_lists_a_product_of_the_world() {
        for row in crate::ops::rows() {
            assert!(Product::named(row.tasks).is_some(), "{} lists {:?}, which is no product", row.name, row.tasks);
        }
        assert!(Product::ALL.iter().all(|p| Product::named(p.name()) == Some(*p)));
    }
}

#[cfg(test)]
mod sizes {
    /// A world of millions of tasks is mostly these structs: each stays within the bytes it was
    /// brought down to (issue 16: a lifecycle in 24 bytes, pins behind a thin pointer; shared
    /// text 8 bytes, vocabulary words 1, an image task's rare fields behind one pointer).
    #[test]
    fn a_task_stays_within_its_bytes() {
        use std::mem::size_of;
        assert!(size_of::<super::lifecycle::Lifecycle<super::ecs::EcsStatus>>() <= 24);
        assert!(size_of::<super::Pins>() <= 8);
        assert!(size_of::<super::ecs::EcsTask>() <= 112);
        assert!(size_of::<super::sas::SasTask>() <= 96);
        assert!(size_of::<super::avds::AvdsScan>() <= 160);
        assert!(size_of::<super::hss_image::HssImageTask>() <= 152);
        assert!(size_of::<super::hss_task::HssTask>() <= 136);
    }
}
