//! `serve --state FILE` (issue 15, item 3) on the real binary: a random run of control calls,
//! SIGKILLed at random points (one call left in flight), restarted on the same file a few times;
//! every acknowledged change must be there after each restart, and the file must always parse.
//! Also: the file is loaded instead of the scenarios, and a write that fails answers 500 and
//! leaves the old file.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const BASE: &str = r#"
name = "base"
[clock]
start = "2026-11-22T08:00:00Z"
[[ecs.tasks]]
id = "t-base-1"
[[ecs.tasks]]
id = "t-base-2"
lifecycle = [{ status = "Waiting", reads = 2 }, { status = "Finished" }]
# Bulk, so that a write takes long enough for a kill to land in the middle of one.
[[sas.generate]]
count = 3000
"#;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(state: &Path, scenario: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--state", state.to_str().unwrap(), "--scenario", scenario.to_str().unwrap()])
        .env("TASKEMU_LOG", "warn")
        .env_remove("TASKEMU_CONTROL_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn taskemu serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let Some(addr) = line.trim().strip_prefix("taskemu listening on http://").and_then(|a| a.parse::<SocketAddr>().ok()) else {
        let _ = child.kill();
        panic!("unexpected first line {line:?}");
    };
    Server { child, addr }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskemu-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn control(addr: SocketAddr, method: &str, target: &str, body: &str) -> Reply {
    send(addr, method, target, &[("Content-Type", "application/json")], body.as_bytes()).await
}

/// What the world must hold: changes acknowledged, and those whose answer never came (either way).
#[derive(Default, Debug)]
struct Expected {
    present: BTreeSet<String>,
    absent: BTreeSet<String>,
    maybe: BTreeSet<String>,
    faults: usize,
    faults_maybe: usize,
    clock: i64,
    clock_maybe: i64,
}

/// One random call as (method, target, body), and how it changes the expectation once acknowledged.
fn random_call(rng: &mut StdRng, n: usize, expected: &Expected) -> (String, String, String) {
    match rng.random_range(0..5) {
        0 | 1 => ("POST".into(), "/_emu/tasks".into(), format!(r#"{{"product": "ecs", "id": "t-kill-{n}"}}"#)),
        2 if !expected.present.is_empty() => {
            let ids: Vec<&String> = expected.present.iter().collect();
            ("DELETE".into(), format!("/_emu/tasks/{}", ids[rng.random_range(0..ids.len())]), String::new())
        }
        3 => ("POST".into(), "/_emu/faults".into(), r#"{"operation": "ListTasks", "error": {"code": "InternalError"}, "times": 5}"#.into()),
        _ => ("POST".into(), "/_emu/clock".into(), format!(r#"{{"advance": "{}s"}}"#, rng.random_range(1..600))),
    }
}

fn apply(expected: &mut Expected, (method, target, body): &(String, String, String), acknowledged: bool) {
    let advance = |body: &str| body.split('"').nth(3).and_then(|s| s.strip_suffix('s')).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0) * 1000;
    match (method.as_str(), target.as_str()) {
        ("POST", "/_emu/tasks") => {
            let id = body.split('"').nth(7).unwrap_or_default().to_string();
            if acknowledged {
                expected.present.insert(id);
            } else {
                expected.maybe.insert(id);
            }
        }
        ("DELETE", t) => {
            let id = t.trim_start_matches("/_emu/tasks/").to_string();
            expected.present.remove(&id);
            if acknowledged {
                expected.absent.insert(id);
            } else {
                expected.maybe.insert(id);
            }
        }
        ("POST", "/_emu/faults") if acknowledged => expected.faults += 1,
        ("POST", "/_emu/faults") => expected.faults_maybe += 1,
        (_, _) if acknowledged => expected.clock += advance(body),
        _ => expected.clock_maybe += advance(body),
    }
}

/// The world after a restart holds every acknowledged change; an unacknowledged one may or may
/// not be there, and then counts as acknowledged from here on.
async fn check_world(addr: SocketAddr, expected: &mut Expected, context: &str) {
    let tasks = control(addr, "GET", "/_emu/tasks?product=ecs&limit=1000", "").await.json();
    let ids: BTreeSet<String> = tasks["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    for id in &expected.present {
        assert!(ids.contains(id), "{context}: acknowledged task {id} is missing from {ids:?}");
    }
    for id in &expected.absent {
        assert!(!ids.contains(id), "{context}: acknowledged delete of {id} undone");
    }
    for id in std::mem::take(&mut expected.maybe) {
        if ids.contains(&id) {
            expected.present.insert(id);
        } else {
            expected.present.remove(&id);
        }
    }
    let faults = control(addr, "GET", "/_emu/faults", "").await.json()["faults"].as_array().unwrap().len();
    assert!((expected.faults..=expected.faults + expected.faults_maybe).contains(&faults), "{context}: {faults} fault rules, {expected:?}");
    expected.faults = faults;
    expected.faults_maybe = 0;
    let now = control(addr, "GET", "/_emu/clock", "").await.json()["now_ms"].as_i64().unwrap();
    let at = ms("2026-11-22T08:00:00Z") + expected.clock;
    assert!(now == at || now == at + expected.clock_maybe, "{context}: clock at {now}, expected {at} (+{} maybe)", expected.clock_maybe);
    expected.clock = now - ms("2026-11-22T08:00:00Z");
    expected.clock_maybe = 0;
}

fn assert_parses(path: &Path, context: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{context}: the state file cannot be read: {e}"));
    if let Err(e) = taskemu::scenario::load(&[Source::new(path.display().to_string(), text)], 0, None) {
        panic!("{context}: the state file does not load: {e}");
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing_acknowledged_and_never_tears_the_file() {
    let dir = temp_dir("state-kill");
    let (state, scenario) = (dir.join("state.toml"), dir.join("base.toml"));
    std::fs::write(&scenario, BASE).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut rng = StdRng::seed_from_u64(15);
    let mut expected = Expected { present: ["t-base-1".to_string(), "t-base-2".to_string()].into(), ..Expected::default() };
    let mut n = 0;
    for round in 0..6 {
        let mut server = serve(&state, &scenario);
        assert!(state.exists(), "the file is written at start");
        let context = format!("round {round}");
        runtime.block_on(check_world(server.addr, &mut expected, &context));
        let calls = rng.random_range(2..8);
        runtime.block_on(async {
            // How long an acknowledged call took: the kill lands within as long after the last one
            // is sent, so mostly while it is being built or written.
            let mut took = Duration::from_millis(1);
            for _ in 0..calls {
                n += 1;
                let call = random_call(&mut rng, n, &expected);
                let started = std::time::Instant::now();
                let reply = control(server.addr, &call.0, &call.1, &call.2).await;
                took = started.elapsed();
                assert_eq!(reply.status, 200, "{call:?}: {}", reply.text());
                apply(&mut expected, &call, true);
            }
            // One more call, killed while it may be anywhere: never acknowledged.
            n += 1;
            let call = random_call(&mut rng, n, &expected);
            let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let head = format!("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", call.0, call.1, call.2.len(), call.2);
            stream.write_all(head.as_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_micros(rng.random_range(0..=took.as_micros() as u64))).await;
            server.child.kill().expect("SIGKILL");
            server.child.wait().unwrap();
            apply(&mut expected, &call, false);
        });
        assert_parses(&state, &format!("{context}, after the kill"));
    }
    let server = serve(&state, &scenario);
    runtime.block_on(check_world(server.addr, &mut expected, "the last restart"));
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

/// A reader that opens the file while writes go on always finds a whole one (old or new).
#[test]
fn a_reader_never_sees_a_partly_written_file() {
    let dir = temp_dir("state-readers");
    let (state, scenario) = (dir.join("state.toml"), dir.join("base.toml"));
    std::fs::write(&scenario, BASE).unwrap();
    let server = serve(&state, &scenario);
    let done = std::sync::atomic::AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            // Mostly quick looks (a file being rewritten in place is empty or cut short for a
            // moment; a whole one of this world ends with its last task's lifecycle or pins line),
            // now and then a whole load.
            while !done.load(std::sync::atomic::Ordering::Relaxed) && reads < 50_000 {
                let text = std::fs::read_to_string(&state).unwrap_or_else(|e| panic!("read {reads}: {e}"));
                assert!(text.ends_with("]\n") || text.ends_with("}\n") || text.ends_with("\"\n"), "read {reads}: a cut file of {} bytes", text.len());
                if reads % 500 == 0 {
                    assert_parses(&state, &format!("read {reads}"));
                }
                reads += 1;
            }
            reads
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for n in 0..20 {
                let body = format!(r#"{{"product": "ecs", "id": "t-read-{n}"}}"#);
                assert_eq!(control(server.addr, "POST", "/_emu/tasks", &body).await.status, 200);
            }
        });
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(reads > 0);
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_state_file_is_loaded_instead_of_the_scenarios_and_a_failed_write_answers_500() {
    let dir = temp_dir("state-fail");
    let (state, scenario) = (dir.join("state.toml"), dir.join("base.toml"));
    std::fs::write(&scenario, BASE).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    {
        let server = serve(&state, &scenario);
        runtime.block_on(async {
            assert_eq!(control(server.addr, "DELETE", "/_emu/tasks/t-base-1", "").await.status, 200);
            // The temporary file's name taken by a folder: the write fails.
            let blocker = dir.join(".state.toml.tmp");
            std::fs::create_dir(&blocker).unwrap();
            let before = std::fs::read_to_string(&state).unwrap();
            let reply = control(server.addr, "POST", "/_emu/tasks", r#"{"product": "ecs", "id": "t-unsaved"}"#).await;
            assert_eq!(reply.status, 500, "{}", reply.text());
            let error = reply.json()["error"].as_str().unwrap_or_default().to_string();
            assert!(error.contains("state file") && error.contains("state.toml"), "{error}");
            assert_eq!(std::fs::read_to_string(&state).unwrap(), before, "the old file stays");
            std::fs::remove_dir(&blocker).unwrap();
            // Reads never write: the file does not change on a GET.
            assert_eq!(control(server.addr, "GET", "/_emu/tasks", "").await.status, 200);
            assert_eq!(std::fs::read_to_string(&state).unwrap(), before);
        });
    }
    // Another scenario given: the state file wins, and says so by its world.
    std::fs::write(&scenario, "[[ecs.tasks]]\nid = \"t-other\"\n").unwrap();
    let server = serve(&state, &scenario);
    runtime.block_on(async {
        let tasks: Value = control(server.addr, "GET", "/_emu/tasks?limit=100", "").await.json();
        let ids: Vec<&str> = tasks["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&"t-base-2") && !ids.contains(&"t-base-1") && !ids.contains(&"t-other"), "{ids:?}");
    });
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_state_file_that_does_not_load_stops_serve_and_is_left_alone() {
    let dir = temp_dir("state-bad");
    let state = dir.join("state.toml");
    std::fs::write(&state, "[[ecs.tasks]]\nid = 5\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--state", state.to_str().unwrap()])
        .env_remove("TASKEMU_CONTROL_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("state.toml:2:"), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "[[ecs.tasks]]\nid = 5\n");
    std::fs::remove_dir_all(&dir).ok();
}
