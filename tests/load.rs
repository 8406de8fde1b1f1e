//! 64 concurrent clients mixing good requests with hostile ones (oversized, malformed, unknown,
//! half-sent) against one server: every good request must be answered correctly, and the server
//! must still serve afterwards. Bounded in count and time; loopback only.

use std::time::Duration;

use taskemu::{Config, Emulator, Source};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes on a fresh connection and reads the answer to EOF.
async fn exchange(addr: std::net::SocketAddr, raw: Vec<u8>) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&raw).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, answer[(split + 4).min(answer.len())..].to_vec()))
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(target: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!("POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    raw.extend_from_slice(body);
    raw
}

const ECS: &str = "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&PageSize=2";
const HSS: &str = "/v5/0123456789abcdef0123456789abcdef/common/tasks/batch-query";

async fn good(addr: std::net::SocketAddr, i: usize) {
    if i.is_multiple_of(2) {
        let (status, body) = exchange(addr, get(ECS)).await.expect("good ECS request answered");
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc["TotalCount"], 6);
        assert_eq!(doc["TaskSet"]["Task"].as_array().map(Vec::len), Some(2));
        assert_eq!(doc["TaskSet"]["Task"][0]["TaskId"], "t-bp1demo0000waiting01");
    } else {
        let (status, body) = exchange(addr, post(HSS, "application/json", br#"{"task_type":"cluster_scan"}"#)).await.expect("good HSS request answered");
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc["total_num"], 2);
    }
}

async fn hostile(addr: std::net::SocketAddr, i: usize) {
    let raw = match i % 6 {
        0 => post(ECS, "application/x-www-form-urlencoded", &vec![b'a'; 2 * 1024 * 1024]),
        1 => post(HSS, "application/json", b"{\"task_type\": [[[[[[[[[["),
        2 => get("/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&PageSize=1e30&PageNumber=-5"),
        3 => b"GARBAGE \x00\xff\r\n\r\n".to_vec(),
        4 => {
            let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
            for h in 0..150 {
                raw.extend_from_slice(format!("X-Flood-{h}: {}\r\n", "v".repeat(100)).as_bytes());
            }
            raw.extend_from_slice(b"Connection: close\r\n\r\n");
            raw
        }
        _ => b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort".to_vec(),
    };
    if i % 6 == 5 {
        // Half a body, then hang up: the server must not wait on it forever or fall over.
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let _ = stream.write_all(&raw).await;
        drop(stream);
        return;
    }
    if let Ok((status, _)) = exchange(addr, raw).await {
        assert!(status == 0 || (400..=431).contains(&status), "hostile request {i} got {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_good_and_hostile() {
    let emu = Emulator::start(Config::default(), vec![Source::demo()], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = emu.addr;
    let clients: Vec<_> = (0..64)
        .map(|client| {
            tokio::spawn(async move {
                for round in 0..12 {
                    let n = client * 12 + round;
                    if (client + round) % 3 == 0 {
                        hostile(addr, n).await;
                    } else {
                        good(addr, n).await;
                    }
                }
            })
        })
        .collect();
    let all = async {
        for c in clients {
            c.await.expect("no client task panicked");
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all).await.expect("the load finished within 60 s");
    // Still serving, and every good request was journalled as a success.
    good(addr, 0).await;
    let ok = emu.state.journal.query(&taskemu::journal::Filter { status: Some(200), ..Default::default() });
    // Each client sends 8 good requests of its 12; plus the one just above.
    assert_eq!(ok.len(), 64 * 8 + 1);
    emu.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_headers_too_slowly_is_cut_off_while_others_are_served() {
    let limits = taskemu::server::Limits { header_timeout: Duration::from_millis(300), ..Default::default() };
    let emu = Emulator::start_with_limits(Config::default(), vec![Source::demo()], "127.0.0.1:0".parse().unwrap(), limits).await.unwrap();
    let mut slow = TcpStream::connect(emu.addr).await.unwrap();
    slow.write_all(b"GET /?Action=DescribeTasks HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // Meanwhile everyone else is answered.
    good(emu.addr, 0).await;
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the slow client was not cut off within 5 s");
    assert!(started.elapsed() < Duration::from_secs(3), "cut off after {:?}", started.elapsed());
    good(emu.addr, 1).await;
    emu.stop().await.unwrap();
}
