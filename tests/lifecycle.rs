//! Lifecycles seen over HTTP: the virtual clock moving tasks through their phases (and back),
//! phases that end after N reads with the clock frozen, periodic AVDS sessions and their reports,
//! and the derived progress fields (AVDS RunPercent, HSS counters, failed images, remain_min,
//! estimated_time) growing and counting down.

mod common;

use common::*;
use serde_json::{json, Value};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn scenario(body: &str) -> String {
    format!("name = \"lifecycle\"\n\n[clock]\nstart = \"2026-01-01T00:00:00Z\"\n\n{body}")
}

async fn ecs_task(emu: &Emulator, id: &str) -> Value {
    let doc = rpc_ok(emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", id)]).await;
    assert_eq!(doc["TotalCount"], 1, "{doc}");
    doc["TaskSet"]["Task"][0].clone()
}

fn set_at(emu: &Emulator, offset: i64) {
    emu.state.clock.set(T0 + offset);
}

#[tokio::test]
async fn the_clock_moves_an_ecs_task_from_waiting_to_processing_to_finished() {
    let emu = start(&scenario(
        r#"
[[ecs.tasks]]
id = "t-1"
action = "ImportImage"
lifecycle = [{ status = "Waiting", for = "30s" }, { status = "Processing", for = "10m" }, { status = "Finished" }]
"#,
    ))
    .await;
    let waiting = json!({"CreationTime": "2026-01-01T00:00Z", "SupportCancel": "true", "TaskAction": "ImportImage", "TaskStatus": "Waiting", "TaskId": "t-1"});
    assert_eq!(ecs_task(&emu, "t-1").await, waiting);
    emu.state.clock.advance(29_999);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Waiting");
    emu.state.clock.advance(1);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Processing");
    set_at(&emu, 10 * MINUTE + 29_999);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Processing");
    set_at(&emu, 10 * MINUTE + 30_000);
    assert_eq!(
        ecs_task(&emu, "t-1").await,
        json!({"CreationTime": "2026-01-01T00:00Z", "FinishedTime": "2026-01-01T00:10Z", "SupportCancel": "false", "TaskAction": "ImportImage", "TaskStatus": "Finished", "TaskId": "t-1"})
    );
    // Days later nothing has changed; back in time, the earlier state again.
    emu.state.clock.advance(30 * 24 * HOUR);
    assert_eq!(ecs_task(&emu, "t-1").await["FinishedTime"], "2026-01-01T00:10Z");
    set_at(&emu, 0);
    assert_eq!(ecs_task(&emu, "t-1").await, waiting);
}

#[tokio::test]
async fn the_control_api_moves_the_clock_and_reset_goes_back_to_the_start() {
    let emu = start(&scenario(
        r#"
[[ecs.tasks]]
id = "t-1"
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-reads"
lifecycle = [{ status = "Waiting", reads = 1 }, { status = "Processing", for = "1h" }, { status = "Finished" }]
"#,
    ))
    .await;
    let post = |body: &'static str, path: &'static str| {
        let emu = &emu;
        async move { send(emu.addr, "POST", path, &[("Content-Type", "application/json")], body.as_bytes()).await }
    };
    let moved = post(r#"{"advance":"10m"}"#, "/_emu/clock").await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["now_ms"], T0 + 10 * MINUTE);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Finished");
    assert_eq!(post(r#"{"set":"2026-01-01T00:05:00Z"}"#, "/_emu/clock").await.status, 200);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Processing");
    assert_eq!(ecs_task(&emu, "t-reads").await["TaskStatus"], "Waiting");
    assert_eq!(ecs_task(&emu, "t-reads").await["TaskStatus"], "Processing");
    assert_eq!(post("", "/_emu/reset").await.status, 200);
    assert_eq!(emu.state.clock.now(), T0);
    assert_eq!(ecs_task(&emu, "t-1").await["TaskStatus"], "Processing");
    assert_eq!(ecs_task(&emu, "t-reads").await["TaskStatus"], "Waiting", "reset forgets the reads");
}

#[tokio::test]
async fn paused_tasks_resume() {
    let emu = start(&scenario(
        r#"
[[ecs.tasks]]
id = "t-p"
action = "RedeployInstance"
lifecycle = [{ status = "Processing", for = "3m" }, { status = "Paused", for = "1h" }, { status = "Processing", for = "5m" }, { status = "Finished" }]
"#,
    ))
    .await;
    let mut seen = Vec::new();
    for offset in [0, 3 * MINUTE, HOUR + 3 * MINUTE - 1, HOUR + 3 * MINUTE, HOUR + 8 * MINUTE] {
        set_at(&emu, offset);
        let t = ecs_task(&emu, "t-p").await;
        seen.push(format!("{}/{}/{}", t["TaskStatus"].as_str().unwrap(), t["SupportCancel"].as_str().unwrap(), t["FinishedTime"].as_str().unwrap_or("-")));
    }
    assert_eq!(seen, strings(&["Processing/true/-", "Paused/true/-", "Paused/true/-", "Processing/true/-", "Finished/false/2026-01-01T01:08Z"]));
}

#[tokio::test]
async fn read_bounded_phases_advance_after_n_polls_with_a_frozen_clock() {
    let emu = start(&scenario(
        r#"
[[ecs.tasks]]
id = "t-r"
action = "ImportImage"
lifecycle = [{ status = "Waiting", reads = 2 }, { status = "Processing", reads = 3 }, { status = "Finished" }]

[[sas.tasks]]
id = 5
targets = [{ type = "uuid", name = "h", target = "u" }]
lifecycle = [{ status = "init", reads = 1 }, { status = "Processing", reads = 2 }, { status = "Success" }]

[[hss.tasks]]
task_id = "k-r"
task_type = "cluster_scan"
cluster_scan = { clusters = 4 }
lifecycle = [{ status = "ready", reads = 1 }, { status = "running", reads = 2 }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "img-r"
task_type = "manual"
images = 8
lifecycle = [{ status = "waiting", reads = 1 }, { status = "scanning", reads = 4 }, { status = "finished" }]

[[avds.scans]]
scan_id = "s-r"
task_id = 1
lifecycle = [{ status = "waiting", reads = 1 }, { status = "running", reads = 2 }, { status = "finished" }]
"#,
    ))
    .await;
    let mut ecs = Vec::new();
    for _ in 0..7 {
        ecs.push(ecs_task(&emu, "t-r").await["TaskStatus"].as_str().unwrap().to_string());
    }
    assert_eq!(ecs, strings(&["Waiting", "Waiting", "Processing", "Processing", "Processing", "Finished", "Finished"]));
    assert_eq!(ecs_task(&emu, "t-r").await["FinishedTime"], "2026-01-01T00:00Z", "it ended at the frozen instant");
    assert_eq!(emu.state.clock.now(), T0, "nobody moved the clock");

    let mut sas = Vec::new();
    for _ in 0..5 {
        sas.push(rpc_ok(&emu, SAS, &[("TaskId", "5")]).await["ScanTaskProgress"].as_str().unwrap().to_string());
    }
    assert_eq!(sas, strings(&["init", "Processing", "Processing", "Success", "Success"]));

    let mut hss = Vec::new();
    for _ in 0..5 {
        let doc = hss_ok(&hss_post(&emu, PROJECT, &[], "{}").await);
        let item = &doc["data_list"][0];
        hss.push(format!("{}:{}", item["task_status"].as_str().unwrap(), item["cluster_scan_info"]["success_cluster_num"]));
    }
    // Counters grow with the reads: half of the running phase's reads is half the clusters.
    assert_eq!(hss, strings(&["ready:0", "running:0", "running:2", "finished:4", "finished:4"]));

    let mut images = Vec::new();
    for _ in 0..7 {
        let doc = hss_ok(&hss_get(&emu, PROJECT, &[("type", "image_scan")]).await);
        let item = &doc["data_list"][0];
        images.push(format!("{}:{}", item["task_status"], item["success_num"]));
    }
    assert_eq!(images, strings(&["0:0", "0:0", "25:2", "50:4", "75:6", "100:8", "100:8"]));

    let mut avds = Vec::new();
    for _ in 0..5 {
        let s = &rpc_ok(&emu, AVDS, &[]).await["List"][0];
        avds.push(format!("{} {} {}", s["JobStatus"].as_str().unwrap(), s["RunPercent"], s["ReportStatus"].as_str().unwrap()));
    }
    assert_eq!(avds, strings(&["waiting 0.0 inexistent", "running 0.0 inexistent", "running 50.0 inexistent", "finished 100.0 running", "finished 100.0 running"]));
    // The report takes its delay (30 s by default) in virtual time.
    emu.state.clock.advance(30_000);
    assert_eq!(rpc_ok(&emu, AVDS, &[]).await["List"][0]["ReportStatus"], "finished");
}

#[tokio::test]
async fn only_reads_that_return_the_task_count() {
    let emu = start(&scenario(
        r#"
[[ecs.tasks]]
id = "t-r"
action = "ImportImage"
lifecycle = [{ status = "Waiting", reads = 2 }, { status = "Processing", for = "10m" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-other"
action = "ExportImage"
created = "+1s"
"#,
    ))
    .await;
    emu.state.clock.advance(1000);
    for _ in 0..5 {
        // Filtered out, or on another page: not read.
        rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskAction", "ExportImage")]).await;
        rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("PageSize", "1")]).await;
        rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskStatus", "Processing")]).await;
    }
    assert_eq!(ecs_task(&emu, "t-r").await["TaskStatus"], "Waiting");
    assert_eq!(ecs_task(&emu, "t-r").await["TaskStatus"], "Waiting");
    // The next phase starts at the exhausting read and then follows the clock.
    assert_eq!(ecs_task(&emu, "t-r").await["TaskStatus"], "Processing");
    emu.state.clock.advance(10 * MINUTE - 1);
    assert_eq!(ecs_task(&emu, "t-r").await["TaskStatus"], "Processing");
    emu.state.clock.advance(1);
    assert_eq!(ecs_task(&emu, "t-r").await["FinishedTime"], "2026-01-01T00:10Z");
}

// --- AVDS -----------------------------------------------------------------------------------------

async fn sessions(emu: &Emulator, scan: &str) -> Value {
    rpc_ok(emu, AVDS, &[("ScanId", scan), ("PageSize", "100")]).await["List"].clone()
}

fn summary(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}@{}:{}", s["TaskId"], (s["CreatedAt"].as_i64().unwrap() - T0) / MINUTE, s["JobStatus"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn periodic_scans_spawn_a_session_each_period() {
    let emu = start(&scenario(
        r#"
[[avds.scans]]
scan_id = "hourly"
task_id = 100
trigger = "interval"
period = "hour"
lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "capped"
task_id = 200
trigger = "interval"
period = "minute"
interval = 15
sessions = 3
lifecycle = [{ status = "waiting", for = "1m" }, { status = "running", for = "5m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "once"
task_id = 300
lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]
"#,
    ))
    .await;
    assert_eq!(summary(&sessions(&emu, "hourly").await), strings(&["100@0:running"]));
    set_at(&emu, HOUR - 1);
    assert_eq!(summary(&sessions(&emu, "hourly").await), strings(&["100@0:finished"]));
    set_at(&emu, HOUR);
    assert_eq!(summary(&sessions(&emu, "hourly").await), strings(&["101@60:running", "100@0:finished"]));
    set_at(&emu, 3 * HOUR + 10 * MINUTE);
    assert_eq!(summary(&sessions(&emu, "hourly").await), strings(&["103@180:finished", "102@120:finished", "101@60:finished", "100@0:finished"]));
    assert_eq!(summary(&sessions(&emu, "capped").await), strings(&["202@30:finished", "201@15:finished", "200@0:finished"]), "at most 3 sessions");
    assert_eq!(summary(&sessions(&emu, "once").await), strings(&["300@0:finished"]));
    set_at(&emu, 15 * MINUTE + 59_999);
    assert_eq!(summary(&sessions(&emu, "capped").await), strings(&["201@15:waiting", "200@0:finished"]));
    set_at(&emu, 17 * MINUTE);
    assert_eq!(summary(&sessions(&emu, "capped").await), strings(&["201@15:running", "200@0:finished"]));
    let doc = rpc_ok(&emu, AVDS, &[("PageSize", "100")]).await;
    assert_eq!(doc["TotalCount"], 1 + 2 + 1, "hourly 1, capped 2, once 1 at +17m");
    set_at(&emu, 2 * HOUR);
    assert_eq!(rpc_ok(&emu, AVDS, &[("StatusList.1", "running")]).await["TotalCount"], 1, "only the newest hourly session runs");
}

#[tokio::test]
async fn monthly_sessions_follow_the_calendar() {
    let emu = start(
        r#"
[clock]
start = "2026-01-31T12:00:00Z"

[[avds.scans]]
scan_id = "monthly"
task_id = 1
trigger = "interval"
period = "month"
lifecycle = [{ status = "running", for = "1h" }, { status = "finished" }]
"#,
    )
    .await;
    emu.state.clock.set(ms("2026-03-31T12:00:00Z"));
    let created: Vec<i64> = sessions(&emu, "monthly").await.as_array().unwrap().iter().map(|s| s["CreatedAt"].as_i64().unwrap()).collect();
    assert_eq!(created, [ms("2026-03-31T12:00:00Z"), ms("2026-02-28T12:00:00Z"), ms("2026-01-31T12:00:00Z")]);
}

#[tokio::test]
async fn run_percent_grows_and_the_report_comes_after_the_end() {
    let emu = start(&scenario(
        r#"
[[avds.scans]]
scan_id = "s-ok"
task_id = 10
name = "good"
targets = ["a.example.com"]
report_delay = "5m"
report_url = "https://reports.example.com/{ScanId}/{TaskId}.pdf"
lifecycle = [{ status = "waiting", for = "2m" }, { status = "running", for = "10m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "s-bad"
task_id = 20
name = "bad"
targets = ["b.example.com"]
report = "failed"
report_delay = "1m"
lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "s-abort"
task_id = 30
name = "aborted"
targets = ["c.example.com"]
lifecycle = [{ status = "running", for = "1m" }, { status = "aborted" }]
"#,
    ))
    .await;
    let state = |s: &Value| {
        format!(
            "{} {} {} {} {}",
            s["JobStatus"].as_str().unwrap(),
            s["RunPercent"],
            s["FinishedAt"].as_i64().map_or("-".to_string(), |f| ((f - T0) / MINUTE).to_string()),
            s["ReportStatus"].as_str().unwrap(),
            s["ReportUrl"].as_str().unwrap_or("-")
        )
    };
    let mut ok = Vec::new();
    for offset in [0, 2 * MINUTE, 5 * MINUTE, 12 * MINUTE, 17 * MINUTE - 1, 17 * MINUTE] {
        set_at(&emu, offset);
        ok.push(state(&sessions(&emu, "s-ok").await[0]));
    }
    assert_eq!(
        ok,
        strings(&[
            "waiting 0.0 - inexistent -",
            "running 0.0 - inexistent -",
            "running 30.0 - inexistent -",
            "finished 100.0 12 running -",
            "finished 100.0 12 running -",
            "finished 100.0 12 finished https://reports.example.com/s-ok/10.pdf",
        ])
    );
    set_at(&emu, 10 * MINUTE + 59_999);
    assert_eq!(state(&sessions(&emu, "s-bad").await[0]), "finished 100.0 10 running -");
    set_at(&emu, 11 * MINUTE);
    assert_eq!(state(&sessions(&emu, "s-bad").await[0]), "finished 100.0 10 failed -");
    set_at(&emu, 24 * HOUR);
    assert_eq!(state(&sessions(&emu, "s-abort").await[0]), "aborted 100.0 1 inexistent -", "an aborted session never reports");
}

// --- HSS ------------------------------------------------------------------------------------------

#[tokio::test]
async fn image_scan_counters_grow_and_remaining_minutes_count_down() {
    let emu = start(&scenario(
        r#"
[[hss.image_tasks]]
task_id = "img"
task_name = "growing scan"
task_type = "manual"
images = 40
failures = 4
risky = 8
failed_images = [
  { id = 1, image_name = "a" },
  { id = 2, image_name = "b" },
  { id = 3, image_name = "c" },
  { id = 4, image_name = "d" },
]
lifecycle = [{ status = "waiting", for = "5m" }, { status = "scanning", for = "20m" }, { status = "finished" }]
"#,
    ))
    .await;
    let state = |doc: &Value| {
        let t = &doc["data_list"][0];
        let failed: Vec<String> = pluck(&t["failed_images"], "image_name");
        format!(
            "{} ok={} failed={} risky={} left={} end={} [{}]",
            t["task_status"], t["success_num"], t["failed_num"], t["risky_num"], t["remain_min"],
            t["end_time"].as_i64().map_or("-".to_string(), |e| ((e - T0) / MINUTE).to_string()),
            failed.join(",")
        )
    };
    let mut seen = Vec::new();
    for offset in [0, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 24 * MINUTE + 30_000, 25 * MINUTE, 40 * MINUTE] {
        set_at(&emu, offset);
        seen.push(state(&hss_ok(&hss_get(&emu, PROJECT, &[("type", "image_scan")]).await)));
    }
    assert_eq!(
        seen,
        strings(&[
            "0 ok=0 failed=0 risky=0 left=25 end=- []",
            "0 ok=0 failed=0 risky=0 left=20 end=- []",
            "25 ok=9 failed=1 risky=2 left=15 end=- [a]",
            "50 ok=18 failed=2 risky=4 left=10 end=- [a,b]",
            "97 ok=36 failed=3 risky=7 left=1 end=- [a,b,c]",
            "100 ok=36 failed=4 risky=8 left=0 end=25 [a,b,c,d]",
            "100 ok=36 failed=4 risky=8 left=0 end=25 [a,b,c,d]",
        ])
    );
    let item = &hss_ok(&hss_get(&emu, PROJECT, &[("type", "image_scan")]).await)["data_list"][0];
    assert_eq!(
        item["failed_images"][3],
        json!({"id": 4, "registry_id": "", "registry_name": "", "image_name": "d", "image_version": "latest", "namespace": "default",
               "registry_type": "SwrPrivate", "failed_reason": "scan timeout"}),
        "defaults of a failed image"
    );
}

#[tokio::test]
async fn cluster_and_iac_counters_grow_and_estimated_time_counts_down() {
    let emu = start(&scenario(
        r#"
[[hss.tasks]]
task_id = "c"
task_type = "cluster_scan"
cluster_scan = { clusters = 5, failures = 2 }
lifecycle = [{ status = "ready", for = "2m" }, { status = "running", for = "10m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "i"
task_type = "iac_scan"
iac_scan = { file_type = "dockerfile", files = 10, failures = 3 }
created = "-1s"
lifecycle = [{ status = "running", for = "20m" }, { status = "finished" }]
"#,
    ))
    .await;
    let state = |doc: &Value| {
        doc["data_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let counts = match (&t["cluster_scan_info"], &t["iac_scan_info"]) {
                    (Value::Object(c), _) => format!("{}/{}/{}", c["scanning_cluster_num"], c["success_cluster_num"], c["failed_cluster_num"]),
                    (_, Value::Object(i)) => format!("{}/{}/{}", i["scan_file_num"], i["success_file_num"], i["failed_file_num"]),
                    _ => panic!("no scan info in {t}"),
                };
                let end = t["end_time"].as_i64().map_or("-".to_string(), |e| ((e - T0) / 1000).to_string());
                format!("{} {} est={} {} end={}", t["task_id"].as_str().unwrap(), t["task_status"].as_str().unwrap(), t["estimated_time"], counts, end)
            })
            .collect::<Vec<_>>()
    };
    let at = |offset: i64| {
        let emu = &emu;
        async move {
            set_at(emu, offset);
            state(&hss_ok(&hss_post(emu, PROJECT, &[], "{}").await))
        }
    };
    assert_eq!(at(0).await, strings(&["c ready est=12 0/0/0 end=-", "i running est=20 10/0/0 end=-"]));
    assert_eq!(at(2 * MINUTE).await, strings(&["c running est=10 5/0/0 end=-", "i running est=18 10/1/0 end=-"]));
    assert_eq!(at(7 * MINUTE).await, strings(&["c running est=5 3/1/1 end=-", "i running est=13 10/2/1 end=-"]));
    assert_eq!(at(12 * MINUTE).await, strings(&["c finished est=0 0/3/2 end=720", "i running est=8 10/5/1 end=-"]));
    assert_eq!(at(20 * MINUTE).await, strings(&["c finished est=0 0/3/2 end=720", "i finished est=0 10/7/3 end=1199"]));
}
