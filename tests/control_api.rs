//! The control API over real HTTP: health, clock, reset, run-time scenarios and tasks, the
//! request journal, fault rules and tenants. A bad request must never change the world.

mod common;

use common::*;
use serde_json::{json, Value};

/// A control call with the content type it must declare: TOML for a scenario, JSON otherwise.
async fn control(emu: &Emulator, method: &str, target: &str, body: &str) -> Reply {
    let content_type = if method == "POST" && target.starts_with("/_emu/scenarios") { "application/toml" } else { "application/json" };
    send(emu.addr, method, target, &[("Content-Type", content_type)], body.as_bytes()).await
}

async fn control_ok(emu: &Emulator, method: &str, target: &str, body: &str) -> Value {
    let reply = control(emu, method, target, body).await;
    assert_eq!(reply.status, 200, "{method} {target} answered {}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    reply.json()
}

/// A 4xx with `{"error": ...}` containing `needle`.
async fn control_refused(emu: &Emulator, method: &str, target: &str, body: &str, status: u16, needle: &str) -> Value {
    let reply = control(emu, method, target, body).await;
    assert_eq!(reply.status, status, "{method} {target} answered {}", reply.text());
    let doc = reply.json();
    let message = doc["error"].as_str().unwrap_or_else(|| panic!("no error message in {doc}"));
    assert!(message.contains(needle), "{message:?} should mention {needle:?}");
    doc
}

async fn demo() -> Emulator {
    start_sources(Config::default(), vec![Source::demo()]).await
}

async fn ecs_ids(emu: &Emulator, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![("RegionId", "cn-hangzhou"), ("PageSize", "100")];
    params.extend_from_slice(extra);
    let doc = rpc_ok(emu, ECS, &params).await;
    pluck(&doc["TaskSet"]["Task"], "TaskId")
}

#[tokio::test]
async fn health_reports_ready_with_version_clock_and_task_count() {
    let emu = demo().await;
    let doc = control_ok(&emu, "GET", "/_emu/health", "").await;
    assert_eq!(doc["status"], "ready");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["clock"], "2026-11-22T08:00:00Z");
    assert_eq!(doc["tasks"], 23);
    assert_eq!(doc["auth"], false);
    control_refused(&emu, "POST", "/_emu/health", "", 405, "GET").await;
    control_refused(&emu, "GET", "/_emu/nothing", "", 404, "/_emu/nothing").await;
}

/// The catalogue the dashboard reads: every operation once, each with what a caller needs to
/// call it, and each listing a product `GET /_emu/tasks` knows.
#[tokio::test]
async fn operations_lists_the_catalogue_with_its_wire_and_products() {
    let emu = demo().await;
    let doc = control_ok(&emu, "GET", "/_emu/operations", "").await;
    let operations = doc["operations"].as_array().expect("an operations array");
    let names: Vec<&str> = operations.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(names, ["DescribeTasks", "DescribeScanTaskProgress", "DescribeScanSessions", "ListImageScanTask", "ListTasks"]);
    let ecs = &operations[0];
    assert_eq!((ecs["cloud"].as_str(), ecs["product"].as_str(), ecs["xml_root"].as_str()), (Some("alibaba"), Some("ecs"), Some("DescribeTasksResponse")));
    assert_eq!(ecs["wire"], json!({ "style": "rpc", "version": "2014-05-26" }));
    assert_eq!(operations[4]["wire"], json!({ "style": "rest", "method": "POST", "path": "/v5/{project_id}/common/tasks/batch-query" }));
    assert_eq!(operations[4]["paging"]["max_limit"], json!(200));
    for op in operations {
        let product = op["tasks"].as_str().expect("a product");
        control_ok(&emu, "GET", &format!("/_emu/tasks?product={product}&limit=1"), "").await;
    }
    assert_eq!(doc["products"], json!(["ecs", "sas", "avds", "hss_image", "hss_task"]));
    control_refused(&emu, "POST", "/_emu/operations", "{}", 405, "GET").await;
}

#[tokio::test]
async fn clock_advances_sets_rates_and_pauses_and_refuses_nonsense() {
    let emu = demo().await;
    let doc = control_ok(&emu, "GET", "/_emu/clock", "").await;
    assert_eq!((doc["now"].as_str(), doc["rate"].as_f64(), doc["paused"].as_bool()), (Some("2026-11-22T08:00:00Z"), Some(0.0), Some(false)));
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"advance":"1h30m"}"#).await["now"], "2026-11-22T09:30:00Z");
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"advance":"-30m"}"#).await["now"], "2026-11-22T09:00:00Z");
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"set":"2026-12-01T00:00:00Z"}"#).await["now"], "2026-12-01T00:00:00Z");
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"rate":60}"#).await["rate"], 60.0);
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"pause":true}"#).await["paused"], true);
    let paused_at = emu.state.clock.now();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(emu.state.clock.now(), paused_at, "a paused clock stays");
    for (body, needle) in [
        (r#"{"advance":"soon"}"#, "bad duration"),
        (r#"{"set":"yesterday"}"#, "RFC 3339"),
        (r#"{"rate":-2}"#, "rate"),
        (r#"{"rate":60,"pause":false}"#, "exactly one"),
        (r#"{"warp":1}"#, "unknown field"),
        ("[1", "not JSON"),
    ] {
        control_refused(&emu, "POST", "/_emu/clock", body, 400, needle).await;
    }
    assert_eq!(emu.state.clock.now(), paused_at, "refused changes leave the clock alone");
}

#[tokio::test]
async fn reset_restores_clock_read_counters_and_drops_runtime_tasks() {
    let emu = demo().await;
    let added = control_ok(&emu, "POST", "/_emu/tasks", r#"{"product":"sas","id":77,"lifecycle":[{"status":"Processing","reads":1},{"status":"Success"}]}"#).await;
    assert_eq!((added["added"].as_u64(), added["tasks"].as_u64()), (Some(1), Some(24)));
    let progress = |doc: Value| doc["ScanTaskProgress"].as_str().map(str::to_string);
    assert_eq!(progress(rpc_ok(&emu, SAS, &[("TaskId", "77")]).await).as_deref(), Some("Processing"));
    assert_eq!(progress(rpc_ok(&emu, SAS, &[("TaskId", "77")]).await).as_deref(), Some("Success"));
    control_ok(&emu, "POST", "/_emu/clock", r#"{"advance":"2h"}"#).await;
    let doc = control_ok(&emu, "POST", "/_emu/reset", "").await;
    assert_eq!((doc["tasks"].as_u64(), doc["clock"]["now"].as_str()), (Some(23), Some("2026-11-22T08:00:00Z")));
    let gone = rpc(&emu, SAS, &[("TaskId", "77")]).await;
    assert_eq!(gone.status, 400, "a task added at run time is gone after a reset: {}", gone.text());
}

#[tokio::test]
async fn scenarios_load_at_run_time_atomically_with_positions_in_errors() {
    let emu = demo().await;
    let listed = control_ok(&emu, "GET", "/_emu/scenarios", "").await;
    assert_eq!(listed["scenarios"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["scenarios"][0]["name"], "scenarios/demo.toml");

    let broken = "[[ecs.tasks]]\nid = \"t-late\"\nlifecycle = [{ status = \"Finishd\" }]\n";
    let doc = control_refused(&emu, "POST", "/_emu/scenarios?name=broken.toml", broken, 400, "broken.toml:3:").await;
    assert_eq!(doc["errors"][0]["line"], 3);
    assert!(doc["errors"][0]["message"].as_str().unwrap().contains("unknown status \"Finishd\""));
    let duplicate = "[[ecs.tasks]]\nid = \"t-bp1demo00000finished\"\n";
    control_refused(&emu, "POST", "/_emu/scenarios?name=dup.toml", duplicate, 400, "already in the running world").await;
    assert_eq!(control_ok(&emu, "GET", "/_emu/health", "").await["tasks"], 23, "a refused load changes nothing");

    control_ok(&emu, "POST", "/_emu/clock", r#"{"advance":"10m"}"#).await;
    let good = "[[ecs.tasks]]\nid = \"t-late\"\ncreated = \"+0s\"\nlifecycle = [{ status = \"Processing\", for = \"1m\" }, { status = \"Finished\" }]\n";
    let loaded = control_ok(&emu, "POST", "/_emu/scenarios?name=late.toml", good).await;
    assert_eq!((loaded["tasks"].as_u64(), loaded["tasks_before"].as_u64()), (Some(24), Some(23)));
    let doc = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", "t-late")]).await;
    assert_eq!(doc["TaskSet"]["Task"][0]["CreationTime"], "2026-11-22T08:10Z", "relative instants count from the virtual now of the load");
    assert_eq!(control_ok(&emu, "GET", "/_emu/scenarios", "").await["scenarios"].as_array().map(Vec::len), Some(2));
    // Loaded scenarios survive a reset and count from the same instant again: back at 08:00 the
    // task created at 08:10 is not there yet; ten minutes later it is.
    control_ok(&emu, "POST", "/_emu/reset", "").await;
    assert!(ecs_ids(&emu, &[("TaskIds", "t-late")]).await.is_empty());
    control_ok(&emu, "POST", "/_emu/clock", r#"{"advance":"10m"}"#).await;
    assert_eq!(ecs_ids(&emu, &[("TaskIds", "t-late")]).await, ["t-late"]);

    // replace=true: only the new world, with its own clock.
    let fresh = "[clock]\nstart = \"2030-01-01T00:00:00Z\"\n[[hss.tasks]]\ntask_id = \"only\"\n";
    let replaced = control_ok(&emu, "POST", "/_emu/scenarios?replace=true&name=fresh.toml", fresh).await;
    assert_eq!((replaced["tasks"].as_u64(), replaced["clock"]["now"].as_str()), (Some(1), Some("2030-01-01T00:00:00Z")));
    assert!(ecs_ids(&emu, &[]).await.is_empty());
}

#[tokio::test]
async fn tasks_list_filter_add_and_delete() {
    let emu = demo().await;
    let all = control_ok(&emu, "GET", "/_emu/tasks", "").await;
    // The demo: 6 ECS, 4 SAS, 7 AVDS sessions, 6 HSS image tasks, 3 HSS tasks.
    let count = |product: &str| all["tasks"].as_array().unwrap().iter().filter(|t| t["product"] == product).count();
    assert_eq!((count("ecs"), count("sas"), count("hss_image"), count("hss_task")), (6, 4, 6, 3));
    assert_eq!(count("avds"), 7, "4 sessions of the hourly scan and 3 one-off sessions");
    assert_eq!(all["total"].as_u64(), Some(26));

    let finished = control_ok(&emu, "GET", "/_emu/tasks?product=ecs&status=Finished", "").await;
    assert_eq!(pluck(&finished["tasks"], "id"), ["t-bp1demo00000finished"]);
    let t = &finished["tasks"][0];
    assert_eq!((t["ended"].as_str(), t["progress"].as_f64(), t["terminal"].as_bool()), (Some("2026-11-22T06:32:00Z"), Some(1.0), Some(true)));
    let paged = control_ok(&emu, "GET", "/_emu/tasks?product=ecs&limit=2&offset=1", "").await;
    assert_eq!((paged["total"].as_u64(), paged["tasks"].as_array().map(Vec::len)), (Some(6), Some(2)));
    control_refused(&emu, "GET", "/_emu/tasks?product=gce", "", 400, "unknown product \"gce\": expected one of ecs, sas").await;
    control_refused(&emu, "GET", "/_emu/tasks?limit=lots", "", 400, "whole number").await;

    control_refused(&emu, "POST", "/_emu/tasks", r#"{"product":"ecs","id":"t-x","lifecycle":[{"status":"Nope"}]}"#, 400, "unknown status").await;
    control_refused(&emu, "POST", "/_emu/tasks", r#"{"id":"t-x"}"#, 400, "product must be one of").await;
    let added = control_ok(&emu, "POST", "/_emu/tasks", r#"{"product":"ecs","id":"t-x","action":"ExportImage","lifecycle":[{"status":"Failed"}]}"#).await;
    assert_eq!(added["added"], 1);
    assert_eq!(ecs_ids(&emu, &[("TaskStatus", "Failed")]).await, ["t-x", "t-bp1demo0000000failed"]);
    assert_eq!(control_ok(&emu, "DELETE", "/_emu/tasks/t-x", "").await["deleted"], "t-x");
    control_refused(&emu, "DELETE", "/_emu/tasks/t-x", "", 404, "no task").await;
    assert_eq!(ecs_ids(&emu, &[("TaskStatus", "Failed")]).await, ["t-bp1demo0000000failed"]);
    // Looking through the control API is not a read: read-bounded phases stay put.
    control_ok(&emu, "POST", "/_emu/tasks", r#"{"product":"hss_task","task_id":"polled","lifecycle":[{"status":"ready","reads":1},{"status":"finished"}]}"#).await;
    for _ in 0..3 {
        let seen = control_ok(&emu, "GET", "/_emu/tasks?product=hss_task", "").await;
        let polled = seen["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "polled").cloned().unwrap();
        assert_eq!(polled["status"], "ready");
    }
}

#[tokio::test]
async fn journal_records_every_call_and_filters() {
    let emu = demo().await;
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    rpc(&emu, ECS, &[("RegionId", "cn-nowhere"), ("AccessKeyId", "LTAIjournal")]).await;
    hss_get(&emu, PROJECT, &[("type", "image_scan")]).await;
    let doc = control_ok(&emu, "GET", "/_emu/requests", "").await;
    assert_eq!(doc["count"], 3);
    let entries = doc["requests"].as_array().unwrap();
    assert_eq!(pluck(&doc["requests"], "operation"), ["DescribeTasks", "DescribeTasks", "ListImageScanTask"]);
    let bad = &entries[1];
    assert_eq!((bad["status"].as_u64(), bad["error_code"].as_str(), bad["tenant"].as_str()), (Some(400), Some("InvalidRegionId.NotFound"), Some("LTAIjournal")));
    assert_eq!(bad["parameters"]["RegionId"], "cn-nowhere");
    assert_eq!((bad["cloud"].as_str(), bad["product"].as_str(), bad["virtual_time"].as_str()), (Some("alibaba"), Some("ecs"), Some("2026-11-22T08:00:00Z")));
    assert!(bad["latency_us"].as_u64().is_some() && bad["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(entries[2]["tenant"], PROJECT);
    assert_eq!(entries[2]["parameters"]["type"], "image_scan");

    assert_eq!(control_ok(&emu, "GET", "/_emu/requests?status=400", "").await["count"], 1);
    assert_eq!(control_ok(&emu, "GET", "/_emu/requests?error_code=InvalidRegionId.NotFound", "").await["count"], 1);
    assert_eq!(control_ok(&emu, "GET", "/_emu/requests?operation=ListImageScanTask", "").await["count"], 1);
    assert_eq!(control_ok(&emu, "GET", "/_emu/requests?tenant=LTAIjournal", "").await["count"], 1);
    let first_seq = entries[0]["seq"].as_u64().unwrap();
    assert_eq!(control_ok(&emu, "GET", &format!("/_emu/requests?after={first_seq}"), "").await["count"], 2);
    assert_eq!(control_ok(&emu, "GET", "/_emu/requests?since=2999-01-01T00:00:00Z", "").await["count"], 0);
    control_refused(&emu, "GET", "/_emu/requests?since=later", "", 400, "RFC 3339").await;
    assert_eq!(control_ok(&emu, "DELETE", "/_emu/requests?tenant=LTAIjournal", "").await["cleared"], 1);
    assert_eq!(control_ok(&emu, "DELETE", "/_emu/requests", "").await["cleared"], 2);
    assert_eq!(control_ok(&emu, "GET", "/_emu/requests", "").await["count"], 0);
}

#[tokio::test]
async fn the_journal_is_a_bounded_ring() {
    let config = Config { journal_size: 3, ..Config::default() };
    let emu = start_sources(config, vec![Source::demo()]).await;
    for _ in 0..5 {
        rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    }
    let doc = control_ok(&emu, "GET", "/_emu/requests", "").await;
    let seqs: Vec<u64> = doc["requests"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4, 5]);
}

#[tokio::test]
async fn fault_rules_fail_slow_down_and_throttle_in_each_clouds_envelope() {
    let emu = demo().await;
    let rule = json!({"operation": "DescribeTasks", "error": {"code": "ServiceUnavailable"}, "times": 2}).to_string();
    let added = control_ok(&emu, "POST", "/_emu/faults", &rule).await;
    assert_eq!(added["ids"], json!([1]));
    for _ in 0..2 {
        let reply = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
        let doc = reply.json();
        assert_eq!((reply.status, doc["Code"].as_str()), (503, Some("ServiceUnavailable")));
        assert_eq!(doc["Message"], "The request has failed due to a temporary failure of the server.");
        assert_eq!(doc["HostId"], "ecs.aliyuncs.com");
    }
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(control_ok(&emu, "GET", "/_emu/faults", "").await["faults"], json!([]), "a rule for 2 calls is gone after 2");

    // Huawei: an injected HSS error and the gateway's throttling.
    control_ok(&emu, "POST", "/_emu/faults", r#"[{"operation":"ListTasks","error":{"code":"HSS.1001","status":500,"message":"scan service down"},"times":1},{"operation":"ListImageScanTask","throttle":1}]"#).await;
    let reply = hss_post(&emu, PROJECT, &[], "{}").await;
    assert_hss_error(&reply, 500, "HSS.1001", "scan service down");
    assert!(hss_get(&emu, PROJECT, &[("type", "image_scan")]).await.status == 200);
    let throttled = hss_get(&emu, PROJECT, &[("type", "image_scan")]).await;
    assert_eq!(throttled.status, 429);
    let doc = throttled.json();
    assert_eq!((doc["error_code"].as_str(), doc["error_msg"].as_str()), (Some("APIGW.0308"), Some("The throttling threshold has been reached.")));
    assert_eq!(doc["request_id"].as_str(), throttled.header("x-request-id"), "gateway errors carry the request id in the body too");

    // Alibaba throttling carries x-acs-retry-after (Tea raises ThrottlingException on it).
    control_ok(&emu, "DELETE", "/_emu/faults", "").await;
    control_ok(&emu, "POST", "/_emu/faults", r#"{"operation":"DescribeScanSessions","throttle":1}"#).await;
    assert_eq!(rpc(&emu, AVDS, &[]).await.status, 200);
    let throttled = rpc(&emu, AVDS, &[]).await;
    assert_eq!((throttled.status, throttled.json()["Code"].as_str(), throttled.header("x-acs-retry-after")), (400, Some("Throttling"), Some("1000")));
    assert_eq!(throttled.json()["HostId"], "avds.aliyuncs.com");

    // Latency: the answer is right, just late.
    control_ok(&emu, "DELETE", "/_emu/faults", "").await;
    control_ok(&emu, "POST", "/_emu/faults", r#"{"operation":"DescribeScanTaskProgress","latency":"150ms..200ms"}"#).await;
    let started = std::time::Instant::now();
    assert_eq!(rpc_ok(&emu, SAS, &[("TaskId", "282832")]).await["ScanTaskProgress"], "Success");
    assert!(started.elapsed() >= std::time::Duration::from_millis(150), "took {:?}", started.elapsed());
    let journalled = control_ok(&emu, "GET", "/_emu/requests?operation=DescribeScanTaskProgress", "").await;
    assert!(journalled["requests"][0]["latency_us"].as_u64().unwrap() >= 150_000);
}

#[tokio::test]
async fn fault_rules_are_checked_before_any_is_added() {
    let emu = demo().await;
    for (body, needle) in [
        (r#"{"operation":"DescribeTasks"}"#, "exactly one of error, latency, throttle"),
        (r#"{"operation":"Nope","throttle":1}"#, "unknown operation"),
        (r#"{"latency":"2m"}"#, "within 0..60s"),
        (r#"{"throttle":5,"probability":2}"#, "probability"),
        (r#"{"error":{"code":"X","status":200}}"#, "400 to 599"),
        (r#"{"throttle":1,"colour":"red"}"#, "unknown field"),
        (r#"[{"throttle":1},{"throttle":0}]"#, "rule 2"),
        ("[]", "no fault rule"),
    ] {
        control_refused(&emu, "POST", "/_emu/faults", body, 400, needle).await;
    }
    assert_eq!(control_ok(&emu, "GET", "/_emu/faults", "").await["faults"], json!([]));
    let ids = control_ok(&emu, "POST", "/_emu/faults", r#"[{"throttle":100},{"latency":"1ms"}]"#).await["ids"].clone();
    assert_eq!(ids, json!([1, 2]));
    assert_eq!(control_ok(&emu, "DELETE", "/_emu/faults/1", "").await["deleted"], 1);
    control_refused(&emu, "DELETE", "/_emu/faults/1", "", 404, "no fault rule").await;
}

#[tokio::test]
async fn probability_rules_follow_the_seed() {
    let outcomes = |_: ()| async {
        let emu = start_sources(Config { seed: Some(42), ..Config::default() }, vec![Source::demo()]).await;
        control_ok(&emu, "POST", "/_emu/faults", r#"{"operation":"DescribeTasks","error":{"code":"InternalError"},"probability":0.5}"#).await;
        let mut seen = Vec::new();
        for _ in 0..20 {
            seen.push(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status);
        }
        seen
    };
    let first = outcomes(()).await;
    assert_eq!(first, outcomes(()).await, "the same seed fails the same calls");
    assert!(first.contains(&500) && first.contains(&200), "about half fail: {first:?}");
}

#[tokio::test]
async fn tenants_never_see_each_others_tasks_journals_or_faults() {
    let emu = demo().await;
    let mine = "[[ecs.tasks]]\nid = \"t-mine\"\n[[hss.tasks]]\ntask_id = \"hw-mine\"\n";
    control_ok(&emu, "POST", "/_emu/scenarios?tenant=LTAIalpha&name=alpha.toml", mine).await;
    let theirs = "[[ecs.tasks]]\nid = \"t-theirs\"\n[[hss.tasks]]\ntask_id = \"hw-theirs\"\n";
    control_ok(&emu, "POST", "/_emu/scenarios?tenant=LTAIbeta&name=beta.toml", theirs).await;
    control_ok(&emu, "POST", "/_emu/faults", r#"{"operation":"DescribeTasks","tenant":"LTAIbeta","error":{"code":"InternalError"}}"#).await;

    let alpha = ecs_ids(&emu, &[("AccessKeyId", "LTAIalpha")]).await;
    assert!(alpha.contains(&"t-mine".to_string()) && !alpha.contains(&"t-theirs".to_string()));
    assert!(alpha.contains(&"t-bp1demo00000finished".to_string()), "shared tasks are seen by everyone");
    let anonymous = ecs_ids(&emu, &[]).await;
    assert!(!anonymous.contains(&"t-mine".to_string()) && !anonymous.contains(&"t-theirs".to_string()));
    let beta = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("AccessKeyId", "LTAIbeta")]).await;
    assert_eq!(beta.status, 500, "beta's fault rule hits beta only");

    // Huawei tenants are projects: a tenant load puts the tasks in that project.
    let alpha_hss = hss_ok(&hss_post(&emu, "LTAIalpha", &[], "{}").await);
    assert_eq!(pluck(&alpha_hss["data_list"], "task_id"), ["hw-mine"]);
    assert_eq!(hss_ok(&hss_post(&emu, PROJECT, &[], "{}").await)["total_num"], 3);

    let journal = control_ok(&emu, "GET", "/_emu/requests?tenant=LTAIalpha", "").await;
    assert!(journal["requests"].as_array().unwrap().iter().all(|e| e["tenant"] == "LTAIalpha"));
    assert_eq!(journal["count"], 2);
    assert_eq!(control_ok(&emu, "GET", "/_emu/faults?tenant=LTAIalpha", "").await["faults"], json!([]));
    assert_eq!(control_ok(&emu, "GET", "/_emu/faults?tenant=LTAIbeta", "").await["faults"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn scenario_declared_faults_apply_from_the_start_and_after_reset() {
    let scenario = "[[ecs.tasks]]\nid = \"t-1\"\n\n[[faults]]\noperation = \"DescribeTasks\"\nerror = { code = \"Throttling\" }\ntimes = 1\n";
    let emu = start(scenario).await;
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.json()["Code"], "Throttling");
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    control_ok(&emu, "POST", "/_emu/reset", "").await;
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.json()["Code"], "Throttling", "a reset restores the scenario's rules");
}
