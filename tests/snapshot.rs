//! Snapshots (issue 15, item 2): `GET /_emu/snapshot` writes the running world as one scenario,
//! and a fresh emulator on that file answers the five operations (JSON and XML, both dialects,
//! every tenant) byte for byte as the old one does, after random control-API changes: tasks added
//! and deleted, scenarios loaded for tenants, fault rules with counts, clock moves, reads.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

/// Every RequestId pinned, so whole bodies and headers compare.
const PINNED: &str = r#"
[request_ids]
DescribeTasks = "11111111-2222-3333-4444-555555555555"
DescribeScanTaskProgress = "11111111-2222-3333-4444-666666666666"
DescribeScanSessions = "11111111-2222-3333-4444-777777777777"
ListImageScanTask = "0123456789abcdef0123456789abcdea"
ListTasks = "0123456789abcdef0123456789abcdeb"
"#;

fn generated(seed: u64) -> String {
    format!(
        r#"
seed = {seed}
[[ecs.generate]]
count = 6
created = "-2h..+0s"
lifecycle = [{{ status = "Waiting", reads = "1..3" }}, {{ status = "Processing", for = "5m..40m" }}, {{ status = ["Finished", "Failed"] }}]
[[sas.generate]]
count = 4
created = "-1h..+0s"
lifecycle = [{{ status = "init", reads = 2 }}, {{ status = "Processing", for = "10m" }}, {{ status = "Success" }}]
[[avds.generate]]
count = 3
trigger = ["date", "interval"]
period = "hour"
created = "-5h..-1h"
[[hss.image_generate]]
count = 4
images = "4..9"
failures = "0..2"
lifecycle = [{{ status = "waiting", reads = 2 }}, {{ status = "scanning", for = "20m" }}, {{ status = ["finished", "failed"] }}]
[[hss.generate]]
count = 4
task_type = ["cluster_scan", "iac_scan"]
"#
    )
}

async fn control(emu: &Emulator, method: &str, target: &str, body: &str) -> Reply {
    let content_type = if body.is_empty() || body.trim_start().starts_with(['{', '[']) { "application/json" } else { "application/toml" };
    send(emu.addr, method, target, &[("Content-Type", content_type)], body.as_bytes()).await
}

async fn control_ok(emu: &Emulator, method: &str, target: &str, body: &str) -> Value {
    let reply = control(emu, method, target, body).await;
    assert_eq!(reply.status, 200, "{method} {target}: {}", reply.text());
    reply.json()
}

async fn snapshot(emu: &Emulator) -> String {
    let reply = send(emu.addr, "GET", "/_emu/snapshot", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/toml");
    reply.text()
}

/// A request: method, target, headers, body.
type Call = (String, String, Vec<(String, String)>, String);

/// The requests both emulators are asked, in order: every operation, both tenants (the shared
/// world and `LTAIalpha` / project `alpha`), JSON and XML (Huawei's by `Accept`), both dialects, with filters that walk
/// the indexes. Reads count: both worlds must be asked the same in the same order.
fn battery(sas_ids: &[String]) -> Vec<Call> {
    let mut out = Vec::new();
    let get = |target: String| ("GET".to_string(), target, Vec::new(), String::new());
    for tenant in [None, Some("LTAIalpha")] {
        for (format, dialect) in [("JSON", "sdk"), ("XML", "sdk"), ("JSON", "docs")] {
            for extra in [vec![], vec![("TaskStatus", "Processing")], vec![("TaskStatus", "Finished"), ("PageSize", "3")]] {
                let mut params = vec![("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou"), ("PageSize", "50"), ("Format", format)];
                params.extend(extra);
                params.extend(tenant.map(|t| ("AccessKeyId", t)));
                let mut request = get(with_query("/", &params));
                request.2.push(("x-taskemu-dialect".into(), dialect.into()));
                out.push(request);
            }
            let mut params = vec![("Action", "DescribeScanSessions"), ("Version", "2017-11-29"), ("PageSize", "50"), ("Format", format)];
            params.extend(tenant.map(|t| ("AccessKeyId", t)));
            let mut request = get(with_query("/", &params));
            request.2.push(("x-taskemu-dialect".into(), dialect.into()));
            out.push(request);
        }
        for id in sas_ids {
            for format in ["JSON", "XML"] {
                let mut params = vec![("Action", "DescribeScanTaskProgress"), ("Version", "2018-12-03"), ("TaskId", id.as_str()), ("Format", format)];
                params.extend(tenant.map(|t| ("AccessKeyId", t)));
                out.push(get(with_query("/", &params)));
            }
        }
    }
    for project in [PROJECT, "alpha"] {
        for accept in ["application/json", "application/xml"] {
            let accept = vec![("Accept".to_string(), accept.to_string())];
            for kind in ["image_scan", "image_sync"] {
                let mut request = get(with_query(&image_tasks_path(project), &[("type", kind), ("limit", "50")]));
                request.2.clone_from(&accept);
                out.push(request);
            }
            for kind in ["cluster_scan", "iac_scan"] {
                out.push(("POST".into(), with_query(&batch_query_path(project), &[("limit", "50")]), accept.clone(), format!(r#"{{"task_type": "{kind}"}}"#)));
            }
        }
    }
    out.push(get("/_emu/tasks?limit=1000".into()));
    out
}

/// Asks both the same requests; every answer must be the same bytes (status, type, body, ids).
async fn same_answers(old: &Emulator, new: &Emulator, context: &str) {
    let tasks = control_ok(old, "GET", "/_emu/tasks?product=sas&limit=1000", "").await;
    let mut sas_ids: Vec<String> = tasks["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap_or_default().to_string()).collect();
    sas_ids.truncate(4);
    sas_ids.push("404".into());
    let calls = battery(&sas_ids);
    let (total, mut answered) = (calls.len(), 0);
    for (method, target, headers, body) in calls {
        let mut headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        headers.push(("Content-Type", "application/json"));
        let a = send(old.addr, &method, &target, &headers, body.as_bytes()).await;
        let b = send(new.addr, &method, &target, &headers, body.as_bytes()).await;
        let what = format!("{context}: {method} {target}");
        assert_eq!((a.status, a.content_type().to_string(), a.header("x-request-id")), (b.status, b.content_type().to_string(), b.header("x-request-id")), "{what}");
        assert_eq!(a.text(), b.text(), "{what}");
        answered += usize::from(a.status == 200);
    }
    // Not two worlds refusing alike: most answers are documents (some meet the fault rules, and
    // a tenant's SAS ids are not found by the others, nor the id 404 by anyone).
    assert!(answered * 3 >= total * 2, "{context}: only {answered} of {total} answered 200");
}

/// A random control-API change; returns what it did, for the failure message.
async fn random_change(emu: &Emulator, rng: &mut StdRng, n: usize) -> String {
    match rng.random_range(0..7) {
        0 => {
            let tenant = if rng.random_bool(0.5) { "?tenant=LTAIalpha" } else { "" };
            let body = format!(r#"{{"product": "ecs", "id": "t-run-{n}", "lifecycle": [{{"status": "Waiting", "reads": 2}}, {{"status": "Processing", "for": "3m"}}, {{"status": "Finished"}}]}}"#);
            control_ok(emu, "POST", &format!("/_emu/tasks{tenant}"), &body).await;
            format!("add t-run-{n}{tenant}")
        }
        1 => {
            let tasks = control_ok(emu, "GET", "/_emu/tasks?limit=1000", "").await;
            let list = tasks["tasks"].as_array().cloned().unwrap_or_default();
            let ids: Vec<&str> = list.iter().filter(|t| t["product"] != "avds").filter_map(|t| t["id"].as_str()).collect();
            if ids.is_empty() {
                return "nothing to delete".into();
            }
            let id = ids[rng.random_range(0..ids.len())].to_string();
            control_ok(emu, "DELETE", &format!("/_emu/tasks/{}", enc(&id)), "").await;
            format!("delete {id}")
        }
        2 => {
            let (tenant, seed) = (if rng.random_bool(0.5) { "alpha" } else { "LTAIalpha" }, 1000 + n as u64 * 1000 + rng.random_range(0..1000u64));
            control_ok(emu, "POST", &format!("/_emu/scenarios?tenant={tenant}&name=run-{n}.toml"), &generated(seed)).await;
            format!("load for {tenant} seed {seed}")
        }
        3 => {
            let times = rng.random_range(1..4);
            let operation = ["DescribeTasks", "ListImageScanTask", "DescribeScanSessions"][rng.random_range(0..3)];
            control_ok(emu, "POST", "/_emu/faults", &format!(r#"{{"operation": "{operation}", "error": {{"code": "Throttling", "status": 503}}, "times": {times}}}"#)).await;
            format!("fault {operation} x{times}")
        }
        4 => {
            let minutes = rng.random_range(1..30);
            control_ok(emu, "POST", "/_emu/clock", &format!(r#"{{"advance": "{minutes}m"}}"#)).await;
            format!("advance {minutes}m")
        }
        5 => {
            // A running clock, then paused: the snapshot holds "now" and a frozen clock.
            control_ok(emu, "POST", "/_emu/clock", r#"{"rate": 100}"#).await;
            control_ok(emu, "POST", "/_emu/clock", r#"{"pause": true}"#).await;
            "run then pause".into()
        }
        _ => {
            // Reads: read-bounded phases move on, fault counts go down.
            let body = rpc(emu, ECS, &[("RegionId", "cn-hangzhou"), ("PageSize", "50")]).await;
            hss_get(emu, PROJECT, &[("type", "image_scan")]).await;
            format!("reads ({})", body.status)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_emulator_on_a_snapshot_answers_byte_for_byte_after_random_changes() {
    for seed in 0..4u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let sources = vec![Source::demo(), Source::new("pinned.toml", PINNED), Source::new("gen.toml", generated(seed))];
        let old = start_sources(Config::default(), sources).await;
        let mut done = Vec::new();
        for n in 0..rng.random_range(4..10) {
            done.push(random_change(&old, &mut rng, n).await);
        }
        let text = snapshot(&old).await;
        let new = start_sources(Config::default(), vec![Source::new("snapshot.toml", text.clone())]).await;
        let context = format!("seed {seed} after {done:?}");
        same_answers(&old, &new, &context).await;
        // And on, in step: the same reads and clock moves keep them the same.
        for emu in [&old, &new] {
            control_ok(emu, "POST", "/_emu/clock", r#"{"advance": "17m"}"#).await;
        }
        same_answers(&old, &new, &format!("{context}, 17m later")).await;
        assert_eq!(snapshot(&new).await, snapshot(&old).await, "{context}: the snapshots agree too");
        old.stop().await.unwrap();
        new.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_holds_the_clock_rate_faults_left_credentials_and_read_counts() {
    let scenario = r#"
[clock]
start = "2026-11-22T08:00:00Z"
[[credentials]]
access_key_id = "LTAIsnap"
access_key_secret = "secret"
[[ecs.tasks]]
id = "t-reads"
lifecycle = [{ status = "Waiting", reads = 3 }, { status = "Finished" }]
"#;
    let emu = start_sources(Config { auth: Some(false), ..Config::default() }, vec![Source::new("s.toml", scenario)]).await;
    control_ok(&emu, "POST", "/_emu/faults", r#"{"operation": "DescribeTasks", "error": {"code": "Throttling", "status": 503}, "times": 3}"#).await;
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status, 503, "one of three used");
    control_ok(&emu, "POST", "/_emu/clock", r#"{"rate": 60}"#).await;
    let text = snapshot(&emu).await;
    assert!(text.contains("rate = 60.0"), "{text}");
    assert!(text.contains("times = 2"), "two of the three left: {text}");
    assert!(text.contains(r#"access_key_id = "LTAIsnap""#), "{text}");
    let faults = control_ok(&emu, "GET", "/_emu/faults", "").await;
    assert_eq!(faults["faults"][0]["remaining"], 2);
    // Two more reads: the third exhausts the phase (the 503s did not read).
    control_ok(&emu, "DELETE", "/_emu/faults", "").await;
    rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    let text = snapshot(&emu).await;
    assert!(text.contains("reads_counted = 1"), "{text}");
    let wrong = send(emu.addr, "POST", "/_emu/snapshot", &[("Content-Type", "application/json")], b"{}").await;
    assert_eq!(wrong.status, 405);
    emu.stop().await.unwrap();
}

/// The `taskemu snapshot` verb writes the same text to a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_verb_writes_the_file_serve_reads() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let dir = std::env::temp_dir().join(format!("taskemu-snapshot-verb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("world.toml");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["snapshot", "--url", &emu.url(), "--out", out.to_str().unwrap()])
        .env_remove("TASKEMU_CONTROL_TOKEN")
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, snapshot(&emu).await);
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_taskemu")).args(["check", out.to_str().unwrap()]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    std::fs::remove_dir_all(&dir).ok();
    emu.stop().await.unwrap();
}

/// The snapshot holds the credentials' secrets: the control token and Host rules apply as to any
/// other read, and the verb passes `--token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_needs_the_control_token_and_a_local_host() {
    let config = Config { control_token: Some("snap-token-123".into()), ..Config::default() };
    let emu = start_sources(config, vec![Source::demo()]).await;
    assert_eq!(send(emu.addr, "GET", "/_emu/snapshot", &[], b"").await.status, 401);
    assert_eq!(send(emu.addr, "GET", "/_emu/snapshot", &[("Authorization", "Bearer wrong")], b"").await.status, 401);
    // Named by a foreign Host (DNS rebinding): refused whatever the token.
    let mut stream = tokio::net::TcpStream::connect(emu.addr).await.unwrap();
    let head = "GET /_emu/snapshot HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer snap-token-123\r\nConnection: close\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.unwrap();
    assert_eq!(read_reply(&mut stream).await.status, 403);
    let allowed = send(emu.addr, "GET", "/_emu/snapshot", &[("Authorization", "Bearer snap-token-123")], b"").await;
    assert_eq!(allowed.status, 200);
    let verb = |token: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_taskemu"));
        command.args(["snapshot", "--url", &emu.url()]).env_remove("TASKEMU_CONTROL_TOKEN");
        if let Some(token) = token {
            command.args(["--token", token]);
        }
        command.output().unwrap()
    };
    let refused = verb(None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "{}", String::from_utf8_lossy(&refused.stderr));
    let printed = verb(Some("snap-token-123"));
    assert!(printed.status.success());
    assert_eq!(String::from_utf8_lossy(&printed.stdout), allowed.text());
    emu.stop().await.unwrap();
}
