//! taskemu: a local emulator of five cloud task APIs (Alibaba Cloud ECS DescribeTasks, Security
//! Center DescribeScanTaskProgress, AVDS DescribeScanSessions; Huawei Cloud HSS ListImageScanTask
//! and ListTasks), driven by TOML scenarios and a virtual clock.
//!
//! The core (`clock`, `instant`, `scenario`, `world`, `ops`) knows tasks, time and the operations;
//! the edges (`cloud::aliyun`, `cloud::huawei`) speak each cloud's protocol; `server` ties them to
//! HTTP (ARCHITECTURE.md has the map). [`Emulator`] starts the
//! whole thing in-process, which is what the integration tests do, and what a Rust test suite
//! does to test its own code against it:
//!
//! ```
//! use taskemu::{Config, Emulator, Source};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // The embedded demo world on a free port, its virtual clock frozen at 2026-11-22T08:00:00Z.
//! let emu = Emulator::start(Config::default(), vec![Source::demo()], "127.0.0.1:0".parse()?).await?;
//! println!("serving on {}", emu.url()); // what the code under test is pointed at
//!
//! // Twenty virtual minutes later, the demo's waiting image import has finished
//! // (the control API's POST /_emu/clock {"advance": "20m"} does the same over HTTP).
//! emu.state.clock.advance(20 * 60 * 1000);
//!
//! // Any HTTP client will do; a bare socket shows what goes over the wire.
//! let mut stream = tokio::net::TcpStream::connect(emu.addr).await?;
//! let target = "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&TaskIds=t-bp1demo0000waiting01";
//! stream.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes()).await?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
//! assert!(answer.contains(r#""TaskStatus":"Finished""#), "{answer}");
//!
//! emu.stop().await?; // finishes requests in flight, then returns
//! # Ok(())
//! # }
//! ```

// The public API: [`Emulator`] (start, stop, address), [`Config`], [`Limits`], [`Source`],
// [`Dialect`] and [`State`] (for tests that move the clock), plus the modules the `taskemu`
// binary is built from. Everything else is the crate's own; `test_support` is not API.

// The core: tasks and time, knowing nothing of HTTP or clouds (tests/layering.rs keeps it so).
/// The virtual clock: real time scaled by a rate, paused or set through the control API.
pub(crate) mod clock;
/// Instants and durations: RFC 3339 and the clouds' time formats, in milliseconds.
pub mod instant;
/// The operation catalogue: every operation's cloud, product, wire, XML root and page rules.
pub mod ops;
/// Scenario files: the TOML schema, loading and building them into a world, and their budget.
pub mod scenario;
/// The tasks: each product's ground truth and the state derived from it at an instant.
pub(crate) mod world;

// The request path: state shared by all requests, the edges, and what they need.
/// Request-signature checks, the credentials' gate, and diagnoses of refused calls.
pub(crate) mod auth;
/// The protocol edges: Alibaba RPC and Huawei REST, from a request to its cloud's answer.
pub(crate) mod cloud;
/// Fault rules: injected errors, latency and throttling, per operation and tenant.
pub mod faults;
/// The request journal: every call to an operation, in a bounded ring.
pub mod journal;
/// Writing answers: JSON and XML from one description, with a scenario's pins applied.
pub(crate) mod render;
/// The running emulator's state: config, clock, world snapshot, journal, fault rules.
pub(crate) mod state;

// The outside: HTTP, the control API and its client, and captured answers turned into scenarios.
/// `taskemu import`: captured answers of the five operations back into the tasks that give them.
pub mod import;
/// The `taskemu` CLI's client of the control API.
pub mod client;
/// The control API under `/_emu/` (and the dashboard's assets): the world, driven from outside.
pub mod control;
/// HTTP: reading requests within limits, dispatching to the control API or an edge, journalling.
pub mod server;

/// Internals the integration tests and the benchmark reach; not API, and may change any time.
#[doc(hidden)]
pub mod test_support {
    pub use crate::auth::diagnosis::TEXT_CAP;
    pub use crate::cloud::pairs::{form_decode, pct};
    pub use crate::cloud::{Headers, Prepared, WireRequest, WireResponse};
    pub use crate::render::buffers::into_bytes;
}

use std::net::SocketAddr;
use std::sync::Arc;

pub use scenario::Source;
pub use cloud::aliyun::Dialect;
pub use scenario::Budget;
pub use server::Limits;
pub use state::{Config, State};
/// The bound of the AVDS Search cache (`serve --search-cache-bytes`).
pub use world::store::{set_search_cache_bytes, DEFAULT_SEARCH_CACHE_BYTES};

/// A running emulator: its address, its state (for tests that move the clock directly), and a
/// handle that stops it.
pub struct Emulator {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Emulator {
    /// Loads the sources and serves on `listen` (port 0 picks a free port).
    pub async fn start(config: Config, sources: Vec<Source>, listen: SocketAddr) -> Result<Emulator, Box<dyn std::error::Error + Send + Sync>> {
        Self::start_with_limits(config, sources, listen, server::Limits::default()).await
    }

    /// Like [`start`](Self::start), with other request limits (body size, header timeout ...).
    pub async fn start_with_limits(config: Config, sources: Vec<Source>, listen: SocketAddr, limits: server::Limits) -> Result<Emulator, Box<dyn std::error::Error + Send + Sync>> {
        let state = Arc::new(State::new(config, sources)?);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server::serve(listener, state.clone(), limits, async {
            let _ = rx.await;
        }));
        Ok(Emulator { addr, state, shutdown: Some(tx), task: Some(task) })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
