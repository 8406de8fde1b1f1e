//! The operation catalogue: one row per operation the emulator answers (its cloud, product, name,
//! how a request names it on the wire, its XML root and its default page rules), and the
//! per-cloud operation enums made from the rows. Everything that needs to know the operations
//! reads them here: the edges' routing and XML roots, fault-rule validation, the scenario's
//! `[responses.<Operation>]` pins, the journal and the dashboard (`GET /_emu/operations`).
//!
//! This is the one Rust file that spells operation names. It depends on nothing in the crate.
//! Adding an operation: a row here (the macro makes its enum variant), its operation file in the
//! cloud's edge, and one match arm in that edge's `run` (see ARCHITECTURE.md).

use serde::Serialize;

/// The cloud an operation belongs to, by the name the journal and the dashboard use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Alibaba,
    Huawei,
}

impl Cloud {
    pub const fn name(self) -> &'static str {
        match self {
            Cloud::Alibaba => "alibaba",
            Cloud::Huawei => "huawei",
        }
    }
}

/// How a request names the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "style", rename_all = "lowercase")]
pub enum Wire {
    /// Alibaba RPC: `Action=<name>` with the product's API `Version`, on `/`.
    Rpc { version: &'static str },
    /// Huawei REST: a method and a path template; `{project_id}` stands for any one segment.
    Rest { method: &'static str, path: &'static str },
}

/// The page parameters an operation reads, their bounds and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "style", rename_all = "lowercase")]
pub enum Paging {
    /// One answer, no pages.
    None,
    /// Pages numbered from 1 (up to `i32::MAX`), each of `size` items in `1..=max_size`.
    Pages { number: &'static str, size: &'static str, default_size: i64, max_size: i64 },
    /// An offset in `0..=max_offset` and a limit in `min_limit..=max_limit`.
    Offset { offset: &'static str, max_offset: i64, limit: &'static str, min_limit: i64, max_limit: i64, default_limit: i64 },
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Operation {
    #[serde(skip)]
    pub op: Op,
    pub cloud: Cloud,
    /// The cloud's product, as the journal names it (`ecs`, `sas`, `avds`, `hss`).
    pub product: &'static str,
    pub name: &'static str,
    pub wire: Wire,
    /// The answer's root element in XML.
    pub xml_root: &'static str,
    pub paging: Paging,
    /// The kind of task the operation lists: the control API's and the dashboard's product name
    /// (`world::Product::name`).
    pub tasks: &'static str,
}

/// Makes, from the rows, an enum per cloud (each variant's `spec` is its row), [`Op`] over them,
/// and [`ALL`] in catalogue order.
macro_rules! catalogue {
    ($( $cloud:ident $enum:ident { $( $variant:ident { $($field:ident: $value:expr),* $(,)? } )* } )*) => {
        $(
            #[doc = concat!("The operations of ", stringify!($cloud), " Cloud, one per catalogue row.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $enum { $($variant),* }

            impl $enum {
                pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

                /// The operation's name, as callers, fault rules and pins give it.
                pub const fn name(self) -> &'static str {
                    self.spec().name
                }

                /// The catalogue row.
                pub const fn spec(self) -> &'static Operation {
                    match self {
                        $($enum::$variant => {
                            const ROW: Operation = Operation { op: Op::$cloud($enum::$variant), cloud: Cloud::$cloud, $($field: $value),* };
                            &ROW
                        })*
                    }
                }
            }
        )*

        /// Any operation, whatever its cloud.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Op { $($cloud($enum)),* }

        /// Every operation, in catalogue order.
        pub const ALL: &[Op] = &[$($(Op::$cloud($enum::$variant)),*),*];
    };
}

/// Huawei HSS lists page by offset and limit alike.
const HSS_PAGING: Paging = Paging::Offset { offset: "offset", max_offset: 2_000_000, limit: "limit", min_limit: 10, max_limit: 200, default_limit: 10 };

catalogue! {
    Alibaba AlibabaOp {
        EcsDescribeTasks {
            product: "ecs", name: "DescribeTasks", wire: Wire::Rpc { version: "2014-05-26" }, xml_root: "DescribeTasksResponse",
            paging: Paging::Pages { number: "PageNumber", size: "PageSize", default_size: 10, max_size: 100 }, tasks: "ecs",
        }
        SasDescribeScanTaskProgress {
            product: "sas", name: "DescribeScanTaskProgress", wire: Wire::Rpc { version: "2018-12-03" }, xml_root: "DescribeScanTaskProgressResponse",
            paging: Paging::None, tasks: "sas",
        }
        AvdsDescribeScanSessions {
            product: "avds", name: "DescribeScanSessions", wire: Wire::Rpc { version: "2017-11-29" }, xml_root: "DescribeScanSessionsResponse",
            paging: Paging::Pages { number: "CurrentPage", size: "PageSize", default_size: 20, max_size: 100 }, tasks: "avds",
        }
    }
    Huawei HuaweiOp {
        ListImageScanTask {
            product: "hss", name: "ListImageScanTask", wire: Wire::Rest { method: "GET", path: "/v5/{project_id}/image/tasks" }, xml_root: "ListImageScanTaskResponse",
            paging: HSS_PAGING, tasks: "hss_image",
        }
        ListTasks {
            product: "hss", name: "ListTasks", wire: Wire::Rest { method: "POST", path: "/v5/{project_id}/common/tasks/batch-query" }, xml_root: "ListTasksResponse",
            paging: HSS_PAGING, tasks: "hss_task",
        }
    }
}

impl Op {
    pub const fn spec(self) -> &'static Operation {
        match self {
            Op::Alibaba(op) => op.spec(),
            Op::Huawei(op) => op.spec(),
        }
    }
}

/// Every row, in catalogue order.
pub fn rows() -> impl Iterator<Item = &'static Operation> {
    ALL.iter().map(|op| op.spec())
}

/// The operation called `name` (in any cloud), as fault rules and response pins name it.
pub fn named(name: &str) -> Option<&'static Operation> {
    rows().find(|row| row.name == name)
}

/// Every name, for messages that list what is allowed.
pub fn names() -> String {
    rows().map(|row| row.name).collect::<Vec<_>>().join(", ")
}

/// The Alibaba product whose API version this is (by its journal name), whatever the action.
pub fn rpc_product(version: &str) -> Option<&'static str> {
    rows().find(|row| row.rpc_version() == Some(version)).map(|row| row.product)
}

/// The Alibaba operation `action` of API `version`.
pub fn rpc(version: &str, action: &str) -> Option<AlibabaOp> {
    AlibabaOp::ALL.iter().copied().find(|op| op.spec().name == action && op.spec().rpc_version() == Some(version))
}

impl Operation {
    /// The API version an Alibaba operation is called with.
    pub fn rpc_version(&self) -> Option<&'static str> {
        match self.wire {
            Wire::Rpc { version } => Some(version),
            Wire::Rest { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_rows_agree_with_their_enum() {
        let mut names: Vec<&str> = rows().map(|row| row.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for op in ALL {
            assert_eq!(op.spec().op, *op);
            assert_eq!(named(op.spec().name).map(|row| row.op), Some(*op));
        }
        assert!(AlibabaOp::ALL.iter().all(|op| op.spec().cloud == Cloud::Alibaba && matches!(op.spec().wire, Wire::Rpc { .. })));
        assert!(HuaweiOp::ALL.iter().all(|op| op.spec().cloud == Cloud::Huawei && matches!(op.spec().wire, Wire::Rest { .. })));
    }

    #[test]
    fn rpc_routes_by_version_then_action() {
        assert_eq!(rpc("2014-05-26", "DescribeTasks"), Some(AlibabaOp::EcsDescribeTasks));
        assert_eq!(rpc("2018-12-03", "DescribeTasks"), None);
        assert_eq!(rpc("", "DescribeTasks"), None);
        assert_eq!(rpc_product("2017-11-29"), Some("avds"));
        assert_eq!(rpc_product(""), None);
        assert_eq!(rpc_product("2017-11-30"), None);
    }
}
