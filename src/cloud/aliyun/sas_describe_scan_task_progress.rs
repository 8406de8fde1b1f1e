//! Security Center DescribeScanTaskProgress (2018-12-03): one virus-scan task's progress word and
//! the assets it runs on. `TargetInfo` is a string holding a JSON array, as the doc and the SDK
//! model say (a real array would slip past Python and break typed SDKs).

use super::{AliyunError, Call};
use crate::render::{self, Word};
use crate::world::lifecycle::Status;
use crate::world::sas;

pub fn call(call: &Call) -> Result<Vec<u8>, AliyunError> {
    let id_text = call.params.required("TaskId")?;
    let id: i64 = id_text.trim().parse().map_err(|_| AliyunError::invalid_parameter("TaskId"))?;
    let (task, stage) = sas::progress(&call.snapshot.world.sas, id, &call.caller, call.now)
        .ok_or_else(|| AliyunError::new(400, "InvalidTaskId.NotFound", format!("The specified TaskId {id} does not exist.")))?;
    // The doc's key order (type, name, target), which a JSON map would sort away.
    let target_info = render::json_text(|list| {
        for t in &task.targets {
            list.object(render::NO_PINS, |o| {
                o.field("type", t.kind).field("name", &t.name).field("target", &t.target);
            });
        }
    });
    Ok(call.document_of(&task.pins, |o| {
        o.field("TargetInfo", target_info).field("RequestId", call.request_id).field("ScanTaskProgress", Word(stage.status.name()));
    }))
}
