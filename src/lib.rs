//! taskemu: a local emulator of five cloud task APIs (Alibaba Cloud ECS DescribeTasks, Security
//! Center DescribeScanTaskProgress, AVDS DescribeScanSessions; Huawei Cloud HSS ListImageScanTask
//! and ListTasks), driven by TOML scenarios and a virtual clock.
//!
//! The core (`clock`, `scenario`, `world`) knows tasks and time; the edges (`cloud::aliyun`,
//! `cloud::huawei`) speak each cloud's protocol; `server` ties them to HTTP. [`Emulator`] starts the
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

pub mod auth;
pub mod client;
pub mod clock;
pub mod cloud;
pub mod control;
pub mod instant;
pub mod render;
pub mod scenario;
pub mod server;
pub mod state;
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;

pub use scenario::Source;
pub use state::{Config, Dialect, State};

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
