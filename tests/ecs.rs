//! ECS DescribeTasks over HTTP: RegionId rules, every filter (TaskIds, TaskAction, TaskStatus,
//! StartTime/EndTime), paging, and the shapes of both dialects.

mod common;

use common::*;
use serde_json::{json, Value};

const REQUEST_ID: &str = "0E5C0000-0000-4000-8000-000000000001";

/// Clock at 2026-01-01T00:00:00Z. In cn-hangzhou, newest first: e (Deleted), d (Waiting),
/// c (Processing), b (Failed), a (Finished), f (Paused); one task in cn-shanghai, one not yet
/// created, and 250 generated tasks in cn-beijing for paging.
const SCENARIO: &str = r#"
name = "ecs tests"
seed = 11
regions = ["xx-test-1"]

[clock]
start = "2026-01-01T00:00:00Z"

[request_ids]
DescribeTasks = "0E5C0000-0000-4000-8000-000000000001"

[[ecs.tasks]]
id = "t-a"
action = "ImportImage"
resource_id = "m-a"
created = "-2h"
lifecycle = [{ status = "Processing", for = "30m" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-b"
action = "ExportImage"
created = "-1h"
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Failed" }]

[[ecs.tasks]]
id = "t-c"
action = "ImportImage"
resource_id = "m-c"
created = "-30m"
lifecycle = [{ status = "Processing", for = "1h" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-d"
action = "RedeployInstance"
resource_id = "i-d"
created = "-10m"
lifecycle = [{ status = "Waiting", for = "1h" }, { status = "Processing", for = "1h" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-e"
action = "ExportImage"
created = "-5m"
lifecycle = [{ status = "Waiting", for = "1m" }, { status = "Deleted" }]

[[ecs.tasks]]
id = "t-f"
action = "ImportImage"
created = "-3h"
lifecycle = [{ status = "Processing", for = "1m" }, { status = "Paused" }]

[[ecs.tasks]]
id = "t-g"
region = "cn-shanghai"
action = "ImportImage"
created = "-1m"
lifecycle = [{ status = "Processing", for = "1h" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-future"
action = "ImportImage"
created = "+1h"

[[ecs.generate]]
region = "cn-beijing"
count = 250
action = ["ImportImage", "ExportImage"]
created = "-10d..-1h"
lifecycle = [{ status = "Processing", for = "1m" }, { status = "Finished" }]
"#;

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn ids(doc: &Value) -> Vec<String> {
    pluck(&doc["TaskSet"]["Task"], "TaskId")
}

async fn ids_for(emu: &Emulator, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![("RegionId", "cn-hangzhou")];
    params.extend_from_slice(extra);
    ids(&rpc_ok(emu, ECS, &params).await)
}

fn ecs_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.json(), aliyun_error(REQUEST_ID, "ecs.aliyuncs.com", "Ecs", code, message));
}

#[tokio::test]
async fn lists_a_region_newest_first_with_every_field() {
    let emu = emu().await;
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    let task = |id: &str, created: &str, finished: Option<&str>, cancel: &str, action: &str, status: &str, resource: Option<&str>| {
        let mut t = json!({"CreationTime": created, "SupportCancel": cancel, "TaskAction": action, "TaskStatus": status, "TaskId": id});
        if let Some(f) = finished {
            t["FinishedTime"] = f.into();
        }
        if let Some(r) = resource {
            t["ResourceId"] = r.into();
        }
        t
    };
    assert_eq!(
        doc,
        json!({
            "PageNumber": 1,
            "TotalCount": 6,
            "PageSize": 10,
            "RegionId": "cn-hangzhou",
            "RequestId": REQUEST_ID,
            "TaskSet": {"Task": [
                task("t-e", "2025-12-31T23:55Z", Some("2025-12-31T23:56Z"), "false", "ExportImage", "Deleted", None),
                task("t-d", "2025-12-31T23:50Z", None, "true", "RedeployInstance", "Waiting", Some("i-d")),
                task("t-c", "2025-12-31T23:30Z", None, "true", "ImportImage", "Processing", Some("m-c")),
                task("t-b", "2025-12-31T23:00Z", Some("2025-12-31T23:10Z"), "false", "ExportImage", "Failed", None),
                task("t-a", "2025-12-31T22:00Z", Some("2025-12-31T22:30Z"), "false", "ImportImage", "Finished", Some("m-a")),
                task("t-f", "2025-12-31T21:00Z", None, "true", "ImportImage", "Paused", None),
            ]}
        })
    );
}

#[tokio::test]
async fn region_id_is_required_and_empty_counts_as_missing() {
    let emu = emu().await;
    let message = "An input parameter \"RegionId\" that is mandatory for processing the request is not supplied.";
    ecs_error(&rpc(&emu, ECS, &[]).await, 400, "MissingParameter", message);
    ecs_error(&rpc(&emu, ECS, &[("RegionId", "")]).await, 400, "MissingParameter", message);
    ecs_error(&rpc(&emu, ECS, &[("RegionId", ""), ("PageSize", "5")]).await, 400, "MissingParameter", message);
}

#[tokio::test]
async fn a_made_up_region_is_not_found_and_real_ones_answer_empty() {
    let emu = emu().await;
    ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-atlantis-1")]).await, 400, "InvalidRegionId.NotFound", "The specified RegionId does not exist.");
    for region in ["eu-west-1", "xx-test-1"] {
        let doc = rpc_ok(&emu, ECS, &[("RegionId", region)]).await;
        assert_eq!(
            doc,
            json!({"PageNumber": 1, "TotalCount": 0, "PageSize": 10, "RegionId": region, "RequestId": REQUEST_ID, "TaskSet": {"Task": []}}),
            "{region}"
        );
    }
    // Each region sees its own tasks only.
    assert_eq!(ids(&rpc_ok(&emu, ECS, &[("RegionId", "cn-shanghai")]).await), strings(&["t-g"]));
}

#[tokio::test]
async fn task_ids_filter_by_comma_list_or_json_array() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("TaskIds", "t-a,t-c")]).await, strings(&["t-c", "t-a"]), "store order, not request order");
    assert_eq!(ids_for(&emu, &[("TaskIds", "t-a, t-zzz ,t-b,t-a")]).await, strings(&["t-b", "t-a"]), "unknown ids skipped, repeats once");
    assert_eq!(ids_for(&emu, &[("TaskIds", r#"["t-a","t-b"]"#)]).await, strings(&["t-b", "t-a"]));
    assert_eq!(ids_for(&emu, &[("TaskIds", "t-g")]).await, Vec::<String>::new(), "t-g lives in cn-shanghai");
    assert_eq!(ids_for(&emu, &[("TaskIds", "t-nothing")]).await, Vec::<String>::new());
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "t-d")]).await;
    assert_eq!(doc["TotalCount"], 1);
}

#[tokio::test]
async fn task_ids_take_up_to_100() {
    let emu = emu().await;
    let mut hundred: Vec<String> = (0..98).map(|i| format!("t-x{i}")).collect();
    hundred.push("t-a".into());
    hundred.push("t-e".into());
    let list = hundred.join(",");
    assert_eq!(ids_for(&emu, &[("TaskIds", &list)]).await, strings(&["t-e", "t-a"]));
    let over = format!("{list},t-b");
    ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", &over)]).await, 400, "InvalidParameter", &invalid_parameter("TaskIds"));
    ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "[\"t-a\",")]).await, 400, "InvalidParameter", &invalid_parameter("TaskIds"));
}

#[tokio::test]
async fn resource_ids_filter_by_the_resource_a_task_works_on() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("ResourceIds.1", "m-a"), ("ResourceIds.2", "i-d")]).await, strings(&["t-d", "t-a"]));
    assert_eq!(ids_for(&emu, &[("ResourceIds.1", "m-c"), ("TaskAction", "ImportImage")]).await, strings(&["t-c"]));
    assert_eq!(ids_for(&emu, &[("ResourceIds.1", "m-nothing")]).await, Vec::<String>::new());
    let many: Vec<(String, String)> = (1..=101).map(|i| (format!("ResourceIds.{i}"), format!("m-{i}"))).collect();
    let mut params: Vec<(&str, &str)> = vec![("RegionId", "cn-hangzhou")];
    params.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    ecs_error(&rpc(&emu, ECS, &params).await, 400, "InvalidParameter", &invalid_parameter("ResourceIds"));
}

#[tokio::test]
async fn task_action_filters_and_rejects_unknown_actions() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("TaskAction", "ImportImage")]).await, strings(&["t-c", "t-a", "t-f"]));
    assert_eq!(ids_for(&emu, &[("TaskAction", "ExportImage")]).await, strings(&["t-e", "t-b"]));
    assert_eq!(ids_for(&emu, &[("TaskAction", "RedeployInstance")]).await, strings(&["t-d"]));
    ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskAction", "DeleteImage")]).await, 400, "InvalidParameter", &invalid_parameter("TaskAction"));
}

#[tokio::test]
async fn only_finished_processing_and_failed_take_effect_as_task_status() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("TaskStatus", "Finished")]).await, strings(&["t-a"]));
    assert_eq!(ids_for(&emu, &[("TaskStatus", "Processing")]).await, strings(&["t-c"]));
    assert_eq!(ids_for(&emu, &[("TaskStatus", "Failed")]).await, strings(&["t-b"]));
    let all = strings(&["t-e", "t-d", "t-c", "t-b", "t-a", "t-f"]);
    for ignored in ["Waiting", "Deleted", "Paused", "finished", "Bogus"] {
        assert_eq!(ids_for(&emu, &[("TaskStatus", ignored)]).await, all, "TaskStatus={ignored} is ignored");
    }
    assert_eq!(ids_for(&emu, &[("TaskStatus", "Finished"), ("TaskAction", "ExportImage")]).await, Vec::<String>::new());
    assert_eq!(ids_for(&emu, &[("TaskStatus", "Failed"), ("TaskAction", "ExportImage")]).await, strings(&["t-b"]));
}

#[tokio::test]
async fn start_and_end_time_bound_the_creation_time_inclusively() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("StartTime", "2025-12-31T23:00:00Z")]).await, strings(&["t-e", "t-d", "t-c", "t-b"]));
    assert_eq!(ids_for(&emu, &[("EndTime", "2025-12-31T23:00:00Z")]).await, strings(&["t-b", "t-a", "t-f"]));
    assert_eq!(ids_for(&emu, &[("StartTime", "2025-12-31T22:00:00Z"), ("EndTime", "2025-12-31T23:30:00Z")]).await, strings(&["t-c", "t-b", "t-a"]));
    // The minute form ECS itself answers with is accepted too.
    assert_eq!(ids_for(&emu, &[("StartTime", "2025-12-31T23:50Z")]).await, strings(&["t-e", "t-d"]));
    assert_eq!(ids_for(&emu, &[("StartTime", "2025-12-31T23:56:00Z")]).await, Vec::<String>::new());
}

#[tokio::test]
async fn malformed_or_reversed_times_are_invalid() {
    let emu = emu().await;
    for bad in ["2025-12-31 23:00:00", "2025-12-31T23:00:00+08:00", "2025-13-01T00:00:00Z", "yesterday", "1767225600"] {
        ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("StartTime", bad)]).await, 400, "InvalidParameter", &invalid_parameter("StartTime"));
        ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("EndTime", bad)]).await, 400, "InvalidParameter", &invalid_parameter("EndTime"));
    }
    let reversed = [("RegionId", "cn-hangzhou"), ("StartTime", "2025-12-31T23:00:00Z"), ("EndTime", "2025-12-31T22:00:00Z")];
    ecs_error(&rpc(&emu, ECS, &reversed).await, 400, "InvalidParameter", &invalid_parameter("EndTime"));
}

#[tokio::test]
async fn pages_default_to_1_and_10_and_cover_every_task_once() {
    let emu = emu().await;
    let first = rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing")]).await;
    assert_eq!((first["PageNumber"].clone(), first["PageSize"].clone(), first["TotalCount"].clone()), (json!(1), json!(10), json!(250)));
    assert_eq!(ids(&first).len(), 10);
    let mut seen = Vec::new();
    for page in ["1", "2", "3"] {
        let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "100"), ("PageNumber", page)]).await;
        assert_eq!(doc["PageNumber"], page.parse::<i64>().unwrap());
        assert_eq!(doc["PageSize"], 100);
        assert_eq!(doc["TotalCount"], 250);
        seen.extend(ids(&doc));
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(seen[..10], ids(&first)[..], "page 1 of 10 is the head of page 1 of 100");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 250, "no task on two pages");
    let creation: Vec<String> = {
        let mut all = Vec::new();
        for page in ["1", "2", "3"] {
            let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "100"), ("PageNumber", page)]).await;
            all.extend(pluck(&doc["TaskSet"]["Task"], "CreationTime"));
        }
        all
    };
    assert!(creation.windows(2).all(|w| w[0] >= w[1]), "newest first across pages");
    let last = rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "100"), ("PageNumber", "3")]).await;
    assert_eq!(ids(&last).len(), 50);
    let beyond = rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "100"), ("PageNumber", "4")]).await;
    assert_eq!((beyond["TotalCount"].clone(), ids(&beyond).len()), (json!(250), 0));
    let small = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("PageSize", "4"), ("PageNumber", "2")]).await;
    assert_eq!(ids(&small), strings(&["t-a", "t-f"]));
}

#[tokio::test]
async fn page_size_is_1_to_100_and_page_number_from_1() {
    let emu = emu().await;
    for (name, value) in [("PageSize", "101"), ("PageSize", "0"), ("PageSize", "-1"), ("PageSize", "ten"), ("PageSize", "2.5"), ("PageNumber", "0"), ("PageNumber", "x")] {
        ecs_error(&rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), (name, value)]).await, 400, "InvalidParameter", &invalid_parameter(name));
    }
    assert_eq!(ids(&rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "100")]).await).len(), 100);
    assert_eq!(ids(&rpc_ok(&emu, ECS, &[("RegionId", "cn-beijing"), ("PageSize", "1")]).await).len(), 1);
}

#[tokio::test]
async fn tasks_appear_when_the_clock_reaches_their_creation() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("TaskIds", "t-future")]).await, Vec::<String>::new());
    emu.state.clock.advance(HOUR);
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "t-future")]).await;
    // Default lifecycle: Waiting 30 s, Processing 10 min, Finished.
    assert_eq!(doc["TaskSet"]["Task"], json!([{"CreationTime": "2026-01-01T01:00Z", "SupportCancel": "true", "TaskAction": "ImportImage", "TaskStatus": "Waiting", "TaskId": "t-future"}]));
}

#[tokio::test]
async fn docs_dialect_has_the_doc_json_shape() {
    let emu = emu().await;
    let params = [("RegionId", "cn-hangzhou"), ("TaskIds", "t-a,t-c")];
    let reply = rpc_dialect(&emu, ECS, &params, Some("docs")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({
            "PageNumber": 1,
            "TotalCount": 2,
            "TaskSet": [{"Task": [
                {"CreationTime": "2025-12-31T23:30Z", "SupportCancel": true, "TaskAction": "ImportImage", "TaskStatus": "Processing", "TaskId": "t-c"},
                {"CreationTime": "2025-12-31T22:00Z", "FinishedTime": "2025-12-31T22:30Z", "SupportCancel": false, "TaskAction": "ImportImage", "TaskStatus": "Finished", "TaskId": "t-a"},
            ]}],
            "PageSize": 10,
            "RequestId": REQUEST_ID,
            "RegionId": "cn-hangzhou",
        })
    );
    let sdk = rpc_dialect(&emu, ECS, &params, Some("sdk")).await.json();
    assert_eq!(sdk["TaskSet"]["Task"][0]["ResourceId"], "m-c", "the sdk dialect has the model's ResourceId");
    assert_eq!(sdk["TaskSet"]["Task"][1]["SupportCancel"], "false");
    assert_eq!(rpc(&emu, ECS, &params).await.json(), sdk, "sdk is the default dialect");
}

#[tokio::test]
async fn one_task_is_still_an_array() {
    let emu = emu().await;
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "t-b")]).await;
    assert!(doc["TaskSet"]["Task"].is_array(), "{doc}");
    assert_eq!(ids(&doc), strings(&["t-b"]));
}

#[tokio::test]
async fn xml_answers_repeat_task_elements() {
    let emu = emu().await;
    let reply = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "t-a,t-b"), ("Format", "XML")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "text/xml;charset=utf-8");
    assert_eq!(
        reply.xml(),
        json!({"DescribeTasksResponse": {
            "PageNumber": "1", "TotalCount": "2", "PageSize": "10", "RegionId": "cn-hangzhou", "RequestId": REQUEST_ID,
            "TaskSet": {"Task": [
                {"CreationTime": "2025-12-31T23:00Z", "FinishedTime": "2025-12-31T23:10Z", "SupportCancel": "false", "TaskAction": "ExportImage", "TaskStatus": "Failed", "TaskId": "t-b"},
                {"CreationTime": "2025-12-31T22:00Z", "FinishedTime": "2025-12-31T22:30Z", "SupportCancel": "false", "TaskAction": "ImportImage", "TaskStatus": "Finished", "TaskId": "t-a", "ResourceId": "m-a"},
            ]}
        }})
    );
    let error = rpc(&emu, ECS, &[("Format", "xml")]).await;
    assert_eq!((error.status, error.content_type()), (400, "text/xml;charset=utf-8"));
    assert_eq!(
        error.xml(),
        json!({"Error": {"RequestId": REQUEST_ID, "HostId": "ecs.aliyuncs.com", "Code": "MissingParameter", "Message": missing_parameter("RegionId"),
            "Recommend": "https://api.aliyun.com/troubleshoot?q=MissingParameter&product=Ecs"}})
    );
}

#[tokio::test]
async fn pinned_fields_keep_toml_datetimes_as_text() {
    // `set` pins take any TOML value; a datetime written unquoted must render as its text.
    let emu = start(
        r#"
[clock]
start = "2026-01-01T00:00:00Z"

[[ecs.tasks]]
id = "t-pinned"
set = { CreationTime = 2015-11-24T12:50:00Z, FinishedTime = "2015-11-24T12:50Z", Extra = { Day = 2015-11-24, Tags = ["a", 1, 2.5, true] } }
unset = ["SupportCancel"]
"#,
    )
    .await;
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(
        doc["TaskSet"]["Task"],
        json!([{"CreationTime": "2015-11-24T12:50:00Z", "TaskAction": "ImportImage", "TaskStatus": "Waiting", "TaskId": "t-pinned",
                "FinishedTime": "2015-11-24T12:50Z", "Extra": {"Day": "2015-11-24", "Tags": ["a", 1, 2.5, true]}}])
    );
}
