//! HSS ListImageScanTask: `GET /v5/{project_id}/image/tasks`. Every query parameter of the doc,
//! with the values the SDK model docstrings give where the doc leaves them blank (sdk-notes §6).

use super::{Call, HuaweiError};
use crate::render::{List, Word, NO_PINS};
use crate::world::hss_image::{self, ImageTaskQuery, ImageTaskView};

/// The doc's bound on `create_time` and `end_time` (milliseconds).
const MAX_TIME: i64 = 4_070_880_000_000;

fn query<'a>(call: &Call<'a>) -> Result<ImageTaskQuery<'a>, HuaweiError> {
    let q = call.query;
    let (offset, limit) = call.paging()?;
    let general_type = q.word("type", hss_image::GENERAL_TYPES)?.ok_or_else(|| HuaweiError::invalid("type"))?;
    let created_from = q.get("create_time").map(|_| q.int("create_time", 0, MAX_TIME, 0)).transpose()?;
    let ended_by = q.get("end_time").map(|_| q.int("end_time", 0, MAX_TIME, 0)).transpose()?;
    if let (Some(from), Some(to)) = (created_from, ended_by) {
        if from > to {
            return Err(HuaweiError::invalid("end_time"));
        }
    }
    let scan_scope = q.get("scan_scope").map(|_| q.int("scan_scope", 0, i64::from(i32::MAX), 0)).transpose()?;
    Ok(ImageTaskQuery {
        project_id: call.project_id,
        enterprise_project_id: q.text("enterprise_project_id")?,
        general_type,
        task_type: q.word("task_type", hss_image::TASK_TYPES)?,
        image_type: q.word("global_image_type", hss_image::IMAGE_TYPES)?,
        task_name: q.text("task_name")?,
        task_id: q.text("task_id")?,
        created_from,
        ended_by,
        status: q.word("task_status", hss_image::STATUS_FILTERS)?,
        scan_scope,
        offset,
        limit,
    })
}

fn task(list: &mut List, v: &ImageTaskView) {
    let t = v.task;
    list.object(&t.pins, |o| {
        o.field("task_id", &t.task_id)
            .field_some("policy_id", t.rare().policy_id.as_ref())
            .field("task_name", &t.task_name)
            .field("begin_time", t.created)
            .field_some("end_time", v.stage.ended_at)
            .field("remain_min", v.remain_min)
            .field("task_type", Word(t.task_type.name()))
            .field("image_type", Word(t.image_type.name()))
            .field("task_status", v.status_code)
            .field("scan_scope", t.scan_scope)
            .field_some("rate_limit", t.rare().rate_limit)
            .field("is_all", t.is_all)
            .field("failed_num", v.failed)
            .field("success_num", v.success)
            .field("total_num", t.images)
            .field("risky_num", v.risky)
            .field_some("sync_task_type", t.rare().sync_task_type.as_ref())
            .field_some("failed_reason", t.rare().failed_reason.as_ref().filter(|_| v.failed > 0 || v.status_code < 0))
            .list("failed_images", |list| {
                for f in v.failed_images {
                    list.object(NO_PINS, |o| {
                        o.field("id", f.id)
                            .field("registry_id", &f.registry_id)
                            .field("registry_name", &f.registry_name)
                            .field("image_name", &f.image_name)
                            .field("image_version", &f.image_version)
                            .field("namespace", &f.namespace)
                            .field("registry_type", f.registry_type)
                            .field("failed_reason", &f.failed_reason);
                    });
                }
            });
    });
}

pub fn call(call: &Call) -> Result<Vec<u8>, HuaweiError> {
    let q = query(call)?;
    let page = hss_image::list(&call.snapshot.world.hss_image, &q, call.now);
    Ok(call.document(|o| {
        o.list("data_list", |list| page.items.iter().for_each(|v| task(list, v))).field("total_num", page.total);
    }))
}
