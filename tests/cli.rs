//! The CLI's client verbs against a running emulator, each through the real binary: tables by
//! default, JSON with --json, and a clear message with exit 1 when nothing answers.

mod common;

use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn taskemu(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskemu")).args(args).env("TASKEMU_URL", url).output().expect("the binary runs")
}

/// Runs a verb that must succeed and returns its stdout.
fn ok(url: &str, args: &[&str]) -> String {
    let out = taskemu(url, args);
    assert!(out.status.success(), "taskemu {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn json(url: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(url, &all)).expect("--json prints JSON")
}

/// The verbs block on a std socket; the emulator runs on its own runtime threads meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_verbs() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    assert_eq!(ok(&url, &["clock"]), "2026-11-22T08:00:00Z  rate 0.0\n");
    assert_eq!(ok(&url, &["clock", "advance", "90m"]), "2026-11-22T09:30:00Z  rate 0.0\n");
    assert_eq!(ok(&url, &["clock", "advance", "-30m"]), "2026-11-22T09:00:00Z  rate 0.0\n");
    assert_eq!(ok(&url, &["clock", "set", "2026-12-24T18:00:00Z"]), "2026-12-24T18:00:00Z  rate 0.0\n");
    assert_eq!(json(&url, &["clock", "rate", "60"])["rate"], 60.0);
    assert_eq!(json(&url, &["clock", "pause"])["paused"], true);
    assert!(ok(&url, &["clock"]).contains("(paused)"));
    assert_eq!(json(&url, &["clock", "resume"])["paused"], false);
    let refused = taskemu(&url, &["clock", "advance", "soon"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("taskemu refused (400): bad duration"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_load_and_tasks_verbs() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    ok(&url, &["clock", "advance", "1h"]);
    assert_eq!(ok(&url, &["reset"]), "reset: clock at 2026-11-22T08:00:00Z, 23 task(s)\n");

    let dir = std::env::temp_dir().join(format!("taskemu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("extra.toml");
    std::fs::write(&file, "[[sas.tasks]]\nid = 5\nlifecycle = [{ status = \"Failed\" }]\n").unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(ok(&url, &["load", path]), format!("loaded {path}: 24 task(s) now (was 23)\n"));
    let doc = json(&url, &["load", path, "--replace"]);
    assert_eq!((doc["tasks"].as_u64(), doc["replaced"].as_bool()), (Some(1), Some(true)));
    std::fs::write(&file, "[[sas.tasks]]\nid = \"five\"\n").unwrap();
    let refused = taskemu(&url, &["load", path]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&format!("{path}:2:6")), "{}", String::from_utf8_lossy(&refused.stderr));

    let table = ok(&url, &["tasks"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["PRODUCT", "ID", "TENANT", "STATUS", "PROGRESS", "CREATED", "ENDED"]);
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["sas", "5", "-", "Failed", "100%", "2026-11-22T08:00:00Z", "2026-11-22T08:00:00Z"]);
    assert_eq!(lines[2], "1 of 1 task(s) at 2026-11-22T08:00:00Z");
    std::fs::remove_dir_all(&dir).ok();

    ok(&url, &["load", "--replace", &manifest_path("scenarios/demo.toml").display().to_string()]);
    let listed = json(&url, &["tasks", "--product", "ecs", "--status", "Processing"]);
    assert_eq!(pluck(&listed["tasks"], "id"), ["t-bp1demo000processing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_fault_verbs() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let added = ok(&url, &["fault", "add", "--operation", "DescribeTasks", "--error", "ServiceUnavailable", "--times", "1"]);
    assert!(added.starts_with("added rule 1\n"), "{added}");
    let listed = ok(&url, &["fault", "list"]);
    assert_eq!(listed.lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>(), ["1", "DescribeTasks", "-", "error", "ServiceUnavailable", "1", "-", "0"]);
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status, 503);
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status, 200);

    let table = ok(&url, &["requests"]);
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][2], rows[0][4], rows[0][5]), ("DescribeTasks", "503", "ServiceUnavailable"));
    assert_eq!((rows[1][4], rows[1][5]), ("200", "-"));
    assert_eq!(json(&url, &["requests", "--status", "503"])["count"], 1);
    assert_eq!(ok(&url, &["requests", "--clear"]), "cleared 2 request(s)\n");

    ok(&url, &["fault", "add", "--throttle", "5", "--tenant", "LTAIx"]);
    let second = ok(&url, &["fault", "add", "--latency", "10ms..20ms", "--probability", "0.5"]);
    // Only the rule just added is shown, not every rule held.
    let rows: Vec<&str> = second.lines().skip(2).collect();
    assert_eq!((second.lines().next(), rows.len()), (Some("added rule 3"), 1), "{second}");
    assert!(rows[0].starts_with("3 ") && rows[0].contains("latency 10ms..20ms"), "{second}");
    assert_eq!(json(&url, &["fault", "list"])["faults"].as_array().map(Vec::len), Some(2));
    let bad = taskemu(&url, &["fault", "add", "--operation", "Nope", "--throttle", "1"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(ok(&url, &["fault", "clear"]), "cleared 2 rule(s)\n");
}

#[test]
fn every_verb_says_so_plainly_when_no_server_answers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    for args in [vec!["clock"], vec!["reset"], vec!["tasks"], vec!["requests"], vec!["fault", "list"], vec!["load", "scenarios/demo.toml"]] {
        let out = taskemu(&url, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(&format!("taskemu: no taskemu answering at {url}")), "{args:?}: {stderr}");
    }
}
