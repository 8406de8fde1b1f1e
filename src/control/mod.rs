//! The control API under `/_emu/`: how tests, CI jobs and demos drive the world from outside (health,
//! the clock, reset). JSON in and out; errors are `{"error": "..."}` with a 4xx status, and a bad
//! request never changes the world.

use serde_json::{json, Value};

use crate::cloud::{WireRequest, WireResponse};
use crate::instant::{format_rfc3339, parse_duration, parse_rfc3339};
use crate::state::State;

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

fn ok(value: Value) -> WireResponse {
    WireResponse::new(200, "application/json", value.to_string().into_bytes())
}

pub fn handle(state: &State, req: &WireRequest) -> WireResponse {
    match answer(state, req) {
        Ok(value) => ok(value),
        Err(e) => WireResponse::new(e.status, "application/json", json!({ "error": e.message }).to_string().into_bytes()),
    }
}

fn body_json(req: &WireRequest) -> Result<Value, ControlError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| ControlError::bad_request(format!("body is not JSON: {e}")))
}

fn answer(state: &State, req: &WireRequest) -> Result<Value, ControlError> {
    let path = req.path.trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("GET", "/_emu/health") => Ok(health(state)),
        (_, "/_emu/health") => Err(ControlError::method("GET")),
        ("GET", "/_emu/clock") => Ok(clock(state)),
        ("POST", "/_emu/clock") => set_clock(state, &body_json(req)?),
        (_, "/_emu/clock") => Err(ControlError::method("GET or POST")),
        ("POST", "/_emu/reset") => {
            state.reset().map_err(|e| ControlError { status: 500, message: e.to_string() })?;
            Ok(json!({ "reset": true, "clock": clock(state) }))
        }
        (_, "/_emu/reset") => Err(ControlError::method("POST")),
        _ => Err(ControlError::not_found(&req.path)),
    }
}

pub fn health(state: &State) -> Value {
    let snapshot = state.snapshot();
    json!({
        "status": "ready",
        "version": env!("CARGO_PKG_VERSION"),
        "clock": format_rfc3339(state.clock.now()),
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
        state.clock.advance(if negative { -amount } else { amount });
    } else if let Some(to) = fields.get("set") {
        let at = to.as_str().and_then(parse_rfc3339).ok_or_else(|| ControlError::bad_request("set takes an RFC 3339 instant such as \"2026-11-22T09:00:00Z\""))?;
        state.clock.set(at);
    } else if let Some(rate) = fields.get("rate") {
        let rate = rate.as_f64().ok_or_else(|| ControlError::bad_request("rate takes a number"))?;
        state.clock.set_rate(rate).map_err(|e| ControlError::bad_request(e.to_string()))?;
    } else if let Some(pause) = fields.get("pause") {
        state.clock.set_paused(pause.as_bool().ok_or_else(|| ControlError::bad_request("pause takes true or false"))?);
    }
    Ok(clock(state))
}
