//! The `taskemu` binary: `check` on broken scenarios (fixtures/broken/) prints one
//! `FILE:LINE:COLUMN: message` line per problem and exits 1, on good ones exits 0; `serve` prints
//! exactly one `taskemu listening on http://127.0.0.1:PORT` line and exits 0 on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

fn taskemu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TASKEMU_LOG", "warn")
        .output()
        .expect("run taskemu")
}

/// Line and column (1-based, in characters) where `needle` first occurs in a fixture.
fn locate(path: &str, needle: &str) -> (usize, usize) {
    let text = read_fixture(path);
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {path}"));
    let before = &text[..at];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap_or("").chars().count() + 1)
}

fn at(path: &str, needle: &str, shift: usize) -> String {
    let (line, column) = locate(path, needle);
    format!("{path}:{line}:{}", column + shift)
}

/// Runs `check` and returns its error lines, asserting exit code 1 and nothing on stdout.
fn check_fails(args: &[&str]) -> Vec<String> {
    let out = taskemu(&["check"].iter().chain(args).copied().collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "check {args:?} should fail; stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "nothing on stdout");
    stderr.lines().map(str::to_string).collect()
}

fn check_one(path: &str) -> String {
    let lines = check_fails(&[path]);
    assert_eq!(lines.len(), 1, "one problem expected: {lines:?}");
    lines[0].clone()
}

#[test]
fn unknown_field() {
    let path = "fixtures/broken/unknown_field.toml";
    assert_eq!(
        check_one(path),
        format!(
            "{}: unknown field `colour`, expected one of `count`, `id`, `region`, `owner`, `action`, `resource_id`, `created`, `support_cancel`, `lifecycle`, `set`, `unset`",
            at(path, "colour", 0)
        )
    );
}

#[test]
fn bad_duration() {
    let path = "fixtures/broken/bad_duration.toml";
    assert_eq!(
        check_one(path),
        format!("{}: bad duration \"10x\": expected a number and a unit (ms, s, m, h, d), e.g. \"90s\" or \"1h30m\"", at(path, "\"10x\"", 0))
    );
}

#[test]
fn status_not_in_the_vocabulary_of_the_api() {
    let path = "fixtures/broken/unknown_status.toml";
    assert_eq!(
        check_one(path),
        format!("{}: unknown status \"Finished\": expected one of init, Processing, Success, Failed", at(path, "\"Finished\" }", 0))
    );
}

#[test]
fn last_phase_with_a_duration() {
    let path = "fixtures/broken/last_phase_duration.toml";
    assert_eq!(check_one(path), format!("{}: the last phase never ends: remove its `for` / `reads`", at(path, "{ status = \"finished\"", 0)));
}

#[test]
fn phase_without_an_end() {
    let path = "fixtures/broken/phase_without_end.toml";
    assert_eq!(
        check_one(path),
        format!("{}: every phase but the last needs `for = \"<duration>\"` or `reads = N`", at(path, "{ status = \"scanning\" }", 0))
    );
}

#[test]
fn generator_without_count() {
    let path = "fixtures/broken/generator_without_count.toml";
    assert_eq!(check_one(path), format!("{}: a generator needs `count`", at(path, "[[avds.generate]]", 0)));
}

#[test]
fn clock_rate_error_points_at_the_value() {
    let path = "fixtures/broken/clock_rate.toml";
    assert_eq!(check_one(path), format!("{}: clock rate -1 is out of range 0..=1000000", at(path, "rate = -1", "rate = ".len())));
}

#[test]
fn duplicate_id_across_two_files() {
    let (a, b) = ("fixtures/broken/duplicate_id/a.toml", "fixtures/broken/duplicate_id/b.toml");
    let expected = format!("{}: ECS task id \"t-dup\" is already declared at {}", at(b, "\"t-dup\"", 0), at(a, "\"t-dup\"", 0));
    assert_eq!(check_fails(&[a, b]), vec![expected.clone()]);
    // The folder form reads the same files, sorted by name.
    assert_eq!(check_fails(&["fixtures/broken/duplicate_id"]), vec![expected]);
    // Each alone is fine.
    for file in [a, b] {
        assert_eq!(taskemu(&["check", file]).status.code(), Some(0));
    }
}

#[test]
fn every_broken_file_is_reported() {
    let files = ["fixtures/broken/unknown_field.toml", "fixtures/broken/bad_duration.toml", "fixtures/broken/unknown_status.toml"];
    let lines = check_fails(&files);
    let prefixes: Vec<String> = lines.iter().map(|l| l.split(": ").next().unwrap().to_string()).collect();
    assert_eq!(prefixes, [at(files[0], "colour", 0), at(files[1], "\"10x\"", 0), at(files[2], "\"Finished\" }", 0)]);
}

#[test]
fn a_missing_file_cannot_be_read() {
    let lines = check_fails(&["fixtures/broken/no_such_file.toml"]);
    assert_eq!(lines.len(), 1);
    // About the whole file: no line or column.
    assert!(lines[0].starts_with("fixtures/broken/no_such_file.toml: cannot read: "), "{lines:?}");
}

#[test]
fn good_scenarios_pass() {
    let cases: [(&str, usize); 12] = [
        ("scenarios/demo.toml", 0),
        ("fixtures/docs/ecs_DescribeTasks.toml", 2),
        ("fixtures/docs/ecs_DescribeTasks_xml.toml", 2),
        ("fixtures/docs/sas_DescribeScanTaskProgress.toml", 1),
        ("fixtures/docs/avds_DescribeScanSessions.toml", 1),
        ("fixtures/docs/hss_ListImageScanTask.toml", 1),
        ("fixtures/docs/hss_ListTasks.toml", 1),
        ("fixtures/sdk/ecs_DescribeTasks.toml", 2),
        ("fixtures/sdk/sas_DescribeScanTaskProgress.toml", 1),
        ("fixtures/sdk/avds_DescribeScanSessions.toml", 1),
        ("fixtures/sdk/hss_ListImageScanTask.toml", 1),
        ("fixtures/sdk/hss_ListTasks.toml", 2),
    ];
    for (path, tasks) in cases {
        let out = taskemu(&["check", path]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        if path == "scenarios/demo.toml" {
            assert!(stdout.starts_with("ok: 1 file(s), ") && stdout.ends_with(" task(s)\n"), "{stdout}");
        } else {
            assert_eq!(stdout, format!("ok: 1 file(s), {tasks} task(s)\n"), "{path}");
        }
    }
}

// --- serve ----------------------------------------------------------------------------------------

#[test]
fn serve_prints_one_listening_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--scenario", "fixtures/docs/sas_DescribeScanTaskProgress.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TASKEMU_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn taskemu serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the listening line");
    let port: u16 = line
        .strip_prefix("taskemu listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line {line:?}")
        });
    assert_ne!(port, 0);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let reply = runtime.block_on(send(addr, "GET", "/?Action=DescribeScanTaskProgress&Version=2018-12-03&TaskId=282832", &[], b""));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["RequestId"], "EA15BA8A-D631-4375-8D40-CB7C769B0279");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(15));
    let Some(status) = status else {
        let _ = child.kill();
        panic!("serve did not stop within 15 s of SIGTERM");
    };
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
    // And the port is free again.
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(), "still accepting after exit");
}

#[test]
fn serve_refuses_a_broken_scenario() {
    let out = taskemu(&["serve", "--listen", "127.0.0.1:0", "--scenario", "fixtures/broken/bad_duration.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no listening line");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}: bad duration \"10x\"", at("fixtures/broken/bad_duration.toml", "\"10x\"", 0))), "{stderr}");
}

#[test]
fn response_pins_name_a_known_operation() {
    let errors = taskemu::scenario::load(&[Source::new("pins.toml", "[responses.DescribeTask]\nset = { TotalCount = 1 }\n")], 0, None).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let shown = errors.0[0].to_string();
    assert!(shown.starts_with("pins.toml:1:12: unknown operation \"DescribeTask\" in [responses]"), "{shown}");
}
