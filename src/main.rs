//! The `taskemu` command: `serve` runs the emulator, `check` validates scenarios.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use taskemu::scenario::{self, Source};
use taskemu::server::{self, Limits};
use taskemu::{Config, Dialect, State};

#[derive(Parser)]
#[command(name = "taskemu", version, about = "Local emulator of Alibaba Cloud and Huawei Cloud task APIs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthArg {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
enum DialectArg {
    Sdk,
    Docs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the five operations and the control API.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// A scenario file or a folder of *.toml (repeatable). Default: the embedded demo.
        #[arg(long = "scenario", value_name = "PATH")]
        scenarios: Vec<PathBuf>,
        /// Seed for generated data, overriding the scenarios' own.
        #[arg(long)]
        seed: Option<u64>,
        /// Virtual seconds per real second (0 frozen, 1 real time, 60 a minute per second).
        #[arg(long)]
        clock_rate: Option<f64>,
        /// Response shapes for ECS DescribeTasks and AVDS DescribeScanSessions.
        #[arg(long, value_enum, default_value = "sdk")]
        dialect: DialectArg,
        /// Largest request body accepted, in bytes.
        #[arg(long, default_value_t = 1024 * 1024)]
        max_body: usize,
        /// Check credentials: `auto` when a scenario declares some.
        #[arg(long, value_enum, default_value = "auto")]
        auth: AuthArg,
        /// Requests the journal keeps (oldest dropped first).
        #[arg(long, default_value_t = taskemu::control::journal::DEFAULT_CAPACITY)]
        journal_size: usize,
    },
    /// Validate scenarios without serving; exit 1 on any error.
    Check {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

fn read_sources(paths: &[PathBuf]) -> Result<Vec<Source>, scenario::ScenarioErrors> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match Source::read_path(path) {
            Ok(mut found) => sources.append(&mut found),
            Err(mut e) => errors.append(&mut e.0),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(scenario::ScenarioErrors(errors))
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TASKEMU_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Check { paths } => check(&paths),
        Command::Serve { listen, scenarios, seed, clock_rate, dialect, max_body, auth, journal_size } => {
            let config = Config {
                dialect: match dialect {
                    DialectArg::Sdk => Dialect::Sdk,
                    DialectArg::Docs => Dialect::Docs,
                },
                seed,
                clock_rate,
                auth: match auth {
                    AuthArg::Auto => None,
                    AuthArg::On => Some(true),
                    AuthArg::Off => Some(false),
                },
                journal_size,
            };
            let limits = Limits { max_body, ..Limits::default() };
            serve(listen, scenarios, config, limits)
        }
    }
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let checked = read_sources(paths).and_then(|sources| {
        let loaded = scenario::load(&sources, scenario::wall_clock_start(), None)?;
        Ok((sources.len(), loaded.world.task_count()))
    });
    match checked {
        Ok((files, tasks)) => {
            println!("ok: {files} file(s), {tasks} task(s)");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn serve(listen: SocketAddr, paths: Vec<PathBuf>, config: Config, limits: Limits) -> ExitCode {
    let sources = if paths.is_empty() { Ok(vec![Source::demo()]) } else { read_sources(&paths) };
    let state = match sources.and_then(|s| State::new(config, s)) {
        Ok(state) => Arc::new(state),
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(listen);
        if !addr.ip().is_loopback() {
            tracing::warn!("listening on {addr}, beyond loopback, with authentication off: anyone who can reach it can read the world");
        }
        println!("taskemu listening on http://{addr}");
        let _ = std::io::stdout().flush();
        match server::serve(listener, state, limits, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return interrupt.await.unwrap_or(()),
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("stopping: finishing requests in flight");
}
