//! README.md's `curl` examples run as written, in the order written, against one fresh
//! `taskemu serve` on the embedded demo world: every command answers 2xx (the `taskemu` verbs in
//! those blocks, with `TASKEMU_URL` set, exit 0), and every call to one of the five operations
//! finds tasks (an example that a previous one emptied, say by moving the clock, fails here). The
//! README's `127.0.0.1:8080` / `localhost:8080` becomes the test server's address; a `taskemu
//! serve` line is not run (this test is the server); the files the control API examples send
//! (`extra.toml`, `other.toml`, `mine.toml`) are made in a temporary folder the commands run in.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// One command of a shell block: continuation lines joined, comments kept (bash drops them).
struct Example {
    line: usize,
    command: String,
}

/// The ```sh blocks that contain a `curl`, split into commands, in README order.
fn curl_examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut block: Option<Vec<Example>> = None;
    let mut pending: Option<Example> = None;
    for (index, text) in readme.lines().enumerate() {
        let line = index + 1;
        if text.starts_with("```") {
            match block.take() {
                Some(commands) if commands.iter().any(|c| c.command.contains("curl ")) => examples.extend(commands),
                Some(_) => {}
                None if text.trim_start_matches('`').starts_with("sh") => block = Some(Vec::new()),
                None => {}
            }
            continue;
        }
        let Some(commands) = block.as_mut() else { continue };
        let continued = text.trim_end().ends_with('\\');
        let piece = text.trim_end().trim_end_matches('\\').trim_end();
        let example = match pending.take() {
            Some(mut started) => {
                started.command.push(' ');
                started.command.push_str(piece.trim_start());
                started
            }
            None => Example { line, command: piece.to_string() },
        };
        if continued {
            pending = Some(example);
        } else if !example.command.trim().is_empty() && !example.command.trim_start().starts_with('#') {
            commands.push(example);
        }
    }
    examples
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TASKEMU_LOG", "warn")
        .env_remove("TASKEMU_CONTROL_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn taskemu serve");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready).expect("read the ready line");
    let url = ready.trim().strip_prefix("taskemu listening on ").unwrap_or_else(|| panic!("unexpected first line {ready:?}")).to_string();
    (Server(child), url)
}

/// The scenario files the control API examples send.
fn write_example_files(dir: &Path) {
    let ecs = |id: &str| format!("[[ecs.tasks]]\nid = \"{id}\"\nregion = \"cn-hangzhou\"\naction = \"ImportImage\"\nlifecycle = [{{ status = \"Processing\", for = \"1h\" }}, {{ status = \"Finished\" }}]\n");
    std::fs::write(dir.join("extra.toml"), ecs("t-readme-extra")).expect("write extra.toml");
    std::fs::write(dir.join("other.toml"), format!("name = \"other\"\n{}", ecs("t-readme-other"))).expect("write other.toml");
    std::fs::write(dir.join("mine.toml"), ecs("t-readme-mine")).expect("write mine.toml");
}

/// Whether an operation's answer lists no task: a zero total in either cloud's JSON or XML.
fn lists_nothing(body: &str) -> bool {
    ["\"TotalCount\":0,", "\"TotalCount\":0}", "<TotalCount>0</TotalCount>", "\"total_num\":0", "<total_num>0</total_num>"].iter().any(|zero| body.contains(zero))
}

#[test]
fn every_curl_example_works_in_the_order_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("read README.md");
    let examples = curl_examples(&readme);
    assert!(examples.len() >= 30, "the README's curl examples were found ({} commands)", examples.len());

    let (_server, url) = serve();
    let dir = std::env::temp_dir().join(format!("taskemu-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a folder");
    write_example_files(&dir);
    // `taskemu` is the binary under test.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_taskemu")).parent().expect("the binary's folder").to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).expect("a PATH");
    // Assignments (E=..., J=...) stay in force for the commands after them, as in a shell.
    let mut assignments = String::new();
    for example in &examples {
        if example.command.trim_start().starts_with("taskemu serve") {
            continue;
        }
        let command = example.command.replace("http://127.0.0.1:8080", &url).replace("localhost:8080", &url);
        if command.split_whitespace().next().is_some_and(|word| word.contains('=') && !word.starts_with('-')) {
            assignments.push_str(&command);
            assignments.push('\n');
            continue;
        }
        let script = format!("set -eu -o pipefail\ncurl() {{ command curl -sS --fail-with-body --max-time 20 \"$@\"; }}\n{assignments}{command}\n");
        let out = Command::new("bash").arg("-c").arg(&script).current_dir(&dir).env("PATH", &path).env("TASKEMU_URL", &url).env_remove("TASKEMU_CONTROL_TOKEN").output().expect("run bash");
        let body = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "README.md:{}: `{}` failed: {}{}", example.line, example.command, body, String::from_utf8_lossy(&out.stderr));
        let operation = command.contains("Action=") || command.contains("/v5/");
        assert!(!operation || (!body.trim().is_empty() && !lists_nothing(&body)), "README.md:{}: `{}` lists no task: {body}", example.line, example.command);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_example_finder_joins_continued_lines_and_skips_other_blocks() {
    let readme = "text\n```sh\ncargo run\n```\n```sh\nE=x\n# a comment\ncurl a \\\n   -d b\n```\n```toml\ncurl no\n```\n";
    let found: Vec<(usize, String)> = curl_examples(readme).into_iter().map(|e| (e.line, e.command)).collect();
    assert_eq!(found, vec![(6, "E=x".to_string()), (8, "curl a -d b".to_string())]);
    assert!(lists_nothing(r#"{"TotalCount":0,"TaskSet":{}}"#) && !lists_nothing(r#"{"TotalCount":10,"x":1}"#));
}
