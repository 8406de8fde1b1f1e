//! Security Center DescribeScanTaskProgress over HTTP: the required numeric TaskId, the progress
//! words of the doc, TargetInfo as a JSON string, and tenants.

mod common;

use common::*;
use serde_json::{json, Value};

const SCENARIO: &str = r#"
name = "sas tests"

[clock]
start = "2026-01-01T00:00:00Z"

[[sas.tasks]]
id = 282830
created = "-5s"
targets = [{ type = "uuid", name = "host001", target = "503201a7-14c6-4280-801b-1169ed420001" }]
lifecycle = [{ status = "init", for = "30s" }, { status = "Processing", for = "10m" }, { status = "Success" }]

[[sas.tasks]]
id = 282831
created = "-2m"
targets = [
  { type = "groupId", name = "web servers", target = "8076" },
  { type = "uuid", name = "db \"primary\"", target = "7a1e0c44-93bd-4d0e-b4a8-2b65c1d40002" },
]
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Success" }]

[[sas.tasks]]
id = 282833
created = "-1h"
targets = [{ type = "uuid", name = "db01", target = "u-3" }]
lifecycle = [{ status = "Processing", for = "4m" }, { status = "Failed" }]

[[sas.tasks]]
id = 282834
created = "+10m"
targets = [{ type = "uuid", name = "later", target = "u-4" }]

[[sas.tasks]]
id = 282835
owner = "LTAIalice"
created = "-1m"
targets = [{ type = "uuid", name = "alice's", target = "u-5" }]
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Success" }]
"#;

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn sas_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_aliyun_error(reply, status, "tds.aliyuncs.com", "Sas", code, message);
}

async fn progress(emu: &Emulator, id: &str) -> Value {
    rpc_ok(emu, SAS, &[("TaskId", id)]).await
}

#[tokio::test]
async fn answers_progress_and_targets_as_a_json_string() {
    let emu = emu().await;
    let doc = progress(&emu, "282831").await;
    let request_id = doc["RequestId"].as_str().unwrap().to_string();
    assert!(is_alibaba_request_id(&request_id), "{request_id}");
    assert_eq!(
        doc,
        json!({
            "TargetInfo": r#"[{"type":"groupId","name":"web servers","target":"8076"},{"type":"uuid","name":"db \"primary\"","target":"7a1e0c44-93bd-4d0e-b4a8-2b65c1d40002"}]"#,
            "RequestId": request_id,
            "ScanTaskProgress": "Processing",
        })
    );
    let targets: Value = serde_json::from_str(doc["TargetInfo"].as_str().unwrap()).unwrap();
    assert_eq!(targets[1]["name"], "db \"primary\"");
}

#[tokio::test]
async fn each_progress_word_of_the_doc() {
    let emu = emu().await;
    assert_eq!(progress(&emu, "282830").await["ScanTaskProgress"], "init");
    assert_eq!(progress(&emu, "282831").await["ScanTaskProgress"], "Processing");
    assert_eq!(progress(&emu, "282833").await["ScanTaskProgress"], "Failed");
    emu.state.clock.advance(12 * MINUTE);
    assert_eq!(progress(&emu, "282830").await["ScanTaskProgress"], "Success");
    assert_eq!(progress(&emu, "282831").await["ScanTaskProgress"], "Success");
}

#[tokio::test]
async fn task_id_is_required() {
    let emu = emu().await;
    sas_error(&rpc(&emu, SAS, &[]).await, 400, "MissingParameter", &missing_parameter("TaskId"));
    sas_error(&rpc(&emu, SAS, &[("TaskId", "")]).await, 400, "MissingParameter", &missing_parameter("TaskId"));
}

#[tokio::test]
async fn task_id_must_be_a_whole_number() {
    let emu = emu().await;
    for bad in ["abc", "12.5", "282831x", "0x45", "99999999999999999999"] {
        sas_error(&rpc(&emu, SAS, &[("TaskId", bad)]).await, 400, "InvalidParameter", &invalid_parameter("TaskId"));
    }
}

#[tokio::test]
async fn unknown_and_not_yet_created_tasks_are_not_found() {
    let emu = emu().await;
    sas_error(&rpc(&emu, SAS, &[("TaskId", "999")]).await, 400, "InvalidTaskId.NotFound", "The specified TaskId 999 does not exist.");
    sas_error(&rpc(&emu, SAS, &[("TaskId", "282834")]).await, 400, "InvalidTaskId.NotFound", "The specified TaskId 282834 does not exist.");
    emu.state.clock.advance(10 * MINUTE);
    // Default lifecycle: init 10 s, Processing 5 min, Success.
    assert_eq!(progress(&emu, "282834").await["ScanTaskProgress"], "init");
}

#[tokio::test]
async fn no_region_id_is_needed_and_one_given_is_harmless() {
    let emu = emu().await;
    let without = progress(&emu, "282833").await;
    let with = rpc_ok(&emu, SAS, &[("TaskId", "282833"), ("RegionId", "cn-hangzhou")]).await;
    assert_eq!(without["ScanTaskProgress"], "Failed");
    assert_eq!(with["TargetInfo"], without["TargetInfo"]);
    assert_eq!(with["ScanTaskProgress"], without["ScanTaskProgress"]);
}

#[tokio::test]
async fn a_tenant_task_is_seen_only_by_its_access_key() {
    let emu = emu().await;
    sas_error(&rpc(&emu, SAS, &[("TaskId", "282835")]).await, 400, "InvalidTaskId.NotFound", "The specified TaskId 282835 does not exist.");
    sas_error(
        &rpc(&emu, SAS, &[("TaskId", "282835"), ("AccessKeyId", "LTAIbob")]).await,
        400,
        "InvalidTaskId.NotFound",
        "The specified TaskId 282835 does not exist.",
    );
    let doc = rpc_ok(&emu, SAS, &[("TaskId", "282835"), ("AccessKeyId", "LTAIalice")]).await;
    assert_eq!(doc["TargetInfo"], r#"[{"type":"uuid","name":"alice's","target":"u-5"}]"#);
    // Shared tasks stay visible to every key.
    assert_eq!(rpc_ok(&emu, SAS, &[("TaskId", "282833"), ("AccessKeyId", "LTAIalice")]).await["ScanTaskProgress"], "Failed");
}

#[tokio::test]
async fn xml_answer_keeps_target_info_as_text() {
    let emu = emu().await;
    let reply = rpc(&emu, SAS, &[("TaskId", "282833"), ("Format", "XML")]).await;
    assert_eq!((reply.status, reply.content_type()), (200, "text/xml;charset=utf-8"));
    let doc = reply.xml();
    let request_id = doc["DescribeScanTaskProgressResponse"]["RequestId"].as_str().unwrap().to_string();
    assert_eq!(
        doc,
        json!({"DescribeScanTaskProgressResponse": {
            "TargetInfo": r#"[{"type":"uuid","name":"db01","target":"u-3"}]"#,
            "RequestId": request_id,
            "ScanTaskProgress": "Failed",
        }})
    );
}
