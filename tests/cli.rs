//! The CLI's client verbs against a running emulator, each through the real binary: tables by
//! default, JSON with --json, and a clear message with exit 1 when nothing answers; and the pipeline
//! verbs `healthcheck` (the exit status is the answer) and `env` (lines a shell `eval`s).

mod common;

use std::process::Command;

use common::*;

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

fn free_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_when_ready_and_1_when_nothing_answers() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let line = ok(&url, &["healthcheck"]);
    assert!(line.starts_with(&format!("ready: taskemu {} at {url}, 19 task(s), 4 AVDS scan(s) with 7 session(s), clock 2026-11-22T08:00:00Z", env!("CARGO_PKG_VERSION"))), "{line}");
    assert_eq!(json(&url, &["healthcheck"])["status"], "ready");

    let dead = free_port_url();
    let out = taskemu(&dead, &["healthcheck"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("taskemu: no taskemu answering at {dead}")));
    // --url wins over TASKEMU_URL, as for every client verb.
    assert!(taskemu(&dead, &["healthcheck", "--url", &url]).status.success());
    let bad = taskemu(&url, &["healthcheck", "--wait", "soon"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad --wait"));
    assert_eq!(taskemu(&url, &["healthcheck", "--wait", "11m"]).status.code(), Some(1), "--wait is bounded");
    let started = std::time::Instant::now();
    let malformed = taskemu("ftp://nowhere", &["healthcheck", "--wait", "5m"]);
    assert_eq!(malformed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("bad --url"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a malformed URL fails at once, whatever --wait says");
}

/// A server that requires a control token answers health only to a caller that sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_and_env_carry_the_control_token() {
    let emu = start_sources(Config { control_token: Some("the-token".into()), ..Config::default() }, vec![Source::demo()]).await;
    let url = emu.url();
    let refused = taskemu(&url, &["healthcheck"]);
    assert_eq!(refused.status.code(), Some(1), "no token, no health");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(ok(&url, &["healthcheck", "--token", "the-token"]).starts_with("ready"));
    let lines = eval_env(&url, Some("the-token"));
    assert_eq!(lines[7], "TASKEMU_CONTROL_TOKEN=the-token");
}

/// The wait loop a pipeline runs before its tests: the server comes up while healthcheck waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_wait_sees_a_server_that_starts_late_and_gives_up_in_time() {
    let url = free_port_url();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let waiting = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || taskemu(&url, &["healthcheck", "--wait", "20s"]))
    };
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let emu = Emulator::start(Config::default(), vec![Source::demo()], addr).await.expect("the reserved port is free again");
    let out = waiting.await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    emu.stop().await.unwrap();

    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || taskemu(&url, &["healthcheck", "--wait", "500ms"])).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_millis(400) && took < std::time::Duration::from_secs(5), "{took:?}");
}

/// Runs `eval "$(taskemu env)"` in sh and prints the variables it set, one `NAME=value` a line.
fn eval_env(url: &str, token: Option<&str>) -> Vec<String> {
    let names = ["TASKEMU_URL", "TASKEMU_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "TASKEMU_CONTROL_TOKEN"];
    let show: String = names.iter().map(|n| format!("echo \"{n}=${{{n}-unset}}\"; ")).collect();
    let script = format!("eval \"$(\"$TASKEMU\" env --url \"$1\")\" || exit 9; {show}");
    let mut command = Command::new("sh");
    command.args(["-c", &script, "sh", url]).env("TASKEMU", env!("CARGO_BIN_EXE_taskemu")).env_remove("TASKEMU_URL").env_remove("TASKEMU_CONTROL_TOKEN");
    if let Some(token) = token {
        command.env("TASKEMU_CONTROL_TOKEN", token);
    }
    let out = command.output().expect("sh runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_exports_the_worlds_widest_credentials_when_auth_is_on() {
    let scenario = r#"
[[credentials]]
access_key_id = "LTAInarrow"
access_key_secret = "narrow-secret"
allow = ["ecs:*"]

[[credentials]]
access_key_id = "LTAIwide"
access_key_secret = "it's $wide `secret`"

[[credentials]]
token = "a-huawei-token"

[[credentials]]
ak = "HWAK1"
sk = "hw-sk-1"
project_id = "f0000000000000000000000000000001"
"#;
    let emu = start(scenario).await;
    let url = emu.url();
    let endpoint = emu.addr.to_string();
    assert_eq!(
        eval_env(&url, None),
        [
            format!("TASKEMU_URL={url}"),
            format!("TASKEMU_ENDPOINT={endpoint}"),
            "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIwide".into(),
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET=it's $wide `secret`".into(),
            "HUAWEICLOUD_SDK_AK=HWAK1".into(),
            "HUAWEICLOUD_SDK_SK=hw-sk-1".into(),
            "HUAWEICLOUD_SDK_PROJECT_ID=f0000000000000000000000000000001".into(),
            "TASKEMU_CONTROL_TOKEN=unset".into(),
        ]
    );
    let as_json = json(&url, &["env"]);
    assert_eq!(as_json["ALIBABA_CLOUD_ACCESS_KEY_ID"], "LTAIwide");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_with_auth_off_exports_keys_any_signature_passes_and_the_token_only_when_known() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let lines = eval_env(&url, Some("tok'en$1"));
    assert_eq!(lines[2], "ALIBABA_CLOUD_ACCESS_KEY_ID=taskemu-any-key");
    assert_eq!(lines[4], "HUAWEICLOUD_SDK_AK=TASKEMUANYAK");
    assert_eq!(lines[6], format!("HUAWEICLOUD_SDK_PROJECT_ID={PROJECT}"));
    assert_eq!(lines[7], "TASKEMU_CONTROL_TOKEN=tok'en$1", "quoted so that eval gives it back unchanged");

    // With auth on and no Huawei AK/SK, the Huawei keys are left out and the job is told why.
    let alibaba_only = start("[[credentials]]\naccess_key_id = \"LTAIa\"\naccess_key_secret = \"s\"\n").await;
    let text = ok(&alibaba_only.url(), &["env"]);
    assert!(!text.contains("HUAWEICLOUD_SDK_AK"), "{text}");
    assert!(text.contains("# auth is on and the world has no Huawei AK/SK"), "{text}");

    let out = taskemu(&free_port_url(), &["env"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing for eval to run when no server answers");
}
