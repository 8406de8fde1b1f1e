//! The `taskemu` command: `serve` runs the emulator, `check` validates scenarios, the client
//! verbs (`clock`, `reset`, `load`, `tasks`, `requests`, `fault`) drive a running one, and the
//! pipeline verbs (`healthcheck`, `env`) tell a CI job whether it is up and how to reach it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

use taskemu::client::{self, Client, ClientError};
use taskemu::control::access;
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
        /// Address to listen on: PORT, :PORT or localhost:PORT (loopback), HOST:PORT, [IPv6]:PORT; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = listen_address)]
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
        /// Time a client has to send a request head (also how long an idle connection is kept).
        #[arg(long, default_value = "10s", value_parser = server_timeout)]
        header_timeout: std::time::Duration,
        /// Time a client has to send a whole body after its head; then 408 and the connection closes.
        #[arg(long, default_value = "10s", value_parser = server_timeout)]
        body_timeout: std::time::Duration,
        /// Connections served at once; more wait in the listen backlog until one closes.
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_connections: u32,
        /// On SIGTERM or Ctrl-C, how long requests in flight get to finish.
        #[arg(long, default_value = "10s", value_parser = drain_time)]
        drain: std::time::Duration,
        /// Check credentials: `auto` when a scenario declares some.
        #[arg(long, value_enum, default_value = "auto")]
        auth: AuthArg,
        /// Requests the journal keeps (oldest dropped first).
        #[arg(long, default_value_t = taskemu::journal::DEFAULT_CAPACITY)]
        journal_size: usize,
        /// Bytes of a request (caller, path, query, body) one journal entry keeps; the rest is cut off and the entry marked truncated.
        #[arg(long, default_value_t = taskemu::journal::DEFAULT_ENTRY_BYTES)]
        journal_entry_bytes: usize,
        /// Bytes the whole journal keeps (oldest entries dropped first).
        #[arg(long, default_value_t = taskemu::journal::DEFAULT_TOTAL_BYTES)]
        journal_bytes: usize,
        /// Fault rules held at once, scenarios' included; a POST past it is refused with 400.
        #[arg(long, default_value_t = taskemu::faults::DEFAULT_MAX_RULES)]
        max_fault_rules: usize,
        /// Bytes of AVDS Search answers remembered (the matching scans of recent patterns; oldest forgotten first, 0 = off).
        #[arg(long, default_value_t = taskemu::DEFAULT_SEARCH_CACHE_BYTES)]
        search_cache_bytes: usize,
        /// Token the control API (/_emu/) requires as `Authorization: Bearer`; made and printed on stderr when auth is on or the address is not loopback.
        #[arg(long, env = "TASKEMU_CONTROL_TOKEN", hide_env_values = true, value_name = "TOKEN")]
        control_token: Option<String>,
        /// Another Host name the control API answers for, besides loopback names and the listen address (repeatable).
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_hosts: Vec<String>,
        #[command(flatten)]
        budget: BudgetArgs,
        /// Keep the world in FILE (a scenario): loaded instead of --scenario when it exists, rewritten before every accepted control-API change answers.
        #[arg(long = "state", value_name = "FILE")]
        state_file: Option<PathBuf>,
    },
    /// Validate scenarios without serving: every error and warning of every file, exit 1 on any error.
    Check {
        /// Scenario files, or folders of `*.toml` files.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Treat warnings (legal but likely mistakes) as errors: exit 1 on any.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// Turn captured answers (JSON or XML, docs shapes, SDK to_map() dumps) into a scenario.
    Import {
        /// Captured answers of the five operations, one per file.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Write the scenario here instead of to standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The capture instant (RFC 3339): the scenario's clock start. Default: the newest time in the data.
        #[arg(long, value_name = "RFC3339", value_parser = capture_instant)]
        at: Option<i64>,
        /// The TaskId of DescribeScanTaskProgress captures that do not carry one.
        #[arg(long, value_name = "ID")]
        sas_task_id: Option<i64>,
    },
    /// Show or move the virtual clock of a running taskemu.
    Clock {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        change: Option<ClockChange>,
    },
    /// Put a running taskemu back to its scenarios' start.
    Reset {
        #[command(flatten)]
        remote: Remote,
    },
    /// Load a scenario file into a running taskemu.
    Load {
        #[command(flatten)]
        remote: Remote,
        /// The scenario file (TOML) to send; its path names it in errors.
        file: PathBuf,
        /// Replace the world instead of adding to it.
        #[arg(long)]
        replace: bool,
        /// Load the tasks into this tenant's world only (access key or Huawei project).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List tasks with their state now.
    Tasks {
        #[command(flatten)]
        remote: Remote,
        /// Only this product's tasks: ecs, sas, avds, hss_image, hss_task (any case).
        #[arg(long)]
        product: Option<String>,
        /// Only tasks in this status now, as the product spells it (any case).
        #[arg(long)]
        status: Option<String>,
        /// Only this tenant's tasks (access key or Huawei project).
        #[arg(long)]
        tenant: Option<String>,
        /// Most lines shown (the footer says how many matched).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show (or clear) the request journal.
    Requests {
        #[command(flatten)]
        remote: Remote,
        /// Only calls to this operation (e.g. DescribeTasks, ListTasks; any case).
        #[arg(long)]
        operation: Option<String>,
        /// Only calls answered with this HTTP status.
        #[arg(long)]
        status: Option<u16>,
        /// Only calls answered with this error code.
        #[arg(long)]
        error_code: Option<String>,
        /// Only this caller's calls (access key or Huawei project).
        #[arg(long)]
        tenant: Option<String>,
        /// Only requests that arrived at or after this wall-clock (real) instant, RFC 3339; not the virtual clock (see --virtual-since).
        #[arg(long, value_name = "RFC3339")]
        since: Option<String>,
        /// Only requests answered when the virtual clock was at or after this instant, RFC 3339.
        #[arg(long, value_name = "RFC3339")]
        virtual_since: Option<String>,
        /// The newest this many matching calls.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only calls authentication refused, each with what the server computed, what the request claimed, and the first difference.
        #[arg(long)]
        auth_failures: bool,
        /// Forget the journal (or the tenant's part of it) instead.
        #[arg(long)]
        clear: bool,
    },
    /// Add, list or clear fault rules.
    Fault {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        action: FaultAction,
    },
    /// Write the running world as one scenario file (tasks, clock, faults, credentials): `serve --scenario` on it answers the same.
    Snapshot {
        #[command(flatten)]
        remote: Remote,
        /// Write it here (replaced whole, never left half-written) instead of to standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Exit 0 when a running taskemu answers ready, 1 otherwise (for HEALTHCHECKs and wait loops).
    Healthcheck {
        #[command(flatten)]
        remote: Remote,
        /// Keep asking for up to this long (`30s`, `2m`) before giving up; default: ask once.
        #[arg(long, value_name = "DURATION")]
        wait: Option<String>,
    },
    /// Print `export` lines for a test job to `eval`: the URL, the endpoint, and SDK credentials.
    Env {
        #[command(flatten)]
        remote: Remote,
    },
}

/// The budget of a load, for `serve` (start-up, run-time loads, resets) and `check` alike.
#[derive(clap::Args)]
struct BudgetArgs {
    /// Most tasks a load may make, all files and the running world together.
    #[arg(long, default_value_t = scenario::DEFAULT_MAX_TASKS)]
    max_tasks: u64,
    /// Most lifecycle phases (with drawn targets and failed images) a load may make.
    #[arg(long, default_value_t = scenario::DEFAULT_MAX_PHASES)]
    max_phases: u64,
}

impl BudgetArgs {
    fn budget(&self) -> scenario::Budget {
        scenario::Budget { max_tasks: self.max_tasks, max_phases: self.max_phases }
    }
}

/// Where the running taskemu is, and how to print its answers.
#[derive(clap::Args)]
struct Remote {
    /// The running taskemu's address.
    #[arg(long, env = "TASKEMU_URL", default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    /// The control token, when the server requires one (sent as `Authorization: Bearer`).
    #[arg(long, env = "TASKEMU_CONTROL_TOKEN", hide_env_values = true, global = true, value_name = "TOKEN")]
    token: Option<String>,
    /// Print the raw JSON answer (for scripts).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum ClockChange {
    /// Move virtual time by a duration (`5m`, `1h30m`, `-10s`).
    Advance {
        /// How far: `5m`, `1h30m`, `-10s` (back).
        #[arg(allow_hyphen_values = true)]
        by: String,
    },
    /// Jump to an RFC 3339 instant.
    Set {
        /// The instant, e.g. 2026-11-22T09:00:00Z.
        to: String,
    },
    /// Virtual seconds per real second.
    Rate {
        /// 0 frozen, 1 real time, 60 a minute per second.
        rate: f64,
    },
    /// Stop virtual time where it is.
    Pause,
    /// Let virtual time run again at its rate.
    Resume,
}

#[derive(Subcommand)]
enum FaultAction {
    /// Add a rule: one of --error, --latency, --throttle.
    Add {
        /// Operation name, or * for all.
        #[arg(long, default_value = "*")]
        operation: String,
        /// Answer with this error code (e.g. ServiceUnavailable, HSS.0041); the answer notes a code without a default.
        #[arg(long)]
        error: Option<String>,
        /// The error's HTTP status (400-599); default: the code's own.
        #[arg(long)]
        status: Option<u16>,
        /// The error's message; default: the code's own.
        #[arg(long)]
        message: Option<String>,
        /// Delay calls by this long, or a range: `200ms`, `100ms..2s`.
        #[arg(long)]
        latency: Option<String>,
        /// Refuse calls over this many a second with the cloud's throttling error.
        #[arg(long)]
        throttle: Option<u32>,
        /// Fire for the next N matching calls only.
        #[arg(long)]
        times: Option<u32>,
        /// Fire with this probability (0 to 1), drawn from the seed.
        #[arg(long)]
        probability: Option<f64>,
        /// Only for this caller (access key or Huawei project).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List the rules held, with how often each fired.
    List,
    /// Remove every rule.
    Clear,
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

/// Whether log lines may carry colour: only to a terminal, and never when `NO_COLOR` is set to
/// anything (https://no-color.org): escapes in a CI log or a file are noise.
fn log_colours(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn main() -> ExitCode {
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TASKEMU_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(log_colours(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref()))
        .init();
    match Cli::parse().command {
        Command::Check { paths, strict, budget } => check(&paths, strict, &budget.budget()),
        Command::Import { files, out, at, sas_task_id } => import(&files, out.as_deref(), taskemu::import::Options { at, sas_task_id }),
        Command::Clock { remote, change } => remote_call(&remote, |c| clock(c, change)),
        Command::Reset { remote } => remote_call(&remote, |c| c.call("POST", "/_emu/reset", None).map(|v| (v.clone(), format!("reset: clock at {}, {} task(s)\n", v["clock"]["now"].as_str().unwrap_or("?"), v["tasks"])))),
        Command::Load { remote, file, replace, tenant } => remote_call(&remote, |c| load(c, &file, replace, tenant.as_deref())),
        Command::Tasks { remote, product, status, tenant, limit } => {
            let query = query_string(&[("product", product), ("status", status), ("tenant", tenant), ("limit", Some(limit.to_string()))]);
            remote_call(&remote, |c| c.call("GET", &format!("/_emu/tasks{query}"), None).map(|v| (v.clone(), tasks_table(&v))))
        }
        Command::Requests { remote, operation, status, error_code, tenant, since, virtual_since, limit, auth_failures, clear } => {
            if clear {
                let query = query_string(&[("tenant", tenant)]);
                return remote_call(&remote, |c| c.call("DELETE", &format!("/_emu/requests{query}"), None).map(|v| (v.clone(), format!("cleared {} request(s)\n", v["cleared"]))));
            }
            let query = query_string(&[
                ("operation", operation),
                ("status", status.map(|s| s.to_string())),
                ("error_code", error_code),
                ("tenant", tenant),
                ("since", since),
                ("virtual_since", virtual_since),
                ("auth_failures", auth_failures.then(|| "true".to_string())),
                ("limit", Some(limit.to_string())),
            ]);
            let shown = if auth_failures { auth_failures_report } else { requests_table };
            remote_call(&remote, |c| c.call("GET", &format!("/_emu/requests{query}"), None).map(|v| (v.clone(), shown(&v))))
        }
        Command::Fault { remote, action } => remote_call(&remote, |c| fault(c, action)),
        Command::Healthcheck { remote, wait } => healthcheck(&remote, wait.as_deref()),
        Command::Snapshot { remote, out } => snapshot(&remote, out.as_deref()),
        Command::Env { remote } => remote_call(&remote, |c| env_exports(c, &remote)),
        Command::Serve { listen, scenarios, seed, clock_rate, dialect, max_body, header_timeout, body_timeout, max_connections, drain, auth, journal_size, journal_entry_bytes, journal_bytes, max_fault_rules, search_cache_bytes, control_token, allow_hosts, budget, state_file } => {
            // An empty TASKEMU_CONTROL_TOKEN is an unset one: a token is then made if one is required.
            let control_token = control_token.filter(|t| !t.is_empty());
            if let Some(problem) = control_token.as_deref().and_then(access::token_problem) {
                eprintln!("taskemu: --control-token: {problem}");
                return ExitCode::FAILURE;
            }
            if let Some(bad) = allow_hosts.iter().find(|h| access::host_name(h).is_none()) {
                eprintln!("taskemu: --allow-host {bad:?} is not a host name");
                return ExitCode::FAILURE;
            }
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
                journal_entry_bytes,
                journal_bytes,
                max_fault_rules,
                control_token,
                allow_hosts,
                listen_ip: Some(listen.ip()),
                budget: budget.budget(),
                state_file,
            };
            taskemu::set_search_cache_bytes(search_cache_bytes);
            let limits = Limits { max_body, header_timeout, body_timeout, max_connections: max_connections as usize, drain, ..Limits::default() };
            serve(listen, scenarios, config, limits)
        }
    }
}

/// What `--listen` takes, said when it is given something else.
const LISTEN_FORMS: &str = "expected PORT, :PORT, HOST:PORT, localhost:PORT or [IPv6]:PORT, e.g. --listen 8080, --listen 127.0.0.1:8080, --listen 0.0.0.0:8080 (every interface) or --listen '[::1]:8080'";

/// `--listen`: a bare `PORT` or `:PORT` is loopback (as `localhost:PORT` is: an emulator is
/// reached from this machine unless told otherwise), an IP address with its port as written, and
/// another host name as the system resolves it.
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let port_of = |port: &str| port.parse::<u16>().map_err(|_| format!("{port:?} is not a port (0 to 65535); {LISTEN_FORMS}"));
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare_port = text.strip_prefix(':').unwrap_or(text);
    if !bare_port.is_empty() && bare_port.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), port_of(bare_port)?));
    }
    let Some((host, port)) = text.rsplit_once(':').filter(|(host, _)| !host.is_empty() && !host.contains(':')) else {
        return Err(format!("{text:?} is not an address; {LISTEN_FORMS}"));
    };
    let port = port_of(port)?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), port));
    }
    use std::net::ToSocketAddrs as _;
    match (host, port).to_socket_addrs().map(|mut found| found.next()) {
        Ok(Some(addr)) => Ok(addr),
        _ => Err(format!("cannot resolve host {host:?}; {LISTEN_FORMS}")),
    }
}

/// Why `serve` could not listen, and what to type instead.
fn listen_failure(listen: SocketAddr, error: &std::io::Error) -> String {
    let loopback_any = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), 0);
    match error.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {listen}: port {} is already in use (another taskemu?); choose another port (--listen {}) or let the system pick a free one (--listen {loopback_any})",
            listen.port(),
            SocketAddr::new(listen.ip(), listen.port().checked_add(1).unwrap_or(8081)),
        ),
        std::io::ErrorKind::AddrNotAvailable => format!("cannot listen on {listen}: this machine has no such address ({error}); try --listen {loopback_any} or --listen 0.0.0.0:{}", listen.port()),
        std::io::ErrorKind::PermissionDenied => format!("cannot listen on {listen}: {error} (ports below 1024 need privileges); try --listen {}", SocketAddr::new(listen.ip(), 8080)),
        _ => format!("cannot listen on {listen}: {error}; try --listen {loopback_any}"),
    }
}

/// A duration flag (`90s`, `500ms`, `1m`) of at most a day; `zero_ok` for the drain, which may be none.
fn duration_flag(text: &str, zero_ok: bool) -> Result<std::time::Duration, String> {
    let millis = taskemu::instant::parse_duration(text)?;
    if millis == 0 && !zero_ok {
        return Err("must be more than 0".into());
    }
    if millis > taskemu::instant::DAY {
        return Err("must be at most 1d".into());
    }
    Ok(std::time::Duration::from_millis(u64::try_from(millis).map_err(|_| "must not be negative".to_string())?))
}

fn server_timeout(text: &str) -> Result<std::time::Duration, String> {
    duration_flag(text, false)
}

fn drain_time(text: &str) -> Result<std::time::Duration, String> {
    duration_flag(text, true)
}

/// `taskemu snapshot [--out FILE]`: the scenario text as the server wrote it, to a file (through
/// a temporary one, renamed) or to standard output.
fn snapshot(remote: &Remote, out: Option<&std::path::Path>) -> ExitCode {
    let text = match connect(remote).and_then(|c| c.text("GET", "/_emu/snapshot")) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("taskemu: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(path) = out else {
        print!("{text}");
        return ExitCode::SUCCESS;
    };
    let temporary = path.with_file_name(format!(".{}.tmp", path.file_name().map_or_else(|| "snapshot".into(), |n| n.to_string_lossy())));
    match std::fs::write(&temporary, &text).and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => {
            eprintln!("taskemu: wrote {} ({} bytes)", path.display(), text.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            eprintln!("taskemu: cannot write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

/// A client for `--url` that carries `--token` (an empty one is none).
fn connect(remote: &Remote) -> Result<Client, ClientError> {
    Client::new(&remote.url)?.with_token(remote.token.as_deref().filter(|t| !t.is_empty()))
}

/// Runs a client verb: prints the table (or the JSON with --json); a clear message and exit 1 when
/// the server is not there or refuses.
fn remote_call(remote: &Remote, f: impl FnOnce(&Client) -> Result<(Value, String), ClientError>) -> ExitCode {
    let result = connect(remote).and_then(|c| f(&c));
    match result {
        Ok((value, text)) => {
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                print!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("taskemu: {e}");
            ExitCode::FAILURE
        }
    }
}

fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", client::encode(v)))).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn clock(client: &Client, change: Option<ClockChange>) -> Result<(Value, String), ClientError> {
    let body = match change {
        None => None,
        Some(ClockChange::Advance { by }) => Some(json!({ "advance": by })),
        Some(ClockChange::Set { to }) => Some(json!({ "set": to })),
        Some(ClockChange::Rate { rate }) => Some(json!({ "rate": rate })),
        Some(ClockChange::Pause) => Some(json!({ "pause": true })),
        Some(ClockChange::Resume) => Some(json!({ "pause": false })),
    };
    let value = match body {
        None => client.call("GET", "/_emu/clock", None)?,
        Some(body) => client.call("POST", "/_emu/clock", Some(("application/json", body.to_string().as_bytes())))?,
    };
    let paused = if value["paused"].as_bool() == Some(true) { " (paused)" } else { "" };
    let text = format!("{}  rate {}{paused}\n", value["now"].as_str().unwrap_or("?"), value["rate"]);
    Ok((value, text))
}

fn load(client: &Client, file: &std::path::Path, replace: bool, tenant: Option<&str>) -> Result<(Value, String), ClientError> {
    let text = client::read_local(file)?;
    let name = file.display().to_string();
    let query = query_string(&[("name", Some(name)), ("replace", replace.then(|| "true".to_string())), ("tenant", tenant.map(str::to_string))]);
    let value = client.call("POST", &format!("/_emu/scenarios{query}"), Some(("application/toml", &text)))?;
    // Legal but likely mistakes, as `check` prints them: on stderr, the load still done.
    for warning in value["warnings"].as_array().into_iter().flatten() {
        eprintln!("{}", cell(warning));
    }
    let text = format!("loaded {}: {} task(s) now (was {})\n{}", value["loaded"].as_str().unwrap_or("?"), value["tasks"], value["tasks_before"], notes(&value));
    Ok((value, text))
}

/// An answer's `notes` (what the server chose where it was not told), one `note:` line each.
fn notes(value: &Value) -> String {
    value["notes"].as_array().into_iter().flatten().map(|note| format!("note: {}\n", cell(note))).collect()
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tasks_table(value: &Value) -> String {
    let rows: Vec<Vec<String>> = value["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            vec![
                cell(&t["product"]),
                cell(&t["id"]),
                cell(&t["tenant"]),
                cell(&t["status"]),
                format!("{:.0}%", t["progress"].as_f64().unwrap_or(0.0) * 100.0),
                cell(&t["created"]),
                cell(&t["ended"]),
            ]
        })
        .collect();
    let shown = rows.len();
    let table = client::table(&["PRODUCT", "ID", "TENANT", "STATUS", "PROGRESS", "CREATED", "ENDED"], &rows);
    let counts = &value["counts"];
    if counts["scans"].as_u64().unwrap_or(0) + counts["sessions"].as_u64().unwrap_or(0) == 0 {
        format!("{table}{shown} of {} task(s) at {}\n", value["total"], cell(&value["now"]))
    } else {
        // AVDS lines are sessions: the footer says so, as health and the dashboard do.
        format!("{table}{shown} of {} line(s) at {}: {}\n", value["total"], cell(&value["now"]), counts_text(counts))
    }
}

/// Counts as every view words them (`tasks::Counts` on the server): tasks, then AVDS scans and
/// their sessions when there are any.
fn counts_text(counts: &Value) -> String {
    let (tasks, scans, sessions) = (counts["tasks"].as_u64().unwrap_or(0), counts["scans"].as_u64().unwrap_or(0), counts["sessions"].as_u64().unwrap_or(0));
    if scans + sessions == 0 {
        format!("{tasks} task(s)")
    } else {
        format!("{tasks} task(s), {scans} AVDS scan(s) with {sessions} session(s)")
    }
}

fn requests_table(value: &Value) -> String {
    let rows: Vec<Vec<String>> = value["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![cell(&r["seq"]), cell(&r["time"]), cell(&r["operation"]), cell(&r["tenant"]), cell(&r["status"]), cell(&r["error_code"]), format!("{}us", r["latency_us"]), cell(&r["virtual_time"])]
        })
        .collect();
    // TIME is the wall clock (what --since filters), VIRTUAL the emulator's clock then (--virtual-since).
    client::table(&["SEQ", "TIME", "OPERATION", "CALLER", "STATUS", "ERROR", "LATENCY", "VIRTUAL"], &rows)
}

/// Each refused call's diagnosis, readable: the cause first, then what the request claimed next to
/// what the server computed (multi-line texts indented under their name).
fn auth_failures_report(value: &Value) -> String {
    use std::fmt::Write as _;
    let requests: Vec<&Value> = value["requests"].as_array().into_iter().flatten().collect();
    let mut out = String::new();
    for r in &requests {
        let d = &r["auth_failure"];
        let _ = writeln!(out, "#{} {} {} {} -> {} {}", cell(&r["seq"]), cell(&r["time"]), cell(&r["method"]), cell(&r["operation"]), cell(&r["status"]), cell(&r["error_code"]));
        let _ = writeln!(out, "  scheme:   {}", cell(&d["scheme"]));
        for (i, f) in d["findings"].as_array().into_iter().flatten().enumerate() {
            let _ = writeln!(out, "  {} {}: {}", if i == 0 { "cause:   " } else { "also:    " }, cell(&f["cause"]), cell(&f["message"]));
        }
        if let Some(skew) = d["skew_seconds"].as_i64() {
            let _ = writeln!(out, "  skew:     {skew:+} s (signed time minus server time)");
        }
        let texts = [
            ("claimed key id", &d["claimed"]["key_id"]),
            ("claimed timestamp", &d["claimed"]["timestamp"]),
            ("claimed signed headers", &d["claimed"]["signed_headers"]),
            ("server signed headers", &d["computed"]["signed_headers"]),
            ("claimed signature", &d["claimed"]["signature"]),
            ("server string to sign", &d["computed"]["string_to_sign"]),
            ("server canonical request", &d["computed"]["canonical_request"]),
        ];
        for (name, text) in texts {
            if let Some(text) = text.as_str() {
                if text.contains('\n') {
                    let _ = writeln!(out, "  {name}:");
                    for line in text.split('\n') {
                        let _ = writeln!(out, "    | {line}");
                    }
                } else {
                    let _ = writeln!(out, "  {name}: {text}");
                }
            }
        }
        if d["truncated"].as_bool() == Some(true) {
            let _ = writeln!(out, "  (cut to the journal's entry budget, --journal-entry-bytes)");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} refused call(s)", requests.len());
    out
}

fn fault(client: &Client, action: FaultAction) -> Result<(Value, String), ClientError> {
    // A list answers with `faults`, an addition with the rules it `added`.
    let faults_table = |rules: &Value| {
        let rows: Vec<Vec<String>> = rules
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let effect = if !f["error"].is_null() {
                    format!("error {}", cell(&f["error"]["code"]))
                } else if !f["latency"].is_null() {
                    format!("latency {}", cell(&f["latency"]))
                } else {
                    format!("throttle {}/s", cell(&f["throttle"]))
                };
                vec![cell(&f["id"]), cell(&f["operation"]), cell(&f["tenant"]), effect, cell(&f["remaining"]), cell(&f["probability"]), cell(&f["fired"])]
            })
            .collect();
        client::table(&["ID", "OPERATION", "TENANT", "EFFECT", "LEFT", "PROBABILITY", "FIRED"], &rows)
    };
    match action {
        FaultAction::List => client.call("GET", "/_emu/faults", None).map(|v| (v.clone(), faults_table(&v["faults"]))),
        FaultAction::Clear => client.call("DELETE", "/_emu/faults", None).map(|v| (v.clone(), format!("cleared {} rule(s)\n", v["cleared"]))),
        FaultAction::Add { operation, error, status, message, latency, throttle, times, probability, tenant } => {
            let mut rule = json!({ "operation": operation });
            if let Some(code) = error {
                rule["error"] = json!({ "code": code, "status": status, "message": message });
            }
            for (key, value) in [("latency", latency.map(Value::from)), ("throttle", throttle.map(Value::from)), ("times", times.map(Value::from)), ("probability", probability.map(Value::from)), ("tenant", tenant.map(Value::from))] {
                if let Some(v) = value {
                    rule[key] = v;
                }
            }
            let value = client.call("POST", "/_emu/faults", Some(("application/json", rule.to_string().as_bytes())))?;
            let text = format!("added rule {}\n{}{}", value["ids"][0], faults_table(&value["added"]), notes(&value));
            Ok((value, text))
        }
    }
}

/// The longest `healthcheck --wait`: a pipeline that waits longer has a different problem.
const MAX_HEALTH_WAIT_MS: i64 = 10 * 60 * 1000;
/// Pause between two tries of `healthcheck --wait`.
const HEALTH_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// `taskemu healthcheck`: one `GET /_emu/health` (or one every 100 ms until `--wait` runs out);
/// ready is a 200 whose `status` is `"ready"`. Prints one line either way.
fn healthcheck(remote: &Remote, wait: Option<&str>) -> ExitCode {
    let wait_ms = match wait.map(taskemu::instant::parse_duration).transpose() {
        Ok(ms) => ms.unwrap_or(0),
        Err(e) => {
            eprintln!("taskemu: bad --wait: {e}");
            return ExitCode::FAILURE;
        }
    };
    if wait_ms > MAX_HEALTH_WAIT_MS {
        eprintln!("taskemu: --wait is at most 10m");
        return ExitCode::FAILURE;
    }
    // A malformed --url will not get better by waiting.
    let client = match connect(remote) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("taskemu: {e}");
            return ExitCode::FAILURE;
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(wait_ms.max(0) as u64);
    loop {
        let answer = client.call("GET", "/_emu/health", None);
        let failure = match answer {
            Ok(health) if health["status"] == "ready" => {
                if remote.json {
                    println!("{health}");
                } else {
                    println!("ready: taskemu {} at {}, {}, clock {}", cell(&health["version"]), remote.url, counts_text(&health["counts"]), cell(&health["clock"]));
                }
                return ExitCode::SUCCESS;
            }
            Ok(health) => format!("taskemu at {} is not ready: status {}", remote.url, health["status"]),
            Err(e) => e.to_string(),
        };
        if std::time::Instant::now() + HEALTH_RETRY > deadline {
            eprintln!("taskemu: {failure}");
            return ExitCode::FAILURE;
        }
        std::thread::sleep(HEALTH_RETRY);
    }
}

/// One cloud's key pair as `taskemu env` exports it: the variables its SDKs' default credential
/// chain reads, where a credential of the world keeps them, and what any signature passes with
/// (auth off).
struct SdkKeys {
    kind: &'static str,
    id_variable: &'static str,
    secret_variable: &'static str,
    id_field: &'static str,
    secret_field: &'static str,
    any: (&'static str, &'static str),
    none_note: &'static str,
}

const SDK_KEYS: [SdkKeys; 2] = [
    SdkKeys {
        kind: "alibaba",
        id_variable: "ALIBABA_CLOUD_ACCESS_KEY_ID",
        secret_variable: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        id_field: "access_key_id",
        secret_field: "access_key_secret",
        any: ("taskemu-any-key", "taskemu-any-secret"),
        none_note: "# auth is on and the world has no Alibaba access key: Alibaba calls will be refused",
    },
    SdkKeys {
        kind: "huawei",
        id_variable: "HUAWEICLOUD_SDK_AK",
        secret_variable: "HUAWEICLOUD_SDK_SK",
        id_field: "ak",
        secret_field: "sk",
        any: ("TASKEMUANYAK", "taskemu-any-sk"),
        none_note: "# auth is on and the world has no Huawei AK/SK: Huawei calls will be refused",
    },
];

/// The credential of a kind the world accepts for the most operations: one without `allow` or
/// `deny` when there is one, else the first.
fn widest<'a>(credentials: &'a [Value], kind: &str) -> Option<&'a Value> {
    let of_kind = || credentials.iter().filter(move |c| c["kind"] == kind);
    of_kind().find(|c| c["allow"].is_null() && c["deny"].as_array().is_none_or(Vec::is_empty)).or_else(|| of_kind().next())
}

/// A shell word that `eval` gives back unchanged, whatever the value holds.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// `taskemu env`: `export` lines for the URL, the endpoint the Alibaba SDKs take, the variables
/// the SDKs' default credential chains read (the world's own keys when auth is on, any key when it
/// is off), and the control token when this command was given one.
fn env_exports(client: &Client, remote: &Remote) -> Result<(Value, String), ClientError> {
    let url = remote.url.as_str();
    let answer = client.call("GET", "/_emu/credentials", None)?;
    let url = url.trim_end_matches('/');
    let endpoint = url.strip_prefix("http://").unwrap_or(url);
    let credentials = answer["credentials"].as_array().map(Vec::as_slice).unwrap_or_default();
    let auth = answer["auth"].as_bool() == Some(true);
    let mut vars: Vec<(&str, String)> = vec![("TASKEMU_URL", url.to_string()), ("TASKEMU_ENDPOINT", endpoint.to_string())];
    let mut notes = Vec::new();
    for keys in SDK_KEYS {
        match (auth, widest(credentials, keys.kind)) {
            (true, Some(c)) => {
                vars.push((keys.id_variable, cell(&c[keys.id_field])));
                vars.push((keys.secret_variable, cell(&c[keys.secret_field])));
            }
            (true, None) => notes.push(keys.none_note),
            (false, _) => {
                vars.push((keys.id_variable, keys.any.0.to_string()));
                vars.push((keys.secret_variable, keys.any.1.to_string()));
            }
        }
    }
    let huawei = widest(credentials, "huawei");
    // A credential bound to a project works only there; any other acts in the demo's project.
    let project = huawei.filter(|_| auth).and_then(|c| c["project_id"].as_str()).unwrap_or(scenario::DEFAULT_PROJECT);
    vars.push(("HUAWEICLOUD_SDK_PROJECT_ID", project.to_string()));
    if let Some(token) = remote.token.clone().filter(|t| !t.is_empty()) {
        vars.push(("TASKEMU_CONTROL_TOKEN", token));
    }
    let mut text: String = vars.iter().map(|(name, value)| format!("export {name}={}\n", shell_quote(value))).collect();
    for note in notes {
        text.push_str(note);
        text.push('\n');
    }
    let value = Value::Object(vars.into_iter().map(|(name, value)| (name.to_string(), Value::String(value))).collect());
    Ok((value, text))
}

/// `taskemu check`: every problem of every path in one run, errors then warnings on stderr (each
/// list sorted by file, line and column); exit 1 on any error (or any warning with `--strict`).
fn check(paths: &[PathBuf], strict: bool, budget: &scenario::Budget) -> ExitCode {
    let (sources, unreadable) = Source::read_paths(paths);
    let (loaded, mut found) = scenario::check_within(&sources, scenario::wall_clock_start(), None, budget);
    found.errors.extend(unreadable);
    let order: Vec<&str> = paths.iter().filter_map(|p| p.to_str()).chain(sources.iter().map(|s| s.name.as_str())).collect();
    found.sort(&order);
    if !found.errors.is_empty() || !found.warnings.is_empty() {
        eprintln!("{found}");
    }
    let verdict = match &loaded {
        Some(loaded) if found.errors.is_empty() && (!strict || found.warnings.is_empty()) => {
            println!("ok: {} file(s), {} task(s)", sources.len(), loaded.world.task_count());
            ExitCode::SUCCESS
        }
        _ => {
            if found.errors.is_empty() {
                eprintln!("{} warning(s), refused by --strict", found.warnings.len());
            }
            ExitCode::FAILURE
        }
    };
    // The process ends here: freeing a world of a million tasks one allocation at a time was a
    // tenth of the check; the system takes the memory back whole.
    std::mem::forget(loaded);
    verdict
}

fn capture_instant(text: &str) -> Result<i64, String> {
    taskemu::instant::parse_rfc3339(text).ok_or_else(|| format!("bad instant {text:?}: expected RFC 3339, e.g. 2026-11-22T08:00:00Z"))
}

/// `taskemu import`: the scenario to `out` (or stdout); a capture it cannot read names its file
/// and JSON path, exit 1.
fn import(files: &[PathBuf], out: Option<&std::path::Path>, options: taskemu::import::Options) -> ExitCode {
    let mut texts = Vec::with_capacity(files.len());
    for file in files {
        let name = file.display().to_string();
        let too_big = std::fs::metadata(file).is_ok_and(|m| m.len() > taskemu::import::MAX_CAPTURE_BYTES as u64);
        if too_big {
            eprintln!("{name}: larger than {} MiB: not a captured answer", taskemu::import::MAX_CAPTURE_BYTES >> 20);
            return ExitCode::FAILURE;
        }
        match std::fs::read_to_string(file) {
            Ok(text) => texts.push((name, text)),
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let scenario = match taskemu::import::run(&texts, &options) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match out {
        None => {
            print!("{scenario}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, scenario) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(listen: SocketAddr, paths: Vec<PathBuf>, config: Config, limits: Limits) -> ExitCode {
    // A state file that exists is the world: the scenarios are not read (see `State::new`).
    let state_file = config.state_file.as_deref().filter(|p| p.exists());
    if let Some(path) = state_file {
        eprintln!("taskemu: loading the world from the state file {} (--scenario is not read while it exists)", path.display());
    }
    let sources = if state_file.is_some() {
        Ok(Vec::new())
    } else if paths.is_empty() {
        Ok(vec![Source::demo()])
    } else {
        read_sources(&paths)
    };
    let mut state = match sources.and_then(|s| State::new(config, s)) {
        Ok(state) => state,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    // Decided here, once: a world loaded later, with or without credentials, never changes it.
    let auth_at_start = state.auth_on(&state.snapshot());
    let made_token = (state.config.control_token.is_none() && access::token_required(auth_at_start, listen.ip())).then(access::new_token);
    if made_token.is_some() {
        state.config.control_token.clone_from(&made_token);
    }
    for note in taskemu::control::fault_notes(&state.faults.list(None)) {
        eprintln!("taskemu: note: {note}");
    }
    let state = Arc::new(state);
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
                eprintln!("taskemu: {}", listen_failure(listen, &e));
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(listen);
        let shutdown = shutdown_signal();
        if !addr.ip().is_loopback() && !state.auth_on(&state.snapshot()) {
            tracing::warn!("listening on {addr}, beyond loopback, with authentication off: anyone who can reach it can call the five operations (the control API takes its token)");
        }
        if let Some(token) = &made_token {
            // Before the ready line: a launcher that has read it finds the token already written.
            let dashboard = if addr.ip().is_unspecified() { SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port()) } else { addr };
            eprintln!("taskemu: the control API (/_emu/) requires this token (made for this run; choose one with --control-token or TASKEMU_CONTROL_TOKEN): {token}");
            eprintln!("taskemu: dashboard: http://{dashboard}/_emu/ui#token={token}");
            let _ = std::io::stderr().flush();
        }
        println!("taskemu listening on http://{addr}");
        let _ = std::io::stdout().flush();
        match server::serve(listener, state, limits, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, before the
/// ready line is printed, so a signal sent right after it is never the default (fatal) one.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        match terminate {
            Some(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            None => {
                let _ = interrupt.await;
            }
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("stopping: finishing requests in flight");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand has an `about` and every option and argument a `help`, each one line:
    /// `taskemu X --help` never shows a bare flag.
    #[test]
    fn every_subcommand_and_option_has_a_one_line_help() {
        use clap::CommandFactory as _;
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                match arg.get_help().map(ToString::to_string) {
                    Some(help) if !help.trim().is_empty() && !help.contains('\n') => {}
                    other => missing.push(format!("{path} --{id}: {other:?}")),
                }
            }
            for sub in command.get_subcommands() {
                let sub_path = format!("{path} {}", sub.get_name());
                match sub.get_about().map(ToString::to_string) {
                    Some(about) if !about.trim().is_empty() && !about.contains('\n') => {}
                    other => missing.push(format!("{sub_path}: {other:?}")),
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "taskemu", &mut missing);
        assert!(missing.is_empty(), "without a one-line help:\n{}", missing.join("\n"));
    }

    #[test]
    fn listen_forms() {
        let loopback = |port| SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), port);
        assert_eq!(listen_address("8080"), Ok(loopback(8080)));
        assert_eq!(listen_address(":8080"), Ok(loopback(8080)));
        assert_eq!(listen_address("localhost:9000"), Ok(loopback(9000)));
        assert_eq!(listen_address("0.0.0.0:80"), Ok("0.0.0.0:80".parse().unwrap()));
        assert_eq!(listen_address("[::1]:8080"), Ok("[::1]:8080".parse().unwrap()));
        for bad in ["", ":", "http://127.0.0.1:8080", "65536", "::1:80", "host:port"] {
            let error = listen_address(bad).unwrap_err();
            assert!(error.contains("--listen 127.0.0.1:8080"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn colour_only_to_a_terminal_and_never_with_no_color() {
        use std::ffi::OsStr;
        assert!(log_colours(true, None));
        assert!(log_colours(true, Some(OsStr::new(""))), "an empty NO_COLOR is unset (no-color.org)");
        assert!(!log_colours(true, Some(OsStr::new("1"))));
        assert!(!log_colours(false, None));
    }
}
