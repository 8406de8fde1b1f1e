//! HSS ListTasks (`POST /v5/{project_id}/common/tasks/batch-query`) over HTTP: every body filter
//! (incl. scan_type_list "contains all listed" and sort_key/sort_dir), paging and the enterprise
//! project in the query, body parsing errors, and the derived item fields.

mod common;

use common::*;
use serde_json::{json, Value};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// Default project, newest first: k3 (ready), k1 (running), k5 (running), k2 (finished),
/// k4 (finished); k6 in enterprise project ep-9; one in another project; one not yet created;
/// 30 generated in project "pager".
const SCENARIO: &str = r#"
name = "hss tasks tests"
# Made-up Huawei projects, declared on purpose (a real one is 32 hex digits).
projects = ["other0000", "pager"]

[clock]
start = "2026-01-01T00:00:00Z"

[[hss.tasks]]
task_id = "k1"
task_name = "cluster scan prod"
task_type = "cluster_scan"
trigger_type = "manual"
cluster_scan = { scan_types = ["cluster_vul", "benchmark"], clusters = 4, failures = 2 }
created = "-4m"
lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k2"
task_name = "iac scan of manifests"
task_type = "iac_scan"
trigger_type = "schedule"
iac_scan = { file_type = "k8s_yaml", files = 12, failures = 1 }
created = "-1h"
lifecycle = [{ status = "running", for = "8m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k3"
task_name = "cluster scan staging"
task_type = "cluster_scan"
trigger_type = "schedule"
cluster_scan = { scan_types = ["risk_assessment"], clusters = 2 }
created = "-30s"
lifecycle = [{ status = "ready", for = "2m" }, { status = "running", for = "6m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k4"
task_name = "full cluster audit"
task_type = "cluster_scan"
trigger_type = "manual"
cluster_scan = { scan_types = ["cluster_vul", "risk_assessment", "benchmark"], clusters = 3 }
created = "-2h"
lifecycle = [{ status = "running", for = "30m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k5"
task_name = "iac scan of dockerfiles"
task_type = "iac_scan"
trigger_type = "manual"
iac_scan = { file_type = "dockerfile", files = 5 }
created = "-20m"
lifecycle = [{ status = "running", for = "1h" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k6"
task_name = "enterprise cluster scan"
task_type = "cluster_scan"
enterprise_project_id = "ep-9"
created = "-5m"

[[hss.tasks]]
task_id = "k7"
task_name = "elsewhere"
project_id = "other0000"
created = "-5m"

[[hss.tasks]]
task_id = "k8"
task_name = "later"
created = "+1h"

[[hss.generate]]
count = 30
project_id = "pager"
created = "-1d..-1h"
"#;

const ALL: [&str; 5] = ["k3", "k1", "k5", "k2", "k4"];

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn ids(doc: &Value) -> Vec<String> {
    pluck(&doc["data_list"], "task_id")
}

async fn query(emu: &Emulator, body: Value) -> Vec<String> {
    let doc = hss_ok(&hss_post(emu, PROJECT, &[], &body.to_string()).await);
    let ids = ids(&doc);
    assert_eq!(doc["total_num"], ids.len(), "one page holds them all here");
    ids
}

async fn invalid(emu: &Emulator, body: Value, parameter: &str) {
    assert_hss_invalid(&hss_post(emu, PROJECT, &[], &body.to_string()).await, parameter);
}

#[tokio::test]
async fn items_carry_the_derived_state() {
    let emu = emu().await;
    let doc = hss_ok(&hss_post(&emu, PROJECT, &[], "{}").await);
    assert_eq!(doc["total_num"], 5);
    assert_eq!(ids(&doc), strings(&ALL));
    let items = &doc["data_list"];
    assert_eq!(
        items[0],
        json!({"task_id": "k3", "task_type": "cluster_scan", "task_name": "cluster scan staging", "trigger_type": "schedule",
               "task_status": "ready", "start_time": T0 - 30_000, "estimated_time": 8,
               "cluster_scan_info": {"scan_type_list": ["risk_assessment"], "scanning_cluster_num": 0, "success_cluster_num": 0, "failed_cluster_num": 0}})
    );
    assert_eq!(
        items[1],
        json!({"task_id": "k1", "task_type": "cluster_scan", "task_name": "cluster scan prod", "trigger_type": "manual",
               "task_status": "running", "start_time": T0 - 4 * MINUTE, "estimated_time": 6,
               "cluster_scan_info": {"scan_type_list": ["cluster_vul", "benchmark"], "scanning_cluster_num": 3, "success_cluster_num": 1, "failed_cluster_num": 0}})
    );
    assert_eq!(
        items[2],
        json!({"task_id": "k5", "task_type": "iac_scan", "task_name": "iac scan of dockerfiles", "trigger_type": "manual",
               "task_status": "running", "start_time": T0 - 20 * MINUTE, "estimated_time": 40,
               "iac_scan_info": {"file_type": "dockerfile", "scan_file_num": 5, "success_file_num": 1, "failed_file_num": 0}})
    );
    assert_eq!(
        items[3],
        json!({"task_id": "k2", "task_type": "iac_scan", "task_name": "iac scan of manifests", "trigger_type": "schedule",
               "task_status": "finished", "start_time": T0 - HOUR, "end_time": T0 - 52 * MINUTE, "estimated_time": 0,
               "iac_scan_info": {"file_type": "k8s_yaml", "scan_file_num": 12, "success_file_num": 11, "failed_file_num": 1}})
    );
}

#[tokio::test]
async fn an_empty_body_is_an_empty_filter() {
    let emu = emu().await;
    let braces = hss_ok(&hss_post(&emu, PROJECT, &[], "{}").await);
    for body in ["", "  \n", "{ }"] {
        assert_eq!(hss_ok(&hss_post(&emu, PROJECT, &[], body).await), braces, "body {body:?}");
    }
    // Without a Content-Type, too.
    let bare = send(emu.addr, "POST", &batch_query_path(PROJECT), &[], b"").await;
    assert_eq!(hss_ok(&bare), braces);
    // null fields and unknown fields do not filter.
    assert_eq!(query(&emu, json!({"task_type": null, "cluster_scan_info": null, "colour": "red"})).await, strings(&ALL));
}

#[tokio::test]
async fn malformed_bodies_are_hss_0002() {
    let emu = emu().await;
    for body in ["{", "{\"task_type\": }", "[]", "\"cluster_scan\"", "null", "42", "task_type=cluster_scan"] {
        assert_hss_error(&hss_post(&emu, PROJECT, &[], body).await, 400, "HSS.0002", "Failed to parse the request.");
    }
}

#[tokio::test]
async fn task_type_task_id_and_task_name() {
    let emu = emu().await;
    assert_eq!(query(&emu, json!({"task_type": "cluster_scan"})).await, strings(&["k3", "k1", "k4"]));
    assert_eq!(query(&emu, json!({"task_type": "iac_scan"})).await, strings(&["k5", "k2"]));
    assert_eq!(query(&emu, json!({"task_id": "k2"})).await, strings(&["k2"]));
    assert_eq!(query(&emu, json!({"task_id": "k"})).await, Vec::<String>::new(), "task_id is exact");
    assert_eq!(query(&emu, json!({"task_id": "k6"})).await, Vec::<String>::new(), "k6 is in another enterprise project");
    assert_eq!(query(&emu, json!({"task_name": "CLUSTER"})).await, strings(&["k3", "k1", "k4"]));
    assert_eq!(query(&emu, json!({"task_name": "scan of"})).await, strings(&["k5", "k2"]));
    assert_eq!(query(&emu, json!({"task_name": "scan of", "task_type": "iac_scan", "task_id": "k5"})).await, strings(&["k5"]));
    invalid(&emu, json!({"task_type": "image_scan"}), "task_type").await;
    invalid(&emu, json!({"task_type": 1}), "task_type").await;
    invalid(&emu, json!({"task_id": ""}), "task_id").await;
    invalid(&emu, json!({"task_id": ["k1"]}), "task_id").await;
    invalid(&emu, json!({"task_name": ""}), "task_name").await;
    invalid(&emu, json!({"task_name": "n".repeat(257)}), "task_name").await;
    assert_eq!(query(&emu, json!({"task_name": "n".repeat(256)})).await, Vec::<String>::new());
}

#[tokio::test]
async fn creation_time_range_is_inclusive() {
    let emu = emu().await;
    assert_eq!(query(&emu, json!({"start_create_time": T0 - 20 * MINUTE})).await, strings(&["k3", "k1", "k5"]));
    assert_eq!(query(&emu, json!({"end_create_time": T0 - 20 * MINUTE})).await, strings(&["k5", "k2", "k4"]));
    assert_eq!(query(&emu, json!({"start_create_time": T0 - HOUR, "end_create_time": T0 - 4 * MINUTE})).await, strings(&["k1", "k5", "k2"]));
    assert_eq!(query(&emu, json!({"start_create_time": T0 - 4 * MINUTE, "end_create_time": T0 - 4 * MINUTE})).await, strings(&["k1"]));
    assert_eq!(query(&emu, json!({"start_create_time": 0})).await, strings(&ALL));
    for name in ["start_create_time", "end_create_time"] {
        for bad in [json!(-1), json!("1767225600000"), json!(1.5), json!(true)] {
            invalid(&emu, json!({ name: bad }), name).await;
        }
    }
    invalid(&emu, json!({"start_create_time": T0, "end_create_time": T0 - 1}), "end_create_time").await;
}

#[tokio::test]
async fn trigger_type_and_task_status() {
    let emu = emu().await;
    assert_eq!(query(&emu, json!({"trigger_type": "schedule"})).await, strings(&["k3", "k2"]));
    assert_eq!(query(&emu, json!({"trigger_type": "manual"})).await, strings(&["k1", "k5", "k4"]));
    assert_eq!(query(&emu, json!({"task_status": "ready"})).await, strings(&["k3"]));
    assert_eq!(query(&emu, json!({"task_status": "running"})).await, strings(&["k1", "k5"]));
    assert_eq!(query(&emu, json!({"task_status": "finished"})).await, strings(&["k2", "k4"]));
    assert_eq!(query(&emu, json!({"task_status": "running", "trigger_type": "manual", "task_type": "iac_scan"})).await, strings(&["k5"]));
    invalid(&emu, json!({"trigger_type": "cron"}), "trigger_type").await;
    invalid(&emu, json!({"task_status": "done"}), "task_status").await;
    invalid(&emu, json!({"task_status": "Running"}), "task_status").await;
}

#[tokio::test]
async fn sort_by_start_time_either_way() {
    let emu = emu().await;
    let descending = strings(&ALL);
    let ascending: Vec<String> = descending.iter().rev().cloned().collect();
    assert_eq!(query(&emu, json!({"sort_key": "start_time", "sort_dir": "asc"})).await, ascending);
    assert_eq!(query(&emu, json!({"sort_dir": "asc"})).await, ascending);
    assert_eq!(query(&emu, json!({"sort_key": "start_time", "sort_dir": "desc"})).await, descending);
    assert_eq!(query(&emu, json!({"sort_key": "start_time"})).await, descending);
    assert_eq!(query(&emu, json!({"sort_dir": "asc", "task_type": "cluster_scan"})).await, strings(&["k4", "k1", "k3"]));
    invalid(&emu, json!({"sort_key": "end_time"}), "sort_key").await;
    invalid(&emu, json!({"sort_dir": "up"}), "sort_dir").await;
    invalid(&emu, json!({"sort_dir": "ASC"}), "sort_dir").await;
    // Paging applies after sorting.
    let page = hss_ok(&hss_post(&emu, "pager", &[("limit", "10"), ("offset", "25")], r#"{"sort_dir":"asc"}"#).await);
    let all_desc = hss_ok(&hss_post(&emu, "pager", &[("limit", "200")], "{}").await);
    let mut oldest_five = ids(&all_desc)[..5].to_vec();
    oldest_five.reverse();
    assert_eq!(ids(&page), oldest_five);
}

#[tokio::test]
async fn scan_type_list_keeps_tasks_that_scanned_every_listed_type() {
    let emu = emu().await;
    let by = |types: Value| json!({"cluster_scan_info": {"scan_type_list": types}});
    assert_eq!(query(&emu, by(json!(["cluster_vul"]))).await, strings(&["k1", "k4"]));
    assert_eq!(query(&emu, by(json!(["benchmark", "cluster_vul"]))).await, strings(&["k1", "k4"]));
    assert_eq!(query(&emu, by(json!(["risk_assessment"]))).await, strings(&["k3", "k4"]));
    assert_eq!(query(&emu, by(json!(["risk_assessment", "benchmark"]))).await, strings(&["k4"]));
    assert_eq!(query(&emu, by(json!(["cluster_vul", "risk_assessment", "benchmark"]))).await, strings(&["k4"]));
    assert_eq!(query(&emu, by(json!(["cluster_baseline"]))).await, Vec::<String>::new());
    assert_eq!(query(&emu, by(json!([]))).await, strings(&ALL), "an empty list does not filter");
    assert_eq!(query(&emu, json!({"cluster_scan_info": {}})).await, strings(&ALL));
    invalid(&emu, by(json!("cluster_vul")), "cluster_scan_info.scan_type_list").await;
    invalid(&emu, by(json!([1])), "cluster_scan_info.scan_type_list").await;
    invalid(&emu, json!({"cluster_scan_info": "cluster_vul"}), "cluster_scan_info").await;
}

#[tokio::test]
async fn iac_file_type() {
    let emu = emu().await;
    assert_eq!(query(&emu, json!({"iac_scan_info": {"file_type": "dockerfile"}})).await, strings(&["k5"]));
    assert_eq!(query(&emu, json!({"iac_scan_info": {"file_type": "k8s_yaml"}})).await, strings(&["k2"]));
    assert_eq!(query(&emu, json!({"iac_scan_info": {}})).await, strings(&ALL));
    invalid(&emu, json!({"iac_scan_info": {"file_type": "yaml"}}), "iac_scan_info.file_type").await;
    invalid(&emu, json!({"iac_scan_info": {"file_type": 3}}), "iac_scan_info.file_type").await;
    invalid(&emu, json!({"iac_scan_info": ["dockerfile"]}), "iac_scan_info").await;
}

#[tokio::test]
async fn paging_and_enterprise_project_are_query_parameters() {
    let emu = emu().await;
    let page = |offset: &'static str, limit: &'static str| {
        let emu = &emu;
        async move { hss_ok(&hss_post(emu, "pager", &[("offset", offset), ("limit", limit)], "{}").await) }
    };
    let first = hss_ok(&hss_post(&emu, "pager", &[], "{}").await);
    assert_eq!((first["total_num"].clone(), ids(&first).len()), (json!(30), 10));
    let (a, b, c, d) = (page("0", "10").await, page("10", "10").await, page("20", "10").await, page("25", "10").await);
    assert_eq!(ids(&a), ids(&first));
    let all = page("0", "200").await;
    assert_eq!([ids(&a), ids(&b), ids(&c)].concat(), ids(&all));
    assert_eq!(ids(&d), ids(&all)[25..].to_vec());
    assert_eq!(page("2000000", "10").await, json!({"total_num": 30, "data_list": []}));
    for (name, bad) in [("offset", "-1"), ("offset", "2000001"), ("offset", "x"), ("limit", "9"), ("limit", "201"), ("limit", "x")] {
        assert_hss_invalid(&hss_post(&emu, PROJECT, &[(name, bad)], "{}").await, name);
    }
    let ep = |id: &'static str| {
        let emu = &emu;
        async move { ids(&hss_ok(&hss_post(emu, PROJECT, &[("enterprise_project_id", id)], "{}").await)) }
    };
    assert_eq!(ep("ep-9").await, strings(&["k6"]));
    assert_eq!(ep("0").await, strings(&ALL));
    assert_eq!(ep("all_granted_eps").await, strings(&["k3", "k1", "k6", "k5", "k2", "k4"]));
    assert_hss_invalid(&hss_post(&emu, PROJECT, &[("enterprise_project_id", "")], "{}").await, "enterprise_project_id");
    // A body field of the same name is not the query parameter.
    assert_eq!(query(&emu, json!({"enterprise_project_id": "ep-9", "offset": 3, "limit": 1})).await, strings(&ALL));
}

#[tokio::test]
async fn projects_are_separate_and_tasks_appear_on_time() {
    let emu = emu().await;
    assert_eq!(ids(&hss_ok(&hss_post(&emu, "other0000", &[], "{}").await)), strings(&["k7"]));
    assert_eq!(query(&emu, json!({"task_id": "k8"})).await, Vec::<String>::new());
    emu.state.clock.advance(HOUR);
    assert_eq!(query(&emu, json!({"task_id": "k8"})).await, strings(&["k8"]));
}
