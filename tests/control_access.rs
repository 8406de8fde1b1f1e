//! Who may use the control API (issue 11, S2), over real HTTP: the token when one is required
//! (journal reads, fault rules and world replacements refused without it; a world without
//! credentials cannot turn authentication off for a caller without it; the requirement outlives
//! any replacement), the content type a change must declare (a cross-site form's `text/plain` is
//! refused), the Host allow-list (a DNS-rebinding name is refused, `--allow-host` admits one), and
//! the real binary: the token made and printed on stderr, taken from the environment, and sent by
//! the CLI verbs.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const TOKEN: &str = "c0ntrol-t0ken";

/// A world whose credentials turn authentication on (under `--auth auto`).
const GUARDED: &str = r#"
[[credentials]]
access_key_id = "LTAIaccess"
access_key_secret = "access-secret"

[[ecs.tasks]]
id = "t-guarded"
"#;

/// The world an attacker would load: no credentials, so no authentication.
const OPEN_WORLD: &str = "[[ecs.tasks]]\nid = \"t-open\"\n";

/// A request written byte for byte, `Host` included (or left out when `host` is `None`).
async fn raw(addr: SocketAddr, method: &str, target: &str, host: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(host) = host {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the emulator");
    stream.write_all(&bytes).await.expect("send the request");
    read_reply(&mut stream).await
}

/// A control call with or without the token; `content_type` is what it declares.
async fn call(emu: &Emulator, token: Option<&str>, method: &str, target: &str, content_type: &str, body: &str) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(b) = &bearer {
        headers.push(("Authorization", b.as_str()));
    }
    send(emu.addr, method, target, &headers, body.as_bytes()).await
}

async fn authorised(emu: &Emulator, method: &str, target: &str) -> Value {
    let reply = call(emu, Some(TOKEN), method, target, "application/json", "").await;
    assert_eq!(reply.status, 200, "{method} {target}: {}", reply.text());
    reply.json()
}

fn assert_refused(reply: &Reply, status: u16, needle: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    let message = reply.json()["error"].as_str().map(str::to_string).unwrap_or_default();
    assert!(message.contains(needle), "{message:?} should mention {needle:?}");
}

#[tokio::test]
async fn without_the_token_nobody_reads_the_journal_injects_faults_or_replaces_the_world() {
    let config = Config { control_token: Some(TOKEN.into()), ..Config::default() };
    let emu = start_sources(config, vec![Source::new("guarded.toml", GUARDED)]).await;
    assert_eq!(authorised(&emu, "GET", "/_emu/health").await["auth"], true);
    let unsigned = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_ne!(unsigned.status, 200, "authentication is on: {}", unsigned.text());

    // The issue's three calls, without the token and with a wrong one.
    for token in [None, Some("c0ntrol-t0ke"), Some("wrong")] {
        let read = call(&emu, token, "GET", "/_emu/requests?limit=50", "application/json", "").await;
        assert_refused(&read, 401, "Authorization: Bearer TOKEN");
        assert_eq!(read.header("www-authenticate"), Some("Bearer realm=\"taskemu-control\""));
        let rule = r#"{"operation":"*","error":{"code":"InternalError"}}"#;
        assert_refused(&call(&emu, token, "POST", "/_emu/faults", "application/json", rule).await, 401, "--control-token");
        let replace = call(&emu, token, "POST", "/_emu/scenarios?replace=true&name=open.toml", "application/toml", OPEN_WORLD).await;
        assert_refused(&replace, 401, "control token");
        assert_refused(&call(&emu, token, "POST", "/_emu/clock", "application/json", r#"{"advance":"365000d"}"#).await, 401, "control token");
    }
    assert_eq!(authorised(&emu, "GET", "/_emu/faults").await["faults"], serde_json::json!([]), "no rule was added");
    let health = authorised(&emu, "GET", "/_emu/health").await;
    assert_eq!((health["auth"].as_bool(), health["tasks"].as_u64()), (Some(true), Some(1)), "the world and its authentication stand");
    assert_ne!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status, 200, "still refused unsigned");
    // The dashboard's page and assets hold no data: they load without it.
    for asset in ["/_emu/ui", "/_emu/ui/app.js", "/_emu/ui/style.css"] {
        assert_eq!(send(emu.addr, "GET", asset, &[], b"").await.status, 200, "{asset}");
    }
}

#[tokio::test]
async fn only_an_authorised_caller_can_turn_authentication_off_and_the_token_stays_required() {
    let config = Config { control_token: Some(TOKEN.into()), ..Config::default() };
    let emu = start_sources(config, vec![Source::new("guarded.toml", GUARDED)]).await;
    let replace = |token| call(&emu, token, "POST", "/_emu/scenarios?replace=true&name=open.toml", "application/toml", OPEN_WORLD);
    assert_eq!(replace(None).await.status, 401);
    assert_eq!(authorised(&emu, "GET", "/_emu/health").await["auth"], true, "an unauthorised replacement turns nothing off");

    let done = replace(Some(TOKEN)).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(authorised(&emu, "GET", "/_emu/health").await["auth"], false, "the authorised caller may load a world without credentials");
    assert_eq!(rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await.status, 200);
    // The control API's own requirement was fixed at start: the new world does not lift it.
    assert_refused(&call(&emu, None, "GET", "/_emu/requests", "application/json", "").await, 401, "control token");
    assert_refused(&call(&emu, None, "POST", "/_emu/reset", "application/json", "").await, 401, "control token");
    authorised(&emu, "POST", "/_emu/reset").await;
    assert_refused(&call(&emu, None, "GET", "/_emu/health", "application/json", "").await, 401, "control token");
}

#[tokio::test]
async fn a_cross_site_form_cannot_change_anything_but_a_local_user_needs_no_token() {
    let emu = start_sources(Config::default(), vec![Source::demo()]).await;
    let before = send(emu.addr, "GET", "/_emu/clock", &[], b"").await;
    assert_eq!(before.status, 200, "no token needed with neither auth nor a public bind");
    // What a web page can send without asking: text/plain, form-urlencoded, multipart (the
    // issue's CSRF: a crash-sized clock move and a world replacement).
    for form in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let moved = send(emu.addr, "POST", "/_emu/clock", &[("Content-Type", form)], br#"{"advance":"365000d"}"#).await;
        assert_refused(&moved, 415, "Content-Type: application/json");
        let replaced = send(emu.addr, "POST", "/_emu/scenarios?replace=true", &[("Content-Type", form)], OPEN_WORLD.as_bytes()).await;
        assert_refused(&replaced, 415, "Content-Type: application/toml");
        assert_refused(&send(emu.addr, "POST", "/_emu/reset", &[("Content-Type", form)], b"").await, 415, "application/json");
        let rule = br#"{"operation":"*","error":{"code":"InternalError"}}"#;
        assert_refused(&send(emu.addr, "POST", "/_emu/faults", &[("Content-Type", form)], rule).await, 415, "application/json");
    }
    assert_refused(&send(emu.addr, "POST", "/_emu/clock", &[], br#"{"advance":"1h"}"#).await, 415, "no Content-Type");
    assert_refused(&send(emu.addr, "DELETE", "/_emu/requests", &[], b"").await, 415, "application/json");
    let after = send(emu.addr, "GET", "/_emu/clock", &[], b"").await;
    assert_eq!(after.json()["now_ms"], before.json()["now_ms"], "the clock did not move");
    let health = send(emu.addr, "GET", "/_emu/health", &[], b"").await.json();
    assert_eq!(health["tasks"], 23, "the demo world is still there");
    assert_eq!(send(emu.addr, "GET", "/_emu/faults", &[], b"").await.json()["faults"], serde_json::json!([]));

    // The same calls with their declared types go through.
    let json = [("Content-Type", "application/json")];
    assert_eq!(send(emu.addr, "POST", "/_emu/clock", &json, br#"{"advance":"1h"}"#).await.status, 200);
    let toml = send(emu.addr, "POST", "/_emu/scenarios?name=more.toml", &[("Content-Type", "text/x-toml; charset=utf-8")], OPEN_WORLD.as_bytes()).await;
    assert_eq!(toml.status, 200, "{}", toml.text());
    assert_eq!(send(emu.addr, "DELETE", "/_emu/requests", &json, b"").await.status, 200);
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_allowed() {
    let emu = start_sources(Config { listen_ip: Some("127.0.0.1".parse().unwrap()), ..Config::default() }, vec![Source::demo()]).await;
    let port = emu.addr.port();
    // A DNS-rebinding page reaches 127.0.0.1 under its own name.
    for host in [format!("rebind.example:{port}"), "rebind.example".into(), format!("127.0.0.1.nip.io:{port}")] {
        let read = raw(emu.addr, "GET", "/_emu/requests", Some(&host), &[], b"").await;
        assert_refused(&read, 403, "--allow-host NAME");
        let page = raw(emu.addr, "GET", "/_emu/ui", Some(&host), &[], b"").await;
        assert_eq!(page.status, 403, "nor the dashboard, under {host}");
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "LOCALHOST".into(), format!("[::1]:{port}"), "127.1.2.3:1".into()] {
        assert_eq!(raw(emu.addr, "GET", "/_emu/health", Some(&host), &[], b"").await.status, 200, "{host}");
    }
    // HTTP/1.1 without a Host is refused by the server before the gate (RFC 9112: 400).
    assert_eq!(raw(emu.addr, "GET", "/_emu/health", None, &[], b"").await.status, 400, "an HTTP/1.1 request needs a Host");

    let config = Config { allow_hosts: vec!["emu.test".into()], ..Config::default() };
    let allowed = start_sources(config, vec![Source::demo()]).await;
    assert_eq!(raw(allowed.addr, "GET", "/_emu/health", Some("emu.test:8080"), &[], b"").await.status, 200);
    assert_eq!(raw(allowed.addr, "GET", "/_emu/health", Some("Emu.Test"), &[], b"").await.status, 200);
    assert_eq!(raw(allowed.addr, "GET", "/_emu/health", Some("other.test"), &[], b"").await.status, 403);
}

// --- the real binary ---------------------------------------------------------------------------

/// `taskemu serve` on port 0, its stderr collected as it comes.
struct Served {
    child: Child,
    addr: SocketAddr,
    ready_line: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    fn start(args: &[&str], token_env: Option<&str>) -> Served {
        let mut command = Command::new(env!("CARGO_BIN_EXE_taskemu"));
        command.arg("serve").args(args).current_dir(env!("CARGO_MANIFEST_DIR")).env("TASKEMU_LOG", "warn").env_remove("TASKEMU_CONTROL_TOKEN");
        if let Some(token) = token_env {
            command.env("TASKEMU_CONTROL_TOKEN", token);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null()).spawn().expect("spawn taskemu serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut ready_line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready_line).expect("read the ready line");
        let Some(addr) = ready_line.trim_end().strip_prefix("taskemu listening on http://").and_then(|a| a.parse::<SocketAddr>().ok()) else {
            let _ = child.kill();
            panic!("unexpected first line {ready_line:?}; stderr: {}", stderr.lock().unwrap());
        };
        // Port 0 on every interface: reach it over the loopback.
        let addr = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port());
        Served { child, addr, ready_line, stderr, reader: Some(reader) }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The first stderr line containing `needle`, waiting a bounded while for it.
    fn stderr_line(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            // Only whole lines: the reader appends stderr as it comes, a line possibly in pieces.
            let seen = self.stderr.lock().unwrap().clone();
            let whole = seen.rfind('\n').map_or("", |end| &seen[..end]);
            if let Some(line) = whole.lines().find(|l| l.contains(needle)) {
                return Some(line.to_string());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server and returns all it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let all = self.stderr.lock().unwrap().clone();
        all
    }

    fn status(&self, method: &str, path: &str, token: Option<&str>) -> u16 {
        let client = taskemu::client::Client::new(&self.url()).and_then(|c| c.with_token(token)).expect("a client");
        match client.call(method, path, None) {
            Ok(_) => 200,
            Err(taskemu::client::ClientError::Refused { status, .. }) => status,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client verb against `url`, with the token given as `--token`, in the environment, or not.
fn verb(url: &str, args: &[&str], env_token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskemu"));
    command.args(args).env("TASKEMU_URL", url).env_remove("TASKEMU_CONTROL_TOKEN");
    if let Some(token) = env_token {
        command.env("TASKEMU_CONTROL_TOKEN", token);
    }
    command.output().expect("the binary runs")
}

fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskemu-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the scenario");
    path
}

#[test]
fn serve_makes_a_token_when_auth_is_on_at_start_prints_it_on_stderr_and_the_cli_sends_it() {
    let guarded = scenario_file("guarded.toml", GUARDED);
    let served = Served::start(&["--listen", "127.0.0.1:0", "--scenario", guarded.to_str().unwrap()], None);
    assert!(served.ready_line.starts_with("taskemu listening on http://127.0.0.1:"), "stdout keeps its one ready line: {:?}", served.ready_line);
    let line = served.stderr_line("requires this token").expect("the made token is printed on stderr");
    let token = line.rsplit(' ').next().unwrap().to_string();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
    let dashboard = served.stderr_line("dashboard:").expect("the dashboard's address with the token");
    assert!(dashboard.ends_with(&format!("http://{}/_emu/ui#token={token}", served.addr)), "{dashboard}");

    assert_eq!(served.status("GET", "/_emu/health", None), 401);
    assert_eq!(served.status("GET", "/_emu/health", Some("not-it")), 401);
    assert_eq!(served.status("GET", "/_emu/health", Some(&token)), 200);

    let url = served.url();
    let refused = verb(&url, &["clock"], None);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("taskemu refused (401)") && said.contains("--token"), "{said}");
    assert!(verb(&url, &["clock", "--token", &token], None).status.success());
    let advanced = verb(&url, &["clock", "advance", "5m", "--json"], Some(&token));
    assert!(advanced.status.success(), "{}", String::from_utf8_lossy(&advanced.stderr));
    assert!(verb(&url, &["requests", "--token", &token], None).status.success());
    assert!(verb(&url, &["fault", "list", "--token", &token], None).status.success());
    assert!(!verb(&url, &["tasks", "--token", "bad token"], None).status.success(), "a token that cannot be a header is refused");

    // The authorised replacement with a world without credentials: auth goes, the token stays.
    let open = scenario_file("open.toml", OPEN_WORLD);
    let loaded = verb(&url, &["load", "--replace", open.to_str().unwrap(), "--token", &token], None);
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert_eq!(served.status("GET", "/_emu/requests", None), 401, "fixed at start");
    let health = taskemu::client::Client::new(&url).and_then(|c| c.with_token(Some(&token))).and_then(|c| c.call("GET", "/_emu/health", None)).unwrap();
    assert_eq!((health["auth"].as_bool(), health["tasks"].as_u64()), (Some(false), Some(1)));
    served.stop();
}

#[test]
fn serve_takes_the_token_from_its_flag_or_environment_and_prints_none() {
    let served = Served::start(&["--listen", "127.0.0.1:0", "--auth", "on"], Some("from-the-env"));
    assert_eq!(served.status("GET", "/_emu/health", None), 401);
    assert_eq!(served.status("GET", "/_emu/health", Some("from-the-env")), 200);
    assert!(verb(&served.url(), &["tasks"], Some("from-the-env")).status.success());
    let stderr = served.stop();
    assert!(!stderr.contains("from-the-env") && !stderr.contains("requires this token"), "a given token is not echoed: {stderr}");

    let served = Served::start(&["--listen", "127.0.0.1:0", "--control-token", "from-the-flag"], None);
    assert_eq!(served.status("GET", "/_emu/health", None), 401, "a given token is required even with auth off");
    assert_eq!(served.status("GET", "/_emu/health", Some("from-the-flag")), 200);
    served.stop();

    for bad in [&["--control-token", "two words"][..], &["--control-token", &"x".repeat(513)], &["--allow-host", "a b"]] {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(bad);
        let out = Command::new(env!("CARGO_BIN_EXE_taskemu")).args(&args).env_remove("TASKEMU_CONTROL_TOKEN").output().expect("the binary runs");
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(out.stdout.is_empty(), "no ready line for {bad:?}");
    }
}

#[test]
fn a_bind_beyond_loopback_makes_a_token_and_a_local_one_without_auth_needs_none() {
    let everywhere = Served::start(&["--listen", "0.0.0.0:0"], None);
    let line = everywhere.stderr_line("requires this token").expect("a public bind makes a token");
    let token = line.rsplit(' ').next().unwrap().to_string();
    let dashboard = everywhere.stderr_line("dashboard:").unwrap();
    assert!(dashboard.contains(&format!("http://127.0.0.1:{}/_emu/ui#token=", everywhere.addr.port())), "a browsable address: {dashboard}");
    assert_eq!(everywhere.status("GET", "/_emu/requests", None), 401);
    assert_eq!(everywhere.status("GET", "/_emu/requests", Some(&token)), 200);
    everywhere.stop();

    // An empty TASKEMU_CONTROL_TOKEN is an unset one, for the server and for the CLI.
    let local = Served::start(&["--listen", "127.0.0.1:0", "--allow-host", "emu.test"], Some(""));
    assert_eq!(local.status("GET", "/_emu/health", None), 200, "nothing changes for a local user");
    assert!(verb(&local.url(), &["clock", "advance", "1m"], Some("")).status.success());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert_eq!(runtime.block_on(raw(local.addr, "GET", "/_emu/health", Some("emu.test:8080"), &[], b"")).status, 200, "--allow-host admits it");
    assert_eq!(runtime.block_on(raw(local.addr, "GET", "/_emu/health", Some("evil.test"), &[], b"")).status, 403);
    let stderr = local.stop();
    assert!(!stderr.contains("token"), "no token made or printed: {stderr}");
}
