//! Issue 11's scenario findings, reproduced: the budget of a whole load (C2: ten generators of
//! 2,000,000 in a 330-byte POST; 20,000 tasks × 10,000 ranged phases for `check`), AVDS periodic
//! sessions counted and paged without being made (C3: a clock centuries on), scenario instants
//! outside 1970–9999 (W1), and world builds that leave the server answering (R3).

mod common;

use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use taskemu::scenario::{self, Budget};

async fn control(emu: &Emulator, method: &str, target: &str, body: &str) -> Reply {
    send(emu.addr, method, target, &[("Content-Type", "application/json")], body.as_bytes()).await
}

async fn load_scenario(emu: &Emulator, query: &str, toml: &str) -> Reply {
    send(emu.addr, "POST", &format!("/_emu/scenarios{query}"), &[("Content-Type", "application/toml")], toml.as_bytes()).await
}

fn health(doc: &Value) -> u64 {
    doc["tasks"].as_u64().unwrap_or_else(|| panic!("no task count in {doc}"))
}

/// Line and column (1-based) of the `n`-th (0-based) occurrence of `needle`.
fn position(text: &str, needle: &str, n: usize) -> (u64, u64) {
    let at = text.match_indices(needle).nth(n).unwrap_or_else(|| panic!("{needle:?} #{n} not in the text")).0;
    let before = &text[..at];
    ((before.matches('\n').count() + 1) as u64, (before.rsplit('\n').next().unwrap_or("").chars().count() + 1) as u64)
}

fn first_error(reply: &Reply) -> (u64, u64, String) {
    let doc = reply.json();
    let e = &doc["errors"][0];
    (e["line"].as_u64().unwrap_or(0), e["column"].as_u64().unwrap_or(0), e["message"].as_str().unwrap_or("").to_string())
}

fn taskemu(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_taskemu")).args(args).env("TASKEMU_LOG", "warn").output().expect("run taskemu")
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("taskemu-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the scenario");
    path
}

// --- C2: the budget of a load -------------------------------------------------------------------

/// The issue's 330-byte body: ten generators of 2,000,000 (each within the per-generator limit).
fn ten_big_generators() -> String {
    "[[ecs.generate]]\ncount = 2000000\n".repeat(10)
}

#[tokio::test]
async fn ten_generators_of_two_million_are_refused_at_the_count_that_goes_over_and_the_server_keeps_serving() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let body = ten_big_generators();
    assert!(body.len() <= 330, "the issue's input is {} bytes", body.len());
    let started = Instant::now();
    let reply = load_scenario(&emu, "", &body).await;
    assert!(started.elapsed() < Duration::from_secs(2), "refused in {:?}: nothing may be built first", started.elapsed());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let (line, column, message) = first_error(&reply);
    // 23 demo tasks + 2 × 2,000,000 fit in 5,000,000; the third generator does not.
    assert_eq!((line, column), position(&body, "2000000", 2), "{message}");
    assert!(message.contains("5000000") && message.contains("--max-tasks"), "{message}");
    assert!(reply.json()["error"].as_str().unwrap_or("").contains("--max-tasks"));
    // Still serving, world unchanged; a replacement is counted alone, and refused alike.
    assert_eq!(health(&control(&emu, "GET", "/_emu/health", "").await.json()), 23);
    assert_eq!(load_scenario(&emu, "?replace=true", &body).await.status, 400);
    assert_eq!(health(&control(&emu, "GET", "/_emu/health", "").await.json()), 23);
    emu.stop().await.unwrap();
}

#[tokio::test]
async fn a_run_time_load_and_added_tasks_count_what_is_loaded_already() {
    let budget = Budget { max_tasks: 30, ..Budget::default() };
    let emu = start_sources(Config { budget, ..Config::default() }, vec![Source::demo()]).await;
    let over = load_scenario(&emu, "", "[[sas.generate]]\ncount = 8\n").await;
    assert_eq!(over.status, 400, "23 + 8 is over 30: {}", over.text());
    assert!(first_error(&over).2.contains("31 tasks, over the budget of 30"), "{}", first_error(&over).2);
    assert_eq!(load_scenario(&emu, "", "[[sas.generate]]\ncount = 7\n").await.status, 200);
    // At the budget: one task more is refused, through POST /_emu/tasks too.
    let refused = control(&emu, "POST", "/_emu/tasks", r#"{"product": "ecs", "id": "t-one-more"}"#).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.json()["error"].as_str().unwrap_or("").contains("--max-tasks"));
    // A replacement does not count the world it replaces; a reset rebuilds within the budget.
    let replaced = load_scenario(&emu, "?replace=true", "[[sas.generate]]\ncount = 30\n").await;
    assert_eq!((replaced.status, replaced.json()["tasks"].as_u64()), (200, Some(30)));
    assert_eq!(control(&emu, "POST", "/_emu/reset", "").await.status, 200);
    emu.stop().await.unwrap();
}

/// 20,000 tasks of 10,000 ranged phases each (the issue's 430 KB file): 200,000,000 phases,
/// refused by `check` at the count before one task is built.
#[test]
fn check_refuses_a_count_times_ranged_phases_file_quickly() {
    let phase = r#"{ status = "Processing", for = "1s..9s" }, "#;
    let text = format!("[[ecs.generate]]\ncount = 20000\nlifecycle = [{}{{ status = \"Finished\" }}]\n", phase.repeat(9_999));
    assert!(text.len() > 400_000);
    let path = temp_file("phases.toml", &text);
    let started = Instant::now();
    let out = taskemu(&["check", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(started.elapsed() < Duration::from_secs(10), "check took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with(&format!("{}:2:9: ", path.display())), "at the count: {stderr}");
    assert!(stderr.contains("200000000 phases") && stderr.contains("--max-phases"), "{stderr}");
}

#[test]
fn check_takes_the_budget_flags() {
    let path = temp_file("eleven.toml", "[[hss.generate]]\ncount = 11\n");
    let path = path.to_str().unwrap();
    assert!(taskemu(&["check", path]).status.success());
    let out = taskemu(&["check", "--max-tasks", "10", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{path}:2:9: 11 more task(s) bring the load to 11 tasks, over the budget of 10")));
    // Three default phases each: 33 is over 32.
    let out = taskemu(&["check", "--max-phases", "32", path]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the budget of 32 per load (raise it with --max-phases)"));
    // `serve` refuses to start on a load over its budget, before it listens.
    let out = taskemu(&["serve", "--listen", "127.0.0.1:0", "--max-tasks", "10", "--scenario", path]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no ready line");
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the budget of 10 tasks per load"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Entries for the property test: (generated, count, phases), as TOML.
fn entries_toml(entries: &[(bool, u32, usize)]) -> String {
    let mut text = String::new();
    for (i, &(generated, count, phases)) in entries.iter().enumerate() {
        let lifecycle: Vec<String> = (0..phases).map(|p| if p + 1 == phases { "{ status = \"Finished\" }".to_string() } else { "{ status = \"Processing\", for = \"1s..5s\" }".to_string() }).collect();
        if generated {
            text.push_str(&format!("[[ecs.generate]]\ncount = {count}\nlifecycle = [{}]\n", lifecycle.join(", ")));
        } else {
            text.push_str(&format!("[[ecs.tasks]]\nid = \"t-{i}\"\nlifecycle = [{}]\n", lifecycle.join(", ")));
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Around the bounds: a load is accepted exactly when its tasks and phases fit, and refused
    /// at the entry that first goes over.
    #[test]
    fn a_load_fits_its_budget_or_is_refused_where_it_goes_over(
        entries in prop::collection::vec((any::<bool>(), 0u32..12, 1usize..5), 1..6),
        max_tasks in 0u64..40,
        max_phases in 0u64..120,
    ) {
        let text = entries_toml(&entries);
        let budget = Budget { max_tasks, max_phases };
        let result = scenario::load_within(&[Source::new("budget.toml", text.clone())], 0, Some(1), &budget);
        let (mut tasks, mut phases, mut over) = (0u64, 0u64, None);
        // Counted in the order the file is built in: a section's explicit tasks, then its generators.
        let explicit_first = entries.iter().enumerate().filter(|e| !e.1.0).chain(entries.iter().enumerate().filter(|e| e.1.0));
        for (i, &(generated, count, n)) in explicit_first {
            let made = if generated { u64::from(count) } else { 1 };
            tasks += made;
            phases += made * n as u64;
            if over.is_none() && (tasks > max_tasks || phases > max_phases) {
                over = Some(i);
            }
        }
        match (over, result) {
            (None, Ok(loaded)) => prop_assert_eq!(loaded.world.task_count() as u64, tasks),
            (Some(i), Err(errors)) => {
                prop_assert_eq!(errors.0.len(), 1);
                let e = &errors.0[0];
                let (generated, _, _) = entries[i];
                // A generator at its count's value, an explicit task at its table's header.
                let (line, column) = if generated {
                    let (line, column) = position(&text, "count = ", entries[..i].iter().filter(|e| e.0).count());
                    (line, column + 8)
                } else {
                    position(&text, "[[ecs.tasks]]", entries[..i].iter().filter(|e| !e.0).count())
                };
                prop_assert_eq!((e.line as u64, e.column as u64), (line, column), "{}", e.message);
                prop_assert!(e.message.contains("--max-tasks") || e.message.contains("--max-phases"));
            }
            (over, result) => prop_assert!(false, "expected refusal at {:?}, got {:?}", over, result.map(|l| l.world.task_count())),
        }
    }
}

// --- W1: scenario instants within 1970–9999 -----------------------------------------------------

const OUT_OF_RANGE: &str = r#"[clock]
start = "2026-11-22T08:00:00Z"

[[ecs.tasks]]
id = "t-old"
created = "-100000d"

[[sas.generate]]
count = 3
created = "-1h..+2932000d"

[[hss.tasks]]
task_id = "h-1969"
created = 1969-12-31T23:59:59Z
"#;

#[test]
fn check_refuses_instants_outside_1970_to_9999_at_their_field() {
    let path = temp_file("instants.toml", OUT_OF_RANGE);
    let out = taskemu(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    let name = path.display();
    assert_eq!(
        lines,
        [
            format!("{name}:6:11: created \"-100000d\" lies outside the years 1970-9999 (from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)"),
            format!("{name}:10:11: created \"-1h..+2932000d\" lies outside the years 1970-9999 (from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)"),
            format!("{name}:14:11: created 1969-12-31T23:59:59Z lies outside the years 1970-9999 (from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)"),
        ]
    );
    // The issue's input: refused at the field (whoever refuses it: the duration or the instant).
    let path = temp_file("far.toml", "[[ecs.tasks]]\nid = \"t-far\"\ncreated = \"-99999999999d\"\n");
    let out = taskemu(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("{}:3:11: ", path.display())), "{}", String::from_utf8_lossy(&out.stderr));
    let path = temp_file("start.toml", "[clock]\nstart = \"0001-01-01T00:00:00Z\"\n");
    let out = taskemu(&["check", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("{}:2:9: clock start \"0001-01-01T00:00:00Z\" lies outside the years 1970-9999", path.display())));
}

#[tokio::test]
async fn a_run_time_scenario_with_an_instant_out_of_range_is_a_400_at_its_field() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let reply = load_scenario(&emu, "", "[[avds.scans]]\nscan_id = \"s-far\"\ncreated = \"-99999999999d\"\n").await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(first_error(&reply).0, 3);
    assert_eq!(first_error(&reply).1, 11);
    let reply = load_scenario(&emu, "", "[[avds.scans]]\nscan_id = \"s-far\"\ncreated = \"+2932000d\"\n").await;
    assert_eq!(reply.status, 400);
    assert!(first_error(&reply).2.contains("outside the years 1970-9999"), "{}", first_error(&reply).2);
    assert_eq!(health(&control(&emu, "GET", "/_emu/health", "").await.json()), 23, "nothing was added");
    emu.stop().await.unwrap();
}

// --- C3: periodic AVDS sessions counted, not made ----------------------------------------------

const HOURLY: &str = r#"
[clock]
start = "2026-01-01T00:00:00Z"

[[avds.scans]]
scan_id = "hourly"
task_id = 1000
name = "hourly web perimeter"
trigger = "interval"
period = "hour"
created = "-3h"
lifecycle = [{ status = "waiting", for = "2m" }, { status = "running", for = "40m" }, { status = "finished" }]
"#;

async fn sessions(emu: &Emulator, params: &[(&str, &str)]) -> Value {
    let started = Instant::now();
    let doc = rpc_ok(emu, AVDS, params).await;
    assert!(started.elapsed() < Duration::from_secs(2), "DescribeScanSessions took {:?}", started.elapsed());
    doc
}

fn task_ids(doc: &Value) -> Vec<i64> {
    doc["List"].as_array().unwrap_or_else(|| panic!("no List in {doc}")).iter().map(|s| s["TaskId"].as_i64().unwrap_or(-1)).collect()
}

#[tokio::test]
async fn a_thousand_years_of_hourly_sessions_are_counted_and_paged_without_being_made() {
    let emu = start(HOURLY).await;
    let advanced = control(&emu, "POST", "/_emu/clock", r#"{"advance": "365000d"}"#).await;
    assert_eq!(advanced.status, 200, "{}", advanced.text());
    // Started 3 h before the clock, one an hour: 365,000 × 24 + 3 hours on, the newest on the hour.
    let total: i64 = 365_000 * 24 + 3 + 1;
    let first = sessions(&emu, &[("PageSize", "5")]).await;
    assert_eq!(first["TotalCount"].as_i64(), Some(total));
    assert_eq!(task_ids(&first), (0..5).map(|i| 1000 + total - 1 - i).collect::<Vec<_>>());
    assert_eq!(first["List"][0]["JobStatus"], "waiting");
    // A deep page and the last one: the oldest sessions, by arithmetic.
    let deep = sessions(&emu, &[("PageSize", "100"), ("CurrentPage", "50000")]).await;
    assert_eq!(task_ids(&deep)[0], 1000 + total - 1 - 49_999 * 100);
    let last_page = (total + 99) / 100;
    let last = sessions(&emu, &[("PageSize", "100"), ("CurrentPage", &last_page.to_string())]).await;
    assert_eq!(task_ids(&last).last(), Some(&1000));
    // Statuses by age: the newest is waiting; ten minutes on it runs, and all the rest finished.
    assert_eq!(sessions(&emu, &[("StatusList.1", "running")]).await["TotalCount"].as_i64(), Some(0));
    control(&emu, "POST", "/_emu/clock", r#"{"advance": "10m"}"#).await;
    let running = sessions(&emu, &[("StatusList.1", "running")]).await;
    assert_eq!((running["TotalCount"].as_i64(), task_ids(&running)), (Some(1), vec![1000 + total - 1]));
    assert_eq!(sessions(&emu, &[("StatusList.1", "finished"), ("StatusList.2", "waiting")]).await["TotalCount"].as_i64(), Some(total - 1));
    // The control API's (and the dashboard's) view pages the same way.
    let started = Instant::now();
    let listed = control(&emu, "GET", "/_emu/tasks?product=avds&limit=5", "").await.json();
    assert!(started.elapsed() < Duration::from_secs(2), "/_emu/tasks took {:?}", started.elapsed());
    assert_eq!(listed["total"].as_i64(), Some(total));
    let ids: Vec<String> = listed["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, (0..5).map(|i| (1000 + total - 1 - i).to_string()).collect::<Vec<_>>());
    let finished = control(&emu, "GET", "/_emu/tasks?product=avds&status=finished&offset=3&limit=2", "").await.json();
    assert_eq!((finished["total"].as_i64(), finished["tasks"][0]["id"].as_str()), (Some(total - 1), Some((1000 + total - 2 - 3).to_string().as_str())));
    // A listing is bounded whatever the sessions: a limit past it is refused, not built.
    let refused = control(&emu, "GET", "/_emu/tasks?product=avds&limit=100000000", "").await;
    assert_eq!(refused.status, 400);
    assert!(refused.json()["error"].as_str().unwrap_or("").contains("limit must be at most 10000"));
    assert_eq!(control(&emu, "GET", "/_emu/tasks?product=avds&limit=10000", "").await.json()["tasks"].as_array().map(Vec::len), Some(10_000));
    emu.stop().await.unwrap();
}

#[tokio::test]
async fn sessions_near_the_year_9999_are_counted_too() {
    let emu = start(&format!("{HOURLY}\n[[avds.scans]]\nscan_id = \"minutely\"\ntask_id = 1\ntrigger = \"interval\"\nperiod = \"minute\"\n")).await;
    let set = control(&emu, "POST", "/_emu/clock", r#"{"set": "9999-12-31T00:00:00Z"}"#).await;
    assert_eq!(set.status, 200, "{}", set.text());
    let now = ms("9999-12-31T00:00:00Z");
    let start = ms("2026-01-01T00:00:00Z");
    // Every minute for ~7,974 years: more sessions than a u32 counts.
    let minutely = (now - start) / MINUTE + 1;
    let hourly = (now - (start - 3 * HOUR)) / HOUR + 1;
    assert!(minutely > i64::from(u32::MAX) / 2);
    let doc = sessions(&emu, &[("PageSize", "3")]).await;
    assert_eq!(doc["TotalCount"].as_i64(), Some(minutely + hourly));
    let listed = control(&emu, "GET", "/_emu/tasks?product=avds&limit=5", "").await.json();
    assert_eq!(listed["total"].as_i64(), Some(minutely + hourly));
    emu.stop().await.unwrap();
}

// --- R3: builds off the workers, writers one at a time -----------------------------------------

/// One runtime worker: a build that kept it would leave no one to answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn requests_are_answered_while_a_big_load_builds() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let addr = emu.addr;
    let big = "[[ecs.generate]]\ncount = 150000\n";
    let started = Instant::now();
    let loading = tokio::spawn(async move { send(addr, "POST", "/_emu/scenarios?name=big", &[("Content-Type", "application/toml")], big.as_bytes()).await });
    let mut answered_during = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..200 {
        if loading.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let asked = Instant::now();
        let reply = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("PageSize", "1")]).await;
        assert_eq!(reply.status, 200);
        slowest = slowest.max(asked.elapsed());
        if !loading.is_finished() {
            answered_during += 1;
        }
    }
    let loaded = loading.await.unwrap();
    let took = started.elapsed();
    assert_eq!(loaded.status, 200, "{}", loaded.text());
    assert_eq!(loaded.json()["tasks"].as_u64(), Some(150_023));
    assert!(answered_during >= 3, "only {answered_during} request(s) answered during a {took:?} load");
    assert!(slowest < Duration::from_millis(750), "a request waited {slowest:?} on a {took:?} load");
    emu.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_loads_at_once_both_land() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let (a, b) = tokio::join!(load_scenario(&emu, "?name=a", "[[ecs.generate]]\ncount = 20000\n"), load_scenario(&emu, "?name=b", "[[sas.generate]]\ncount = 20000\n"));
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(health(&control(&emu, "GET", "/_emu/health", "").await.json()), 40_023);
    let names: Vec<String> = control(&emu, "GET", "/_emu/scenarios", "").await.json()["scenarios"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"a".to_string()) && names.contains(&"b".to_string()), "{names:?}");
    emu.stop().await.unwrap();
}
