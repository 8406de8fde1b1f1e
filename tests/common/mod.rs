//! What every integration test needs: an emulator on port 0 loaded with a scenario, a tiny
//! HTTP/1.1 client over a plain TCP stream (so requests go over real sockets, byte for byte as
//! written here), helpers for the two clouds' request styles, and an XML reader that turns a
//! document into a comparable `serde_json::Value` tree.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[allow(unused_imports)]
pub use taskemu::{Config, Dialect, Emulator, Source};

/// The Huawei project scenarios use when they name none (the SDK notes' test project).
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;

/// Unix milliseconds of an RFC 3339 instant.
pub fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("a valid RFC 3339 instant in the test").timestamp_millis()
}

pub fn manifest_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A scenario file of the repository, named as `check` would name it.
pub fn fixture(relative: &str) -> Source {
    let text = std::fs::read_to_string(manifest_path(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"));
    Source::new(relative, text)
}

pub fn read_fixture(relative: &str) -> String {
    std::fs::read_to_string(manifest_path(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

pub async fn start_sources(config: Config, sources: Vec<Source>) -> Emulator {
    match Emulator::start(config, sources, "127.0.0.1:0".parse().expect("an address")).await {
        Ok(emu) => emu,
        Err(e) => panic!("the emulator did not start: {e}"),
    }
}

/// An emulator serving one scenario given as text.
pub async fn start(scenario: &str) -> Emulator {
    start_sources(Config::default(), vec![Source::new("test.toml", scenario)]).await
}

// --- HTTP ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): status {} body {:?}", self.status, self.text()))
    }

    pub fn xml(&self) -> Value {
        xml_tree(&self.text())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end. `target` is the
/// request target as sent (path and query, already encoded).
pub async fn send(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.expect("connect to the emulator");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.expect("send the request");
    read_reply(&mut stream).await
}

/// Reads a whole response until the server closes. A reset after the response arrived (the
/// server refusing a body it did not read) still yields what was received.
pub async fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if !raw.is_empty() => {
                eprintln!("read ended with {e} after {} bytes", raw.len());
                break;
            }
            Err(e) => panic!("reading the response failed: {e}"),
        }
    }
    parse_reply(&raw)
}

pub fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {status_line:?}");
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else if let Some(len) = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()) {
        assert!(rest.len() >= len, "body shorter ({}) than its Content-Length ({len})", rest.len());
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Reply { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("a chunk size");
        data = &data[eol + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
    out
}

/// RFC 3986 encoding, as the Huawei SDK and the legacy Alibaba SDK send (space as `%20`).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn enc(text: &str) -> String {
    utf8_percent_encode(text, STRICT).to_string()
}

pub fn query_string(params: &[(&str, &str)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query_string(params))
    }
}

// --- Alibaba RPC ----------------------------------------------------------------------------------

pub const ECS: (&str, &str) = ("DescribeTasks", "2014-05-26");
pub const SAS: (&str, &str) = ("DescribeScanTaskProgress", "2018-12-03");
pub const AVDS: (&str, &str) = ("DescribeScanSessions", "2017-11-29");

/// `GET /?Action=..&Version=..&<params>` in the given dialect (None: the server's default).
pub async fn rpc_dialect(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)], dialect: Option<&str>) -> Reply {
    let mut all = vec![("Action", op.0), ("Version", op.1)];
    all.extend_from_slice(params);
    let headers: Vec<(&str, &str)> = dialect.map(|d| vec![("x-taskemu-dialect", d)]).unwrap_or_default();
    send(emu.addr, "GET", &with_query("/", &all), &headers, b"").await
}

pub async fn rpc(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)]) -> Reply {
    rpc_dialect(emu, op, params, None).await
}

/// A successful RPC call's JSON body (panics with the body otherwise).
pub async fn rpc_ok(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)]) -> Value {
    let reply = rpc(emu, op, params).await;
    assert_eq!(reply.status, 200, "{} {:?} answered {}", op.0, params, reply.text());
    assert_eq!(reply.content_type(), "application/json;charset=utf-8");
    reply.json()
}

/// The Alibaba error envelope, whole, as every SDK reads it.
pub fn aliyun_error(request_id: &str, host: &str, product: &str, code: &str, message: &str) -> Value {
    serde_json::json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product={product}"),
    })
}

pub fn missing_parameter(name: &str) -> String {
    format!("An input parameter \"{name}\" that is mandatory for processing the request is not supplied.")
}

pub fn invalid_parameter(name: &str) -> String {
    format!("The specified parameter \"{name}\" is not valid.")
}

/// Asserts an RPC error: status, code and message, with the whole envelope checked (the request id
/// must be the one the body's own RequestId says, and look like an Alibaba request id).
pub fn assert_aliyun_error(reply: &Reply, status: u16, host: &str, product: &str, code: &str, message: &str) {
    assert_eq!(reply.status, status, "body {}", reply.text());
    assert_eq!(reply.content_type(), "application/json;charset=utf-8");
    let body = reply.json();
    let request_id = body["RequestId"].as_str().unwrap_or_else(|| panic!("no RequestId in {body}")).to_string();
    assert!(!request_id.is_empty());
    assert_eq!(body, aliyun_error(&request_id, host, product, code, message));
}

pub fn is_alibaba_request_id(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('A'..='F').contains(&c))
}

pub fn is_huawei_request_id(id: &str) -> bool {
    id.len() == 32 && id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

// --- Huawei REST ----------------------------------------------------------------------------------

pub fn image_tasks_path(project: &str) -> String {
    format!("/v5/{project}/image/tasks")
}

pub fn batch_query_path(project: &str) -> String {
    format!("/v5/{project}/common/tasks/batch-query")
}

pub async fn hss_get(emu: &Emulator, project: &str, params: &[(&str, &str)]) -> Reply {
    send(emu.addr, "GET", &with_query(&image_tasks_path(project), params), &[("Content-Type", "application/json")], b"").await
}

pub async fn hss_post(emu: &Emulator, project: &str, params: &[(&str, &str)], body: &str) -> Reply {
    send(emu.addr, "POST", &with_query(&batch_query_path(project), params), &[("Content-Type", "application/json")], body.as_bytes()).await
}

/// A successful Huawei call's JSON body, after checking the headers every answer carries.
pub fn hss_ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "answered {}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    assert!(reply.header("x-request-id").is_some_and(is_huawei_request_id), "X-Request-Id {:?}", reply.header("x-request-id"));
    reply.json()
}

/// Asserts a Huawei service error: status, the whole `{"error_code","error_msg"}` body and the
/// X-Request-Id header.
pub fn assert_hss_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(reply.status, status, "body {}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    assert!(reply.header("x-request-id").is_some_and(is_huawei_request_id), "X-Request-Id {:?}", reply.header("x-request-id"));
    assert_eq!(reply.json(), serde_json::json!({ "error_code": code, "error_msg": message }));
}

pub fn assert_hss_invalid(reply: &Reply, parameter: &str) {
    assert_hss_error(reply, 400, "HSS.0001", &format!("Invalid parameter: {parameter}"));
}

// --- Reading answers ------------------------------------------------------------------------------

/// `field` of every item of an array, as strings (numbers printed).
pub fn pluck(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|item| match &item[field] {
            Value::String(s) => s.clone(),
            Value::Null => panic!("no {field} in {item}"),
            other => other.to_string(),
        })
        .collect()
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// --- XML ------------------------------------------------------------------------------------------

/// An element being read: its name, its child elements so far, its text so far.
type Open = (String, Vec<(String, Value)>, String);

/// An XML document as a JSON-like tree, for comparing documents regardless of whitespace and the
/// XML declaration: `{root: content}`, where an element with child elements is an object (a name
/// repeated among siblings becomes an array, in order) and any other element is its text (empty
/// elements give `""`). Attributes are not used by these APIs and must not appear.
pub fn xml_tree(text: &str) -> Value {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                assert_eq!(e.attributes().count(), 0, "unexpected attributes in {text}");
                stack.push((AsRef::<str>::as_ref(&e.name()).to_string(), Vec::new(), String::new()));
            }
            Ok(Event::Empty(e)) => {
                assert_eq!(e.attributes().count(), 0, "unexpected attributes in {text}");
                let name = AsRef::<str>::as_ref(&e.name()).to_string();
                match stack.last_mut() {
                    Some(parent) => parent.1.push((name, Value::String(String::new()))),
                    None => root = Some((name, Value::String(String::new()))),
                }
            }
            Ok(Event::Text(t)) => {
                let raw = (*t).to_string();
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(&raw);
                } else {
                    assert!(raw.trim().is_empty(), "text outside the root element: {raw:?}");
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = (*r).to_string();
                let ch = match name.as_str() {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    other => match other.strip_prefix("#x").map(|h| u32::from_str_radix(h, 16)).or_else(|| other.strip_prefix('#').map(|d| d.parse::<u32>())) {
                        Some(Ok(code)) => char::from_u32(code).map(String::from).unwrap_or_else(|| panic!("bad character reference &{other};")),
                        _ => panic!("unknown entity &{other}; in {text}"),
                    },
                };
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(&ch);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(&t);
                }
            }
            Ok(Event::End(_)) => {
                let (name, children, text) = stack.pop().expect("balanced XML");
                let value = if children.is_empty() {
                    Value::String(text.trim().to_string())
                } else {
                    assert!(text.trim().is_empty(), "mixed content in <{name}>: {text:?}");
                    group(children)
                };
                match stack.last_mut() {
                    Some(parent) => parent.1.push((name, value)),
                    None => root = Some((name, value)),
                }
            }
            Ok(Event::Eof) => break,
            Ok(Event::Decl(_)) | Ok(Event::Comment(_)) | Ok(Event::PI(_)) | Ok(Event::DocType(_)) => {}
            Err(e) => panic!("not well-formed XML ({e}): {text}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements in {text}");
    let (name, value) = root.unwrap_or_else(|| panic!("no root element in {text:?}"));
    let mut doc = Map::new();
    doc.insert(name, value);
    Value::Object(doc)
}

fn group(children: Vec<(String, Value)>) -> Value {
    let mut grouped: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, value) in children {
        match grouped.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => grouped.push((name, vec![value])),
        }
    }
    let mut map = Map::new();
    for (name, mut values) in grouped {
        let value = if values.len() == 1 { values.remove(0) } else { Value::Array(values) };
        map.insert(name, value);
    }
    Value::Object(map)
}

/// The exit status of a child process once it has ended, or `None` if it is still running after `within`.
pub fn wait_for_exit(child: &mut std::process::Child, within: std::time::Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// `taskemu serve` as a child process, killed when dropped, at the address its ready line gave.
pub struct Served {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Served {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `serve --listen 127.0.0.1:0` and these arguments (paths relative to the
/// crate's root, warnings-only logs, no control token from the environment) and waits for its one
/// ready line.
pub fn spawn_serve(args: &[&str], stderr: std::process::Stdio) -> Served {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_taskemu"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TASKEMU_LOG", "warn")
        .env_remove("TASKEMU_CONTROL_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn taskemu serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let Some(addr) = line.trim().strip_prefix("taskemu listening on http://").and_then(|a| a.parse::<SocketAddr>().ok()) else {
        let _ = child.kill();
        panic!("unexpected first line {line:?}");
    };
    Served { child, addr }
}

/// A client verb of the CLI against `url` (no control token from the environment).
pub fn taskemu(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_taskemu")).args(args).env("TASKEMU_URL", url).env_remove("TASKEMU_CONTROL_TOKEN").output().expect("the binary runs")
}

/// Runs a verb that must succeed and returns its stdout.
pub fn ok(url: &str, args: &[&str]) -> String {
    let out = taskemu(url, args);
    assert!(out.status.success(), "taskemu {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs a verb with `--json` that must succeed and returns what it printed.
pub fn json(url: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(url, &all)).expect("--json prints JSON")
}

/// ECS DescribeTasks' documented request example with the two filters that contradict its own
/// response widened: TaskIds names both tasks of the response (the doc names only the first), and
/// EndTime reaches the first task's creation (the doc's 15:16Z window excludes it). Every other
/// parameter is the doc's.
pub const ECS_REQUEST: &[(&str, &str)] = &[
    ("RegionId", "cn-hangzhou"),
    ("PageNumber", "1"),
    ("PageSize", "2"),
    ("TaskIds", "t-bp10e8or********74o8X,t-23sgu0d***"),
    ("TaskAction", "ImportImage"),
    ("TaskStatus", "Finished"),
    ("StartTime", "2015-11-23T15:10:00Z"),
    ("EndTime", "2015-11-24T12:50:00Z"),
];
