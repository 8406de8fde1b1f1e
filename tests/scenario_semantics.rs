//! Issue 14's semantic checks, each an error at the offending value with what is allowed (and a
//! "did you mean" for a misspelt name): regions real or declared, Huawei projects of 32 hex
//! characters or declared, numbers within their field, `failures` within what it fails, lifecycles
//! by their product's transition table; and item 4 over HTTP: an HSS image task's `failed_num`
//! and `failed_images` agree when the scenario lists no failed image.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;
use taskemu::scenario::{self, ScenarioErrors};

const NAME: &str = "semantics.toml";

fn load(text: &str) -> Result<scenario::Loaded, ScenarioErrors> {
    scenario::load(&[Source::new(NAME, text)], ms("2026-01-01T00:00:00Z"), None)
}

/// The error lines a scenario makes (it must make some).
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// `NAME:LINE:COLUMN` of the `nth` (0-based) occurrence of `needle` in `text`.
fn at(text: &str, needle: &str, nth: usize) -> String {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle:?} #{nth} not in the scenario")).0;
    let before = &text[..offset];
    format!("{NAME}:{}:{}", before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap_or("").chars().count() + 1)
}

/// Asserts that the scenario fails with exactly these lines (any order: sorting is the loader's).
fn assert_errors(text: &str, expected: &[String]) {
    let mut got = errors(text);
    let mut expected = expected.to_vec();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn an_alibaba_region_is_real_or_declared() {
    let text = r#"
[[ecs.tasks]]
id = "t-typo"
region = ["cn-shanghai", "cn-hangzou"]

[[ecs.tasks]]
id = "t-nowhere"
region = "cn-nowhere"
"#;
    let made_up = "use a real region id (cn-hangzhou, ap-southeast-1, ...) or declare a made-up one at the top of the file";
    assert_errors(
        text,
        &[
            format!("{}: unknown Alibaba Cloud region \"cn-hangzou\" (did you mean \"cn-hangzhou\"?): {made_up}: regions = [\"cn-hangzou\"]", at(text, "\"cn-hangzou\"", 0)),
            format!("{}: unknown Alibaba Cloud region \"cn-nowhere\": {made_up}: regions = [\"cn-nowhere\"]", at(text, "\"cn-nowhere\"", 0)),
        ],
    );
    // Declared on purpose, a made-up region loads, and a misspelling of it is caught.
    let declared = "regions = [\"my-test-region\"]\n\n[[ecs.tasks]]\nid = \"t-mine\"\nregion = \"my-test-region\"\n";
    let loaded = load(declared).expect("a declared region loads");
    assert!(loaded.world.regions.contains("my-test-region"));
    let typo = "regions = [\"my-test-region\"]\n\n[[ecs.tasks]]\nid = \"t-mine\"\nregion = \"my-test-regoin\"\n";
    let lines = errors(typo);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{}: unknown Alibaba Cloud region \"my-test-regoin\" (did you mean \"my-test-region\"?)", at(typo, "\"my-test-regoin\"", 0))), "{lines:?}");
    // Every real region of the one list loads.
    assert!(load("[[ecs.generate]]\ncount = 3\nregion = [\"cn-hangzhou\", \"ap-southeast-1\", \"eu-central-1\", \"me-central-1\", \"us-east-1\"]\n").is_ok());
}

#[test]
fn a_declaration_holds_for_every_file_of_the_load() {
    let declares = Source::new("declares.toml", "regions = [\"lab-1\"]\nprojects = [\"tenant-a\"]\n");
    let uses = Source::new("uses.toml", "[[ecs.tasks]]\nid = \"t-lab\"\nregion = \"lab-1\"\n\n[[hss.tasks]]\ntask_id = \"h-a\"\nproject_id = \"tenant-a\"\n");
    let start = ms("2026-01-01T00:00:00Z");
    // In either order: a declaration is the load's, not only its file's.
    assert!(scenario::load(&[uses.clone(), declares.clone()], start, None).is_ok());
    let loaded = scenario::load(&[declares, uses.clone()], start, None).expect("declared in another file");
    assert!(loaded.world.projects.contains("tenant-a"));
    assert!(scenario::load(&[uses], start, None).is_err(), "undeclared alone");
}

/// A task added at run time may use what the running world's scenarios declared.
#[tokio::test]
async fn a_run_time_task_may_use_what_the_running_world_declared() {
    let emu = start("regions = [\"lab-1\"]\nprojects = [\"tenant-a\"]\n").await;
    let add = |body: &'static str| async move { send(emu.addr, "POST", "/_emu/tasks", &[("Content-Type", "application/json")], body.as_bytes()).await };
    let ecs = add(r#"{"product":"ecs","id":"t-lab","region":"lab-1"}"#).await;
    assert_eq!(ecs.status, 200, "{}", ecs.text());
    let hss = add(r#"{"product":"hss_task","task_id":"h-a","project_id":"tenant-a"}"#).await;
    assert_eq!(hss.status, 200, "{}", hss.text());
    let refused = add(r#"{"product":"ecs","id":"t-typo","region":"lab-2"}"#).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let error = refused.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(error.starts_with("POST /_emu/tasks:3:10: unknown Alibaba Cloud region \"lab-2\" (did you mean \"lab-1\"?)"), "{error}");
    let listed = rpc_ok(&emu, ("DescribeTasks", "2014-05-26"), &[("RegionId", "lab-1")]).await;
    assert_eq!(listed["TotalCount"], 1, "{listed}");
}

#[test]
fn a_huawei_project_is_32_hex_characters_or_declared() {
    let text = r#"
projects = ["tenant-a"]

[[hss.image_tasks]]
task_id = "i-short"
project_id = "short"

[[hss.tasks]]
task_id = "h-typo"
project_id = "tenant-b"

[[hss.tasks]]
task_id = "h-upper-ok"
project_id = "0123456789ABCDEF0123456789abcdef"

[[hss.tasks]]
task_id = "h-declared"
project_id = "tenant-a"
"#;
    let not_a_project = |id: &str, hint: &str| {
        format!(
            "{}: project_id \"{id}\" is not a Huawei project id (32 hex characters, e.g. \"0123456789abcdef0123456789abcdef\"){hint}: declare a made-up one at the top of the file: projects = [\"{id}\"]",
            at(text, &format!("\"{id}\""), 0)
        )
    };
    assert_errors(text, &[not_a_project("short", ""), not_a_project("tenant-b", " (did you mean \"tenant-a\"?)")]);
}

#[test]
fn numbers_outside_their_field_are_errors_at_the_value() {
    let text = r#"
[[sas.tasks]]
id = 0

[[avds.scans]]
scan_id = "scan-one"
task_id = -4
trigger = "interval"
interval = "0..3"
sessions = 0

[[hss.image_tasks]]
task_id = "i-1"
rate_limit = 5000
scan_scope = -1

[[ecs.tasks]]
id = "t-reads"
lifecycle = [{ status = "Processing", reads = "0..2" }, { status = "Finished" }]
"#;
    assert_errors(
        text,
        &[
            format!("{}: `id` = 0 is out of range: it must be at least 1", at(text, "0\n", 0)),
            format!("{}: `task_id` = -4 is out of range: it must be at least 1", at(text, "-4", 0)),
            format!("{}: `interval` = \"0..3\" is out of range: allowed from 1 to 4294967295", at(text, "\"0..3\"", 0)),
            format!("{}: `sessions` = 0 is out of range: allowed from 1 to 4294967295", at(text, "0\n\n[[hss", 0)),
            format!("{}: `rate_limit` = 5000 is out of range: allowed from 0 to 1000", at(text, "5000", 0)),
            format!("{}: `scan_scope` = -1 is out of range: allowed from 0 to 2147483647", at(text, "-1\n", 0)),
            format!("{}: `reads` = \"0..2\" is out of range: allowed from 1 to 4294967295", at(text, "\"0..2\"", 0)),
        ],
    );
}

#[test]
fn failures_never_exceed_what_they_fail() {
    let text = r#"
[[hss.image_tasks]]
task_id = "i-over"
images = 3
failures = 5

[[hss.image_generate]]
count = 2
images = "3..10"
failures = "0..4"
created = "-1h..+0s"

[[hss.image_tasks]]
task_id = "i-default-images"
failures = 11

[[hss.image_tasks]]
task_id = "i-risky"
images = 2
risky = 3

[[hss.image_tasks]]
task_id = "i-listed"
images = 5
failures = 1
failed_images = [{ image_name = "a" }, { image_name = "b" }]

[[hss.image_tasks]]
task_id = "i-listed-over"
images = 1
failed_images = [{ image_name = "a" }, { image_name = "b" }]

[[hss.tasks]]
task_id = "h-clusters"
cluster_scan = { clusters = 2, failures = 3 }

[[hss.tasks]]
task_id = "h-files"
task_type = "iac_scan"
iac_scan = { files = "4..6", failures = 5 }
"#;
    let over = |part: &str, written: &str, nth: usize, whole: &str, whole_written: &str, most: i64| {
        format!(
            "{}: `{part}` = {written} can be more than `{whole}` = {whole_written}: a task cannot have more {part} than {whole}, so at most {most} here",
            value_at(text, &format!("{part} = {written}"), nth)
        )
    };
    assert_errors(
        text,
        &[
            over("failures", "5", 0, "images", "3", 3),
            over("failures", "\"0..4\"", 0, "images", "\"3..10\"", 3),
            over("failures", "11", 0, "images", "10 (its default)", 10),
            over("risky", "3", 0, "images", "2", 2),
            format!(
                "{}: `failures` = 1 can be fewer than the 2 failed_images listed: failed_num would not match the list (at least 2, or leave `failures` out: it defaults to the list's length)",
                at(text, "1\nfailed_images", 0)
            ),
            format!(
                "{}: 2 failed_images listed but `images` can be 1: a task cannot fail more images than it scans",
                value_at(text, "images = 1", 0)
            ),
            over("failures", "3", 0, "clusters", "2", 2),
            over("failures", "5", 1, "files", "\"4..6\"", 4),
        ],
    );
}

/// `NAME:LINE:COLUMN` of the value in the `nth` occurrence of `key = value`.
fn value_at(text: &str, key_value: &str, nth: usize) -> String {
    let (key, value) = key_value.split_once(" = ").expect("key = value");
    let offset = text.match_indices(key_value).nth(nth).unwrap_or_else(|| panic!("{key_value:?} #{nth} not in the scenario")).0 + key.len() + 3;
    at(&text[..offset + value.len()], value, text[..offset].matches(value).count())
}

#[test]
fn a_lifecycle_follows_its_products_transition_table() {
    let text = r#"
[[ecs.tasks]]
id = "t-leaves-finished"
lifecycle = [{ status = "Finished", for = "1m" }, { status = "Processing" }]

[[ecs.tasks]]
id = "t-backwards"
lifecycle = [
  { status = "Processing", for = "1m" },
  { status = "Waiting" },
]

[[sas.tasks]]
id = 7
lifecycle = [{ status = ["Processing", "Success"], for = "1m" }, { status = "Failed" }]

[[hss.tasks]]
task_id = "h-ok"
lifecycle = [{ status = "ready", for = "1m" }, { status = "running", for = "1m" }, { status = "running", for = "1m" }, { status = "finished" }]
"#;
    assert_errors(
        text,
        &[
            format!(
                "{}: \"Finished\" is a terminal status: the task never leaves it, so it must be the last phase (\"Processing\" follows it here)",
                at(text, "\"Processing\" }]", 0)
            ),
            format!(
                "{}: \"Waiting\" cannot follow \"Processing\": after \"Processing\" comes \"Processing\" again or one of \"Paused\", \"Finished\", \"Failed\", \"Deleted\"",
                at(text, "\"Waiting\"", 0)
            ),
            format!(
                "{}: \"Success\" is a terminal status: the task never leaves it, so it must be the last phase (\"Failed\" follows it here)",
                at(text, "\"Failed\" }]", 0)
            ),
        ],
    );
}

#[test]
fn check_prints_each_problem_at_its_value() {
    let dir = std::env::temp_dir().join(format!("taskemu-semantics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("mistakes.toml");
    let text = "[[ecs.tasks]]\nid = \"t-1\"\nregion = \"cn-hangzou\"\n\n[[hss.tasks]]\ntask_id = \"h-1\"\nproject_id = \"short\"\n";
    std::fs::write(&path, text).expect("write the scenario");
    let out = Command::new(env!("CARGO_BIN_EXE_taskemu")).arg("check").arg(&path).env("TASKEMU_LOG", "warn").output().expect("run taskemu");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let shown = path.display().to_string();
    assert!(stderr.contains(&format!("{shown}:3:10: unknown Alibaba Cloud region \"cn-hangzou\" (did you mean \"cn-hangzhou\"?)")), "{stderr}");
    assert!(stderr.contains(&format!("{shown}:7:14: project_id \"short\" is not a Huawei project id")), "{stderr}");
}

// --- item 4: failed_num and failed_images agree --------------------------------------------------

const FAILED: &str = r#"
[clock]
start = "2026-01-01T00:00:00Z"

[[hss.image_tasks]]
task_id = "i-drawn"
images = 10
failures = 4
created = "-5m"
lifecycle = [{ status = "scanning", for = "10m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "i-listed"
images = 10
failures = 3
created = "-5m"
failed_images = [{ id = 7, image_name = "nginx", image_version = "1.25", registry_type = "SwrPrivate" }]
lifecycle = [{ status = "scanning", for = "10m" }, { status = "finished" }]

[[hss.image_generate]]
count = 3
images = 6
failures = "1..6"
created = "-5m..-4m"
lifecycle = [{ status = "scanning", for = "10m" }, { status = "finished" }]
"#;

async fn image_tasks(emu: &Emulator) -> Vec<Value> {
    let doc = hss_ok(&hss_get(emu, PROJECT, &[("type", "image_scan")]).await);
    doc["data_list"].as_array().expect("data_list").clone()
}

fn keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn failed_num_and_failed_images_agree_while_scanning_and_after() {
    let emu = start(FAILED).await;
    let listed_shape = {
        let tasks = image_tasks(&emu).await;
        let listed = tasks.iter().find(|t| t["task_id"] == "i-listed").expect("i-listed");
        keys(&listed["failed_images"][0])
    };
    for _ in 0..2 {
        let tasks = image_tasks(&emu).await;
        assert_eq!(tasks.len(), 5);
        for task in &tasks {
            let failed = task["failed_images"].as_array().expect("failed_images");
            assert_eq!(task["failed_num"], failed.len(), "{task}");
            for image in failed {
                assert_eq!(keys(image), listed_shape, "a drawn failed image has the listed ones' shape: {image}");
            }
        }
        let drawn = tasks.iter().find(|t| t["task_id"] == "i-drawn").expect("i-drawn");
        let listed = tasks.iter().find(|t| t["task_id"] == "i-listed").expect("i-listed");
        if drawn["task_status"] == 100 {
            assert_eq!(drawn["failed_num"], 4);
            assert_eq!(listed["failed_num"], 3);
            assert_eq!(listed["failed_images"][0]["id"], 7, "the listed image first, then drawn ones");
            assert_eq!(pluck(&listed["failed_images"], "image_name")[0], "nginx");
            assert_eq!(listed["failed_images"][1]["id"], 2);
        } else {
            assert_eq!(drawn["task_status"], 50, "half way through scanning");
            assert_eq!(drawn["failed_num"], 2);
        }
        emu.state.clock.advance(10 * MINUTE);
    }
    // Seeded: the same scenario draws the same failed images.
    let again = start(FAILED).await;
    again.state.clock.advance(10 * MINUTE);
    assert_eq!(image_tasks(&again).await, image_tasks(&emu).await);
}
