//! `taskemu import`: captured answers → scenario → serve → the same request gives the same
//! document (RequestId aside). For every documented example and SDK shape (fixtures/docs,
//! fixtures/sdk), and for answers taskemu itself gave from random seeded worlds at random instants,
//! in both dialects and in XML. Plus the refusals, each naming the file and the JSON path, and the
//! CLI (exit 1, `--out`, `--at`).

mod common;

use common::*;
use serde_json::Value;
use taskemu::import::{self, Options};

/// The scenario `import` writes for these captures (name, text).
fn imported(files: &[(&str, String)], options: &Options) -> String {
    let files: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
    import::run(&files, options).unwrap_or_else(|e| panic!("import refused: {e}"))
}

async fn serve_imported(files: &[(&str, String)], options: &Options) -> Emulator {
    let scenario = imported(files, options);
    match Emulator::start(Config::default(), vec![Source::new("imported.toml", scenario.clone())], "127.0.0.1:0".parse().unwrap()).await {
        Ok(emu) => emu,
        Err(e) => panic!("the imported scenario does not load: {e}\n{scenario}"),
    }
}

/// The document without its request id (the one value an answer does not derive from the world).
fn without_request_id(mut doc: Value) -> Value {
    fn strip(v: &mut Value) {
        if let Value::Object(map) = v {
            for key in ["RequestId", "requestId"] {
                map.remove(key);
            }
            map.values_mut().for_each(strip);
        }
    }
    strip(&mut doc);
    doc
}

/// One request of an operation, as the tests replay it.
#[derive(Clone, Copy)]
enum Call<'a> {
    Rpc { op: (&'a str, &'a str), params: &'a [(&'a str, &'a str)], dialect: &'a str, xml: bool },
    /// Huawei: the query, and whether the answer is asked for in XML (`Accept: application/xml`).
    ImageTasks(&'a [(&'a str, &'a str)], bool),
    Tasks(bool),
}

impl Call<'_> {
    async fn text(&self, emu: &Emulator) -> String {
        let reply = match *self {
            Call::Rpc { op, params, dialect, xml } => {
                let mut all = params.to_vec();
                if xml {
                    all.push(("Format", "XML"));
                }
                rpc_dialect(emu, op, &all, Some(dialect)).await
            }
            Call::ImageTasks(params, xml) => {
                let accept = if xml { "application/xml" } else { "application/json" };
                send(emu.addr, "GET", &with_query(&image_tasks_path(PROJECT), params), &[("Content-Type", "application/json"), ("Accept", accept)], b"").await
            }
            Call::Tasks(xml) => {
                let accept = if xml { "application/xml" } else { "application/json" };
                let target = with_query(&batch_query_path(PROJECT), &[("limit", "200")]);
                send(emu.addr, "POST", &target, &[("Content-Type", "application/json"), ("Accept", accept)], b"{}").await
            }
        };
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.text().to_string()
    }

    fn doc(&self, text: &str) -> Value {
        match self {
            Call::Rpc { xml: true, .. } | Call::ImageTasks(_, true) | Call::Tasks(true) => without_request_id(xml_tree(text)),
            _ => without_request_id(serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))),
        }
    }
}

/// import(`captured`) → serve → `call` answers `expected` (parsed, RequestId aside).
async fn reproduces(name: &str, captured: &str, options: &Options, call: Call<'_>, expected: &str) {
    let emu = serve_imported(&[(name, captured.to_string())], options).await;
    let got = call.text(&emu).await;
    let scenario = imported(&[(name, captured.to_string())], options);
    assert_eq!(call.doc(&got), call.doc(expected), "{name}: the imported world answers differently\nscenario:\n{scenario}");
}

const AVDS_PAGE: &[(&str, &str)] = &[("CurrentPage", "1"), ("PageSize", "20")];
const SAS_REQUEST: &[(&str, &str)] = &[("TaskId", "282832")];

fn sas_options() -> Options {
    Options { sas_task_id: Some(282832), ..Options::default() }
}

#[tokio::test]
async fn every_documented_example_and_sdk_shape_comes_back_from_its_import() {
    let none = Options::default();
    let rpc = |op, params, dialect, xml| Call::Rpc { op, params, dialect, xml };
    let cases: Vec<(&str, Options, Call)> = vec![
        // fixtures/docs/README.md: the golden request widens the ECS doc's two contradicting filters.
        ("fixtures/docs/doc_ecs_DescribeTasks.json", none.clone(), rpc(ECS, ECS_REQUEST, "docs", false)),
        ("fixtures/docs/doc_ecs_DescribeTasks.xml", none.clone(), rpc(ECS, ECS_REQUEST, "docs", true)),
        ("fixtures/docs/doc_ecs_DescribeTasks.xml", none.clone(), rpc(ECS, ECS_REQUEST, "sdk", true)),
        ("fixtures/sdk/fixed_ecs_DescribeTasks.json", none.clone(), rpc(ECS, ECS_REQUEST, "sdk", false)),
        ("fixtures/docs/doc_sas_DescribeScanTaskProgress.json", sas_options(), rpc(SAS, SAS_REQUEST, "docs", false)),
        ("fixtures/docs/doc_sas_DescribeScanTaskProgress.json", sas_options(), rpc(SAS, SAS_REQUEST, "sdk", false)),
        ("fixtures/sdk/fixed_sas_DescribeScanTaskProgress.json", sas_options(), rpc(SAS, SAS_REQUEST, "sdk", false)),
        // The AVDS doc's own request (ScanId=1111, Search=任务名) contradicts its response (ScanId
        // 11111, no name): the page the response is.
        ("fixtures/docs/doc_avds_DescribeScanSessions.json", none.clone(), rpc(AVDS, AVDS_PAGE, "docs", false)),
        ("fixtures/docs/doc_avds_DescribeScanSessions.xml", none.clone(), rpc(AVDS, AVDS_PAGE, "docs", true)),
        ("fixtures/sdk/fixed_avds_DescribeScanSessions.json", none.clone(), rpc(AVDS, AVDS_PAGE, "sdk", false)),
        ("fixtures/docs/doc_hss_ListImageScanTask.json", none.clone(), Call::ImageTasks(&[("type", "image_sync")], false)),
        ("fixtures/sdk/fixed_hss_ListImageScanTask.json", none.clone(), Call::ImageTasks(&[("type", "image_sync")], false)),
        ("fixtures/docs/doc_hss_ListTasks.json", none.clone(), Call::Tasks(false)),
        ("fixtures/sdk/fixed_hss_ListTasks.json", none.clone(), Call::Tasks(false)),
    ];
    for (file, options, call) in cases {
        let text = read_fixture(file);
        reproduces(file, &text, &options, call, &text).await;
    }
}

#[test]
fn a_doc_example_imports_to_a_lifecycle_not_to_pins() {
    // The HSS ListTasks doc's running task, captured half-way through (the golden scenario's
    // clock): its counters and estimate follow from a 10-minute run with 2 of 4 clusters failing.
    let text = read_fixture("fixtures/docs/doc_hss_ListTasks.json");
    let at = ms("2025-04-22T08:49:11Z");
    let scenario = imported(&[("doc.json", text)], &Options { at: Some(at), ..Options::default() });
    assert!(scenario.contains(r#"lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]"#), "{scenario}");
    assert!(scenario.contains("clusters = 4, failures = 2"), "{scenario}");
    // The doc's end_time on a running task is a value no lifecycle gives: the one pin.
    assert!(scenario.contains("set = { end_time = 1745311451000 }"), "{scenario}");
    assert!(!scenario.contains("cluster_scan_info."), "{scenario}");
}

#[tokio::test]
async fn an_sdk_to_map_dump_imports_like_the_answer() {
    let body: Value = serde_json::from_str(&read_fixture("fixtures/sdk/fixed_ecs_DescribeTasks.json")).unwrap();
    let dump = serde_json::json!({"headers": {"content-type": "application/json"}, "statusCode": 200, "body": body}).to_string();
    let answer = read_fixture("fixtures/sdk/fixed_ecs_DescribeTasks.json");
    reproduces("to_map.json", &dump, &Options::default(), Call::Rpc { op: ECS, params: ECS_REQUEST, dialect: "sdk", xml: false }, &answer).await;
}

// --- random worlds ------------------------------------------------------------------------------

/// A world of every product from generators, its size and instants drawn from `seed`.
fn random_world(seed: u64) -> String {
    format!(
        r#"
seed = {seed}
[clock]
start = "2026-03-01T12:00:00Z"

[[ecs.generate]]
count = {ecs}
created = "-3h..+30m"

[[sas.generate]]
count = 3
created = "-2h..+0s"
lifecycle = [{{ status = "init", for = "1m..5m" }}, {{ status = "Processing", for = "5m..40m" }}, {{ status = ["Success", "Failed"] }}]

[[avds.generate]]
count = 3
created = "-3h..+0s"
lifecycle = [{{ status = "running", for = "10m..50m" }}, {{ status = ["finished", "aborted"] }}]

[[avds.generate]]
count = 2
trigger = "interval"
period = ["minute", "hour"]
interval = "1..3"
sessions = 40
created = "-3h..-1h"
report = ["finished", "failed"]
report_delay = "10s..3m"
lifecycle = [{{ status = "waiting", for = "1m" }}, {{ status = "running", for = "2m..30m" }}, {{ status = "finished" }}]

[[hss.image_generate]]
count = 4
images = "5..40"
failures = "0..3"
risky = "0..5"
created = "-2h..+20m"
task_type = ["manual", "autoSync", "cycle"]

[[hss.generate]]
count = 4
created = "-2h..+20m"
task_type = ["cluster_scan", "iac_scan"]
cluster_scan = {{ clusters = "1..9", failures = "0..1" }}
iac_scan = {{ files = "4..30", failures = "0..4" }}
lifecycle = [{{ status = "running", for = "3m..45m" }}, {{ status = "finished" }}]
"#,
        ecs = 3 + seed % 5
    )
}

/// xorshift: the instants the tests look at, from the seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Each operation's answers from `emu`, in both dialects and XML, and the calls that gave them.
async fn answers<'a>(emu: &Emulator, sas_ids: &[i64]) -> Vec<(String, Call<'a>, String)> {
    const ECS_ALL: &[(&str, &str)] = &[("RegionId", "cn-hangzhou"), ("PageSize", "100")];
    const AVDS_ALL: &[(&str, &str)] = &[("PageSize", "100")];
    let mut calls: Vec<(String, Call<'a>)> = Vec::new();
    for (dialect, xml) in [("sdk", false), ("docs", false), ("sdk", true), ("docs", true)] {
        calls.push((format!("ecs-{dialect}-{xml}"), Call::Rpc { op: ECS, params: ECS_ALL, dialect, xml }));
        calls.push((format!("avds-{dialect}-{xml}"), Call::Rpc { op: AVDS, params: AVDS_ALL, dialect, xml }));
    }
    for xml in [false, true] {
        let suffix = if xml { "-xml" } else { "" };
        calls.push((format!("image-sync{suffix}"), Call::ImageTasks(&[("type", "image_sync"), ("limit", "200")], xml)));
        calls.push((format!("image-scan{suffix}"), Call::ImageTasks(&[("type", "image_scan"), ("limit", "200")], xml)));
        calls.push((format!("tasks{suffix}"), Call::Tasks(xml)));
    }
    let mut out = Vec::new();
    for (name, call) in calls {
        let text = call.text(emu).await;
        out.push((name, call, text));
    }
    for id in sas_ids {
        let reply = rpc_dialect(emu, SAS, &[("TaskId", &id.to_string())], Some("sdk")).await;
        if reply.status == 200 {
            // A log that kept the request's TaskId beside the answer.
            let mut answer = reply.json();
            answer["TaskId"] = (*id).into();
            out.push((format!("sas-{id}"), Call::Rpc { op: SAS, params: &[], dialect: "sdk", xml: false }, answer.to_string()));
        }
        let reply = rpc_dialect(emu, SAS, &[("TaskId", &id.to_string()), ("Format", "XML")], Some("sdk")).await;
        if reply.status == 200 {
            let root = "</DescribeScanTaskProgressResponse>";
            let answer = reply.text().replace(root, &format!("<TaskId>{id}</TaskId>{root}"));
            out.push((format!("sas-xml-{id}"), Call::Rpc { op: SAS, params: &[], dialect: "sdk", xml: true }, answer));
        }
    }
    out
}

/// Every capture of `world` at `at` (its clock already there), imported alone, served, asked
/// again: the same document. `consistent`: a world without pins imports without pins.
async fn round_trip(world: &Emulator, at: i64, label: &str, consistent: bool) {
    let sas: Value = send(world.addr, "GET", "/_emu/tasks?product=sas", &[], b"").await.json();
    let sas_ids: Vec<i64> = sas["tasks"].as_array().into_iter().flatten().filter_map(|t| t["id"].as_str()?.parse().ok().or_else(|| t["id"].as_i64())).collect();
    let captured = answers(world, &sas_ids).await;
    let options = Options { at: Some(at), ..Options::default() };
    for (name, call, text) in &captured {
        if let Some(id) = name.strip_prefix("sas-xml-") {
            let emu = serve_imported(&[(name, text.clone())], &options).await;
            let got = rpc_dialect(&emu, SAS, &[("TaskId", id), ("Format", "XML")], Some("sdk")).await;
            let expected = text.replace(&format!("<TaskId>{id}</TaskId>"), "");
            assert_eq!(call.doc(&got.text()), call.doc(&expected), "{label}, {name}");
            continue;
        }
        if let Some(id) = name.strip_prefix("sas-") {
            // SAS answers are replayed by their own TaskId.
            let emu = serve_imported(&[(name, text.clone())], &options).await;
            let got = rpc_dialect(&emu, SAS, &[("TaskId", id)], Some("sdk")).await.json();
            let mut expected: Value = serde_json::from_str(text).unwrap();
            expected.as_object_mut().unwrap().remove("TaskId");
            assert_eq!(without_request_id(got), without_request_id(expected), "{label}, {name}");
            continue;
        }
        let emu = serve_imported(&[(name, text.clone())], &options).await;
        let got = call.text(&emu).await;
        let scenario = imported(&[(name, text.clone())], &options);
        assert_eq!(call.doc(&got), call.doc(text), "{label} at {at}, {name}: the imported world answers differently\ncaptured: {text}\nscenario:\n{scenario}");
        if consistent {
            // A world taskemu made is consistent: all of it derives, nothing is pinned.
            let pins: Vec<&str> = scenario.lines().filter(|l| l.starts_with("set =") || l.starts_with("unset =")).collect();
            assert!(pins.is_empty(), "{label}, {name}: pinned {pins:?}\n{scenario}");
        }
    }
    // All captures of a world at once make one scenario that answers each of them.
    let json_sdk = |n: &str| !n.contains("docs") && !n.contains("true") && !n.contains("xml");
    let files: Vec<(&str, String)> = captured.iter().filter(|(n, ..)| json_sdk(n)).map(|(n, _, t)| (n.as_str(), t.clone())).collect();
    let emu = serve_imported(&files, &options).await;
    for (name, call, text) in captured.iter().filter(|(n, ..)| !n.starts_with("sas") && json_sdk(n)) {
        let got = call.text(&emu).await;
        assert_eq!(call.doc(&got), call.doc(text), "{label}, {name} among all captures");
    }
}

#[tokio::test]
async fn answers_of_random_worlds_at_random_instants_come_back_from_their_import() {
    for seed in [3u64, 11, 19, 23, 37, 41] {
        let world = start(&random_world(seed)).await;
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let at = ms("2026-03-01T12:00:00Z") + (next(&mut state) % (90 * MINUTE as u64)) as i64 - 30 * MINUTE;
        world.state.clock.set(at);
        // The captures show tasks (the world is not empty at that instant).
        let listed: Value = send(world.addr, "GET", "/_emu/tasks?limit=1000", &[], b"").await.json();
        let products: std::collections::BTreeSet<&str> = listed["tasks"].as_array().into_iter().flatten().filter_map(|t| t["product"].as_str()).collect();
        assert!(products.len() >= 5, "seed {seed}: only {products:?} have tasks");
        round_trip(&world, at, &format!("seed {seed}"), true).await;
    }
}

#[tokio::test]
async fn answers_of_the_shipped_scenarios_come_back_from_their_import() {
    let mut paths: Vec<_> = std::fs::read_dir(manifest_path("scenarios")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
    paths.sort();
    assert!(paths.len() >= 3);
    for path in paths {
        let name = path.display().to_string();
        let world = start_sources(Config::default(), vec![Source::new(&name, std::fs::read_to_string(&path).unwrap())]).await;
        // Injected errors are the scenario's, not its tasks': the captures are of the answers.
        assert_eq!(send(world.addr, "DELETE", "/_emu/faults", &[("Content-Type", "application/json")], b"").await.status, 200);
        let start = world.state.clock.now();
        for offset in [-20 * MINUTE, 0, 7 * MINUTE + 13_000, 2 * HOUR] {
            world.state.clock.set(start + offset);
            round_trip(&world, start + offset, &name, false).await;
        }
    }
}

// --- refusals -----------------------------------------------------------------------------------

fn refusal(file: &str, text: &str, options: &Options) -> String {
    match import::run(&[(file.to_string(), text.to_string())], options) {
        Ok(scenario) => panic!("{file} was imported:\n{scenario}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_misspelt_status_is_refused_with_the_file_the_path_and_the_nearest_status() {
    let text = read_fixture("fixtures/sdk/fixed_ecs_DescribeTasks.json").replacen("\"Finished\"", "\"Finshed\"", 2);
    let message = refusal("capture.json", &text, &Options::default());
    assert!(message.starts_with("capture.json: $.TaskSet.Task[0].TaskStatus: unknown status \"Finshed\" (did you mean \"Finished\"?)"), "{message}");
}

#[test]
fn refusals_name_the_file_and_the_path() {
    let none = Options::default();
    let cases: Vec<(&str, String, &str)> = vec![
        ("a.json", "{\"nothing\": 1}".into(), "a.json: $: not an answer of the five operations"),
        ("b.json", "[1, 2".into(), "b.json: $: neither JSON nor XML"),
        ("c.xml", "<Other><A>1</A></Other>".into(), "c.xml: $: XML root <Other> is none of the five operations' answers"),
        ("d.xml", "<DescribeTasksResponse><TaskSet><Task><TaskId>t</TaskId>".into(), "d.xml: $: "),
        (
            "e.json",
            read_fixture("fixtures/docs/doc_hss_ListTasks.json").replace("\"start_time\" : 1745311451000", "\"start_time\" : \"soon\""),
            "e.json: $.data_list[0].start_time: expected a whole number, found \"soon\"",
        ),
        (
            "f.json",
            read_fixture("fixtures/docs/doc_hss_ListImageScanTask.json").replace("\"task_status\" : 100", "\"task_status\" : 140"),
            "f.json: $.data_list[0].task_status: unknown status 140",
        ),
        (
            "g.json",
            read_fixture("fixtures/sdk/fixed_avds_DescribeScanSessions.json").replace("\"CreatedAt\": 1565690460000,", ""),
            "g.json: $.List[0].CreatedAt: missing",
        ),
        ("h.json", read_fixture("fixtures/docs/doc_sas_DescribeScanTaskProgress.json"), "h.json: $: a DescribeScanTaskProgress answer does not name its task"),
        (
            "i.json",
            read_fixture("fixtures/sdk/fixed_hss_ListTasks.json").replace("\"dockerfile\"", "\"dockerfil\""),
            "i.json: $.data_list[1].iac_scan_info.file_type: unknown value \"dockerfil\" (did you mean \"dockerfile\"?)",
        ),
    ];
    for (file, text, expected) in cases {
        let message = refusal(file, &text, &none);
        assert!(message.starts_with(expected), "{file}: {message}");
    }
}

#[test]
fn the_cli_writes_the_scenario_or_refuses_with_exit_1() {
    let bin = env!("CARGO_BIN_EXE_taskemu");
    let dir = std::env::temp_dir().join(format!("taskemu-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("scenario.toml");
    let run = std::process::Command::new(bin)
        .args(["import", &manifest_path("fixtures/docs/doc_ecs_DescribeTasks.json").display().to_string(), "--at", "2015-11-25T00:00:00Z", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let scenario = std::fs::read_to_string(&out).unwrap();
    assert!(scenario.contains("start = \"2015-11-25T00:00:00Z\""), "{scenario}");
    let check = std::process::Command::new(bin).arg("check").arg(&out).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let bad = dir.join("capture.json");
    std::fs::write(&bad, read_fixture("fixtures/sdk/fixed_ecs_DescribeTasks.json").replacen("\"Finished\"", "\"Finshed\"", 1)).unwrap();
    let run = std::process::Command::new(bin).arg("import").arg(&bad).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("capture.json: $.TaskSet.Task[0].TaskStatus: unknown status \"Finshed\""), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

// --- outside input ------------------------------------------------------------------------------

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..proptest::prelude::ProptestConfig::default() })]

    /// Any number of a documented capture replaced by any other (times at the ends of the
    /// calendar, negative counts, huge estimates): imported or refused, never a panic.
    #[test]
    fn a_capture_with_any_number_changed_is_imported_or_refused(fixture in 0usize..9, which in 0usize..40, value in proptest::num::i64::ANY, at in proptest::option::of(-1i64..300_000_000_000_000)) {
        let files = [
            "fixtures/docs/doc_ecs_DescribeTasks.json", "fixtures/docs/doc_avds_DescribeScanSessions.json", "fixtures/docs/doc_hss_ListTasks.json",
            "fixtures/docs/doc_hss_ListImageScanTask.json", "fixtures/sdk/fixed_avds_DescribeScanSessions.json", "fixtures/sdk/fixed_hss_ListTasks.json",
            "fixtures/sdk/fixed_hss_ListImageScanTask.json", "fixtures/sdk/fixed_ecs_DescribeTasks.json", "fixtures/docs/doc_avds_DescribeScanSessions.xml",
        ];
        let text = read_fixture(files[fixture]);
        // The n-th run of digits, replaced.
        let runs: Vec<(usize, usize)> = {
            let bytes = text.as_bytes();
            let mut runs = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i].is_ascii_digit() {
                    let start = i;
                    while i < bytes.len() && bytes[i].is_ascii_digit() { i += 1; }
                    runs.push((start, i));
                } else { i += 1; }
            }
            runs
        };
        let (start, end) = runs[which % runs.len()];
        let changed = format!("{}{}{}", &text[..start], value, &text[end..]);
        let _ = import::run(&[("capture".to_string(), changed)], &Options { at, sas_task_id: Some(1) });
    }
}
