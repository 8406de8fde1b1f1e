//! The CLI's rough edges (issue 14), each through the real binary against a running emulator and
//! through the control API it calls: local files said to be local, filters that match whatever
//! their case and refuse what no task could match, fault codes without a default, unique names
//! for loaded scenarios, counts that agree, and the two clocks of `requests`.

mod common;


use common::*;
use serde_json::Value;

/// A verb that must fail: its stderr.
fn refused(url: &str, args: &[&str]) -> String {
    let out = taskemu(url, args);
    assert_eq!(out.status.code(), Some(1), "taskemu {args:?} must fail; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout, no empty table: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn control(emu: &Emulator, method: &str, target: &str, body: &str) -> Reply {
    send(emu.addr, method, target, &[("Content-Type", "application/json")], body.as_bytes()).await
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("taskemu-cli-edges-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_of_a_missing_or_unreadable_file_is_a_local_error() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let missing = scratch_dir("missing").join("no-such.toml");
    let stderr = refused(&url, &["load", missing.to_str().unwrap()]);
    assert!(stderr.starts_with(&format!("taskemu: cannot read {}: ", missing.display())), "{stderr}");
    assert!(!stderr.contains("unexpected answer"), "{stderr}");
    let folder = scratch_dir("folder");
    let stderr = refused(&url, &["load", folder.to_str().unwrap()]);
    assert!(stderr.starts_with(&format!("taskemu: cannot read {}: ", folder.display())), "{stderr}");
    // Said before anything is sent: no server is needed to learn the file is not there.
    let nobody = format!("http://127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    assert!(refused(&nobody, &["load", missing.to_str().unwrap()]).contains("cannot read"));
    assert_eq!(control(&emu, "GET", "/_emu/health", "").await.json()["tasks"], 23, "nothing was loaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_filters_match_any_case_and_refuse_unknown_values_with_the_valid_ones() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let exact = json(&url, &["tasks", "--product", "ecs", "--status", "Finished"]);
    assert!(exact["total"].as_u64().unwrap() > 0, "{exact}");
    for (product, status) in [("ECS", "finished"), ("Ecs", "FINISHED")] {
        assert_eq!(json(&url, &["tasks", "--product", product, "--status", status])["tasks"], exact["tasks"], "{product} {status}");
    }
    let any_product = json(&url, &["tasks", "--status", "FINISHED"]);
    assert!(any_product["total"].as_u64() > exact["total"].as_u64(), "every product's finished tasks: {any_product}");

    let stderr = refused(&url, &["tasks", "--product", "ecz"]);
    assert!(stderr.contains("400") && stderr.contains("unknown product \"ecz\": expected one of ecs, sas, avds, hss_image, hss_task (did you mean \"ecs\"?)"), "{stderr}");
    let stderr = refused(&url, &["tasks", "--product", "ecs", "--status", "finishd"]);
    assert!(stderr.contains("unknown ecs status \"finishd\": expected one of Waiting, Processing, Paused, Finished, Failed, Deleted (did you mean \"Finished\"?)"), "{stderr}");
    // A status some product has, but not the one asked for, is refused too: it could never match.
    let stderr = refused(&url, &["tasks", "--product", "ecs", "--status", "scanning"]);
    assert!(stderr.contains("unknown ecs status \"scanning\""), "{stderr}");
    let stderr = refused(&url, &["tasks", "--status", "nope"]);
    assert!(stderr.contains("unknown status \"nope\": expected one of") && stderr.contains("scanning"), "{stderr}");

    let reply = control(&emu, "GET", "/_emu/tasks?product=HSS_IMAGE&status=Finished", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.json()["tasks"].as_array().unwrap().iter().all(|t| t["product"] == "hss_image" && t["status"] == "finished"));
    let reply = control(&emu, "GET", "/_emu/tasks?status=bogus", "").await;
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"].as_str().unwrap().starts_with("unknown status \"bogus\""), "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_filters_match_any_case_and_refuse_unknown_operations() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    for operation in ["DescribeTasks", "describetasks", "DESCRIBETASKS"] {
        let listed = json(&url, &["requests", "--operation", operation]);
        assert_eq!(pluck(&listed["requests"], "operation"), ["DescribeTasks"], "{operation}");
    }
    let stderr = refused(&url, &["requests", "--operation", "DescribeTask"]);
    assert!(stderr.contains("unknown operation \"DescribeTask\": expected one of") && stderr.contains("(did you mean \"DescribeTasks\"?)"), "{stderr}");
    let reply = control(&emu, "GET", "/_emu/requests?operation=ListTask", "").await;
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"].as_str().unwrap().contains("did you mean \"ListTasks\"?"), "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_dialect_header_is_an_invalid_parameter_naming_the_valid_values() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let message = "The specified parameter \"x-taskemu-dialect\" is not valid: \"json\" is not a dialect; valid values: sdk, docs.";
    let reply = rpc_dialect(&emu, ECS, &[("RegionId", "cn-hangzhou")], Some("json")).await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "InvalidParameter", message);
    let reply = rpc_dialect(&emu, AVDS, &[], Some("json")).await;
    assert_eq!((reply.status, reply.json()["Code"].as_str()), (400, Some("InvalidParameter")), "{}", reply.text());
    // In the format the caller asked for.
    let reply = rpc_dialect(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("Format", "XML")], Some("json")).await;
    assert!(reply.status == 400 && reply.text().contains("<Code>InvalidParameter</Code>"), "{}", reply.text());
    // The valid values, whatever their case, and an empty header (none given), are answered.
    for dialect in [Some("DOCS"), Some("sdk"), Some(""), None] {
        assert_eq!(rpc_dialect(&emu, ECS, &[("RegionId", "cn-hangzhou")], dialect).await.status, 200, "{dialect:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_code_without_a_default_is_accepted_and_the_answer_says_what_it_will_use() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let added = control(&emu, "POST", "/_emu/faults", r#"{"operation":"DescribeTasks","error":{"code":"Boom"},"times":1}"#).await.json();
    let notes = added["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{added}");
    let note = notes[0].as_str().unwrap();
    assert!(note.contains("Alibaba Cloud error code \"Boom\"") && note.contains("HTTP 400 with message \"The request has failed.\""), "{note}");
    // What the note said is what the call gets.
    let reply = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "Boom", "The request has failed.");

    // A wildcard rule reaches both clouds; a status given is the one said.
    let added = control(&emu, "POST", "/_emu/faults", r#"{"error":{"code":"Kaput","status":502},"times":1}"#).await.json();
    let notes: Vec<&str> = added["notes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(notes.len(), 2, "{added}");
    assert!(notes[0].contains("Alibaba Cloud") && notes[1].contains("Huawei Cloud") && notes.iter().all(|n| n.contains("HTTP 502")), "{notes:?}");
    // Codes the emulator knows, and rules that say both status and message, need no note.
    for rule in [r#"{"operation":"DescribeTasks","error":{"code":"Throttling"}}"#, r#"{"operation":"ListTasks","error":{"code":"HSS.0041"}}"#, r#"{"error":{"code":"Mine","status":418,"message":"teapot"}}"#] {
        assert_eq!(control(&emu, "POST", "/_emu/faults", rule).await.json()["notes"], serde_json::json!([]), "{rule}");
    }
    control(&emu, "DELETE", "/_emu/faults", "").await;

    let text = ok(&url, &["fault", "add", "--operation", "ListTasks", "--error", "HSS.9999"]);
    assert!(text.lines().last().unwrap().starts_with("note: rule ") && text.contains("Huawei Cloud error code \"HSS.9999\""), "{text}");

    // A scenario's [[faults]] are told of the same way, in the load's answer.
    let file = scratch_dir("fault-notes").join("faults.toml");
    std::fs::write(&file, "[[faults]]\noperation = \"DescribeScanSessions\"\nerror = { code = \"Oops\" }\n").unwrap();
    let text = ok(&url, &["load", file.to_str().unwrap()]);
    assert!(text.contains("note: rule ") && text.contains("Alibaba Cloud error code \"Oops\""), "{text}");
}

fn one_task(id: usize) -> String {
    format!("[[sas.tasks]]\nid = {id}\nlifecycle = [{{ status = \"Failed\" }}]\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_scenarios_get_unique_names_and_errors_name_the_file_sent() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    let load = |query: &'static str, body: String| {
        let emu = &emu;
        async move { send(emu.addr, "POST", &format!("/_emu/scenarios{query}"), &[("Content-Type", "application/toml")], body.as_bytes()).await }
    };
    // Loads, a replacement (fewer scenarios after it), and loads again: once counted from the
    // scenarios held, the names came round again.
    let mut names = Vec::new();
    for (i, query) in ["", "?replace=true", "", "", "?name=mine.toml", "?name=mine.toml"].into_iter().enumerate() {
        let reply = load(query, one_task(1000 + i)).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.text());
        names.push(reply.json()["loaded"].as_str().unwrap().to_string());
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    assert_eq!(names[4..], ["mine.toml", "mine.toml#2"]);
    let listed = control(&emu, "GET", "/_emu/scenarios", "").await.json();
    let held: Vec<String> = pluck(&listed["scenarios"], "name");
    assert_eq!(held.len(), 5, "the replacement dropped the demo and the first load: {held:?}");

    // A broken file is named as sent, even when a scenario of that name is loaded already.
    let reply = load("?name=mine.toml", "[[sas.tasks]]\nid = \n".to_string()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["errors"][0]["file"], "mine.toml", "{}", reply.text());
    assert!(reply.json()["error"].as_str().unwrap().starts_with("mine.toml:2:"), "{}", reply.text());

    let file = scratch_dir("names").join("broken.toml");
    std::fs::write(&file, "[[ecs.tasks]]\nid = \"t-1\"\nlifecycle = [{ status = \"Finishd\" }]\n").unwrap();
    let stderr = refused(&url, &["load", file.to_str().unwrap()]);
    assert!(stderr.contains(&format!("{}:3:", file.display())), "the user's own path, at the line: {stderr}");
}

/// Health, the listing, `taskemu tasks`, `taskemu healthcheck` and the dashboard count the same
/// things under the same names: tasks, AVDS scans, AVDS sessions; before and after time moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_agree_everywhere_and_name_avds_scans_and_sessions() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    for advance in ["0s", "3h"] {
        control(&emu, "POST", "/_emu/clock", &format!(r#"{{"advance":"{advance}"}}"#)).await;
        let health = control(&emu, "GET", "/_emu/health", "").await.json();
        let listed = control(&emu, "GET", "/_emu/tasks?limit=10000", "").await.json();
        let counts = &health["counts"];
        assert_eq!(&listed["counts"], counts, "after {advance}");
        let (tasks, scans, sessions) = (counts["tasks"].as_u64().unwrap(), counts["scans"].as_u64().unwrap(), counts["sessions"].as_u64().unwrap());
        assert_eq!(listed["total"].as_u64(), Some(tasks + sessions), "a listing's lines are tasks and sessions");
        let lines = listed["tasks"].as_array().unwrap();
        assert_eq!(lines.iter().filter(|t| t["product"] == "avds").count() as u64, sessions);
        assert_eq!(lines.iter().filter(|t| t["product"] == "avds").map(|t| t["scan_id"].to_string()).collect::<std::collections::BTreeSet<_>>().len() as u64, scans);
        let avds = control(&emu, "GET", "/_emu/tasks?product=avds&limit=0", "").await.json();
        assert_eq!((avds["counts"]["scans"].as_u64(), avds["counts"]["sessions"].as_u64(), avds["counts"]["tasks"].as_u64()), (Some(scans), Some(sessions), Some(0)));

        let said = format!("{tasks} task(s), {scans} AVDS scan(s) with {sessions} session(s)");
        let table = ok(&url, &["tasks", "--limit", "5"]);
        assert!(table.ends_with(&format!("5 of {} line(s) at {}: {said}\n", tasks + sessions, listed["now"].as_str().unwrap())), "{table}");
        let ready = ok(&url, &["healthcheck"]);
        assert!(ready.contains(&format!(", {said}, clock ")), "{ready}");
    }
    // The dashboard words them from the same fields.
    let script = send(emu.addr, "GET", "/_emu/ui/app.js", &[], b"").await.text();
    assert!(script.contains("countsText(h.counts)") && script.contains("AVDS scan(s) with ${c.sessions} session(s)") && script.contains("data.counts.scans"), "the dashboard reads counts");
}

/// `--since` is the wall clock (when a request arrived), `--virtual-since` the emulator's clock
/// (what the tasks were derived at): moving the virtual clock back and forth tells them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_since_is_wall_clock_and_virtual_since_is_the_virtual_clock() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    control(&emu, "POST", "/_emu/clock", r#"{"advance":"2h"}"#).await;
    rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await; // virtual 10:00
    control(&emu, "POST", "/_emu/clock", r#"{"advance":"-1h"}"#).await;
    rpc(&emu, SAS, &[("TaskId", "1")]).await; // virtual 09:00, arrived later (a refusal is journalled too)
    let operations = |args: &[&str]| pluck(&json(&url, &[&["requests"], args].concat())["requests"], "operation");
    assert_eq!(operations(&["--virtual-since", "2026-11-22T09:30:00Z"]), ["DescribeTasks"]);
    assert_eq!(operations(&["--virtual-since", "2026-11-22T09:00:00Z"]), ["DescribeTasks", "DescribeScanTaskProgress"]);
    assert_eq!(operations(&["--since", "2000-01-01T00:00:00Z"]).len(), 2, "both arrived after 2000 on the wall clock");
    assert!(operations(&["--since", "2999-01-01T00:00:00Z"]).is_empty(), "and none after 2999");
    assert_eq!(operations(&["--since", "2000-01-01T00:00:00Z", "--virtual-since", "2026-11-22T10:00:00Z"]), ["DescribeTasks"]);
    let reply = control(&emu, "GET", "/_emu/requests?virtual_since=2026-11-22T09:30:00Z", "").await.json();
    assert_eq!(pluck(&reply["requests"], "virtual_time"), ["2026-11-22T10:00:00Z"]);
    assert!(refused(&url, &["requests", "--virtual-since", "yesterday"]).contains("virtual_since takes an RFC 3339 instant (virtual time)"));
    let table = ok(&url, &["requests"]);
    assert!(table.lines().next().unwrap().ends_with("VIRTUAL") && table.lines().nth(1).unwrap().ends_with("2026-11-22T10:00:00Z"), "{table}");
    let help = ok(&url, &["requests", "--help"]);
    assert!(help.contains("wall-clock") && help.contains("--virtual-since"), "{help}");
}

/// A call to an action the catalogue lacks is journalled under the name it sent: asking for that
/// name finds it (a client's typo is what one looks for), whatever the case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journalled_unknown_action_can_be_asked_for() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let url = emu.url();
    assert_eq!(rpc(&emu, ("DescribeTaskz", "2014-05-26"), &[("RegionId", "cn-hangzhou")]).await.status, 404);
    for asked in ["DescribeTaskz", "describetaskz"] {
        assert_eq!(pluck(&json(&url, &["requests", "--operation", asked])["requests"], "operation"), ["DescribeTaskz"], "{asked}");
    }
    assert!(refused(&url, &["requests", "--operation", "DescribeTaskx"]).contains("did you mean \"DescribeTasks\"?"));
}

/// A file that loads with one warning (a generator whose tasks are all alike) at line 2, column 1.
fn alike(seed: u64) -> String {
    format!("seed = {seed}\n[[ecs.generate]]\ncount = 2\ncreated = \"-1h\"\n")
}

fn alike_warning(file: &str) -> String {
    format!("{file}:2:1: warning: all 2 tasks of this generator are created at the same instant and change status together: give `created` a range (e.g. \"-2h..+0s\") or a phase's `for` one (\"1m..10m\") to spread them")
}

/// Issue 14, G1: a run-time load answers its warnings, at their places, naming the file as sent
/// (not the suffix that kept its name apart), whether it adds to the world or replaces it; a
/// load without any answers an empty list, and so does `POST /_emu/tasks` (one entry makes none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_time_load_answers_its_warnings_naming_the_file_sent() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let load = |query: &'static str, body: String| {
        let emu = &emu;
        async move { send(emu.addr, "POST", &format!("/_emu/scenarios{query}"), &[("Content-Type", "application/toml")], body.as_bytes()).await }
    };
    let clean = load("?name=mine.toml", one_task(3000)).await;
    assert_eq!((clean.status, clean.json()["warnings"].clone()), (200, serde_json::json!([])), "{}", clean.text());
    let warned = load("?name=mine.toml", alike(11)).await;
    assert_eq!(warned.status, 200, "{}", warned.text());
    assert_eq!(warned.json()["loaded"], "mine.toml#2");
    assert_eq!(warned.json()["warnings"], serde_json::json!([alike_warning("mine.toml")]));
    let unnamed = load("", alike(12)).await.json();
    let name = unnamed["loaded"].as_str().unwrap().to_string();
    assert!(name.starts_with("runtime-"), "{name}");
    assert_eq!(unnamed["warnings"], serde_json::json!([alike_warning(&name)]));
    let replaced = load("?replace=true&name=again.toml", alike(13)).await.json();
    assert_eq!((replaced["replaced"].clone(), replaced["warnings"].clone()), (serde_json::json!(true), serde_json::json!([alike_warning("again.toml")])));
    let added = control(&emu, "POST", "/_emu/tasks", r#"{"product": "ecs", "id": "t-added"}"#).await;
    assert_eq!((added.status, added.json()["warnings"].clone()), (200, serde_json::json!([])), "{}", added.text());
}

/// Issue 14, G1: `taskemu load` prints the load's warnings on stderr (the load still done, exit
/// 0, the path as given), and the server logs them.
#[test]
fn taskemu_load_prints_the_warnings_and_the_server_logs_them() {
    let dir = scratch_dir("load-warnings");
    let log_path = dir.join("serve.log");
    let served = spawn_serve(&[], std::process::Stdio::from(std::fs::File::create(&log_path).unwrap()));
    let file = dir.join("alike.toml");
    std::fs::write(&file, alike(21)).unwrap();
    let out = taskemu(&served.url(), &["load", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(&format!("loaded {}: ", file.display())), "{stdout}");
    let expected = alike_warning(&file.display().to_string());
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{expected}\n"));
    // --json keeps stdout JSON, the warnings in it.
    std::fs::write(&file, alike(22)).unwrap();
    let answer = json(&served.url(), &["load", file.to_str().unwrap()]);
    assert_eq!(answer["warnings"][0], expected.as_str());
    drop(served);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(log.lines().filter(|line| line.contains(&expected)).count(), 2, "{log}");
}

/// Issue 14, G3: loads posted at the same instant under one `?name=` (and unnamed ones) never
/// share a name: the name is reserved before the build, not picked from the loaded list. Eight
/// at once, three rounds, then the held list has no name twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_name_get_distinct_names() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let mut names = Vec::new();
    for round in 0..3 {
        let posts = (0..8).map(|i| {
            let addr = emu.addr;
            let query = if i % 4 == 3 { String::new() } else { "?name=x.toml".to_string() };
            let body = one_task(5000 + round * 8 + i);
            tokio::spawn(async move { send(addr, "POST", &format!("/_emu/scenarios{query}"), &[("Content-Type", "application/toml")], body.as_bytes()).await })
        });
        for post in posts.collect::<Vec<_>>() {
            let reply = post.await.unwrap();
            assert_eq!(reply.status, 200, "{}", reply.text());
            names.push(reply.json()["loaded"].as_str().unwrap().to_string());
        }
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 24, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with("x.toml")).count(), 18);
    assert!(names.contains(&"x.toml".to_string()) && names.contains(&"x.toml#18".to_string()), "{names:?}");
    let listed = control(&emu, "GET", "/_emu/scenarios", "").await.json();
    let mut held = pluck(&listed["scenarios"], "name");
    held.sort();
    held.dedup();
    assert_eq!(held.len(), 25, "the demo and every load, no name twice: {held:?}");
}
