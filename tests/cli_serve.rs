//! `taskemu serve` as a user starts it: the forms `--listen` takes (and what it says to a bad one
//! or an address in use), and logs that are plain text when stderr is not a terminal.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::wait_for_exit;

fn serve_command(listen: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskemu"));
    command.args(["serve", "--listen", listen]).env_remove("TASKEMU_CONTROL_TOKEN").env_remove("TASKEMU_LOG").env_remove("NO_COLOR");
    command
}

/// Starts `serve --listen LISTEN` and reads its ready line: the child and the address it serves.
fn serve(listen: &str) -> (Child, SocketAddr) {
    serve_with(listen, &[])
}

fn serve_with(listen: &str, more: &[&str]) -> (Child, SocketAddr) {
    let mut child = serve_command(listen).args(more).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn taskemu serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let Some(addr) = line.trim().strip_prefix("taskemu listening on http://").and_then(|a| a.parse::<SocketAddr>().ok()) else {
        let _ = child.kill();
        let mut stderr = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut stderr));
        panic!("--listen {listen}: unexpected first line {line:?}; stderr: {stderr}");
    };
    (child, addr)
}

/// SIGTERM, then everything the server wrote on stderr.
fn stop(mut child: Child) -> String {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill").success());
    let Some(status) = wait_for_exit(&mut child, Duration::from_secs(10)) else {
        let _ = child.kill();
        panic!("serve did not stop within 10 s of SIGTERM");
    };
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr is UTF-8");
    stderr
}

fn run(listen: &str) -> Output {
    serve_command(listen).stdin(Stdio::null()).output().expect("the binary runs")
}

fn ipv6_loopback_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn listen_takes_a_port_a_colon_port_a_host_and_port_localhost_and_ipv6() {
    let loopback = std::net::Ipv4Addr::LOCALHOST;
    for listen in ["0", ":0", "127.0.0.1:0", "localhost:0", "LOCALHOST:0"] {
        let (child, addr) = serve(listen);
        assert_eq!(addr.ip(), loopback, "--listen {listen} is loopback");
        assert_ne!(addr.port(), 0, "--listen {listen}: port 0 picked a free port");
        stop(child);
    }
    if ipv6_loopback_available() {
        let (child, addr) = serve("[::1]:0");
        assert_eq!(addr.ip(), std::net::Ipv6Addr::LOCALHOST);
        stop(child);
    } else {
        eprintln!("skipped --listen [::1]:0: this machine has no IPv6 loopback");
    }
}

#[test]
fn a_bad_listen_value_says_what_to_type_instead() {
    for bad in ["eighty", "127.0.0.1:99999", "::1:8080", "127.0.0.1:", ""] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "--listen {bad:?} is a usage error");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--listen") && stderr.contains("expected PORT, :PORT, HOST:PORT"), "{bad:?}: {stderr}");
        assert!(stderr.contains("--listen 127.0.0.1:8080"), "an example to copy: {stderr}");
    }
}

#[test]
fn an_address_in_use_names_the_port_and_a_way_out() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("its address").port();
    let out = run(&format!("127.0.0.1:{port}"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("port {port} is already in use")), "{stderr}");
    assert!(stderr.contains("--listen 127.0.0.1:0"), "{stderr}");
    assert!(!stderr.contains("Os {"), "no debug output: {stderr}");
    drop(taken);
}

/// Logs to a pipe (a CI log, a file) are plain text: no ANSI escapes around levels or fields.
#[test]
fn logs_to_a_pipe_carry_no_colour_escapes() {
    let (child, _) = serve("127.0.0.1:0");
    let stderr = stop(child);
    assert!(stderr.contains("stopping"), "the stop is logged at the default level: {stderr:?}");
    assert!(!stderr.contains("\x1b["), "escapes in {stderr:?}");
}

/// A scenario's fault rule with a code the emulator has no default for is served, and serve says
/// at start-up which status and message it will answer with.
#[test]
fn serve_notes_a_scenario_fault_code_without_a_default() {
    let dir = std::env::temp_dir().join(format!("taskemu-cli-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("faults.toml");
    std::fs::write(&file, "[[ecs.tasks]]\nid = \"t-1\"\n\n[[faults]]\noperation = \"DescribeTasks\"\nerror = { code = \"Nope\", status = 502 }\n").unwrap();
    let (child, _) = serve_with("127.0.0.1:0", &["--scenario", file.to_str().unwrap()]);
    let stderr = stop(child);
    assert!(stderr.contains("taskemu: note: rule 1: taskemu has no default for Alibaba Cloud error code \"Nope\"; its calls will answer HTTP 502 with message \"The request has failed.\""), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
