//! The control plane's bounds over real HTTP (issue 11): the journal's bytes per entry and in all
//! (C1), the number of fault rules (R2), and the clock's range of years 1970–9999 (W1). Each
//! reproduces the issue's input, scaled down, and asserts the bound rather than the crash.

mod common;

use common::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// One HSS task and one ECS task: a world that stays cheap at any virtual instant.
const SMALL: &str = r#"
[clock]
start = "2026-11-22T08:00:00Z"

[[ecs.tasks]]
id = "t-bounds"
created = "-1h"

[[hss.tasks]]
task_id = "hss-bounds"
created = "-1h"
"#;

async fn control(emu: &Emulator, method: &str, target: &str, body: &str) -> Reply {
    send(emu.addr, method, target, &[("Content-Type", "application/json")], body.as_bytes()).await
}

async fn control_ok(emu: &Emulator, method: &str, target: &str, body: &str) -> Value {
    let reply = control(emu, method, target, body).await;
    assert_eq!(reply.status, 200, "{method} {target} answered {}", reply.text());
    reply.json()
}

async fn control_refused(emu: &Emulator, method: &str, target: &str, body: &str, needles: &[&str]) {
    let reply = control(emu, method, target, body).await;
    assert_eq!(reply.status, 400, "{method} {target} {body} answered {}", reply.text());
    let message = reply.json()["error"].as_str().unwrap_or_default().to_string();
    for needle in needles {
        assert!(message.contains(needle), "{message:?} should mention {needle:?}");
    }
}

async fn small(config: Config) -> Emulator {
    start_sources(config, vec![Source::new("small.toml", SMALL)]).await
}

/// A JSON array of `len` bytes: what ListTasks refuses (its body must be an object).
fn json_array(len: usize) -> String {
    format!("[{}]", " ".repeat(len.saturating_sub(2)))
}

// --- C1: the journal --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_refused_bodies_are_journalled_cut_short_and_the_journal_stays_within_its_bytes() {
    // The issue: 300 POSTs of a 1 MiB JSON array to ListTasks, then GET /_emu/requests. Scaled:
    // 40 of 256 KiB, with a 4 KiB entry budget and a 64 KiB journal.
    let (entry_bytes, total_bytes) = (4 * 1024, 64 * 1024);
    let emu = small(Config { journal_entry_bytes: entry_bytes, journal_bytes: total_bytes, ..Config::default() }).await;
    let body = format!("[{}1]", "1,".repeat(128 * 1024));
    for _ in 0..40 {
        let reply = hss_post(&emu, PROJECT, &[], &body).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert!(emu.state.journal.bytes() <= total_bytes, "the journal holds {} bytes", emu.state.journal.bytes());
    }
    let reply = control(&emu, "GET", "/_emu/requests", "").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() < total_bytes + 16 * 1024, "the whole journal answered in {} bytes", reply.body.len());
    let page = reply.json();
    let entries = page["requests"].as_array().expect("a list of requests");
    assert!(entries.len() >= 10 && entries.len() < 40, "the byte total dropped the oldest: {} kept", entries.len());
    assert_eq!(entries.last().unwrap()["seq"], 40, "the newest is kept");
    for entry in entries {
        assert_eq!(entry["operation"], "ListTasks");
        assert_eq!(entry["truncated"], true, "{entry}");
        assert_eq!(entry["received_bytes"].as_u64(), Some((PROJECT.len() + batch_query_path(PROJECT).len() + body.len()) as u64));
        let kept = entry["parameters"]["body"].as_str().expect("a cut body is shown as text");
        assert!(kept.len() < entry_bytes && body.starts_with(kept), "{} bytes of body kept", kept.len());
    }
    // The dashboard's poll.
    let poll = control(&emu, "GET", "/_emu/requests?limit=5", "").await;
    assert_eq!(poll.json()["count"], 5);
    assert!(poll.body.len() < 5 * (entry_bytes + 1024));
    // A small body is kept whole and shown as the JSON it was.
    let reply = hss_post(&emu, PROJECT, &[("limit", "10")], r#"{"task_type": "vul_scan"}"#).await;
    let last = &control_ok(&emu, "GET", "/_emu/requests?limit=1", "").await["requests"][0];
    assert_eq!(last["status"], reply.status);
    assert_eq!((&last["truncated"], &last["parameters"]), (&json!(false), &json!({ "limit": "10", "body": { "task_type": "vul_scan" } })));
}

#[test]
fn bodies_around_the_entry_budget_are_cut_exactly_when_over_it() {
    const BUDGET: usize = 1_024;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = runtime.block_on(small(Config { journal_entry_bytes: BUDGET, ..Config::default() }));
    // The caller (the project) and the path count against the budget before the body.
    let before_body = PROJECT.len() + batch_query_path(PROJECT).len();
    let mut runner = TestRunner::new(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&(-40isize..40), |delta| {
            let body_len = (BUDGET - before_body).checked_add_signed(delta).unwrap();
            let (status, last) = runtime.block_on(async {
                let status = hss_post(&emu, PROJECT, &[], &json_array(body_len)).await.status;
                (status, control_ok(&emu, "GET", "/_emu/requests?limit=1", "").await["requests"][0].clone())
            });
            let sent = before_body + body_len;
            let over = sent > BUDGET;
            if last["truncated"] != json!(over) || last["received_bytes"] != json!(sent) || last["status"] != json!(status) {
                return Err(TestCaseError::fail(format!("{sent} bytes sent: {last}")));
            }
            let body = &last["parameters"]["body"];
            let kept_whole = body.is_array();
            let kept_len = if kept_whole { body_len } else { body.as_str().map_or(0, str::len) };
            if kept_whole == over || kept_len != body_len.min(BUDGET - before_body) {
                return Err(TestCaseError::fail(format!("{sent} bytes sent, {kept_len} of the body kept: {last}")));
            }
            Ok(())
        })
        .unwrap();
}

// --- R2: fault rules --------------------------------------------------------------------------

fn rule(operation: &str) -> Value {
    json!({ "operation": operation, "error": { "code": "InternalError" } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rules_past_the_bound_are_refused_whole_from_the_api_and_from_scenarios() {
    // The issue: 280,000 non-matching rules, each POST echoing the whole list. Scaled: the
    // default bound of 1000 ListTasks rules, then one more.
    let emu = small(Config::default()).await;
    let batch = Value::Array((0..250).map(|_| rule("ListTasks")).collect()).to_string();
    for round in 0..4 {
        let added = control_ok(&emu, "POST", "/_emu/faults", &batch).await;
        assert_eq!(added["ids"].as_array().map(Vec::len), Some(250));
        assert_eq!(added["added"].as_array().map(Vec::len), Some(250), "the answer has the rules added, not the whole list");
        assert_eq!(added["added"][0]["id"], round * 250 + 1);
        assert!(added.get("faults").is_none());
    }
    control_refused(&emu, "POST", "/_emu/faults", &rule("*").to_string(), &["1001", "1000", "--max-fault-rules"]).await;
    assert_eq!(control_ok(&emu, "GET", "/_emu/faults", "").await["faults"].as_array().map(Vec::len), Some(1000));
    // A thousand rules for another operation leave DescribeTasks alone.
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(hss_post(&emu, PROJECT, &[], "{}").await.json()["error_code"], "InternalError", "ListTasks meets its rules");
    control_ok(&emu, "DELETE", "/_emu/faults", "").await;

    // Scenario rules count too: refused, and nothing of the scenario is loaded.
    let emu = small(Config { max_fault_rules: 3, ..Config::default() }).await;
    control_ok(&emu, "POST", "/_emu/faults", &json!([rule("*"), rule("ListTasks")]).to_string()).await;
    let scenario = "[[ecs.tasks]]\nid = \"t-more\"\n\n[[faults]]\noperation = \"DescribeTasks\"\nthrottle = 1\n\n[[faults]]\noperation = \"ListTasks\"\nthrottle = 1\n";
    let reply = send(emu.addr, "POST", "/_emu/scenarios", &[("Content-Type", "application/toml")], scenario.as_bytes()).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("--max-fault-rules"), "{}", reply.text());
    assert_eq!(emu.state.snapshot().world.task_count(), 2, "the scenario's task was not added");
    assert_eq!(emu.state.faults.list(None).len(), 2);
    let replacing = format!("{SMALL}{}", "\n[[faults]]\noperation = \"DescribeTasks\"\nthrottle = 1\n".repeat(4));
    let reply = send(emu.addr, "POST", "/_emu/scenarios?replace=true", &[("Content-Type", "application/toml")], replacing.as_bytes()).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(emu.state.faults.list(None).len(), 2, "a refused replacement keeps the rules");
    // At start-up, too many is an error.
    assert!(Emulator::start(Config { max_fault_rules: 3, ..Config::default() }, vec![Source::new("r.toml", replacing)], "127.0.0.1:0".parse().unwrap()).await.is_err());
}

#[test]
fn fault_batches_are_taken_while_they_fit_the_bound() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut runner = TestRunner::new(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&(1usize..8, proptest::collection::vec(1usize..5, 1..5)), |(max, batches)| {
            runtime.block_on(async {
                let emu = small(Config { max_fault_rules: max, ..Config::default() }).await;
                let mut held = 0;
                for size in batches {
                    let body = Value::Array((0..size).map(|_| rule("DescribeTasks")).collect()).to_string();
                    let reply = control(&emu, "POST", "/_emu/faults", &body).await;
                    let fits = held + size <= max;
                    if (reply.status == 200) != fits {
                        return Err(TestCaseError::fail(format!("{size} more with {held} of {max}: {} {}", reply.status, reply.text())));
                    }
                    held += if fits { size } else { 0 };
                    let listed = control_ok(&emu, "GET", "/_emu/faults", "").await["faults"].as_array().map_or(0, Vec::len);
                    if listed != held {
                        return Err(TestCaseError::fail(format!("{listed} rules listed, {held} expected")));
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}

// --- W1: the clock's range -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_moves_beyond_years_1970_to_9999_are_refused_and_a_running_clock_stops_at_the_end() {
    let emu = small(Config::default()).await;
    let range = "1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z";
    // The issue's input, then amounts that parse but land outside.
    control_refused(&emu, "POST", "/_emu/clock", r#"{"advance":"99999999999d"}"#, &["too long", "1970", "9999"]).await;
    control_refused(&emu, "POST", "/_emu/clock", r#"{"advance":"99999999999999999999d"}"#, &["too long"]).await;
    control_refused(&emu, "POST", "/_emu/clock", r#"{"advance":"2932896d"}"#, &[range]).await;
    control_refused(&emu, "POST", "/_emu/clock", r#"{"advance":"-20780d"}"#, &[range]).await;
    control_refused(&emu, "POST", "/_emu/clock", r#"{"set":"0001-01-01T00:00:00Z"}"#, &[range]).await;
    control_refused(&emu, "POST", "/_emu/clock", r#"{"set":"1969-12-31T23:59:59Z"}"#, &[range]).await;
    assert_eq!(control_ok(&emu, "GET", "/_emu/clock", "").await["now"], "2026-11-22T08:00:00Z", "refused moves leave the clock alone");
    // The ends themselves are instants.
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"set":"1970-01-01T00:00:00Z"}"#).await["now"], "1970-01-01T00:00:00Z");
    assert_eq!(control_ok(&emu, "POST", "/_emu/clock", r#"{"set":"9999-12-31T23:59:59.999Z"}"#).await["now"], "9999-12-31T23:59:59.999Z");
    control_refused(&emu, "POST", "/_emu/clock", r#"{"advance":"1ms"}"#, &[range]).await;

    // The fastest clock, a minute before the end: at 1e6 it passes a minute in 60 µs of real time.
    control_ok(&emu, "POST", "/_emu/clock", r#"{"set":"9999-12-31T23:59:00Z"}"#).await;
    control_ok(&emu, "POST", "/_emu/clock", r#"{"rate":1000000}"#).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let clock = control_ok(&emu, "GET", "/_emu/clock", "").await;
    assert_eq!((clock["now"].as_str(), clock["now_ms"].as_i64()), (Some("9999-12-31T23:59:59.999Z"), Some(253_402_300_799_999)));
    assert_eq!(control_ok(&emu, "GET", "/_emu/health", "").await["clock"], "9999-12-31T23:59:59.999Z");
    let tasks = control_ok(&emu, "GET", "/_emu/tasks", "").await;
    assert_eq!(tasks["now"], "9999-12-31T23:59:59.999Z");
    let page = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert!(!page.to_string().contains("10000-"), "{page}");
    let journalled = &control_ok(&emu, "GET", "/_emu/requests?limit=1", "").await["requests"][0];
    assert_eq!(journalled["virtual_time"], "9999-12-31T23:59:59.999Z");
}

#[tokio::test]
async fn ecs_time_filters_outside_the_range_are_invalid_parameters() {
    let emu = small(Config::default()).await;
    for (name, value) in [("StartTime", "+10000-01-01T00:00:00Z"), ("StartTime", "1969-12-31T23:59:59Z"), ("EndTime", "0001-01-01T00:00Z"), ("EndTime", "-0001-01-01T00:00:00Z")] {
        let reply = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), (name, value)]).await;
        assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "InvalidParameter", &invalid_parameter(name));
    }
    let page = rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("StartTime", "1970-01-01T00:00:00Z"), ("EndTime", "9999-12-31T23:59Z")]).await;
    assert_eq!(page["TotalCount"], 1);
}
