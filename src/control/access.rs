//! Who may use the control API (issue 11, S2): the gate every `/_emu/` request passes before any
//! handler runs. Three checks, in this order, each closing one way in for a web page the developer
//! happens to have open:
//!
//! 1. **Host** (403): only loopback names, the address served on and `--allow-host` names. A DNS
//!    rebinding page reaches 127.0.0.1 under its own name, and that name is what it cannot change.
//! 2. **Token** (401): when one is set (`--control-token`, `TASKEMU_CONTROL_TOKEN`, or made at start
//!    because authentication is on or the bind is not loopback), every call but the dashboard's
//!    static assets sends `Authorization: Bearer TOKEN`, compared in constant time.
//! 3. **Content type** (415): a call that changes something declares JSON (or TOML for a scenario).
//!    A cross-site form or a `no-cors` fetch can only send `text/plain`, form-urlencoded or
//!    multipart; anything else makes the browser ask first (a CORS preflight), which the control
//!    API never grants.
//!
//! The token is decided once, at start (by `serve`), and kept in [`Config`]: loading or replacing a
//! world later never adds or removes it.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use rand::RngExt;
use serde_json::json;
use sha2::Sha256;

use crate::cloud::{WireRequest, WireResponse};
use crate::state::Config;

/// The media types a scenario upload may declare: the registered TOML type and the two older
/// unregistered spellings tools still send. None of them is one a form can send.
const TOML_TYPES: [&str; 3] = ["application/toml", "application/x-toml", "text/x-toml"];

/// Longest control token accepted: a header value, not a place for megabytes.
pub const MAX_TOKEN_LEN: usize = 512;

/// Whether `serve` must protect the control API with a token: when requests must prove who they
/// are from the start (then the control API is the way around that proof), or when the address is
/// reachable from other machines.
pub fn token_required(auth_on_at_start: bool, listen: IpAddr) -> bool {
    auth_on_at_start || !listen.is_loopback()
}

/// A fresh token: 256 bits from the thread's cryptographic generator (seeded by the OS), in hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Why a token cannot be used, if it cannot: it travels in a header, so visible ASCII only.
pub fn token_problem(token: &str) -> Option<String> {
    if token.is_empty() {
        Some("the control token is empty".into())
    } else if token.len() > MAX_TOKEN_LEN {
        Some(format!("the control token is longer than {MAX_TOKEN_LEN} characters"))
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Some("the control token may hold visible ASCII characters only (no spaces)".into())
    } else {
        None
    }
}

/// The name part of a `Host` header or `--allow-host` value, lower-cased, without port, brackets
/// or a trailing dot; `None` when it is not a host at all (a bare IPv6 address, a bad port).
pub fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            (inside, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() || name.contains(['/', '@', ' ', '\\']) {
        return None;
    }
    Some(name)
}

/// Whether a request naming `host` is for this server: a loopback name (any port), the address
/// served on, or a name given with `--allow-host`. An address that listens on all interfaces
/// admits every IP literal: a rebinding page always arrives under a DNS name, and an IP literal
/// means the browser's own origin is that address, that is, this server.
fn host_allowed(config: &Config, host: &str) -> bool {
    let Some(name) = host_name(host) else { return false };
    let ip = name.parse::<IpAddr>().ok();
    name == "localhost"
        || ip.is_some_and(|ip| ip.is_loopback())
        || config.listen_ip.is_some_and(|bound| ip == Some(bound) || (bound.is_unspecified() && ip.is_some()))
        || config.allow_hosts.iter().any(|allowed| host_name(allowed).as_deref() == Some(name.as_str()))
}

/// The bearer token a request carries, if it carries one.
fn bearer(req: &WireRequest) -> Option<&str> {
    let value = req.headers.get("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `claimed` is `token`, in time that depends on neither: both are keyed into an HMAC and
/// the tags compared by `verify_slice` (constant time), so neither a byte nor the length leaks.
fn token_matches(token: &str, claimed: &str) -> bool {
    const LABEL: &[u8] = b"taskemu control token";
    let tag = |key: &str| {
        // HMAC takes keys of any length; the error arm is never taken, and denies if it were.
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).map(|mut mac| {
            mac.update(LABEL);
            mac
        })
    };
    match (tag(token), tag(claimed)) {
        (Ok(expected), Ok(given)) => given.verify_slice(&expected.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

/// The dashboard's page, script and style sheet: they hold no data, and the page must load before
/// it can read the token from its address.
fn is_static_asset(req: &WireRequest) -> bool {
    req.method == "GET" && super::ui::asset(&req.path).is_some()
}

/// Whether a method only reads. Anything else (POST, PUT, PATCH, DELETE) is held to a content type.
fn reads_only(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The media type a request declares, lower-cased, without parameters.
fn media_type(req: &WireRequest) -> Option<String> {
    let value = req.headers.get("content-type")?;
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

fn refusal(status: u16, message: String) -> WireResponse {
    WireResponse::new(status, "application/json", json!({ "error": message }).to_string().into_bytes())
}

/// Lets a control request through, or answers it with the refusal: 403 for a foreign Host, 401
/// without the token, 415 for a change that does not declare its body's type.
pub fn admit(config: &Config, req: &WireRequest) -> Result<(), WireResponse> {
    // No Host at all is no browser (browsers always send one); HTTP/1.0 tools may omit it.
    if let Some(host) = req.headers.get("host") {
        if !host_allowed(config, host) {
            return Err(refusal(
                403,
                format!(
                    "the control API does not answer for Host {host:?}: it answers loopback names (localhost, 127.0.0.1, [::1]) and the address it listens on; \
                     start taskemu with --allow-host NAME to admit another name"
                ),
            ));
        }
    }
    if let Some(token) = &config.control_token {
        if !is_static_asset(req) && !bearer(req).is_some_and(|claimed| token_matches(token, claimed)) {
            let why = if bearer(req).is_some() { "the control token sent does not match" } else { "this control call needs the control token" };
            return Err(refusal(
                401,
                format!(
                    "{why}: send the header `Authorization: Bearer TOKEN`, TOKEN being the one given to `taskemu serve --control-token` \
                     (or TASKEMU_CONTROL_TOKEN), or the one it printed on stderr at start; the CLI verbs take --token or TASKEMU_CONTROL_TOKEN, \
                     the dashboard opens at /_emu/ui#token=TOKEN"
                ),
            )
            .with_header("www-authenticate", "Bearer realm=\"taskemu-control\""));
        }
    }
    if !reads_only(&req.method) {
        let wanted: &[&str] = if req.path.trim_end_matches('/') == "/_emu/scenarios" { &TOML_TYPES } else { &["application/json"] };
        let declared = media_type(req);
        if !declared.as_deref().is_some_and(|t| wanted.contains(&t)) {
            let sent = declared.map_or_else(|| "no Content-Type".to_string(), |t| format!("Content-Type {t}"));
            return Err(refusal(
                415,
                format!(
                    "{} {} changes the emulator, so it must declare its body: send `Content-Type: {}` (this request has {sent}); \
                     a web form cannot, which is what keeps other pages out",
                    req.method,
                    req.path,
                    wanted.join("` or `Content-Type: ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Headers;
    use std::borrow::Cow;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> WireRequest {
        let mut all = Headers::default();
        for (k, v) in headers {
            all.push(k, v);
        }
        WireRequest { method: Cow::Owned(method.into()), path: Cow::Owned(path.into()), query: String::new(), headers: all, body: bytes::Bytes::new() }
    }

    fn config(token: Option<&str>, listen: Option<&str>, allow: &[&str]) -> Config {
        Config {
            control_token: token.map(str::to_string),
            listen_ip: listen.map(|ip| ip.parse().unwrap()),
            allow_hosts: allow.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        }
    }

    fn status(config: &Config, req: &WireRequest) -> u16 {
        admit(config, req).map_or_else(|refused| refused.status, |()| 200)
    }

    #[test]
    fn host_names_lose_port_brackets_case_and_trailing_dot() {
        assert_eq!(host_name("LocalHost.:8080").as_deref(), Some("localhost"));
        assert_eq!(host_name("[::1]:9").as_deref(), Some("::1"));
        assert_eq!(host_name("[::1]").as_deref(), Some("::1"));
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_name("::1"), None, "a bare IPv6 address is not a Host");
        assert_eq!(host_name("a:b"), None);
        assert_eq!(host_name("a:"), None);
        assert_eq!(host_name(""), None);
        assert_eq!(host_name("[::1]x"), None);
    }

    #[test]
    fn loopback_names_the_bound_address_and_allowed_names_pass_others_do_not() {
        let plain = config(None, Some("127.0.0.1"), &[]);
        for host in ["localhost", "localhost:1", "127.0.0.1:8080", "127.4.5.6", "[::1]:80"] {
            assert_eq!(status(&plain, &request("GET", "/_emu/health", &[("host", host)])), 200, "{host}");
        }
        for host in ["evil.example", "evil.example:8080", "localhost.evil.example", "10.0.0.1", "::1", "127.0.0.1:x"] {
            assert_eq!(status(&plain, &request("GET", "/_emu/health", &[("host", host)])), 403, "{host}");
        }
        assert_eq!(status(&plain, &request("GET", "/_emu/health", &[])), 200, "no Host is no browser");
        let bound = config(None, Some("10.0.0.7"), &["Emu.Internal:8080"]);
        assert_eq!(status(&bound, &request("GET", "/_emu/health", &[("host", "10.0.0.7:8080")])), 200);
        assert_eq!(status(&bound, &request("GET", "/_emu/health", &[("host", "emu.internal")])), 200);
        assert_eq!(status(&bound, &request("GET", "/_emu/health", &[("host", "10.0.0.8")])), 403);
        let everywhere = config(None, Some("0.0.0.0"), &[]);
        assert_eq!(status(&everywhere, &request("GET", "/_emu/health", &[("host", "192.168.1.20:8080")])), 200);
        assert_eq!(status(&everywhere, &request("GET", "/_emu/health", &[("host", "rebind.example:8080")])), 403);
    }

    #[test]
    fn the_token_is_required_when_set_except_for_the_dashboards_assets() {
        let guarded = config(Some("s3cret"), None, &[]);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[])), 401);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[("authorization", "Bearer nope")])), 401);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[("authorization", "Basic s3cret")])), 401);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[("authorization", "Bearer s3cret")])), 200);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[("authorization", "bearer  s3cret ")])), 200);
        assert_eq!(status(&guarded, &request("GET", "/_emu/requests", &[("authorization", "Bearer s3cret2")])), 401);
        for asset in ["/_emu/ui", "/_emu/ui/", "/_emu/ui/app.js", "/_emu/ui/style.css"] {
            assert_eq!(status(&guarded, &request("GET", asset, &[])), 200, "{asset}");
        }
        assert_eq!(status(&guarded, &request("POST", "/_emu/ui", &[("content-type", "application/json")])), 401);
        assert_eq!(status(&guarded, &request("GET", "/_emu/ui/other", &[])), 401);
        let refused = admit(&guarded, &request("GET", "/_emu/health", &[])).unwrap_err();
        assert!(refused.headers.iter().any(|(k, v)| *k == "www-authenticate" && v.starts_with("Bearer")));
        assert!(String::from_utf8_lossy(&refused.body).contains("Authorization: Bearer TOKEN"));
    }

    #[test]
    fn changes_declare_json_or_toml_for_scenarios() {
        let open = Config::default();
        let json = [("content-type", "application/json; charset=utf-8")];
        assert_eq!(status(&open, &request("POST", "/_emu/clock", &json)), 200);
        assert_eq!(status(&open, &request("DELETE", "/_emu/faults", &json)), 200);
        assert_eq!(status(&open, &request("GET", "/_emu/clock", &[])), 200);
        for refused in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/toml"] {
            assert_eq!(status(&open, &request("POST", "/_emu/clock", &[("content-type", refused)])), 415, "{refused:?}");
        }
        assert_eq!(status(&open, &request("DELETE", "/_emu/faults", &[])), 415);
        assert_eq!(status(&open, &request("PUT", "/_emu/clock", &[("content-type", "text/plain")])), 415);
        for toml in ["application/toml", "Application/TOML; charset=utf-8", "text/x-toml", "application/x-toml"] {
            assert_eq!(status(&open, &request("POST", "/_emu/scenarios/", &[("content-type", toml)])), 200, "{toml}");
        }
        assert_eq!(status(&open, &request("POST", "/_emu/scenarios", &json)), 415);
        assert_eq!(status(&open, &request("POST", "/_emu/scenarios", &[("content-type", "text/plain")])), 415);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Any claim but the token itself (a prefix, an extension, one byte off) is refused, and
        /// any declared type but the wanted ones is a 415: random inputs around each rule's edge.
        #[test]
        fn only_the_exact_token_and_the_wanted_types_pass(claim in "[!-~]{0,80}", cut in 0usize..40, extra in "[!-~]{1,4}", content_type in "[ -~]{0,40}") {
            let token = "0123456789abcdef0123456789abcdef";
            let guarded = config(Some(token), None, &[]);
            let with = |claimed: &str| status(&guarded, &request("GET", "/_emu/health", &[("authorization", &format!("Bearer {claimed}"))]));
            proptest::prop_assert_eq!(with(&claim), if claim == token { 200 } else { 401 });
            proptest::prop_assert_eq!(with(&token[..cut.min(token.len())]), if cut >= token.len() { 200 } else { 401 });
            proptest::prop_assert_eq!(with(&format!("{token}{extra}")), 401);
            let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            let open = Config::default();
            let posted = status(&open, &request("POST", "/_emu/faults", &[("content-type", &content_type)]));
            proptest::prop_assert_eq!(posted, if essence == "application/json" { 200 } else { 415 });
        }
    }

    #[test]
    fn tokens_are_checked_made_and_compared_whole() {
        assert!(token_problem("abc").is_none());
        assert!(token_problem("").is_some() && token_problem("a b").is_some() && token_problem("a\r\nb").is_some());
        assert!(token_problem(&"x".repeat(MAX_TOKEN_LEN + 1)).is_some());
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(token_problem(&a).is_none());
        assert!(token_matches(&a, &a) && !token_matches(&a, &b) && !token_matches(&a, &a[..63]) && !token_matches(&a, ""));
        assert!(token_required(true, "127.0.0.1".parse().unwrap()));
        assert!(token_required(false, "0.0.0.0".parse().unwrap()));
        assert!(token_required(false, "192.168.1.2".parse().unwrap()));
        assert!(!token_required(false, "127.0.0.1".parse().unwrap()));
        assert!(!token_required(false, "::1".parse().unwrap()));
    }
}
