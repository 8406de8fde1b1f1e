//! The HTTP server's bounds and protocol edges over raw sockets (issue 11): a withheld body is
//! answered 408 and closed, connections past the cap wait and are served once others close,
//! SIGTERM is not held by withheld bodies, a body over the limit is answered so that a client
//! that writes it all before reading sees the 413, and HTTP/1.1 without Host (400), a transfer
//! coding besides chunked (501) and an HTTP/2 preface (505) are answered in words.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use serde_json::json;
use taskemu::server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ECS_TARGET: &str = "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&PageSize=1";

fn hss_target() -> String {
    batch_query_path(PROJECT)
}

async fn start_limited(limits: Limits) -> Emulator {
    Emulator::start_with_limits(Config::default(), vec![Source::demo()], "127.0.0.1:0".parse().unwrap(), limits).await.expect("the emulator starts")
}

/// Writes `raw` on a fresh connection and reads the answer until the server closes, within `within`.
async fn exchange(addr: SocketAddr, raw: &[u8], within: Duration) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(raw).await.expect("the whole request is written: the server reads or discards it");
    tokio::time::timeout(within, read_reply(&mut stream)).await.unwrap_or_else(|_| panic!("no answer within {within:?}"))
}

fn post_head(target: &str, content_type: &str, length: usize) -> String {
    format!("POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n")
}

/// Sends as Python's http.client does a large body: the head in one write, then the whole body
/// in another, without waiting for `100 Continue` or an answer in between; then reads. The
/// pause lets the server answer the head first, as it does for urllib.
async fn send_head_then_body(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send the head");
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream.write_all(body).await.expect("the whole body is written: the server discards what it refused");
    tokio::time::timeout(Duration::from_secs(10), read_reply(&mut stream)).await.expect("an answer within 10 s")
}

/// Opens a connection that sends its head and part of a body, then withholds the rest.
async fn withheld_body(addr: SocketAddr, target: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(format!("{}{{\"a\":", post_head(target, "application/json", 100)).as_bytes()).await.expect("send a head");
    stream
}

fn assert_closed_after(reply_at: Instant, bound: Duration) {
    assert!(reply_at.elapsed() < bound, "answered and closed after {:?}", reply_at.elapsed());
}

// --- R1: body timeout, connection cap, SIGTERM ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_body_is_answered_408_in_the_cloud_envelope_and_closed() {
    let emu = start_limited(Limits { body_timeout: Duration::from_millis(300), ..Limits::default() }).await;
    let started = Instant::now();
    let mut aliyun = withheld_body(emu.addr, ECS_TARGET).await;
    let mut huawei = withheld_body(emu.addr, &hss_target()).await;
    let aliyun = tokio::time::timeout(Duration::from_secs(5), read_reply(&mut aliyun)).await.expect("the Alibaba one is answered and closed");
    let huawei = tokio::time::timeout(Duration::from_secs(5), read_reply(&mut huawei)).await.expect("the Huawei one is answered and closed");
    assert_closed_after(started, Duration::from_secs(3));
    assert_aliyun_error(&aliyun, 408, "ecs.aliyuncs.com", "Ecs", "RequestTimeout", "The request body did not arrive within 300 ms.");
    assert_eq!(aliyun.header("connection"), Some("close"));
    assert_eq!(huawei.status, 408);
    let request_id = huawei.header("x-request-id").expect("X-Request-Id").to_string();
    assert_eq!(huawei.json(), json!({"error_code": "APIGW.0201", "error_msg": "Request timeout: the body did not arrive within 300 ms.", "request_id": request_id}));
    // A body that arrives in time, in pieces, is read as before.
    let mut slow = TcpStream::connect(emu.addr).await.unwrap();
    slow.write_all(post_head(&hss_target(), "application/json", 2).as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    slow.write_all(b"{}").await.unwrap();
    assert_eq!(hss_ok(&read_reply(&mut slow).await)["total_num"], 3);
    emu.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_and_are_served_once_others_close() {
    let long = Duration::from_secs(30);
    let emu = start_limited(Limits { max_connections: 2, header_timeout: long, body_timeout: long, ..Limits::default() }).await;
    // Two connections hold the cap: one withholding its body, one sending nothing at all.
    let withholding = withheld_body(emu.addr, ECS_TARGET).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let silent = TcpStream::connect(emu.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A third waits in the backlog: connected, its request sent, no answer yet.
    let mut waiting = TcpStream::connect(emu.addr).await.expect("the backlog takes the connection");
    waiting.write_all(format!("GET {ECS_TARGET} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut first)).await;
    assert!(early.is_err(), "a connection past the cap was served: {early:?}");
    // One closes: the waiting client is served at once.
    drop(silent);
    let reply = tokio::time::timeout(Duration::from_secs(5), read_reply(&mut waiting)).await.expect("served once a slot freed");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["TotalCount"], 6);
    // And the other slot frees too, for a next client.
    drop(withholding);
    let next = exchange(emu.addr, format!("GET {ECS_TARGET} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(next.status, 200);
    emu.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_cuts_withheld_bodies_and_silent_connections_instead_of_draining() {
    let long = Duration::from_secs(30);
    let emu = start_limited(Limits { header_timeout: long, body_timeout: long, drain: long, ..Limits::default() }).await;
    let mut bodies = Vec::new();
    for _ in 0..5 {
        bodies.push(withheld_body(emu.addr, ECS_TARGET).await);
    }
    let _silent = TcpStream::connect(emu.addr).await.unwrap();
    let mut half_head = TcpStream::connect(emu.addr).await.unwrap();
    half_head.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), emu.stop()).await.expect("stopped well within the drain time").unwrap();
    assert_closed_after(started, Duration::from_secs(3));
    for mut body in bodies {
        let reply = tokio::time::timeout(Duration::from_secs(2), read_reply(&mut body)).await.expect("answered before the stop");
        assert_aliyun_error(&reply, 503, "ecs.aliyuncs.com", "Ecs", "ServiceUnavailable", "The request has failed due to a temporary failure of the server.");
    }
}

/// The real binary, as a user stops it: withheld bodies do not stretch SIGTERM to `--drain`.
#[test]
fn sigterm_with_withheld_bodies_open_stops_within_a_bound() {
    let mut served = spawn_serve(&["--body-timeout", "60s", "--header-timeout", "60s", "--drain", "60s", "--max-connections", "64"], Stdio::null());
    let (addr, child) = (served.addr, &mut served.child);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut open = runtime.block_on(async {
        let mut open = Vec::new();
        for _ in 0..10 {
            open.push(withheld_body(addr, &hss_target()).await);
        }
        open.push(TcpStream::connect(addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(300)).await;
        open
    });
    let started = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill").success());
    let Some(status) = wait_for_exit(child, Duration::from_secs(10)) else {
        let _ = child.kill();
        panic!("serve did not stop within 10 s of SIGTERM (drain 60 s)");
    };
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(5), "stopped after {:?}", started.elapsed());
    open.pop();
    runtime.block_on(async {
        for mut body in open {
            let reply = tokio::time::timeout(Duration::from_secs(2), read_reply(&mut body)).await.expect("each was answered");
            assert_eq!(reply.status, 503, "{}", reply.text());
            assert_eq!(reply.json()["error_code"], "APIGW.0201");
        }
    });
}

// --- 413 readable ---------------------------------------------------------------------------------

/// A client that writes headers and a 2 MiB body without waiting for `100 Continue` (Python's
/// urllib), then reads: it must find the 413, in the cloud's envelope, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_its_whole_oversized_body_first_reads_the_413() {
    let emu = start_limited(Limits::default()).await;
    let body = vec![b'a'; 2 * 1024 * 1024];
    let limit = Limits::default().max_body;
    for attempt in 0..20 {
        let reply = send_head_then_body(emu.addr, &post_head(ECS_TARGET, "application/x-www-form-urlencoded", body.len()), &body).await;
        assert_eq!(reply.status, 413, "attempt {attempt}: {}", reply.text());
        assert_aliyun_error(&reply, 413, "ecs.aliyuncs.com", "Ecs", "RequestEntityTooLarge", &format!("The request body exceeds the limit of {limit} bytes."));

        let reply = send_head_then_body(emu.addr, &post_head(&hss_target(), "application/json", body.len()), &body).await;
        assert_eq!(reply.status, 413, "attempt {attempt}: {}", reply.text());
        let request_id = reply.header("x-request-id").expect("X-Request-Id").to_string();
        assert_eq!(reply.json(), json!({"error_code": "APIGW.0201", "error_msg": format!("Request entity too large: the body exceeds {limit} bytes."), "request_id": request_id}));
    }
    // Still serving.
    assert_eq!(exchange(emu.addr, format!("GET {ECS_TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(), Duration::from_secs(5)).await.status, 200);
    emu.stop().await.unwrap();
}

/// Too many headers, then a body sent without waiting: the 431 is read too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_its_body_after_too_many_headers_reads_the_431() {
    let emu = start_limited(Limits::default()).await;
    let flood: String = (0..150).map(|h| format!("X-Flood-{h}: v\r\n")).collect();
    let body = vec![b'a'; 2 * 1024 * 1024];
    let head = post_head(ECS_TARGET, "application/x-www-form-urlencoded", body.len()).replacen("\r\n", &format!("\r\n{flood}"), 1);
    let reply = send_head_then_body(emu.addr, &head, &body).await;
    assert_aliyun_error(&reply, 431, "ecs.aliyuncs.com", "Ecs", "RequestHeaderFieldsTooLarge", "The request headers exceed the limit of 100 headers or 16384 bytes.");
    emu.stop().await.unwrap();
}

/// A client that announces `Expect: 100-continue` is answered at once and sends nothing more.
#[tokio::test]
async fn a_client_waiting_for_continue_gets_the_413_without_sending_the_body() {
    let emu = start_limited(Limits::default()).await;
    let head = format!("POST {ECS_TARGET} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n", 2 * 1024 * 1024);
    let reply = exchange(emu.addr, head.as_bytes(), Duration::from_secs(3)).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    emu.stop().await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Bodies around the limit, sent whole before reading: at or under it they are read, over it
    /// (up to the discard bound) the 413 is read, never a reset.
    #[test]
    fn bodies_around_the_limit_are_read_or_refused_readably(size in prop_oneof![4096usize - 64..=4096, 4097usize..=4 * 4096], form in any::<bool>()) {
        const MAX: usize = 4096;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let emu = start_limited(Limits { max_body: MAX, ..Limits::default() }).await;
            let (target, content_type, mut body) = if form {
                (ECS_TARGET.to_string(), "application/x-www-form-urlencoded", b"PageNumber=1&".to_vec())
            } else {
                (hss_target(), "application/json", b"{}".to_vec())
            };
            body.resize(size, b' ');
            let reply = send_head_then_body(emu.addr, &post_head(&target, content_type, size), &body).await;
            let expected = if size <= MAX { 200 } else { 413 };
            assert_eq!(reply.status, expected, "{size} bytes: {}", reply.text());
            emu.stop().await.unwrap();
        });
    }
}

// --- Smaller protocol edges -----------------------------------------------------------------------

#[tokio::test]
async fn http_1_1_without_one_host_is_400_in_the_cloud_envelope() {
    let emu = start_limited(Limits::default()).await;
    let within = Duration::from_secs(3);
    let reply = exchange(emu.addr, format!("GET {ECS_TARGET} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes(), within).await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "MissingHost", "An HTTP/1.1 request must carry exactly one Host header.");
    let reply = exchange(emu.addr, format!("POST {} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}", hss_target()).as_bytes(), within).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error_code"], "APIGW.0201");
    assert_eq!(reply.json()["error_msg"], "Bad request: an HTTP/1.1 request must carry exactly one Host header.");
    let reply = exchange(emu.addr, b"GET /_emu/clock HTTP/1.1\r\n\r\n", within).await;
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"].as_str().is_some_and(|e| e.contains("Host")), "{}", reply.text());
    // Two Host headers are as bad as none.
    let reply = exchange(emu.addr, format!("GET {ECS_TARGET} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").as_bytes(), within).await;
    assert_eq!(reply.status, 400);
    // HTTP/1.0 needs none.
    let mut old = TcpStream::connect(emu.addr).await.unwrap();
    old.write_all(format!("GET {ECS_TARGET} HTTP/1.0\r\n\r\n").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(within, old.read_to_end(&mut raw)).await.expect("answered").unwrap();
    assert!(raw.starts_with(b"HTTP/1.0 200 OK\r\n"), "{}", String::from_utf8_lossy(&raw));
    emu.stop().await.unwrap();
}

#[tokio::test]
async fn a_transfer_coding_besides_chunked_is_501() {
    let emu = start_limited(Limits::default()).await;
    let within = Duration::from_secs(3);
    for coding in ["gzip, chunked", "GZIP,chunked", "deflate, chunked"] {
        let raw = format!("POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n", hss_target());
        let reply = exchange(emu.addr, raw.as_bytes(), within).await;
        assert_eq!(reply.status, 501, "{coding}: {}", reply.text());
        assert_eq!(reply.json()["error_msg"], "Not implemented: transfer codings other than chunked are not supported.");
    }
    let raw = format!("POST {ECS_TARGET} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    assert_aliyun_error(&exchange(emu.addr, raw.as_bytes(), within).await, 501, "ecs.aliyuncs.com", "Ecs", "NotImplemented", "Transfer codings other than chunked are not supported.");
    // Plain chunked is read as before, its chunks joined.
    let raw = format!("POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", hss_target());
    let mut stream = TcpStream::connect(emu.addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    for chunk in ["d\r\n{\"task_type\":\r\n", "10\r\n \"cluster_scan\"}\r\n", "0\r\n\r\n"] {
        stream.write_all(chunk.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hss_ok(&read_reply(&mut stream).await)["total_num"], 2);
    emu.stop().await.unwrap();
}

#[tokio::test]
async fn an_http2_preface_is_answered_that_only_http_1_1_is_served() {
    let emu = start_limited(Limits::default()).await;
    let mut stream = TcpStream::connect(emu.addr).await.unwrap();
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut raw)).await.expect("answered and closed").expect("read the answer");
    let reply = parse_reply(&raw);
    assert_eq!(reply.status, 505);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(reply.text().contains("HTTP/1.1 only"), "{}", reply.text());
    // HTTP/1.1 is served as ever.
    assert_eq!(exchange(emu.addr, format!("GET {ECS_TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(), Duration::from_secs(3)).await.status, 200);
    emu.stop().await.unwrap();
}
