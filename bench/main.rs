//! `taskemu-bench`: start-up, memory and per-request cost of taskemu, each throughput figure next
//! to a bare hyper server (the floor of our stack) answering a fixed body of the same size, in the
//! same run. Run it with `scripts/bench` (a release build, then this); `--quick` for a short run.
//! It is not part of CI: nothing here is a test, and `cargo test` does not run it.
//!
//! What it does, in order:
//! 1. writes generated scenarios (worlds of 10k, 100k, 1M and 10M tasks) to a temporary folder;
//! 2. start-up: process spawn → first 200 from `/_emu/health`, median of `--startup-runs`, for the
//!    demo scenario and the worlds of 100k tasks and more (and the floor server, for reference);
//! 3. per world: one emulator; its RSS idle (and peak); then per operation, per concurrency (1, 32):
//!    a floor server with the same body size and the emulator, loaded in turn for `--rounds`
//!    rounds of `--duration / --rounds` each after a warm-up (the host's speed drifts; alternating
//!    shows both sides the same drift), with a load generator in this process (hyper client, one
//!    connection per worker); server CPU per request from /proc; then the emulator's RSS after;
//! 4. prints the tables and the targets of issues 6 and 16 (met or missed), and writes everything
//!    as JSON.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// Counts allocations while `handler` mode measures (never in the floor or the load
/// generator: off, it is one read of a flag no one writes).
struct Counting;

static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the counter is a side note.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Parser)]
#[command(name = "taskemu-bench", about = "Start-up, memory and per-request cost of taskemu against a bare hyper floor")]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    args: Args,
}

#[derive(clap::Args, Clone)]
struct Args {
    /// The taskemu binary to measure (a release build).
    #[arg(long, default_value = "target/release/taskemu")]
    bin: PathBuf,
    /// Measured time of each load run (after its warm-up), e.g. 2s, 500ms.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before each load run (not measured).
    #[arg(long, default_value = "300ms", value_parser = parse_duration)]
    warmup: Duration,
    /// Worlds to load, by total task count (10k, 100k, 1m, 10m, or a number).
    #[arg(long, value_delimiter = ',', default_value = "10k,100k,1m,10m")]
    worlds: Vec<String>,
    /// Start-up runs per world (the median is reported; worlds above 1M tasks take at most 3).
    #[arg(long, default_value_t = 10)]
    startup_runs: usize,
    /// Each load is this many alternating floor/taskemu rounds of duration/rounds each, summed:
    /// the host's speed drifts (a shared VM), and alternating lets both sides see the same drift.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Connection counts to load with.
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    concurrency: Vec<usize>,
    /// Only these operations (ids as in the table: ecs-page, ecs-status, ecs-xml, avds-search, hss-tasks, hss-images).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Where the JSON goes.
    #[arg(long, default_value = "bench-results/bench.json")]
    out: PathBuf,
    /// A short run: 500 ms loads, 3 start-up runs, no world above 1M tasks (about a minute in all).
    #[arg(long)]
    quick: bool,
}

#[derive(Subcommand)]
enum Mode {
    /// The floor: a bare hyper 1 server answering every request with the same fixed body.
    Floor {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        bytes: usize,
        #[arg(long, default_value = "application/json;charset=utf-8")]
        content_type: String,
    },
    /// Print the generated scenario of a world (10k, 100k, 1m or a number), to serve it by hand.
    Scenario { world: String },
    /// The cost of answering one operation in-process, without HTTP: a request already read,
    /// through routing, the operation, rendering and the journal (what the emulator adds to the
    /// floor). Prints nanoseconds and allocations per request.
    Handler {
        #[arg(long, default_value = "100k")]
        world: String,
        #[arg(long, default_value = "ecs-page")]
        op: String,
        #[arg(long, default_value_t = 200_000)]
        requests: usize,
    },
    /// Load a running server with one operation (for profiling it): prints the figures.
    Load {
        /// The server, e.g. 127.0.0.1:8080.
        #[arg(long)]
        addr: SocketAddr,
        /// Its process id, for the CPU figure (0: none).
        #[arg(long, default_value_t = 0)]
        pid: u32,
        #[arg(long, default_value = "ecs-page")]
        op: String,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
    },
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let n: f64 = number.parse().map_err(|_| format!("bad duration {text:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {text:?}: ms, s or m")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn main() {
    let cli = Cli::parse();
    match cli.mode {
        Some(Mode::Floor { listen, bytes, content_type }) => floor_main(listen, bytes, content_type),
        Some(Mode::Scenario { world: w }) => match world(&w) {
            Ok(w) => print!("{}", scenario(w.tasks)),
            Err(e) => {
                eprintln!("taskemu-bench: {e}");
                std::process::exit(2);
            }
        },
        Some(Mode::Handler { world: w, op, requests }) => {
            if let Err(e) = handler_main(&w, &op, requests) {
                eprintln!("taskemu-bench: {e}");
                std::process::exit(2);
            }
        }
        Some(Mode::Load { addr, pid, op, connections, duration }) => {
            let Some(op) = operations().into_iter().find(|o| o.id == op) else {
                eprintln!("taskemu-bench: no operation {op:?}");
                std::process::exit(2);
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(cli.args.client_threads.max(1)).enable_all().build().expect("a runtime");
            match load(&runtime, addr, pid, &op.templates, connections, Duration::from_millis(200), duration).and_then(|sample| LoadResult::of(vec![sample])) {
                Ok(r) => println!("{}", r.json()),
                Err(e) => {
                    eprintln!("taskemu-bench: {e}");
                    std::process::exit(1);
                }
            }
        }
        None => {
            let mut args = cli.args;
            if args.quick {
                args.duration = args.duration.min(Duration::from_millis(500));
                args.warmup = args.warmup.min(Duration::from_millis(200));
                args.startup_runs = args.startup_runs.min(3);
                args.worlds.retain(|w| world(w).is_ok_and(|w| w.tasks <= 1_000_000));
            }
            if let Err(e) = run(&args) {
                eprintln!("taskemu-bench: {e}");
                std::process::exit(1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The floor server

fn floor_main(listen: SocketAddr, bytes: usize, content_type: String) {
    // The same runtime as `taskemu serve`: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let body = Bytes::from(vec![b'x'; bytes]);
    let content_type: &'static str = Box::leak(content_type.into_boxed_str());
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.expect("the floor binds");
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let body = body.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let _ = req.into_body().collect().await;
                        let status = if path == "/_emu/health" || path == "/" || path.starts_with("/v5/") { 200 } else { 404 };
                        let mut response = Response::new(Full::new(body));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
                        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(content_type));
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

/// See [`Mode::Handler`]: one thread, the operation's requests in turn, timed as a whole.
fn handler_main(world_name: &str, op: &str, requests: usize) -> Result<(), String> {
    let w = world(world_name)?;
    let op = operations().into_iter().find(|o| o.id == op).ok_or_else(|| format!("no operation {op:?}"))?;
    let source = taskemu::Source::new("bench", scenario(w.tasks));
    // Above the default bounds (a 10M world), raised to fit as `world_bounds` raises `serve`'s.
    let budget = if w.tasks > 1_000_000 { taskemu::Budget { max_tasks: w.tasks, max_phases: w.tasks * 8 } } else { taskemu::Budget::default() };
    let state = taskemu::State::new(taskemu::Config { budget, ..taskemu::Config::default() }, vec![source]).map_err(|e| e.to_string())?;
    let limits = taskemu::server::Limits::default();
    let wires: Vec<taskemu::test_support::WireRequest> = op
        .templates
        .iter()
        .map(|t| {
            let (path, query) = t.uri.split_once('?').unwrap_or((&t.uri, ""));
            taskemu::test_support::WireRequest {
                method: t.method.as_str().to_string().into(),
                path: path.to_string().into(),
                query: query.to_string(),
                headers: [("host", "127.0.0.1")].into_iter().chain(t.content_type.map(|ct| ("content-type", ct))).collect(),
                body: t.body.clone(),
            }
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut bytes = 0usize;
        for wire in wires.iter().cycle().take(requests / 10) {
            bytes += taskemu::server::respond(&state, wire.clone(), None, &limits).await.body.len();
        }
        // Cloned ahead: what the server's HTTP layer allocates is not the handler's.
        let prepared: Vec<taskemu::test_support::WireRequest> = wires.iter().cycle().take(requests).cloned().collect();
        COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        for wire in prepared {
            let response = taskemu::server::respond(&state, wire, None, &limits).await;
            if response.status != 200 {
                return Err(format!("{} answered {}", op.id, response.status));
            }
            bytes += response.body.len();
            // As the server hands it to hyper, whose drop gives the buffer back.
            drop(taskemu::test_support::into_bytes(response.body));
        }
        let ns = started.elapsed().as_nanos() as f64 / requests as f64;
        COUNTING.store(false, std::sync::atomic::Ordering::Relaxed);
        let allocations = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) as f64 / requests as f64;
        println!("{}", json!({ "op": op.id, "world": w.label, "requests": requests, "ns_per_request": (ns * 10.0).round() / 10.0, "allocations_per_request": (allocations * 10.0).round() / 10.0, "bytes": bytes }));
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Processes

struct Server {
    child: Child,
    addr: SocketAddr,
    startup: Duration,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns a server (the command gets `--listen ADDR` appended) and waits for its first 200 from
/// `/_emu/health`; the start-up is from just before the spawn to that answer.
fn spawn(program: &Path, args: &[String], timeout: Duration) -> Result<Server, String> {
    let mut last = String::new();
    for _attempt in 0..3 {
        let port = free_port().map_err(|e| e.to_string())?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().map_err(|e| format!("{e}"))?;
        let started = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .arg("--listen")
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        loop {
            if health_ok(addr) {
                let startup = started.elapsed();
                return Ok(Server { child, addr, startup });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                last = format!("{} exited ({status}) before answering: {}", program.display(), err.trim());
                break;
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} did not answer /_emu/health within {timeout:?}", program.display()));
            }
            std::thread::sleep(Duration::from_micros(250));
        }
        if !last.contains("Address already in use") {
            break;
        }
    }
    Err(last)
}

/// One `GET /_emu/health` over a fresh connection: a 200 or not.
fn health_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"GET /_emu/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        match stream.read(&mut head[got..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    &head[..12] == b"HTTP/1.1 200"
}

/// CPU time (user + system) of every thread of a process, in nanoseconds.
fn cpu_ns(pid: u32) -> u64 {
    // schedstat's first field is on-CPU time in ns, per thread; the process total from `stat` is
    // in clock ticks (10 ms), too coarse for short runs, so it is only the fallback.
    let mut total = 0u64;
    let mut found = false;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for entry in dir.flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) {
                if let Some(ns) = text.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()) {
                    total += ns;
                    found = true;
                }
            }
        }
    }
    if found {
        return total;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0) + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    ticks * 10_000_000
}

/// (VmRSS, VmHWM) in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

// ---------------------------------------------------------------------------------------------
// Worlds

#[derive(Clone, Copy)]
struct World {
    label: &'static str,
    tasks: u64,
}

fn world(label: &str) -> Result<World, String> {
    let (label, tasks): (&'static str, u64) = match label.to_ascii_lowercase().as_str() {
        "10k" => ("10k", 10_000),
        "100k" => ("100k", 100_000),
        "1m" => ("1M", 1_000_000),
        "10m" => ("10M", 10_000_000),
        other => {
            let n: u64 = other.parse().map_err(|_| format!("bad world {other:?}: 10k, 100k, 1m or a number"))?;
            (Box::leak(n.to_string().into_boxed_str()), n)
        }
    };
    if tasks < 80 {
        return Err("a world needs at least 80 tasks".into());
    }
    Ok(World { label, tasks })
}

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// The most tasks one generator entry may draw (taskemu's `MAX_GENERATED`): bigger shares are
/// split into several entries.
const MAX_GENERATED: u64 = 2_000_000;

/// A generated world of `n` tasks in all: half ECS tasks (in two regions), an eighth each of SAS
/// tasks, AVDS scans, HSS image tasks and HSS tasks, created over 30 days up to the clock's start.
fn scenario(n: u64) -> String {
    let ecs = n / 2;
    let eighth = n / 8;
    let sas = n - ecs - 3 * eighth;
    let mut out = format!("# Generated by taskemu-bench: {n} tasks.\nname = \"bench {n}\"\nseed = 42\n\n[clock]\nstart = \"2026-11-22T08:00:00Z\"\n");
    let mut entries = |table: &str, count: u64, fields: &str| {
        let mut left = count;
        while left > 0 {
            let chunk = left.min(MAX_GENERATED);
            let _ = write!(out, "\n[[{table}]]\ncount = {chunk}\n{fields}");
            left -= chunk;
        }
    };
    entries(
        "ecs.generate",
        ecs,
        r#"region = ["cn-hangzhou", "cn-shanghai"]
action = ["ImportImage", "ExportImage", "RedeployInstance"]
created = "-30d..+0s"
lifecycle = [{ status = "Waiting", for = "0s..2m" }, { status = "Processing", for = "5m..2h" }, { status = ["Finished", "Failed"] }]
"#,
    );
    entries("sas.generate", sas, "created = \"-30d..+0s\"\n");
    entries(
        "avds.generate",
        eighth,
        r#"created = "-30d..+0s"
lifecycle = [{ status = "waiting", for = "0s..1m" }, { status = "running", for = "5m..1h" }, { status = ["finished", "aborted"] }]
"#,
    );
    entries(
        "hss.image_generate",
        eighth,
        r#"task_type = ["cycle", "manual", "autoSync"]
image_type = ["local", "registry"]
created = "-30d..+0s"
images = "5..50"
risky = "0..5"
lifecycle = [{ status = "scanning", for = "1m..1h" }, { status = ["finished", "failed"] }]
"#,
    );
    entries(
        "hss.generate",
        eighth,
        r#"task_type = ["cluster_scan", "iac_scan"]
trigger_type = ["manual", "schedule"]
created = "-30d..+0s"
lifecycle = [{ status = "ready", for = "0s..1m" }, { status = "running", for = "1m..1h" }, { status = "finished" }]
"#,
    );
    out
}

/// `serve`'s flags for a world: above the default bounds (5M tasks, 20M phases), raised to fit.
fn world_bounds(tasks: u64) -> Vec<String> {
    if tasks <= 1_000_000 {
        return Vec::new();
    }
    vec!["--max-tasks".into(), tasks.to_string(), "--max-phases".into(), (tasks * 8).to_string()]
}

// ---------------------------------------------------------------------------------------------
// Operations under load

#[derive(Clone)]
struct Template {
    method: hyper::Method,
    uri: String,
    content_type: Option<&'static str>,
    body: Bytes,
}

impl Template {
    fn get(uri: String) -> Template {
        Template { method: hyper::Method::GET, uri, content_type: None, body: Bytes::new() }
    }

    fn post_json(uri: String, body: &str) -> Template {
        Template { method: hyper::Method::POST, uri, content_type: Some("application/json"), body: Bytes::from(body.to_string()) }
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut builder = Request::builder().method(self.method.clone()).uri(self.uri.as_str()).header("host", "127.0.0.1");
        if let Some(ct) = self.content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Full::new(self.body.clone())).expect("a valid request")
    }
}

struct Operation {
    id: &'static str,
    what: &'static str,
    /// The product store the operation reads, as a share of the world.
    store_share: f64,
    content_type: &'static str,
    /// Requests cycled through by every connection (pages vary, so that paging is exercised).
    templates: Vec<Template>,
}

fn operations() -> Vec<Operation> {
    let ecs = |extra: &str, page: u32| Template::get(format!("/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&PageSize=10&PageNumber={page}{extra}"));
    // Every page here exists in the smallest world (10k: 2,500 ECS tasks in cn-hangzhou).
    let pages = [1, 2, 5, 10, 20, 50, 100, 200];
    let offsets = [0, 10, 50, 100, 200, 500, 800];
    vec![
        Operation {
            id: "ecs-page",
            what: "ECS DescribeTasks, PageSize 10, pages 1-200",
            store_share: 0.5,
            content_type: "application/json;charset=utf-8",
            templates: pages.iter().map(|&p| ecs("", p)).collect(),
        },
        Operation {
            id: "ecs-status",
            what: "ECS DescribeTasks, TaskStatus=Finished, pages 1-3",
            store_share: 0.5,
            content_type: "application/json;charset=utf-8",
            templates: [1, 2, 3].iter().map(|&p| ecs("&TaskStatus=Finished", p)).collect(),
        },
        Operation {
            id: "ecs-xml",
            what: "ECS DescribeTasks, Format=XML, pages 1-200",
            store_share: 0.5,
            content_type: "text/xml;charset=utf-8",
            templates: pages.iter().map(|&p| ecs("&Format=XML", p)).collect(),
        },
        Operation {
            id: "avds-search",
            what: "AVDS DescribeScanSessions, Search=*.com, pages 1-3 (its matches remembered after the first)",
            store_share: 0.125,
            content_type: "application/json;charset=utf-8",
            templates: [1, 2, 3]
                .iter()
                .map(|&p| Template::get(format!("/?Action=DescribeScanSessions&Version=2017-11-29&Search=%2A.com&PageSize=10&CurrentPage={p}")))
                .collect(),
        },
        Operation {
            id: "hss-tasks",
            what: "HSS ListTasks (POST, sort_dir asc), offsets 0-800",
            store_share: 0.125,
            content_type: "application/json",
            templates: offsets
                .iter()
                .map(|&o| Template::post_json(format!("/v5/{PROJECT}/common/tasks/batch-query?limit=10&offset={o}"), r#"{"sort_key":"start_time","sort_dir":"asc"}"#))
                .collect(),
        },
        Operation {
            id: "hss-images",
            what: "HSS ListImageScanTask, type=image_scan, offsets 0-800",
            store_share: 0.125,
            content_type: "application/json",
            templates: offsets.iter().map(|&o| Template::get(format!("/v5/{PROJECT}/image/tasks?type=image_scan&limit=10&offset={o}"))).collect(),
        },
    ]
}

#[derive(Debug, Clone, Default)]
struct LoadResult {
    requests: u64,
    errors: u64,
    seconds: f64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_request: f64,
    mean_body_bytes: f64,
}

impl LoadResult {
    fn json(&self) -> Value {
        json!({
            "requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 0), "p50_us": round(self.p50_us, 1), "p99_us": round(self.p99_us, 1),
            "cpu_us_per_request": round(self.cpu_us_per_request, 2), "mean_body_bytes": round(self.mean_body_bytes, 0),
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// What one load run measured, before it is summed with the other rounds of its side.
struct Sample {
    latencies_ns: Vec<u32>,
    errors: u64,
    bytes: u64,
    seconds: f64,
    cpu_ns: u64,
}

impl LoadResult {
    /// The rounds of one side summed: requests, time and CPU added, percentiles over every latency.
    fn of(samples: Vec<Sample>) -> Result<LoadResult, String> {
        let seconds: f64 = samples.iter().map(|s| s.seconds).sum();
        let cpu_ns: u64 = samples.iter().map(|s| s.cpu_ns).sum();
        let (errors, bytes) = samples.iter().fold((0, 0), |(e, b), s| (e + s.errors, b + s.bytes));
        let mut latencies: Vec<u32> = samples.into_iter().flat_map(|s| s.latencies_ns).collect();
        if latencies.is_empty() {
            return Err("no request completed in the measured window".to_string());
        }
        latencies.sort_unstable();
        let pick = |q: f64| f64::from(latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)]) / 1000.0;
        let requests = latencies.len() as u64;
        Ok(LoadResult {
            requests,
            errors,
            seconds,
            rps: requests as f64 / seconds,
            p50_us: pick(0.50),
            p99_us: pick(0.99),
            cpu_us_per_request: cpu_ns as f64 / 1000.0 / requests as f64,
            mean_body_bytes: bytes as f64 / requests as f64,
        })
    }
}

/// `connections` connections, each sending the templates in turn (starting at a different one)
/// for warm-up + duration; latencies and the server's CPU are taken over the measured part only.
fn load(runtime: &tokio::runtime::Runtime, addr: SocketAddr, pid: u32, templates: &[Template], connections: usize, warmup: Duration, duration: Duration) -> Result<Sample, String> {
    let templates: Arc<Vec<Template>> = Arc::new(templates.to_vec());
    runtime.block_on(async move {
        let start = Instant::now();
        let measure_from = start + warmup;
        let measure_to = measure_from + duration;
        let mut tasks = Vec::new();
        for c in 0..connections {
            let templates = templates.clone();
            tasks.push(tokio::spawn(async move { connection(addr, &templates, c, measure_from, measure_to).await }));
        }
        tokio::time::sleep_until(measure_from.into()).await;
        let cpu_before = cpu_ns(pid);
        let wall_before = Instant::now();
        tokio::time::sleep_until(measure_to.into()).await;
        let cpu_after = cpu_ns(pid);
        let seconds = wall_before.elapsed().as_secs_f64();
        let mut sample = Sample { latencies_ns: Vec::new(), errors: 0, bytes: 0, seconds, cpu_ns: cpu_after.saturating_sub(cpu_before) };
        for task in tasks {
            let stats = task.await.map_err(|e| format!("a load connection failed: {e}"))??;
            sample.latencies_ns.extend(stats.latencies_ns);
            sample.errors += stats.errors;
            sample.bytes += stats.bytes;
        }
        Ok(sample)
    })
}

struct ConnectionStats {
    latencies_ns: Vec<u32>,
    errors: u64,
    bytes: u64,
}

async fn connection(addr: SocketAddr, templates: &[Template], offset: usize, measure_from: Instant, measure_to: Instant) -> Result<ConnectionStats, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut stats = ConnectionStats { latencies_ns: Vec::with_capacity(1 << 16), errors: 0, bytes: 0 };
    let mut i = offset;
    loop {
        let sent = Instant::now();
        if sent >= measure_to {
            break;
        }
        let request = templates[i % templates.len()].request();
        i += 1;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| format!("request failed: {e}"))?;
        let ok = response.status() == hyper::StatusCode::OK;
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        let done = Instant::now();
        if sent >= measure_from && done <= measure_to {
            stats.latencies_ns.push(u32::try_from(done.duration_since(sent).as_nanos()).unwrap_or(u32::MAX));
            stats.bytes += body.len() as u64;
            if !ok {
                stats.errors += 1;
            }
        }
    }
    Ok(stats)
}

/// One request, its status and body: to check an operation answers, and to size the floor's body.
fn probe(runtime: &tokio::runtime::Runtime, addr: SocketAddr, templates: &[Template]) -> Result<(u16, usize, String), String> {
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut total = 0usize;
        let mut status = 200u16;
        let mut sample = String::new();
        for t in templates {
            sender.ready().await.map_err(|e| format!("probe: {e}"))?;
            let response = sender.send_request(t.request()).await.map_err(|e| format!("probe {}: {e}", t.uri))?;
            if response.status() != hyper::StatusCode::OK {
                status = response.status().as_u16();
            }
            let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
            total += body.len();
            if sample.is_empty() || status != 200 {
                sample = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            }
        }
        Ok((status, total / templates.len().max(1), sample))
    })
}

// ---------------------------------------------------------------------------------------------
// The run

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())).unwrap_or_default();
    let memtotal = std::fs::read_to_string("/proc/meminfo").unwrap_or_default().lines().next().unwrap_or_default().split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model,
        "memory_gb": round(memtotal as f64 / 1_048_576.0, 1),
        "kernel": kernel,
        "loadavg_at_start": loadavg,
    })
}

/// A world's start-up: its label, tasks, median and every run.
type Startup = (String, u64, Duration, Vec<Duration>);
/// A world's memory: label, tasks, (RSS, peak) idle and, once loaded, after the loads.
type Memory = (String, u64, (u64, u64), Option<(u64, u64)>);

struct Row {
    world: World,
    op: &'static str,
    store: u64,
    connections: usize,
    emu: LoadResult,
    floor: LoadResult,
}

fn run(args: &Args) -> Result<(), String> {
    if !args.bin.exists() {
        return Err(format!("{} not found: build it first (scripts/bench does: cargo build --release)", args.bin.display()));
    }
    let worlds = args.worlds.iter().map(|w| world(w)).collect::<Result<Vec<_>, _>>()?;
    let ops: Vec<Operation> = operations().into_iter().filter(|o| args.only.is_empty() || args.only.iter().any(|x| x == o.id)).collect();
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("taskemu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let _cleanup = Cleanup(dir.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(args.client_threads.max(1)).enable_all().build().map_err(|e| e.to_string())?;
    let machine = machine();
    eprintln!(
        "taskemu-bench: {} on {} CPU(s) ({}), {} s per load after {} ms warm-up",
        args.bin.display(),
        machine["cpus"],
        machine["cpu_model"].as_str().unwrap_or("?"),
        args.duration.as_secs_f64(),
        args.warmup.as_millis()
    );

    // Scenario files.
    let mut files = Vec::new();
    for w in &worlds {
        let path = dir.join(format!("world-{}.toml", w.tasks));
        std::fs::write(&path, scenario(w.tasks)).map_err(|e| e.to_string())?;
        files.push(path);
    }

    // Start-up: the demo, the floor, and the 100k and 1M worlds (whichever are asked for).
    let serve = |world: Option<(&World, &PathBuf)>| -> Vec<String> {
        let mut a = vec!["serve".to_string()];
        if let Some((w, f)) = world {
            a.push("--scenario".into());
            a.push(f.display().to_string());
            a.extend(world_bounds(w.tasks));
        }
        a
    };
    let mut startups: Vec<Startup> = Vec::new();
    let mut measure_startup = |label: String, tasks: u64, program: &Path, a: Vec<String>| -> Result<(), String> {
        let mut runs = Vec::new();
        let count = if tasks > 1_000_000 { args.startup_runs.clamp(1, 3) } else { args.startup_runs.max(1) };
        for _ in 0..count {
            let server = spawn(program, &a, Duration::from_secs(300))?;
            runs.push(server.startup);
        }
        let m = median(runs.clone());
        eprintln!("  start-up {label:<6} median {:8.1} ms  (runs: {})", ms(m), runs.iter().map(|d| format!("{:.1}", ms(*d))).collect::<Vec<_>>().join(" "));
        startups.push((label, tasks, m, runs));
        Ok(())
    };
    eprintln!("start-up: spawn → first 200 from /_emu/health, median of {}", args.startup_runs);
    measure_startup("floor".into(), 0, &me, vec!["floor".into(), "--bytes".into(), "612".into()])?;
    measure_startup("demo".into(), 23, &args.bin, serve(None))?;
    for (w, f) in worlds.iter().zip(&files) {
        if w.tasks >= 100_000 {
            measure_startup(w.label.to_string(), w.tasks, &args.bin, serve(Some((w, f))))?;
        }
    }

    // Memory of the demo world, idle.
    let mut memories: Vec<Memory> = Vec::new();
    {
        let demo = spawn(&args.bin, &serve(None), Duration::from_secs(10))?;
        std::thread::sleep(Duration::from_millis(300));
        memories.push(("demo".into(), 23, memory(demo.pid()), None));
    }

    // Load, per world.
    let mut rows: Vec<Row> = Vec::new();
    for (w, f) in worlds.iter().zip(&files) {
        eprintln!("world {} ({} tasks): starting", w.label, w.tasks);
        let emu = spawn(&args.bin, &serve(Some((w, f))), Duration::from_secs(300))?;
        std::thread::sleep(Duration::from_millis(300));
        let idle = memory(emu.pid());
        eprintln!("  started in {:.0} ms, idle RSS {:.1} MB (peak {:.1} MB)", ms(emu.startup), mb(idle.0), mb(idle.1));
        for op in &ops {
            let (status, size, sample) = probe(&runtime, emu.addr, &op.templates).map_err(|e| format!("{} on {}: {e}", op.id, w.label))?;
            if status != 200 {
                return Err(format!("{} answered {status} on {}: {sample}", op.id, w.label));
            }
            let floor_args = vec!["floor".to_string(), "--bytes".into(), size.to_string(), "--content-type".into(), op.content_type.to_string()];
            let floor = spawn(&me, &floor_args, Duration::from_secs(10))?;
            for &c in &args.concurrency {
                let rounds = args.rounds.max(1);
                let slice = args.duration / u32::try_from(rounds).unwrap_or(u32::MAX);
                let (mut floor_samples, mut emu_samples) = (Vec::new(), Vec::new());
                for _ in 0..rounds {
                    floor_samples.push(load(&runtime, floor.addr, floor.pid(), &op.templates, c, args.warmup, slice).map_err(|e| format!("floor for {} on {}: {e}", op.id, w.label))?);
                    emu_samples.push(load(&runtime, emu.addr, emu.pid(), &op.templates, c, args.warmup, slice).map_err(|e| format!("{} on {}: {e}", op.id, w.label))?);
                }
                let floor_result = LoadResult::of(floor_samples).map_err(|e| format!("floor for {} on {}: {e}", op.id, w.label))?;
                let emu_result = LoadResult::of(emu_samples).map_err(|e| format!("{} on {}: {e}", op.id, w.label))?;
                if emu_result.errors > 0 {
                    return Err(format!("{} on {}: {} non-200 answers under load", op.id, w.label, emu_result.errors));
                }
                eprintln!(
                    "  {:<11} c={:<2} {:>8.0} req/s ({:.2}× floor)  p50 {:>7.1} µs  p99 {:>7.1} µs ({:.2}× floor)  CPU {:>6.1} µs/req ({:.2}× floor)  body {} B",
                    op.id,
                    c,
                    emu_result.rps,
                    emu_result.rps / floor_result.rps,
                    emu_result.p50_us,
                    emu_result.p99_us,
                    emu_result.p99_us / floor_result.p99_us,
                    emu_result.cpu_us_per_request,
                    emu_result.cpu_us_per_request / floor_result.cpu_us_per_request,
                    size
                );
                rows.push(Row { world: *w, op: op.id, store: (w.tasks as f64 * op.store_share) as u64, connections: c, emu: emu_result, floor: floor_result });
            }
        }
        let after = memory(emu.pid());
        memories.push((w.label.to_string(), w.tasks, idle, Some(after)));
    }

    // Report.
    let report = report(args, &ops, &startups, &memories, &rows);
    println!("{}", report.text);
    let doc = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "machine": machine,
        "settings": {
            "duration_s": args.duration.as_secs_f64(), "warmup_s": args.warmup.as_secs_f64(), "rounds": args.rounds.max(1), "startup_runs": args.startup_runs,
            "concurrency": args.concurrency, "client_threads": args.client_threads,
        },
        "worlds": worlds.iter().map(|w| json!({ "label": w.label, "tasks": w.tasks, "scenario": scenario(w.tasks) })).collect::<Vec<_>>(),
        "operations": ops.iter().map(|o| json!({ "id": o.id, "what": o.what, "requests": o.templates.iter().map(|t| format!("{} {}", t.method, t.uri)).collect::<Vec<_>>() })).collect::<Vec<_>>(),
        "startup": startups.iter().map(|(l, t, m, runs)| json!({ "world": l, "tasks": t, "median_ms": round(ms(*m), 2), "runs_ms": runs.iter().map(|d| round(ms(*d), 2)).collect::<Vec<_>>() })).collect::<Vec<_>>(),
        "memory": memories.iter().map(|(l, t, idle, after)| json!({
            "world": l, "tasks": t, "idle_rss_bytes": idle.0, "idle_peak_rss_bytes": idle.1,
            "after_load_rss_bytes": after.map(|a| a.0), "after_load_peak_rss_bytes": after.map(|a| a.1),
            "bytes_per_task": if *t >= 100_000 { Some(round(idle.0 as f64 / *t as f64, 1)) } else { None },
        })).collect::<Vec<_>>(),
        "load": rows.iter().map(|r| json!({
            "world": r.world.label, "world_tasks": r.world.tasks, "store_tasks": r.store, "operation": r.op, "connections": r.connections,
            "taskemu": r.emu.json(), "floor": r.floor.json(),
            "rps_ratio": round(r.emu.rps / r.floor.rps, 3), "p99_ratio": round(r.emu.p99_us / r.floor.p99_us, 3),
            "cpu_ratio": round(r.emu.cpu_us_per_request / r.floor.cpu_us_per_request, 3),
        })).collect::<Vec<_>>(),
        "targets": report.targets,
    });
    if let Some(parent) = args.out.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&doc).unwrap_or_default()).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Report {
    text: String,
    targets: Value,
}

fn report(args: &Args, ops: &[Operation], startups: &[Startup], memories: &[Memory], rows: &[Row]) -> Report {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nStart-up and memory (start-up: spawn → first 200 from /_emu/health, median of {}; RSS from /proc: idle after start-up, peak = VmHWM, after load = once every load below ran; bytes/task = idle RSS / tasks)\n",
        args.startup_runs
    );
    let _ = writeln!(out, "| world | tasks | start-up | idle RSS | peak RSS | RSS after load | bytes/task |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let mut labels: Vec<&str> = vec!["floor", "demo"];
    for m in memories.iter().map(|m| m.0.as_str()).chain(startups.iter().map(|s| s.0.as_str())) {
        if !labels.contains(&m) {
            labels.push(m);
        }
    }
    for label in labels {
        let s = startups.iter().find(|s| s.0 == label);
        let m = memories.iter().find(|m| m.0 == label);
        let tasks = s.map(|s| s.1).or(m.map(|m| m.1)).unwrap_or(0);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            if label == "floor" { "floor (bare hyper)" } else { label },
            if label == "floor" { "-".to_string() } else { tasks.to_string() },
            s.map_or("-".into(), |s| format!("{:.1} ms", ms(s.2))),
            m.map_or("-".into(), |m| format!("{:.1} MB", mb(m.2 .0))),
            m.map_or("-".into(), |m| format!("{:.1} MB", mb(m.2 .1))),
            m.and_then(|m| m.3).map_or("-".into(), |a| format!("{:.1} MB", mb(a.0))),
            m.filter(|m| m.1 >= 100_000).map_or("-".into(), |m| format!("{:.0}", m.2 .0 as f64 / m.1 as f64)),
        );
    }
    let _ = writeln!(
        out,
        "\nLoad ({} s per run in {} alternating rounds, each after {} ms warm-up; floor = bare hyper 1 answering a fixed body of the same size, loaded in turn with taskemu; CPU = server CPU per request from /proc)\n",
        args.duration.as_secs_f64(),
        args.rounds.max(1),
        args.warmup.as_millis()
    );
    let _ = writeln!(out, "| world | operation | store | conn | req/s | × floor | p50 µs | p99 µs | p99 × floor | CPU µs/req | CPU × floor |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2} | {:.1} | {:.2} |",
            r.world.label,
            r.op,
            r.store,
            r.connections,
            r.emu.rps,
            r.emu.rps / r.floor.rps,
            r.emu.p50_us,
            r.emu.p99_us,
            r.emu.p99_us / r.floor.p99_us,
            r.emu.cpu_us_per_request,
            r.emu.cpu_us_per_request / r.floor.cpu_us_per_request
        );
    }
    let _ = writeln!(out, "\nFloor (bare hyper) for reference:\n");
    let _ = writeln!(out, "| world | operation | body B | conn | req/s | p50 µs | p99 µs | CPU µs/req |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(out, "| {} | {} | {:.0} | {} | {:.0} | {:.0} | {:.0} | {:.1} |", r.world.label, r.op, r.emu.mean_body_bytes, r.connections, r.floor.rps, r.floor.p50_us, r.floor.p99_us, r.floor.cpu_us_per_request);
    }
    let _ = writeln!(out, "\nOperations:");
    for op in ops {
        let _ = writeln!(out, "  {:<11} {}", op.id, op.what);
    }

    // Targets.
    let mut targets = Vec::new();
    let mut check = |name: String, value: String, met: Option<bool>| {
        targets.push(json!({ "target": name, "value": value, "met": met }));
    };
    let startup_of = |label: &str| startups.iter().find(|s| s.0 == label).map(|s| ms(s.2));
    match startup_of("demo") {
        Some(v) => check("start-up, demo ≤ 20 ms".into(), format!("{v:.1} ms"), Some(v <= 20.0)),
        None => check("start-up, demo ≤ 20 ms".into(), "not measured".into(), None),
    }
    match startup_of("1M") {
        Some(v) => check("start-up, 1M tasks ≤ 0.6 s".into(), format!("{:.2} s", v / 1000.0), Some(v <= 600.0)),
        None => check("start-up, 1M tasks ≤ 0.6 s".into(), "not measured (world 1m not run)".into(), None),
    }
    if let Some(m) = memories.iter().find(|m| m.0 == "demo") {
        check("idle RSS, demo ≤ 15 MB".into(), format!("{:.1} MB", mb(m.2 .0)), Some(mb(m.2 .0) <= 15.0));
    }
    match memories.iter().find(|m| m.0 == "1M") {
        Some(m) => {
            let per = m.2 .0 as f64 / m.1 as f64;
            check("idle RSS per task at 1M ≤ 250 B".into(), format!("{per:.0} B"), Some(per <= 250.0));
        }
        None => check("idle RSS per task at 1M ≤ 250 B".into(), "not measured (world 1m not run)".into(), None),
    }
    let row = |world: &str, op: &str, c: usize| rows.iter().find(|r| r.world.label == world && r.op == op && r.connections == c);
    match row("100k", "ecs-page", 32) {
        Some(r) => {
            let rps = r.emu.rps / r.floor.rps;
            check("ecs-page, 100k, 32 conn: req/s ≥ 0.7× floor".into(), format!("{rps:.2}×"), Some(rps >= 0.7));
        }
        None => check("ecs-page, 100k, 32 conn vs floor".into(), "not measured".into(), None),
    }
    // Issue 16: every operation near the floor, paged ECS nearest.
    for op in ops {
        let bound = if op.id == "ecs-page" { 1.25 } else { 1.5 };
        match row("100k", op.id, 32) {
            Some(r) => {
                let cpu = r.emu.cpu_us_per_request / r.floor.cpu_us_per_request;
                let p99 = r.emu.p99_us / r.floor.p99_us;
                check(format!("{}, 100k, 32 conn: CPU/req ≤ {bound}× floor", op.id), format!("{cpu:.2}×"), Some(cpu <= bound));
                check(format!("{}, 100k, 32 conn: p99 ≤ 1.3× floor", op.id), format!("{p99:.2}×"), Some(p99 <= 1.3));
            }
            None => check(format!("{}, 100k, 32 conn vs floor", op.id), "not measured".into(), None),
        }
    }
    match row("1M", "avds-search", 32) {
        Some(r) => {
            let rps = r.emu.rps / r.floor.rps;
            check("avds-search, 1M, 32 conn: req/s ≥ 0.5× floor".into(), format!("{rps:.2}×"), Some(rps >= 0.5));
        }
        None => check("avds-search, 1M, 32 conn vs floor".into(), "not measured".into(), None),
    }
    for op in ops {
        for &c in &args.concurrency {
            if let (Some(s), Some(b)) = (row("10k", op.id, c), row("1M", op.id, c)) {
                let growth = b.emu.cpu_us_per_request / s.emu.cpu_us_per_request;
                check(format!("{} c={}: CPU/req at 1M ≤ 2× at 10k", op.id, c), format!("{growth:.2}× (req/s {:.2}×)", b.emu.rps / s.emu.rps), Some(growth <= 2.0));
            }
        }
    }
    // The 10M world has no target of its own: it shows how cost grows past 1M.
    if let Some(v) = startup_of("10M") {
        check("start-up, 10M tasks".into(), format!("{:.2} s", v / 1000.0), None);
    }
    if let Some(m) = memories.iter().find(|m| m.0 == "10M") {
        check("idle RSS per task at 10M".into(), format!("{:.0} B (peak {:.0} B)", m.2 .0 as f64 / m.1 as f64, m.2 .1 as f64 / m.1 as f64), None);
    }
    for op in ops {
        for &c in &args.concurrency {
            if let (Some(s), Some(b)) = (row("10k", op.id, c), row("10M", op.id, c)) {
                let growth = b.emu.cpu_us_per_request / s.emu.cpu_us_per_request;
                check(format!("{} c={}: CPU/req at 10M vs 10k", op.id, c), format!("{growth:.2}× (req/s {:.2}×, {:.2}× floor)", b.emu.rps / s.emu.rps, b.emu.rps / b.floor.rps), None);
            }
        }
    }
    let _ = writeln!(out, "\nTargets (issues 6 and 16; info: measured, no target):\n");
    for t in &targets {
        let mark = match t["met"].as_bool() {
            Some(true) => "met   ",
            Some(false) => "MISSED",
            None => "info  ",
        };
        let _ = writeln!(out, "  {mark} {:<56} {}", t["target"].as_str().unwrap_or(""), t["value"].as_str().unwrap_or(""));
    }
    Report { text: out, targets: Value::Array(targets) }
}
