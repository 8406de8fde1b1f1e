//! The control API under `/_emu/`: how tests, CI jobs and demos drive the world from outside:
//! health, the clock, reset, run-time scenarios and tasks, the request journal, fault rules, and
//! the dashboard's assets. JSON in and out; errors are `{"error": "..."}` with a 4xx status, and a
//! bad request never changes the world. Every request passes `access` first (Host, token,
//! content type): no handler here sees one it refuses.

pub mod access;
mod credentials;
pub(crate) mod tasks;
pub(crate) mod ui;

use serde_json::{json, Value};

use crate::cloud::pairs::form_decode;
use crate::cloud::{WireRequest, WireResponse};
use crate::instant::{format_rfc3339, parse_duration, parse_rfc3339};
use crate::scenario::{ScenarioErrors, Source};
use crate::faults::{FaultSpec, RuleView};
use crate::journal;
use crate::state::State;
use crate::world::Product;

pub const PREFIX: &str = "/_emu/";

/// A control-API failure: a status and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError {
    pub status: u16,
    pub message: String,
}

impl ControlError {
    pub fn bad_request(message: impl Into<String>) -> ControlError {
        ControlError { status: 400, message: message.into() }
    }

    fn not_found(path: &str) -> ControlError {
        ControlError { status: 404, message: format!("no control endpoint {path}") }
    }

    fn method(allowed: &str) -> ControlError {
        ControlError { status: 405, message: format!("method not allowed here; use {allowed}") }
    }
}

/// Scenario problems as a 400 whose message names FILE:LINE:COLUMN.
fn scenario_error(errors: ScenarioErrors) -> (ControlError, Value) {
    let list: Vec<Value> = errors.0.iter().map(|e| json!({ "file": e.file, "line": e.line, "column": e.column, "message": e.message })).collect();
    (ControlError::bad_request(errors.to_string()), json!(list))
}

/// Query-string parameters of a control call.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ControlError> {
        self.get(name).map(|v| v.parse::<T>().map_err(|_| ControlError::bad_request(format!("{name} must be a whole number")))).transpose()
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| matches!(v, "1" | "true" | "yes"))
    }
}

/// Whether the call builds a world (a load, a replacement, a reset, tasks added or deleted): work
/// that can take seconds on a big world.
fn builds_world(req: &WireRequest) -> bool {
    let path = req.path.trim_end_matches('/');
    match req.method.as_ref() {
        "POST" => matches!(path, "/_emu/scenarios" | "/_emu/reset" | "/_emu/tasks"),
        "DELETE" => path.starts_with("/_emu/tasks/"),
        _ => false,
    }
}

/// Whether an accepted call changed what a snapshot holds (the world, the clock, the fault rules):
/// with `--state`, the file is rewritten before such a call answers.
fn changes_state(req: &WireRequest) -> bool {
    let path = req.path.trim_end_matches('/');
    match req.method.as_ref() {
        "POST" => matches!(path, "/_emu/clock" | "/_emu/reset" | "/_emu/scenarios" | "/_emu/tasks" | "/_emu/faults"),
        "DELETE" => path.starts_with("/_emu/tasks/") || path == "/_emu/faults" || path.starts_with("/_emu/faults/"),
        _ => false,
    }
}

/// Answers a control call; one that builds a world runs with its runtime worker handed over to
/// another thread (`block_in_place`: the request borrows the state, which `spawn_blocking` could
/// not take), so that the other connections keep being served while it builds. A runtime of one
/// thread (the benchmark, single-threaded tests) has no worker to spare: it builds in place.
pub fn handle_request(state: &State, req: &WireRequest) -> WireResponse {
    let spare_worker = tokio::runtime::Handle::try_current().is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    // Writing a snapshot of a big world takes as long as building one.
    let snapshots = (req.method == "GET" && req.path.trim_end_matches('/') == "/_emu/snapshot") || (state.config.state_file.is_some() && changes_state(req));
    if spare_worker && (builds_world(req) || snapshots) {
        tokio::task::block_in_place(|| handle(state, req))
    } else {
        handle(state, req)
    }
}

pub fn handle(state: &State, req: &WireRequest) -> WireResponse {
    // Who may ask comes before what is asked: no handler sees a request the gate refuses.
    if let Err(refused) = access::admit(&state.config, req) {
        return refused;
    }
    if req.method == "GET" {
        if let Some((content_type, bytes)) = ui::asset(&req.path) {
            return WireResponse::new(200, content_type, bytes.to_vec());
        }
    }
    // The journal is written straight to bytes, never through a `Value` (see `journal`).
    let answered = match (req.method.as_ref(), req.path.trim_end_matches('/')) {
        ("GET", "/_emu/requests") => requests(state, &Params(form_decode(&req.query))).map_err(plain),
        // The world as a scenario file: TOML, not JSON.
        ("GET", "/_emu/snapshot") => return WireResponse::new(200, "application/toml", state.scenario().into_bytes()),
        (_, "/_emu/snapshot") => Err(plain(ControlError::method("GET"))),
        _ => answer(state, req).map(|value| value.to_string().into_bytes()),
    };
    // Acknowledged only once it is on disk: a write that fails answers 500 and leaves the old file.
    let answered = match answered {
        Ok(body) if changes_state(req) => state.persist().map(|()| body).map_err(|e| plain(ControlError { status: 500, message: e })),
        other => other,
    };
    match answered {
        Ok(body) => WireResponse::new(200, "application/json", body),
        Err((e, details)) => {
            let mut body = json!({ "error": e.message });
            if !details.is_null() {
                body["errors"] = details;
            }
            WireResponse::new(e.status, "application/json", body.to_string().into_bytes())
        }
    }
}

fn body_json(req: &WireRequest) -> Result<Value, ControlError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| ControlError::bad_request(format!("body is not JSON: {e}")))
}

type Failed = (ControlError, Value);

fn plain(e: ControlError) -> Failed {
    (e, Value::Null)
}

fn answer(state: &State, req: &WireRequest) -> Result<Value, Failed> {
    let path = req.path.trim_end_matches('/');
    let params = Params(form_decode(&req.query));
    let method = req.method.as_ref();
    match (method, path) {
        ("GET", "/_emu/health") => Ok(health(state)),
        (_, "/_emu/health") => Err(plain(ControlError::method("GET"))),
        ("GET", "/_emu/operations") => Ok(json!({ "operations": crate::ops::rows().collect::<Vec<_>>(), "products": Product::ALL.iter().map(|p| p.name()).collect::<Vec<_>>() })),
        (_, "/_emu/operations") => Err(plain(ControlError::method("GET"))),
        ("GET", "/_emu/credentials") => Ok(credentials::list(state)),
        (_, "/_emu/credentials") => Err(plain(ControlError::method("GET"))),
        ("GET", "/_emu/clock") => Ok(clock(state)),
        ("POST", "/_emu/clock") => set_clock(state, &body_json(req).map_err(plain)?).map_err(plain),
        (_, "/_emu/clock") => Err(plain(ControlError::method("GET or POST"))),
        ("POST", "/_emu/reset") => {
            state.reset().map_err(scenario_error)?;
            Ok(json!({ "reset": true, "clock": clock(state), "tasks": state.snapshot().world.task_count() }))
        }
        (_, "/_emu/reset") => Err(plain(ControlError::method("POST"))),
        ("GET", "/_emu/scenarios") => Ok(scenarios(state)),
        ("POST", "/_emu/scenarios") => load_scenario(state, req, &params),
        (_, "/_emu/scenarios") => Err(plain(ControlError::method("GET or POST"))),
        ("GET", "/_emu/tasks") => list_tasks(state, &params).map_err(plain),
        ("POST", "/_emu/tasks") => add_task(state, req, &params),
        (_, "/_emu/tasks") => Err(plain(ControlError::method("GET or POST"))),
        ("DELETE", _) if path.starts_with("/_emu/tasks/") => {
            let id = percent_encoding::percent_decode_str(&path["/_emu/tasks/".len()..]).decode_utf8_lossy().into_owned();
            if state.delete_task(&id) {
                Ok(json!({ "deleted": id }))
            } else {
                Err(plain(ControlError { status: 404, message: format!("no task with id {id:?}") }))
            }
        }
        ("DELETE", "/_emu/requests") => Ok(json!({ "cleared": state.journal.clear(params.get("tenant")) })),
        (_, "/_emu/requests") => Err(plain(ControlError::method("GET or DELETE"))),
        ("GET", "/_emu/faults") => Ok(json!({ "faults": state.faults.list(params.get("tenant")) })),
        ("POST", "/_emu/faults") => add_faults(state, &body_json(req).map_err(plain)?).map_err(plain),
        ("DELETE", "/_emu/faults") => Ok(json!({ "cleared": state.faults.clear(params.get("tenant")) })),
        (_, "/_emu/faults") => Err(plain(ControlError::method("GET, POST or DELETE"))),
        ("DELETE", _) if path.starts_with("/_emu/faults/") => {
            let id: u64 = path["/_emu/faults/".len()..].parse().map_err(|_| plain(ControlError::bad_request("a fault id is a whole number")))?;
            if state.faults.remove(id) {
                Ok(json!({ "deleted": id }))
            } else {
                Err(plain(ControlError { status: 404, message: format!("no fault rule {id}") }))
            }
        }
        _ => Err(plain(ControlError::not_found(&req.path))),
    }
}

fn scenarios(state: &State) -> Value {
    let snapshot = state.snapshot();
    let list: Vec<Value> = snapshot
        .sources
        .iter()
        .map(|s| json!({ "name": s.name, "tenant": s.owner, "loaded_at": s.anchor.map(format_rfc3339), "bytes": s.text.len() }))
        .collect();
    json!({ "scenarios": list, "name": snapshot.settings.name, "tasks": snapshot.world.task_count() })
}

fn body_text(req: &WireRequest) -> Result<&str, Failed> {
    std::str::from_utf8(&req.body).map_err(|_| plain(ControlError::bad_request("the body is not UTF-8 text")))
}

/// `POST /_emu/scenarios[?replace=true][&tenant=KEY][&name=NAME]` with a TOML body. The answer
/// carries the load's warnings (`FILE:LINE:COLUMN: warning: ...`), which are logged too.
fn load_scenario(state: &State, req: &WireRequest, params: &Params) -> Result<Value, Failed> {
    let text = body_text(req)?;
    let given = params.get("name");
    // Held until the load has published or failed: no other load takes the name meanwhile.
    let reservation = state.reserve_name(given);
    let name = reservation.name().to_string();
    let mut source = Source::new(name.clone(), text);
    source.owner = params.get("tenant").map(str::to_string);
    let replace = params.flag("replace");
    let newest_rule = state.faults.list(None).iter().map(|r| r.id).max().unwrap_or(0);
    // Errors and warnings name the file as the user sent it, not the suffix that kept it apart.
    let as_sent = |file: &mut String| {
        if let Some(given) = given.filter(|_| *file == name) {
            *file = given.to_string();
        }
    };
    let change = state.load(source, replace).map_err(|mut errors| {
        errors.0.iter_mut().for_each(|e| as_sent(&mut e.file));
        scenario_error(errors)
    })?;
    drop(reservation);
    let warnings: Vec<String> = change
        .warnings
        .into_iter()
        .map(|mut warning| {
            as_sent(&mut warning.0.file);
            tracing::warn!("{warning}");
            warning.to_string()
        })
        .collect();
    // The rules this load brought: ids only grow, and a replacement's are all new.
    let brought: Vec<RuleView> = state.faults.list(None).into_iter().filter(|r| r.id > newest_rule).collect();
    Ok(json!({ "loaded": name, "replaced": replace, "tasks_before": change.tasks_before, "tasks": change.tasks_after, "clock": clock(state), "notes": fault_notes(&brought), "warnings": warnings }))
}

/// `POST /_emu/tasks`: one scenario entry as JSON plus `"product"`, checked like a scenario.
fn add_task(state: &State, req: &WireRequest, params: &Params) -> Result<Value, Failed> {
    let Value::Object(mut entry) = body_json(req).map_err(plain)? else {
        return Err(plain(ControlError::bad_request("expected a JSON object: a scenario entry plus \"product\"")));
    };
    let product = entry.remove("product").and_then(|p| p.as_str().map(str::to_string)).unwrap_or_default();
    let (section, list) = Product::named(&product)
        .map(Product::section)
        .ok_or_else(|| plain(ControlError::bad_request(format!("product must be one of {}", Product::names()))))?;
    let entry = toml::Value::try_from(Value::Object(entry)).map_err(|e| plain(ControlError::bad_request(format!("the task cannot be a scenario entry: {e}"))))?;
    let mut file = toml::Table::new();
    let mut inner = toml::Table::new();
    inner.insert(list.into(), toml::Value::Array(vec![entry]));
    file.insert(section.into(), toml::Value::Table(inner));
    let text = toml::to_string(&file).map_err(|e| plain(ControlError::bad_request(e.to_string())))?;
    let mut source = Source::new("POST /_emu/tasks", text);
    source.owner = params.get("tenant").map(str::to_string);
    let change = state.add_tasks(source).map_err(scenario_error)?;
    // One task entry makes no warning today (each needs two tasks or more); any a later check
    // finds is answered and logged as a scenario's.
    let warnings: Vec<String> = change.warnings.iter().inspect(|warning| tracing::warn!("{warning}")).map(ToString::to_string).collect();
    Ok(json!({ "added": change.tasks_after - change.tasks_before, "tasks": change.tasks_after, "warnings": warnings }))
}

fn list_tasks(state: &State, params: &Params) -> Result<Value, ControlError> {
    let filter = tasks::Filter {
        tenant: params.get("tenant").map(str::to_string),
        offset: params.number("offset")?.unwrap_or(0),
        limit: params.number("limit")?.unwrap_or(1000),
        ..tasks::Filter::checked(params.get("product"), params.get("status")).map_err(ControlError::bad_request)?
    };
    if filter.limit > tasks::MAX_LIMIT {
        return Err(ControlError::bad_request(format!("limit must be at most {}", tasks::MAX_LIMIT)));
    }
    let now = state.clock.now();
    let listed = tasks::list(&state.snapshot().world, now, &filter);
    Ok(json!({ "now": format_rfc3339(now), "total": listed.total, "counts": listed.counts, "tasks": listed.lines }))
}

/// `GET /_emu/requests`: the entries picked under the journal's lock, written after it.
fn requests(state: &State, params: &Params) -> Result<Vec<u8>, ControlError> {
    let instant = |name: &str, clock: &str| {
        params.get(name).map(|s| parse_rfc3339(s).ok_or_else(|| ControlError::bad_request(format!("{name} takes an RFC 3339 instant ({clock})")))).transpose()
    };
    let since_ms = instant("since", "wall-clock time")?;
    let virtual_since_ms = instant("virtual_since", "virtual time")?;
    // An operation the catalogue has, or a name a journalled call sent (a client's misspelt
    // action is worth finding); anything else could never match, and is refused.
    let operation = params.get("operation");
    if let Some(name) = operation {
        if let Err(unknown) = tasks::one_of("operation", name, &crate::ops::rows().map(|row| row.name).collect::<Vec<_>>()) {
            if !state.journal.has_operation(name) {
                return Err(ControlError::bad_request(unknown));
            }
        }
    }
    let filter = journal::Filter {
        operation: operation.map(str::to_string),
        status: params.number("status")?,
        error_code: params.get("error_code").map(str::to_string),
        tenant: params.get("tenant").map(str::to_string),
        after_seq: params.number("after")?,
        since_ms,
        virtual_since_ms,
        auth_failures: params.flag("auth_failures"),
        limit: params.number("limit")?,
    };
    let entries = state.journal.query(&filter);
    journal::render(&entries).map_err(|e| ControlError { status: 500, message: format!("the journal could not be written: {e}") })
}

/// One rule, a list of rules, or `{"rules": [...]}`; all checked before any is added.
fn add_faults(state: &State, body: &Value) -> Result<Value, ControlError> {
    let rules = match body {
        Value::Array(items) => items.clone(),
        Value::Object(map) if map.contains_key("rules") => map.get("rules").and_then(Value::as_array).cloned().unwrap_or_default(),
        other => vec![other.clone()],
    };
    let specs = rules
        .into_iter()
        .map(|r| serde_json::from_value::<FaultSpec>(r).map_err(|e| ControlError::bad_request(format!("bad fault rule: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if specs.is_empty() {
        return Err(ControlError::bad_request("no fault rule given"));
    }
    // The rules added, not the whole list: an answer that grew with every rule was the list
    // copied once per POST.
    let added = state.faults.add(specs).map_err(ControlError::bad_request)?;
    Ok(json!({ "ids": added.iter().map(|r| r.id).collect::<Vec<_>>(), "notes": fault_notes(&added), "added": added }))
}

/// What the rules' errors will answer where the emulator has no default for their code: one note
/// per cloud a rule reaches (its operation's, or both for `*`), naming the HTTP status and
/// message it will use. A rule is accepted either way; the note keeps a typo (`Throttled` for
/// `Throttling`) from passing as a code the emulator knows.
pub fn fault_notes(rules: &[RuleView]) -> Vec<String> {
    use crate::cloud::{aliyun, huawei};
    use crate::ops::Cloud;
    let mut notes = Vec::new();
    for rule in rules {
        let Some(error) = &rule.spec.error else { continue };
        if error.status.is_some() && error.message.is_some() {
            continue;
        }
        let clouds = match crate::ops::named(&rule.spec.operation) {
            Some(operation) => vec![operation.cloud],
            None => vec![Cloud::Alibaba, Cloud::Huawei],
        };
        for cloud in clouds {
            let (name, documented, (status, message)) = match cloud {
                Cloud::Alibaba => ("Alibaba Cloud", aliyun::error::documented(&error.code).is_some(), aliyun::error::known(&error.code)),
                Cloud::Huawei => ("Huawei Cloud", huawei::error::documented(&error.code).is_some(), huawei::error::known(&error.code)),
            };
            if documented {
                continue;
            }
            let status = error.status.unwrap_or(status);
            let message = error.message.clone().unwrap_or(message);
            notes.push(format!(
                "rule {}: taskemu has no default for {name} error code {:?}; its calls will answer HTTP {status} with message {message:?} (set error.status and error.message to choose)",
                rule.id, error.code
            ));
        }
    }
    notes
}

/// `tasks` is what the scenarios declared, each AVDS scan one (as reset and load count);
/// `counts` is the world now, by the names every listing uses (see [`tasks::Counts`]).
pub fn health(state: &State) -> Value {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    json!({
        "counts": tasks::counts(&snapshot.world, now),
        "auth": state.auth_on(&snapshot),
        "status": "ready",
        "version": env!("CARGO_PKG_VERSION"),
        "clock": format_rfc3339(now),
        "tasks": snapshot.world.task_count(),
        "scenario": snapshot.settings.name,
    })
}

fn clock(state: &State) -> Value {
    let c = state.clock.state();
    json!({ "now": format_rfc3339(c.now), "now_ms": c.now, "rate": c.rate, "paused": c.paused })
}

/// One change per call: `advance`, `set`, `rate` or `pause`, checked before anything moves.
fn set_clock(state: &State, body: &Value) -> Result<Value, ControlError> {
    let Value::Object(fields) = body else { return Err(ControlError::bad_request("expected a JSON object")) };
    let known = ["advance", "set", "rate", "pause"];
    if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ControlError::bad_request(format!("unknown field {unknown:?}: expected one of advance, set, rate, pause")));
    }
    if fields.len() != 1 {
        return Err(ControlError::bad_request("give exactly one of advance, set, rate, pause"));
    }
    if let Some(by) = fields.get("advance") {
        let text = by.as_str().ok_or_else(|| ControlError::bad_request("advance takes a duration string such as \"5m\""))?;
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let amount = parse_duration(text).map_err(ControlError::bad_request)?;
        state.clock.try_advance(if negative { -amount } else { amount }).map_err(|e| ControlError::bad_request(e.to_string()))?;
    } else if let Some(to) = fields.get("set") {
        let at = to.as_str().and_then(parse_rfc3339).ok_or_else(|| ControlError::bad_request("set takes an RFC 3339 instant such as \"2026-11-22T09:00:00Z\""))?;
        state.clock.try_set(at).map_err(|e| ControlError::bad_request(e.to_string()))?;
    } else if let Some(rate) = fields.get("rate") {
        let rate = rate.as_f64().ok_or_else(|| ControlError::bad_request("rate takes a number"))?;
        state.clock.set_rate(rate).map_err(|e| ControlError::bad_request(e.to_string()))?;
    } else if let Some(pause) = fields.get("pause") {
        state.clock.set_paused(pause.as_bool().ok_or_else(|| ControlError::bad_request("pause takes true or false"))?);
    }
    Ok(clock(state))
}
