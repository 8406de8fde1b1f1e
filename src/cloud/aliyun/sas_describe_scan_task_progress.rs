//! Security Center DescribeScanTaskProgress (2018-12-03): one virus-scan task's progress word and
//! the assets it runs on. `TargetInfo` is a string holding a JSON array, as the doc and the SDK
//! model say (a real array would slip past Python and break typed SDKs).

use super::{AliyunError, Answer, Call};
use crate::render::Node;
use crate::world::lifecycle::Status;
use crate::world::sas;

pub fn call(call: &Call) -> Result<Answer, AliyunError> {
    let id_text = call.params.required("TaskId")?;
    let id: i64 = id_text.trim().parse().map_err(|_| AliyunError::invalid_parameter("TaskId"))?;
    let (task, stage) = sas::progress(&call.snapshot.world.sas, id, &call.caller, call.now)
        .ok_or_else(|| AliyunError::new(400, "InvalidTaskId.NotFound", format!("The specified TaskId {id} does not exist.")))?;
    let targets: Vec<Node> = task
        .targets
        .iter()
        .map(|t| Node::object().with("type", t.kind).with("name", t.name.clone()).with("target", t.target.clone()))
        .collect();
    // The doc's key order (type, name, target), which a JSON map would sort away.
    let target_info = String::from_utf8_lossy(&crate::render::json::write(&Node::List(targets))).into_owned();
    let doc = Node::object()
        .with("TargetInfo", target_info)
        .with("RequestId", call.request_id)
        .with("ScanTaskProgress", stage.status.name())
        .pinned(&task.pins);
    Ok(Answer { root: "DescribeScanTaskProgressResponse", doc })
}
