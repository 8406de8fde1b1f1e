//! AVDS DescribeScanSessions over HTTP: sessions of one-off and periodic scans, CurrentPage and
//! PageSize, ScanId, Search with `*` wildcards, SourceIp (accepted, ignored), StatusList.N, and the
//! two dialects.

mod common;

use common::*;
use serde_json::{json, Value};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 24 * HOUR;
const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const C: &str = "cccccccc-0000-4000-8000-000000000003";
const D: &str = "dddddddd-0000-4000-8000-000000000004";
const E: &str = "eeeeeeee-0000-4000-8000-000000000005";

/// Sessions at the clock's start, newest first (ties: higher TaskId first):
/// A#1003 waiting, D#4000 waiting, B#2000 running, A#1002 finished, C#3000 aborted,
/// A#1001 finished, A#1000 finished, E#5001 finished, E#5000 finished; plus one scan of a tenant.
const SCENARIO: &str = r#"
name = "avds tests"

[clock]
start = "2026-01-01T00:00:00Z"

[request_ids]
DescribeScanSessions = "A7D50000-0000-4000-8000-000000000001"

[[avds.scans]]
scan_id = "aaaaaaaa-0000-4000-8000-000000000001"
task_id = 1000
name = "hourly web perimeter"
targets = ["1.2.3.4", "www.example.com"]
trigger = "interval"
period = "hour"
interval = 1
created = "-3h"
lifecycle = [{ status = "waiting", for = "2m" }, { status = "running", for = "40m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "bbbbbbbb-0000-4000-8000-000000000002"
task_id = 2000
name = "one-off api audit"
targets = ["api.example.com"]
created = "-10m"
lifecycle = [{ status = "running", for = "30m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "cccccccc-0000-4000-8000-000000000003"
task_id = 3000
name = "aborted legacy scan"
targets = ["legacy.example.com"]
created = "-2h"
lifecycle = [{ status = "running", for = "5m" }, { status = "aborted" }]

[[avds.scans]]
scan_id = "dddddddd-0000-4000-8000-000000000004"
task_id = 4000
name = "pending office scan"
targets = ["10.0.0.0/24"]
created = "-1m"
lifecycle = [{ status = "waiting", for = "10m" }, { status = "running", for = "20m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "eeeeeeee-0000-4000-8000-000000000005"
task_id = 5000
name = "daily capped"
targets = ["capped.example.org"]
trigger = "interval"
period = "day"
interval = 1
sessions = 2
report = "failed"
created = "-5d"
lifecycle = [{ status = "running", for = "1h" }, { status = "finished" }]

[[avds.scans]]
scan_id = "ffffffff-0000-4000-8000-000000000006"
task_id = 6000
owner = "LTAIalice"
name = "alice only"
targets = ["alice.example.com"]
created = "-1h"
lifecycle = [{ status = "running", for = "2h" }, { status = "finished" }]
"#;

const REQUEST_ID: &str = "A7D50000-0000-4000-8000-000000000001";
const ALL: [&str; 9] = ["1003", "4000", "2000", "1002", "3000", "1001", "1000", "5001", "5000"];

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn task_ids(doc: &Value) -> Vec<String> {
    pluck(&doc["List"], "TaskId")
}

async fn ids_for(emu: &Emulator, params: &[(&str, &str)]) -> Vec<String> {
    task_ids(&rpc_ok(emu, AVDS, params).await)
}

fn avds_error(reply: &Reply, code: &str, message: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json(), aliyun_error(REQUEST_ID, "avds.aliyuncs.com", "avds", code, message));
}

fn hourly_finished(k: i64) -> Value {
    let started = T0 - (3 - k) * HOUR;
    json!({
        "TaskId": 1000 + k, "ScanId": A, "JobStatus": "finished", "CreatedAt": started, "FinishedAt": started + 42 * MINUTE,
        "Name": "hourly web perimeter", "TriggerType": "interval", "Period": "hour", "Interval": 1,
        "ReportStatus": "finished", "ReportUrl": format!("https://avds-report.example.com/{A}/{}.pdf", 1000 + k),
        "RunPercent": 100.0, "Targets": ["1.2.3.4", "www.example.com"],
    })
}

#[tokio::test]
async fn lists_every_session_newest_first_with_page_counters() {
    let emu = emu().await;
    let doc = rpc_ok(&emu, AVDS, &[]).await;
    assert_eq!(task_ids(&doc), strings(&ALL));
    let mut top = doc.clone();
    top.as_object_mut().unwrap().remove("List");
    assert_eq!(top, json!({"RequestId": REQUEST_ID, "TotalCount": 9, "PageSize": 20, "PageCount": 1, "CurrentPage": 1, "Count": 9}));
}

#[tokio::test]
async fn sessions_of_a_periodic_scan_carry_every_field() {
    let emu = emu().await;
    let doc = rpc_ok(&emu, AVDS, &[("ScanId", A)]).await;
    assert_eq!(
        doc,
        json!({
            "RequestId": REQUEST_ID, "TotalCount": 4, "PageSize": 20, "PageCount": 1, "CurrentPage": 1, "Count": 4,
            "List": [
                {"TaskId": 1003, "ScanId": A, "JobStatus": "waiting", "CreatedAt": T0, "Name": "hourly web perimeter",
                 "TriggerType": "interval", "Period": "hour", "Interval": 1, "ReportStatus": "inexistent", "RunPercent": 0.0,
                 "Targets": ["1.2.3.4", "www.example.com"]},
                hourly_finished(2), hourly_finished(1), hourly_finished(0),
            ]
        })
    );
}

#[tokio::test]
async fn one_off_running_aborted_and_failed_report_sessions() {
    let emu = emu().await;
    let list = |doc: Value| doc["List"].clone();
    assert_eq!(
        list(rpc_ok(&emu, AVDS, &[("ScanId", B)]).await),
        json!([{"TaskId": 2000, "ScanId": B, "JobStatus": "running", "CreatedAt": T0 - 10 * MINUTE, "Name": "one-off api audit",
                "TriggerType": "date", "ReportStatus": "inexistent", "RunPercent": 33.33, "Targets": ["api.example.com"]}])
    );
    assert_eq!(
        list(rpc_ok(&emu, AVDS, &[("ScanId", C)]).await),
        json!([{"TaskId": 3000, "ScanId": C, "JobStatus": "aborted", "CreatedAt": T0 - 2 * HOUR, "FinishedAt": T0 - 2 * HOUR + 5 * MINUTE,
                "Name": "aborted legacy scan", "TriggerType": "date", "ReportStatus": "inexistent", "RunPercent": 100.0,
                "Targets": ["legacy.example.com"]}])
    );
    assert_eq!(
        list(rpc_ok(&emu, AVDS, &[("ScanId", E)]).await),
        json!([
            {"TaskId": 5001, "ScanId": E, "JobStatus": "finished", "CreatedAt": T0 - 4 * DAY, "FinishedAt": T0 - 4 * DAY + HOUR,
             "Name": "daily capped", "TriggerType": "interval", "Period": "day", "Interval": 1, "ReportStatus": "failed",
             "RunPercent": 100.0, "Targets": ["capped.example.org"]},
            {"TaskId": 5000, "ScanId": E, "JobStatus": "finished", "CreatedAt": T0 - 5 * DAY, "FinishedAt": T0 - 5 * DAY + HOUR,
             "Name": "daily capped", "TriggerType": "interval", "Period": "day", "Interval": 1, "ReportStatus": "failed",
             "RunPercent": 100.0, "Targets": ["capped.example.org"]},
        ]),
        "capped at 2 sessions although 6 days have passed"
    );
}

#[tokio::test]
async fn current_page_and_page_size() {
    let emu = emu().await;
    let page = |n: &'static str| {
        let emu = &emu;
        async move { rpc_ok(emu, AVDS, &[("PageSize", "4"), ("CurrentPage", n)]).await }
    };
    let (p1, p2, p3, p4) = (page("1").await, page("2").await, page("3").await, page("4").await);
    assert_eq!(task_ids(&p1), strings(&ALL[0..4]));
    assert_eq!(task_ids(&p2), strings(&ALL[4..8]));
    assert_eq!(task_ids(&p3), strings(&ALL[8..9]));
    assert_eq!(task_ids(&p4), Vec::<String>::new());
    for (doc, n, count) in [(&p1, 1, 4), (&p2, 2, 4), (&p3, 3, 1), (&p4, 4, 0)] {
        assert_eq!((doc["CurrentPage"].clone(), doc["PageSize"].clone(), doc["Count"].clone()), (json!(n), json!(4), json!(count)));
        assert_eq!((doc["TotalCount"].clone(), doc["PageCount"].clone()), (json!(9), json!(3)));
    }
    assert_eq!(task_ids(&rpc_ok(&emu, AVDS, &[("PageSize", "100")]).await), strings(&ALL));
    assert_eq!(task_ids(&rpc_ok(&emu, AVDS, &[("PageSize", "1"), ("CurrentPage", "9")]).await), strings(&["5000"]));
}

#[tokio::test]
async fn bad_paging_values_are_invalid() {
    let emu = emu().await;
    for (name, value) in [("PageSize", "0"), ("PageSize", "101"), ("PageSize", "many"), ("CurrentPage", "0"), ("CurrentPage", "-1"), ("CurrentPage", "1.5")] {
        avds_error(&rpc(&emu, AVDS, &[(name, value)]).await, "InvalidParameter", &invalid_parameter(name));
    }
}

#[tokio::test]
async fn scan_id_selects_one_scan() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("ScanId", D)]).await, strings(&["4000"]));
    let none = rpc_ok(&emu, AVDS, &[("ScanId", "00000000-0000-0000-0000-000000000000")]).await;
    assert_eq!((none["TotalCount"].clone(), none["PageCount"].clone(), none["Count"].clone(), none["List"].clone()), (json!(0), json!(0), json!(0), json!([])));
}

#[tokio::test]
async fn search_matches_names_and_targets_with_wildcards() {
    let emu = emu().await;
    // `*` patterns must match the whole name or target.
    assert_eq!(ids_for(&emu, &[("Search", "1.2.*.*")]).await, strings(&["1003", "1002", "1001", "1000"]));
    assert_eq!(ids_for(&emu, &[("Search", "*.example.com")]).await, strings(&["1003", "2000", "1002", "3000", "1001", "1000"]));
    assert_eq!(ids_for(&emu, &[("Search", "*example.org")]).await, strings(&["5001", "5000"]));
    assert_eq!(ids_for(&emu, &[("Search", "10.*")]).await, strings(&["4000"]));
    assert_eq!(ids_for(&emu, &[("Search", "*audit")]).await, strings(&["2000"]));
    assert_eq!(ids_for(&emu, &[("Search", "one*audit")]).await, strings(&["2000"]));
    assert_eq!(ids_for(&emu, &[("Search", "1.3.*.*")]).await, Vec::<String>::new());
    assert_eq!(ids_for(&emu, &[("Search", "audit*")]).await, Vec::<String>::new(), "anchored at the start");
    // Without `*`, the text is found anywhere, in any case.
    assert_eq!(ids_for(&emu, &[("Search", "LEGACY")]).await, strings(&["3000"]));
    assert_eq!(ids_for(&emu, &[("Search", "office")]).await, strings(&["4000"]));
    assert_eq!(ids_for(&emu, &[("Search", "*")]).await, strings(&ALL));
}

#[tokio::test]
async fn source_ip_is_accepted_and_ignored() {
    let emu = emu().await;
    let plain = rpc_ok(&emu, AVDS, &[("PageSize", "5")]).await;
    for ip in ["1.2.3.4", "111", "not an ip"] {
        assert_eq!(rpc_ok(&emu, AVDS, &[("PageSize", "5"), ("SourceIp", ip)]).await, plain, "SourceIp={ip}");
    }
}

#[tokio::test]
async fn status_list_filters_by_job_status() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("StatusList.1", "finished")]).await, strings(&["1002", "1001", "1000", "5001", "5000"]));
    assert_eq!(ids_for(&emu, &[("StatusList.1", "waiting"), ("StatusList.2", "running")]).await, strings(&["1003", "4000", "2000"]));
    assert_eq!(ids_for(&emu, &[("StatusList.1", "aborted")]).await, strings(&["3000"]));
    // The doc's example writes the value in quotes.
    assert_eq!(ids_for(&emu, &[("StatusList.1", "\"aborted\"")]).await, strings(&["3000"]));
    assert_eq!(ids_for(&emu, &[("StatusList.2", "running"), ("StatusList.1", "aborted"), ("ScanId", C)]).await, strings(&["3000"]));
    assert_eq!(ids_for(&emu, &[("StatusList.1", "running"), ("Search", "*.example.com")]).await, strings(&["2000"]));
    let paged = rpc_ok(&emu, AVDS, &[("StatusList.1", "finished"), ("PageSize", "2"), ("CurrentPage", "2")]).await;
    assert_eq!((task_ids(&paged), paged["TotalCount"].clone(), paged["PageCount"].clone()), (strings(&["1000", "5001"]), json!(5), json!(3)));
    for bad in ["done", "Finished", "paused"] {
        avds_error(&rpc(&emu, AVDS, &[("StatusList.1", bad)]).await, "InvalidParameter", &invalid_parameter("StatusList"));
    }
}

#[tokio::test]
async fn a_tenant_scan_is_seen_only_by_its_key() {
    let emu = emu().await;
    assert_eq!(ids_for(&emu, &[("Search", "alice*")]).await, Vec::<String>::new());
    assert_eq!(ids_for(&emu, &[("Search", "alice*"), ("AccessKeyId", "LTAIalice")]).await, strings(&["6000"]));
    assert_eq!(rpc_ok(&emu, AVDS, &[("AccessKeyId", "LTAIalice")]).await["TotalCount"], 10);
}

#[tokio::test]
async fn docs_dialect_wraps_and_recases() {
    let emu = emu().await;
    let reply = rpc_dialect(&emu, AVDS, &[("ScanId", A), ("PageSize", "2")], Some("docs")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({
            "requestId": REQUEST_ID,
            "data": {"PageNumber": 1, "TotalCount": 4, "PageSize": 2, "List": [
                {"reportUrl": "", "interval": 1, "name": "hourly web perimeter", "reportStatus": "inexistent", "JobStatus": "waiting",
                 "TaskId": 1003, "period": "hour", "triggerType": "interval", "targets": ["1.2.3.4", "www.example.com"],
                 "FinishedAt": 0, "CreatedAt": T0, "ScanId": A},
                {"reportUrl": format!("https://avds-report.example.com/{A}/1002.pdf"), "interval": 1, "name": "hourly web perimeter",
                 "reportStatus": "finished", "JobStatus": "finished", "TaskId": 1002, "period": "hour", "triggerType": "interval",
                 "targets": ["1.2.3.4", "www.example.com"], "FinishedAt": T0 - HOUR + 42 * MINUTE, "CreatedAt": T0 - HOUR, "ScanId": A},
            ]},
            "code": "200",
            "success": true,
        })
    );
    let once = rpc_dialect(&emu, AVDS, &[("ScanId", B)], Some("docs")).await.json();
    assert_eq!((once["data"]["List"][0]["period"].clone(), once["data"]["List"][0]["interval"].clone()), (json!(""), json!(0)));
}

#[tokio::test]
async fn no_region_is_needed() {
    let emu = emu().await;
    assert_eq!(rpc(&emu, AVDS, &[]).await.status, 200);
    assert_eq!(ids_for(&emu, &[("RegionId", "cn-hangzhou"), ("ScanId", B)]).await, strings(&["2000"]));
}
