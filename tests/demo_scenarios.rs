//! The demo scenarios of scenarios/: each one loads as `taskemu serve --scenario` would load it,
//! and its story reads true through every cloud operation it uses, before and after the clock
//! moves (the dashboard shows the same world through `/_emu/tasks`, checked here too). One more
//! test reads every scenario file there, demo.toml and any added later, through the operations of
//! the products it holds. Requests go over real sockets with the small blocking HTTP/1.1 client
//! below; the emulator runs on its own tokio runtime.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use taskemu::{Config, Emulator, Source};

type Result<T = (), E = Box<dyn Error>> = std::result::Result<T, E>;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// The Huawei project scenarios use when they name none.
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// The staging project of hss-nightly-image-scan.toml.
const STAGING: &str = "5f1e0c2d9a8b47c6b3d2e1f0a9b8c7d6";

// --- a tiny HTTP/1.1 client ---------------------------------------------------------------------

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| format!("not JSON ({e}): {}", self.text()).into())
    }
}

/// One request on its own connection (`Connection: close`), read until the server closes.
fn request(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Result<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()) {
        rest.get(..len).ok_or("body shorter than its Content-Length")?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Reply { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").ok_or("a chunk without its size line")?;
        let size_text = String::from_utf8_lossy(&data[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("a chunk shorter than its size")?);
        data = data.get(size + 2..).ok_or("a chunk without its CRLF")?;
    }
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters kept).
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query(params: &[(&str, &str)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

// --- an emulator serving one scenario file --------------------------------------------------------

struct Demo {
    emu: Option<Emulator>,
    runtime: tokio::runtime::Runtime,
}

impl Demo {
    /// Serves the scenario file as `taskemu serve --scenario PATH` does (frozen clock).
    fn start(path: &Path) -> Result<Demo> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let sources = Source::read_path(path)?;
        let emu = runtime.block_on(Emulator::start(Config::default(), sources, "127.0.0.1:0".parse()?)).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Demo { emu: Some(emu), runtime })
    }

    fn scenario(file: &str) -> Result<Demo> {
        Demo::start(&scenarios_dir().join(file))
    }

    fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("running")
    }

    fn advance(&self, by: i64) {
        self.emu().state.clock.advance(by);
    }

    fn send(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Reply> {
        request(self.emu().addr, method, target, headers, body)
    }

    /// A control-API call that must succeed.
    fn control(&self, method: &str, target: &str, body: Option<Value>) -> Result<Value> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let reply = self.send(method, target, &[("Content-Type", "application/json")], &bytes)?;
        if reply.status != 200 {
            return Err(format!("{method} {target} answered {}: {}", reply.status, reply.text()).into());
        }
        reply.json()
    }

    /// `GET /_emu/tasks?product=P`: what the dashboard shows, by id.
    fn dashboard(&self, product: &str) -> Result<Vec<Value>> {
        let v = self.control("GET", &format!("/_emu/tasks?product={product}"), None)?;
        Ok(v["tasks"].as_array().cloned().unwrap_or_default())
    }

    fn dashboard_status(&self, product: &str, id: &str) -> Result<String> {
        let tasks = self.dashboard(product)?;
        let task = tasks.iter().find(|t| t["id"] == id).ok_or_else(|| format!("no {product} task {id} on the dashboard"))?;
        Ok(task["status"].as_str().unwrap_or_default().to_string())
    }

    /// An Alibaba RPC call (GET, parameters in the query).
    fn rpc(&self, action: &str, version: &str, params: &[(&str, &str)]) -> Result<Reply> {
        let mut all = vec![("Action", action), ("Version", version)];
        all.extend_from_slice(params);
        self.send("GET", &format!("/?{}", query(&all)), &[], b"")
    }

    fn rpc_ok(&self, action: &str, version: &str, params: &[(&str, &str)]) -> Result<Value> {
        let reply = self.rpc(action, version, params)?;
        if reply.status != 200 {
            return Err(format!("{action} {params:?} answered {}: {}", reply.status, reply.text()).into());
        }
        reply.json()
    }

    /// ECS DescribeTasks in a region: the tasks, by TaskId.
    fn ecs(&self, region: &str, params: &[(&str, &str)]) -> Result<Value> {
        let mut all = vec![("RegionId", region), ("PageSize", "100")];
        all.extend_from_slice(params);
        self.rpc_ok("DescribeTasks", "2014-05-26", &all)
    }

    /// AVDS DescribeScanSessions.
    fn avds(&self, params: &[(&str, &str)]) -> Result<Value> {
        let mut all = vec![("PageSize", "100")];
        all.extend_from_slice(params);
        self.rpc_ok("DescribeScanSessions", "2017-11-29", &all)
    }

    fn sas(&self, task_id: &str) -> Result<Value> {
        self.rpc_ok("DescribeScanTaskProgress", "2018-12-03", &[("TaskId", task_id)])
    }

    /// HSS ListImageScanTask in a project.
    fn hss_images(&self, project: &str, params: &[(&str, &str)]) -> Result<Value> {
        let mut all = vec![("limit", "200")];
        all.extend_from_slice(params);
        let reply = self.send("GET", &format!("/v5/{project}/image/tasks?{}", query(&all)), &[("Content-Type", "application/json")], b"")?;
        if reply.status != 200 || reply.header("x-request-id").is_none() {
            return Err(format!("ListImageScanTask {params:?} answered {}: {}", reply.status, reply.text()).into());
        }
        reply.json()
    }

    /// HSS ListTasks in a project, with a JSON body of filters.
    fn hss_tasks(&self, project: &str, body: Value) -> Result<Value> {
        let reply = self.send("POST", &format!("/v5/{project}/common/tasks/batch-query?limit=200"), &[("Content-Type", "application/json")], body.to_string().as_bytes())?;
        if reply.status != 200 || reply.header("x-request-id").is_none() {
            return Err(format!("ListTasks {body} answered {}: {}", reply.status, reply.text()).into());
        }
        reply.json()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            let _ = self.runtime.block_on(emu.stop());
        }
    }
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Unix milliseconds of an RFC 3339 instant.
fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("a valid instant in the test").timestamp_millis()
}

/// The item of `list` (an array) whose `field` is `id`.
fn find<'a>(list: &'a Value, field: &str, id: &str) -> Result<&'a Value> {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[field].as_str() == Some(id) || item[field].as_i64().map(|n| n.to_string()).as_deref() == Some(id)))
        .ok_or_else(|| format!("no item with {field} {id} in {list}").into())
}

fn strs(value: &Value, field: &str) -> Vec<String> {
    value.as_array().map(|items| items.iter().map(|i| i[field].as_str().map_or_else(|| i[field].to_string(), str::to_string)).collect()).unwrap_or_default()
}

// --- hss-nightly-image-scan.toml ------------------------------------------------------------------

#[test]
fn hss_nightly_image_scan_tells_its_story() -> Result {
    let demo = Demo::scenario("hss-nightly-image-scan.toml")?;
    let registry = "5a1c0000-0000-4000-8000-00000000b002";
    let local = "5a1c0000-0000-4000-8000-00000000b003";
    let staging_scan = "5a1c0000-0000-4000-8000-00000000c001";
    let sync = "5a1c0000-0000-4000-8000-00000000a001";

    // 01:55: the asset sync runs; of the scans, only last night's is there (2 images failed).
    let syncs = demo.hss_images(PROJECT, &[("type", "image_sync")])?;
    assert_eq!(syncs["total_num"], 1, "{syncs}");
    let s = find(&syncs["data_list"], "task_id", sync)?;
    assert_eq!((s["task_type"].as_str(), s["task_status"].as_i64(), s["total_num"].as_i64()), (Some("autoSync"), Some(0), Some(128)));
    assert!(s["task_name"].as_str().is_some_and(|n| n.starts_with("AutomaticImageAssetSynchronization_")), "{s}");
    let scans = demo.hss_images(PROJECT, &[("type", "image_scan")])?;
    assert_eq!(scans["total_num"], 1, "{scans}");
    let last_night = &scans["data_list"][0];
    assert_eq!((last_night["task_status"].as_i64(), last_night["failed_num"].as_i64(), last_night["success_num"].as_i64()), (Some(100), Some(2), Some(123)));
    assert_eq!(strs(&last_night["failed_images"], "image_name"), ["payments-api", "legacy-cron"]);
    assert_eq!(demo.hss_images(STAGING, &[("type", "image_scan")])?["total_num"], 0);
    assert_eq!(demo.dashboard_status("hss_image", sync)?, "scanning");

    // 02:00: the sync is done and tonight's three scans wait to start.
    demo.advance(5 * MINUTE);
    assert_eq!(find(&demo.hss_images(PROJECT, &[("type", "image_sync")])?["data_list"], "task_id", sync)?["task_status"], 100);
    let scans = demo.hss_images(PROJECT, &[("type", "image_scan")])?;
    assert_eq!(scans["total_num"], 2 + 1);
    assert_eq!(find(&scans["data_list"], "task_id", registry)?["task_status"], 0);
    assert_eq!(demo.hss_images(STAGING, &[("type", "image_scan")])?["total_num"], 1);
    assert_eq!(demo.dashboard_status("hss_image", registry)?, "waiting");

    // 02:25: the registry scan is 24 of its 45 minutes in, and 2 of its 4 failed images are out;
    // the local scan finished at 02:22; staging is still scanning.
    demo.advance(25 * MINUTE);
    let scans = demo.hss_images(PROJECT, &[("type", "image_scan")])?;
    let r = find(&scans["data_list"], "task_id", registry)?;
    assert_eq!((r["task_status"].as_i64(), r["failed_num"].as_i64(), r["success_num"].as_i64(), r["total_num"].as_i64()), (Some(53), Some(2), Some(66), Some(128)));
    assert_eq!(strs(&r["failed_images"], "image_name"), ["payments-api", "ml-inference"]);
    assert_eq!(r["remain_min"], 21);
    let l = find(&scans["data_list"], "task_id", local)?;
    assert_eq!((l["task_status"].as_i64(), l["success_num"].as_i64(), l["failed_num"].as_i64()), (Some(100), Some(36), Some(0)));
    let scanning = demo.hss_images(PROJECT, &[("type", "image_scan"), ("task_status", "scanning")])?;
    assert_eq!(strs(&scanning["data_list"], "task_id"), [registry]);
    let staging = demo.hss_images(STAGING, &[("type", "image_scan")])?;
    assert_eq!(staging["data_list"][0]["task_status"], 76);
    assert_eq!(demo.dashboard_status("hss_image", registry)?, "scanning");

    // 02:50: prod finished with 4 failed images of 128; staging timed out at 02:32.
    demo.advance(25 * MINUTE);
    let scans = demo.hss_images(PROJECT, &[("type", "image_scan")])?;
    let r = find(&scans["data_list"], "task_id", registry)?;
    assert_eq!((r["task_status"].as_i64(), r["failed_num"].as_i64(), r["success_num"].as_i64(), r["risky_num"].as_i64()), (Some(100), Some(4), Some(124), Some(23)));
    assert_eq!(r["end_time"], ms("2026-11-22T02:46:00Z"));
    assert_eq!(strs(&r["failed_images"], "image_name"), ["payments-api", "ml-inference", "legacy-cron", "edge-proxy"]);
    let staging = demo.hss_images(STAGING, &[("type", "image_scan")])?;
    let t = find(&staging["data_list"], "task_id", staging_scan)?;
    assert_eq!(t["task_status"], -2, "timeout: {t}");
    assert_eq!(t["end_time"], ms("2026-11-22T02:32:00Z"));
    assert!(t["failed_reason"].as_str().is_some_and(|r| r.contains("harbor-staging")), "{t}");
    assert_eq!(demo.dashboard_status("hss_image", staging_scan)?, "timeout");
    let statuses: Vec<String> = demo.dashboard("hss_image")?.iter().map(|t| format!("{} {}", t["tenant"].as_str().unwrap_or("-"), t["status"].as_str().unwrap_or("-"))).collect();
    assert_eq!(statuses.iter().filter(|s| s.ends_with("finished")).count(), 4, "{statuses:?}");
    Ok(())
}

// --- ecs-image-import-export.toml -----------------------------------------------------------------

#[test]
fn ecs_image_import_export_tells_its_story() -> Result {
    let demo = Demo::scenario("ecs-image-import-export.toml")?;
    let golden = "t-bp1import0golden001";
    let release = "t-bp1export0release02";
    let broken = "t-bp1import0broken003";
    let cancel = "t-bp1export0cancel004";
    let shanghai = "t-uf6import0golden005";

    // The scenario's fault rule: the first DescribeTasks meets a 503, the retry goes through.
    let first = demo.rpc("DescribeTasks", "2014-05-26", &[("RegionId", "cn-hangzhou")])?;
    assert_eq!(first.status, 503, "{}", first.text());
    assert_eq!(first.json()?["Code"], "ServiceUnavailable");
    let failed_calls = demo.control("GET", "/_emu/requests?operation=DescribeTasks&status=503", None)?;
    assert_eq!(failed_calls["count"], 1, "{failed_calls}");

    let status = |answer: &Value, id: &str| -> Result<String> { Ok(find(&answer["TaskSet"]["Task"], "TaskId", id)?["TaskStatus"].as_str().unwrap_or_default().to_string()) };

    // 09:00: three tasks wait, the broken import is processing; yesterday's 8 are history.
    let hz = demo.ecs("cn-hangzhou", &[])?;
    assert_eq!(hz["TotalCount"], 4 + 8, "{hz}");
    assert_eq!([status(&hz, golden)?, status(&hz, release)?, status(&hz, broken)?, status(&hz, cancel)?], ["Waiting", "Waiting", "Processing", "Waiting"]);
    assert_eq!(find(&hz["TaskSet"]["Task"], "TaskId", golden)?["ResourceId"], "m-bp1golden2026w47001");
    assert_eq!(demo.ecs("cn-shanghai", &[])?["TotalCount"], 0);
    let history_failures = demo.ecs("cn-hangzhou", &[("TaskStatus", "Failed")])?;
    assert_eq!(history_failures["TotalCount"], 2, "one in four of yesterday's failed: {history_failures}");
    assert_eq!(demo.ecs("cn-hangzhou", &[("TaskAction", "ExportImage")])?["TaskSet"]["Task"].as_array().map(|a| a.iter().any(|t| t["TaskId"] == cancel)), Some(true));

    // 09:05: the broken import has failed; the cancellable export is processing.
    demo.advance(5 * MINUTE);
    let hz = demo.ecs("cn-hangzhou", &[])?;
    assert_eq!([status(&hz, golden)?, status(&hz, release)?, status(&hz, broken)?, status(&hz, cancel)?], ["Processing", "Processing", "Failed", "Processing"]);
    assert_eq!(find(&hz["TaskSet"]["Task"], "TaskId", broken)?["FinishedTime"], "2026-11-22T09:05Z");
    assert_eq!(demo.dashboard_status("ecs", broken)?, "Failed");

    // 09:10: the export was cancelled (Deleted) at 09:06; Shanghai's import has appeared.
    demo.advance(5 * MINUTE);
    let hz = demo.ecs("cn-hangzhou", &[])?;
    assert_eq!([status(&hz, golden)?, status(&hz, release)?, status(&hz, cancel)?], ["Processing", "Processing", "Deleted"]);
    let sh = demo.ecs("cn-shanghai", &[])?;
    assert_eq!(sh["TotalCount"], 1);
    assert_eq!(status(&sh, shanghai)?, "Waiting");
    assert_eq!(demo.dashboard_status("ecs", cancel)?, "Deleted");

    // 09:40: everything that could finish has.
    demo.advance(30 * MINUTE);
    let hz = demo.ecs("cn-hangzhou", &[])?;
    assert_eq!([status(&hz, golden)?, status(&hz, release)?, status(&hz, broken)?, status(&hz, cancel)?], ["Finished", "Finished", "Failed", "Deleted"]);
    assert_eq!(find(&hz["TaskSet"]["Task"], "TaskId", golden)?["FinishedTime"], "2026-11-22T09:15Z");
    assert_eq!(status(&demo.ecs("cn-shanghai", &[])?, shanghai)?, "Finished");
    assert_eq!(demo.ecs("cn-hangzhou", &[("TaskStatus", "Failed")])?["TotalCount"], 3);
    assert_eq!(demo.dashboard("ecs")?.iter().filter(|t| t["terminal"] == false).count(), 0);
    Ok(())
}

// --- avds-hourly-scans.toml -----------------------------------------------------------------------

#[test]
fn avds_hourly_scans_tell_their_story() -> Result {
    let demo = Demo::scenario("avds-hourly-scans.toml")?;
    let hourly = "0f5e7c1a-7a52-4c8e-9c39-3a6d1e4b7001";
    let sweep = "0f5e7c1a-7a52-4c8e-9c39-3a6d1e4b7002";
    let audit = "0f5e7c1a-7a52-4c8e-9c39-3a6d1e4b7003";
    let vpn = "0f5e7c1a-7a52-4c8e-9c39-3a6d1e4b7004";
    let sessions = |scan: &str| -> Result<Value> { Ok(demo.avds(&[("ScanId", scan)])?["List"].clone()) };

    // 10:00: the hourly scan has run at 07, 08 and 09 (reports ready); 10:00's session waits.
    let all = demo.avds(&[])?;
    assert_eq!(all["TotalCount"], 4 + 1 + 1, "{all}");
    let h = sessions(hourly)?;
    assert_eq!(strs(&h, "TaskId"), ["3100003", "3100002", "3100001", "3100000"]);
    assert_eq!(strs(&h, "JobStatus"), ["waiting", "finished", "finished", "finished"]);
    assert_eq!(strs(&h, "ReportStatus"), ["inexistent", "finished", "finished", "finished"]);
    assert_eq!((h[0]["TriggerType"].as_str(), h[0]["Period"].as_str(), h[0]["Interval"].as_i64()), (Some("interval"), Some("hour"), Some(1)));
    assert_eq!(h[0]["CreatedAt"], ms("2026-11-22T10:00:00Z"));
    assert_eq!(h[1]["FinishedAt"], ms("2026-11-22T09:21:00Z"));
    assert!(h[1]["ReportUrl"].as_str().is_some_and(|u| u.contains(hourly)), "{}", h[1]);
    let s = sessions(sweep)?;
    assert_eq!((strs(&s, "JobStatus"), strs(&s, "ReportStatus")), (vec!["finished".to_string()], vec!["failed".to_string()]));
    assert_eq!(strs(&sessions(vpn)?, "JobStatus"), ["aborted"]);
    assert_eq!(sessions(audit)?.as_array().map(Vec::len), Some(0));
    assert_eq!(demo.dashboard("avds")?.len(), 6);

    // 10:30: 10:00's session finished at 10:21 and its report is out; the audit is running.
    demo.advance(30 * MINUTE);
    let h = sessions(hourly)?;
    assert_eq!((h[0]["JobStatus"].as_str(), h[0]["ReportStatus"].as_str(), h[0]["RunPercent"].as_f64()), (Some("finished"), Some("finished"), Some(100.0)));
    let a = sessions(audit)?;
    assert_eq!((a[0]["JobStatus"].as_str(), a[0]["TriggerType"].as_str(), a[0]["RunPercent"].as_f64()), (Some("running"), Some("date"), Some(33.33)));
    assert_eq!(demo.dashboard_status("avds", "3300000")?, "running");

    // 11:30: a fifth hourly session, the sweep's second one running, the audit done.
    demo.advance(HOUR);
    let h = sessions(hourly)?;
    assert_eq!(h.as_array().map(Vec::len), Some(5));
    assert_eq!(h[0]["TaskId"], 3100004);
    let running = demo.avds(&[("StatusList.1", "running")])?;
    assert_eq!(strs(&running["List"], "TaskId"), ["3200001"]);
    assert!((running["List"][0]["RunPercent"].as_f64().unwrap_or_default() - 66.67).abs() < 0.01, "{running}");
    assert_eq!(strs(&sessions(audit)?, "JobStatus"), ["finished"]);
    assert_eq!(demo.avds(&[])?["TotalCount"], 5 + 2 + 1 + 1);

    // 15:30: hourly sessions up to 15:00; the sweep stopped after its 3 sessions.
    demo.advance(4 * HOUR);
    assert_eq!(sessions(hourly)?.as_array().map(Vec::len), Some(9));
    let s = sessions(sweep)?;
    assert_eq!(strs(&s, "TaskId"), ["3200002", "3200001", "3200000"]);
    assert_eq!(strs(&s, "ReportStatus"), ["failed", "failed", "failed"]);
    assert_eq!(demo.avds(&[])?["TotalCount"], 9 + 3 + 1 + 1);
    assert_eq!(demo.dashboard("avds")?.len(), 14);
    Ok(())
}

// --- hss-cluster-iac.toml -------------------------------------------------------------------------

#[test]
fn hss_cluster_iac_run_tells_its_story() -> Result {
    let demo = Demo::scenario("hss-cluster-iac.toml")?;
    let prod = "c1a5e000-0000-4000-8000-000000000001";
    let staging = "c1a5e000-0000-4000-8000-000000000002";
    let manifests = "1ac5e000-0000-4000-8000-000000000003";
    let dockerfiles = "1ac5e000-0000-4000-8000-000000000004";
    let baseline = "c1a5e000-0000-4000-8000-000000000005";
    let iac_baseline = "1ac5e000-0000-4000-8000-000000000006";
    let list = |body: Value| -> Result<Value> { Ok(demo.hss_tasks(PROJECT, body)?["data_list"].clone()) };
    let cluster = |tasks: &Value, id: &str| -> Result<(String, i64, i64, i64)> {
        let t = find(tasks, "task_id", id)?;
        let c = &t["cluster_scan_info"];
        Ok((t["task_status"].as_str().unwrap_or_default().to_string(), c["success_cluster_num"].as_i64().unwrap_or(-1), c["failed_cluster_num"].as_i64().unwrap_or(-1), c["scanning_cluster_num"].as_i64().unwrap_or(-1)))
    };
    let iac = |tasks: &Value, id: &str| -> Result<(String, i64, i64, i64)> {
        let t = find(tasks, "task_id", id)?;
        let c = &t["iac_scan_info"];
        Ok((t["task_status"].as_str().unwrap_or_default().to_string(), c["scan_file_num"].as_i64().unwrap_or(-1), c["success_file_num"].as_i64().unwrap_or(-1), c["failed_file_num"].as_i64().unwrap_or(-1)))
    };
    let s = |text: &str| text.to_string();

    // 14:00: both cluster scans are ready; last night's scans are the history.
    let all = demo.hss_tasks(PROJECT, json!({}))?;
    assert_eq!(all["total_num"], 4, "{all}");
    let tasks = &all["data_list"];
    assert_eq!(cluster(tasks, prod)?, (s("ready"), 0, 0, 0));
    assert_eq!(cluster(tasks, staging)?, (s("ready"), 0, 0, 0));
    assert_eq!(cluster(tasks, baseline)?, (s("finished"), 6, 2, 0));
    assert_eq!(iac(tasks, iac_baseline)?, (s("finished"), 46, 45, 1));
    assert_eq!(find(tasks, "task_id", prod)?["cluster_scan_info"]["scan_type_list"], json!(["cluster_vul", "benchmark", "risk_assessment"]));
    let mut scheduled = strs(&list(json!({"trigger_type": "schedule"}))?, "task_id");
    scheduled.sort();
    assert_eq!(scheduled, [iac_baseline, baseline]);

    // 14:02: the cluster scans are running; CI's IaC scans have just been queued.
    demo.advance(2 * MINUTE);
    let tasks = list(json!({}))?;
    assert_eq!(tasks.as_array().map(Vec::len), Some(6));
    assert_eq!(cluster(&tasks, prod)?, (s("running"), 0, 0, 6));
    assert_eq!(cluster(&tasks, staging)?, (s("running"), 0, 0, 2));
    assert_eq!(iac(&tasks, manifests)?, (s("ready"), 48, 0, 0));
    assert_eq!(find(&tasks, "task_id", manifests)?["iac_scan_info"]["file_type"], "k8s_yaml");
    assert_eq!(demo.dashboard_status("hss_task", manifests)?, "ready");

    // 14:12: the manifests are 79% through with 2 failed files; the Dockerfiles and staging are done.
    demo.advance(10 * MINUTE);
    let tasks = list(json!({}))?;
    assert_eq!(cluster(&tasks, prod)?, (s("running"), 3, 0, 3));
    assert_eq!(cluster(&tasks, staging)?, (s("finished"), 2, 0, 0));
    assert_eq!(iac(&tasks, manifests)?, (s("running"), 48, 36, 2));
    assert_eq!(iac(&tasks, dockerfiles)?, (s("finished"), 15, 15, 0));
    let running = list(json!({"task_status": "running"}))?;
    let mut running_ids = strs(&running, "task_id");
    running_ids.sort();
    assert_eq!(running_ids, [manifests, prod]);
    assert_eq!(strs(&list(json!({"task_type": "iac_scan", "iac_scan_info": {"file_type": "dockerfile"}}))?, "task_id"), [dockerfiles]);

    // 14:22: the run is over: 1 of 6 prod clusters and 3 of 48 manifests failed.
    demo.advance(10 * MINUTE);
    let tasks = list(json!({}))?;
    assert_eq!(cluster(&tasks, prod)?, (s("finished"), 5, 1, 0));
    assert_eq!(iac(&tasks, manifests)?, (s("finished"), 48, 45, 3));
    assert_eq!(list(json!({"task_status": "running"}))?.as_array().map(Vec::len), Some(0));
    let dashboard = demo.dashboard("hss_task")?;
    assert_eq!(dashboard.len(), 6);
    assert!(dashboard.iter().all(|t| t["status"] == "finished"), "{dashboard:?}");
    let prod_line = dashboard.iter().find(|t| t["id"] == prod).ok_or("prod on the dashboard")?;
    assert_eq!((prod_line["succeeded"].as_i64(), prod_line["failed"].as_i64(), prod_line["total"].as_i64()), (Some(5), Some(1), Some(6)));
    Ok(())
}

// --- every scenario file --------------------------------------------------------------------------

/// Reads one product's tasks through its cloud operation; returns how many the answer holds.
fn read_through_operation(demo: &Demo, product: &str, tasks: &[Value]) -> Result<usize> {
    // Tasks owned by an Alibaba tenant are visible only to its key; read the shared ones.
    let shared: Vec<&Value> = tasks.iter().filter(|t| t["tenant"].is_null()).collect();
    Ok(match product {
        "ecs" => {
            let mut regions: Vec<&str> = shared.iter().filter_map(|t| t["region"].as_str()).collect();
            regions.sort();
            regions.dedup();
            let mut seen = 0;
            for region in regions {
                let answer = demo.ecs(region, &[])?;
                seen += answer["TaskSet"]["Task"].as_array().map_or(0, Vec::len);
            }
            seen
        }
        "sas" => {
            let mut seen = 0;
            for task in shared.iter().take(5) {
                let id = task["id"].as_str().unwrap_or_default();
                let answer = demo.sas(id)?;
                assert!(answer["ScanTaskProgress"].is_string(), "SAS {id}: {answer}");
                seen += 1;
            }
            seen
        }
        "avds" => demo.avds(&[])?["List"].as_array().map_or(0, Vec::len),
        "hss_image" | "hss_task" => {
            let mut projects: Vec<&str> = tasks.iter().filter_map(|t| t["tenant"].as_str()).collect();
            projects.sort();
            projects.dedup();
            let mut seen = 0;
            for project in projects {
                if product == "hss_image" {
                    for kind in ["image_scan", "image_sync"] {
                        let answer = demo.hss_images(project, &[("type", kind), ("enterprise_project_id", "all_granted_eps")])?;
                        seen += answer["data_list"].as_array().map_or(0, Vec::len);
                    }
                } else {
                    let answer = demo.hss_tasks(project, json!({}))?;
                    seen += answer["data_list"].as_array().map_or(0, Vec::len);
                }
            }
            seen
        }
        other => return Err(format!("unknown product {other}").into()),
    })
}

#[test]
fn every_scenario_file_loads_and_reads_through_its_operations() -> Result {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    let names: Vec<String> = files.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    for story in ["hss-nightly-image-scan.toml", "ecs-image-import-export.toml", "avds-hourly-scans.toml", "hss-cluster-iac.toml"] {
        assert!(names.iter().any(|n| n == story), "scenarios/{story} is missing: {names:?}");
    }
    for path in &files {
        let demo = Demo::start(path)?;
        // Scenario fault rules are part of a story (checked above); read the world without them.
        demo.control("DELETE", "/_emu/faults", None)?;
        let mut products_read = 0;
        for moment in ["start", "a day later"] {
            for product in ["ecs", "sas", "avds", "hss_image", "hss_task"] {
                let tasks = demo.dashboard(product)?;
                let visible_to_anyone = tasks.iter().filter(|t| product.starts_with("hss") || t["tenant"].is_null()).count();
                let read = read_through_operation(&demo, product, &tasks).map_err(|e| format!("{}: {product} at {moment}: {e}", path.display()))?;
                if visible_to_anyone > 0 {
                    assert!(read > 0, "{}: {product} at {moment}: the dashboard shows {visible_to_anyone} task(s), the operation none", path.display());
                    products_read += 1;
                }
            }
            demo.advance(24 * HOUR);
        }
        assert!(products_read > 0, "{}: no task to read at all", path.display());
        let journal = demo.control("GET", "/_emu/requests?limit=1000", None)?;
        let failed: Vec<&Value> = journal["requests"].as_array().map(|r| r.iter().filter(|e| e["status"] != 200).collect()).unwrap_or_default();
        assert!(failed.is_empty(), "{}: calls that failed: {failed:?}", path.display());
    }
    Ok(())
}

#[test]
fn the_dashboard_is_served_with_its_assets() -> Result {
    let demo = Demo::scenario("hss-cluster-iac.toml")?;
    let page = demo.send("GET", "/_emu/ui", &[], b"")?;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|c| c.starts_with("text/html")), "{:?}", page.headers);
    let html = page.text();
    for needle in ["/_emu/ui/app.js", "/_emu/ui/style.css", "id=\"task-table\"", "id=\"advance-10m\"", "id=\"journal-table\"", "id=\"fault-form\""] {
        assert!(html.contains(needle), "the page lacks {needle}");
    }
    // Everything the page loads comes from the binary: no other host is named.
    for (path, kind) in [("/_emu/ui/app.js", "text/javascript"), ("/_emu/ui/style.css", "text/css")] {
        let asset = demo.send("GET", path, &[], b"")?;
        assert_eq!(asset.status, 200, "{path}");
        assert!(asset.header("content-type").is_some_and(|c| c.starts_with(kind)), "{path}: {:?}", asset.headers);
        assert!(!asset.text().contains("https://") && !asset.text().contains("http://"), "{path} names another host");
    }
    assert!(!html.contains("https://") && !html.contains("http://"), "the page names another host");
    Ok(())
}
