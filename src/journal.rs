//! The request journal: every call to the five operations, newest last, in a ring bounded three
//! ways so that neither a long demo nor a hostile client can eat memory: by entries
//! (`--journal-size`), by bytes per entry (`--journal-entry-bytes`: what a request sent past it
//! is cut off, and the entry says so) and by bytes in all (`--journal-bytes`: the oldest entries go
//! first). Recording takes a lock for a push, never across I/O; it stores what the request already
//! had (moved, not copied or formatted: names are static, tenants shared). A read copies handles
//! to the entries it wants under the lock and writes their JSON after releasing it, straight to
//! bytes: a body is shown as it came (checked to be JSON, never parsed into a tree). A call that
//! authentication refused also keeps its diagnosis (`auth_failure`, see [`crate::auth::diagnosis`]),
//! cut to the same entry budget before the parameters.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::value::RawValue;

use crate::auth::diagnosis::Diagnosis;
use crate::instant::{format_rfc3339, format_rfc3339_millis, Millis};

/// The default of `--journal-size`.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// The default of `--journal-entry-bytes`: a request's parameters are rarely a kilobyte.
pub const DEFAULT_ENTRY_BYTES: usize = 16 * 1024;
/// The default of `--journal-bytes`.
pub const DEFAULT_TOTAL_BYTES: usize = 32 * 1024 * 1024;

/// How much the journal keeps; any bound at 0 turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Entries kept.
    pub entries: usize,
    /// Bytes of what a request sent (caller, path, query, form and body) kept per entry.
    pub entry_bytes: usize,
    /// Bytes kept in all, counting each entry's fields and bookkeeping.
    pub total_bytes: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { entries: DEFAULT_CAPACITY, entry_bytes: DEFAULT_ENTRY_BYTES, total_bytes: DEFAULT_TOTAL_BYTES }
    }
}

/// A call as the server records it; [`Entry`] is how the journal shows it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Wall-clock time the request arrived, Unix milliseconds.
    pub arrived_ms: i64,
    pub virtual_ms: Millis,
    pub cloud: &'static str,
    pub product: &'static str,
    pub operation: Cow<'static, str>,
    pub method: Cow<'static, str>,
    pub path: Cow<'static, str>,
    pub parameters: Parameters,
    pub tenant: Option<Arc<str>>,
    pub request_id: String,
    pub status: u16,
    pub error_code: Option<String>,
    pub latency_us: u64,
    /// Why authentication refused the call; only refused calls have one.
    pub auth_failure: Option<Box<Diagnosis>>,
}

/// A call's parameters as received, kept raw and decoded only when the journal is read: the
/// query string, a form body (Alibaba), a JSON body (Huawei, shown under `"body"`), and
/// whether the signature is left out (Alibaba's `Signature` parameter).
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    pub query: String,
    pub form: Option<bytes::Bytes>,
    pub body: Option<bytes::Bytes>,
    pub hide_signature: bool,
}

/// A parameter's value as shown: text, or a JSON body as it came.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Shown<'a> {
    Text(String),
    Json(&'a RawValue),
}

impl Parameters {
    /// The name–value pairs, query then form, as the edges decode them.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = crate::cloud::pairs::form_decode(&self.query);
        if let Some(form) = &self.form {
            pairs.extend(crate::cloud::pairs::form_decode(&String::from_utf8_lossy(form)));
        }
        if self.hide_signature {
            pairs.retain(|(k, _)| k != "Signature");
        }
        pairs
    }

    /// The pairs by name (a repeated name keeps its last value) and the body: as it came when it
    /// is whole JSON, as text otherwise (a body cut short is never JSON).
    fn shown(&self, whole: bool) -> BTreeMap<String, Shown<'_>> {
        let mut map: BTreeMap<String, Shown<'_>> = self.pairs().into_iter().map(|(k, v)| (k, Shown::Text(v))).collect();
        if let Some(body) = self.body.as_ref().filter(|b| !b.is_empty()) {
            let json = whole.then(|| serde_json::from_slice::<&RawValue>(body).ok()).flatten();
            map.insert("body".into(), json.map_or_else(|| Shown::Text(String::from_utf8_lossy(body).into_owned()), Shown::Json));
        }
        map
    }

    fn len(&self) -> usize {
        self.query.len() + self.form.as_ref().map_or(0, |f| f.len()) + self.body.as_ref().map_or(0, |b| b.len())
    }
}

/// What is left of an entry's byte budget as its fields are cut to it, in order.
struct Budget {
    left: usize,
    cut: bool,
}

impl Budget {
    /// How many of `len` bytes fit; the rest is cut.
    fn take(&mut self, len: usize) -> usize {
        let kept = len.min(self.left);
        self.left -= kept;
        self.cut |= kept < len;
        kept
    }

    /// The text, or its longest prefix that fits and ends on a character boundary.
    fn text<'a>(&mut self, text: &'a str) -> &'a str {
        let mut end = self.take(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    /// The bytes, or a fresh copy of the prefix that fits (a slice would keep the whole alive).
    fn bytes(&mut self, bytes: &mut Option<bytes::Bytes>) {
        if let Some(b) = bytes.as_mut() {
            let kept = self.take(b.len());
            if kept < b.len() {
                *b = bytes::Bytes::copy_from_slice(&b[..kept]);
            }
        }
    }
}

/// A call as kept: what it sent cut to the entry budget, and what that cost.
#[derive(Debug)]
pub struct Recorded {
    seq: u64,
    call: Logged,
    /// Bytes the request sent in the fields the budget covers, before any was cut.
    received_bytes: usize,
    truncated: bool,
    /// What this entry counts against `--journal-bytes`.
    bytes: usize,
}

impl Recorded {
    /// Cuts the caller, path, query, form and body, in that order, to `budget` bytes.
    /// Its sequence number is given when it is stored.
    fn new(mut call: Logged, budget: usize) -> Recorded {
        let received_bytes = call.tenant.as_ref().map_or(0, |t| t.len()) + call.path.len() + call.parameters.len();
        let mut budget = Budget { left: budget, cut: false };
        if let Some(tenant) = &call.tenant {
            let kept = budget.text(tenant);
            if kept.len() < tenant.len() {
                call.tenant = Some(Arc::from(kept));
            }
        }
        let path = budget.text(&call.path);
        if path.len() < call.path.len() {
            call.path = Cow::Owned(path.to_string());
        }
        // An authentication failure's diagnosis comes before the parameters: it explains the
        // refusal, and its canonical request repeats them anyway. Its cut is its own to report.
        let mut diagnosis_bytes = 0;
        if let Some(diagnosis) = call.auth_failure.as_deref_mut() {
            let mut own = Budget { left: budget.left, cut: false };
            for text in diagnosis.texts_mut() {
                let kept = own.text(text).len();
                text.truncate(kept);
            }
            diagnosis.truncated = own.cut;
            budget.left = own.left;
            diagnosis_bytes = std::mem::size_of::<Diagnosis>()
                + diagnosis.findings.capacity() * std::mem::size_of::<crate::auth::diagnosis::Finding>()
                + diagnosis.text_len();
        }
        let query = budget.text(&call.parameters.query).len();
        call.parameters.query.truncate(query);
        budget.bytes(&mut call.parameters.form);
        budget.bytes(&mut call.parameters.body);
        let kept = call.tenant.as_ref().map_or(0, |t| t.len()) + call.path.len() + call.parameters.len();
        let owned = call.operation.len() + call.method.len() + call.request_id.len() + call.error_code.as_ref().map_or(0, String::len);
        let bytes = std::mem::size_of::<Recorded>() + 2 * std::mem::size_of::<usize>() + kept + owned + diagnosis_bytes;
        Recorded { seq: 0, call, received_bytes, truncated: budget.cut, bytes }
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// How the journal shows this call.
    pub fn entry(&self) -> Entry<'_> {
        let c = &self.call;
        Entry {
            seq: self.seq,
            time: format_rfc3339_millis(c.arrived_ms),
            virtual_time: format_rfc3339(c.virtual_ms),
            cloud: c.cloud,
            product: c.product,
            operation: &c.operation,
            method: &c.method,
            path: &c.path,
            parameters: c.parameters.shown(!self.truncated),
            truncated: self.truncated,
            received_bytes: self.received_bytes,
            tenant: c.tenant.as_deref(),
            request_id: &c.request_id,
            status: c.status,
            error_code: c.error_code.as_deref(),
            latency_us: c.latency_us,
            auth_failure: c.auth_failure.as_deref(),
        }
    }
}

/// A journal entry as `GET /_emu/requests` shows it.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    pub seq: u64,
    /// Wall-clock time the request arrived, RFC 3339.
    pub time: String,
    /// The virtual clock then.
    pub virtual_time: String,
    pub cloud: &'static str,
    pub product: &'static str,
    pub operation: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    parameters: BTreeMap<String, Shown<'a>>,
    /// Whether what the request sent was cut to `--journal-entry-bytes`.
    pub truncated: bool,
    /// Bytes the request sent (caller, path, query, form and body) before any cut.
    pub received_bytes: usize,
    /// The caller's access key (Alibaba) or project (Huawei).
    pub tenant: Option<&'a str>,
    pub request_id: &'a str,
    pub status: u16,
    pub error_code: Option<&'a str>,
    pub latency_us: u64,
    /// What the server computed and the request claimed, and the first difference found; only on
    /// a call authentication refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_failure: Option<&'a Diagnosis>,
}

/// `{"count": N, "requests": [...]}`: the entries' JSON, written after the lock is released.
pub fn render(entries: &[Arc<Recorded>]) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Page<'a> {
        count: usize,
        requests: Vec<Entry<'a>>,
    }
    serde_json::to_vec(&Page { count: entries.len(), requests: entries.iter().map(|e| e.entry()).collect() })
}

/// Which entries a query wants; every field narrows.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub operation: Option<String>,
    pub status: Option<u16>,
    pub error_code: Option<String>,
    pub tenant: Option<String>,
    /// Entries with a sequence number above this.
    pub after_seq: Option<u64>,
    /// Entries that arrived at or after this wall-clock instant (RFC 3339 compared as instants).
    pub since_ms: Option<i64>,
    /// Entries answered when the virtual clock was at or after this instant (what the tasks
    /// were derived at; the clock can be moved back, so this is not arrival order).
    pub virtual_since_ms: Option<Millis>,
    /// Only calls authentication refused (those with a diagnosis).
    pub auth_failures: bool,
    /// The newest this many of those.
    pub limit: Option<usize>,
}

impl Filter {
    fn wants(&self, s: &Recorded) -> bool {
        let e = &s.call;
        self.operation.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(&e.operation))
            && self.status.is_none_or(|st| st == e.status)
            && self.error_code.as_deref().is_none_or(|c| e.error_code.as_deref() == Some(c))
            && self.tenant.as_deref().is_none_or(|t| e.tenant.as_deref() == Some(t))
            && self.after_seq.is_none_or(|seq| s.seq > seq)
            && self.since_ms.is_none_or(|since| e.arrived_ms >= since)
            && self.virtual_since_ms.is_none_or(|since| e.virtual_ms >= since)
            && (!self.auth_failures || e.auth_failure.is_some())
    }
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Arc<Recorded>>,
    /// The sum of the entries' `bytes`.
    bytes: usize,
    next_seq: u64,
}

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    bounds: Bounds,
}

impl Journal {
    pub fn new(bounds: Bounds) -> Journal {
        // No entry may be cut to more than the whole journal holds.
        let bounds = Bounds { entry_bytes: bounds.entry_bytes.min(bounds.total_bytes), ..bounds };
        Journal { ring: Mutex::new(Ring { entries: VecDeque::with_capacity(bounds.entries.min(1024)), bytes: 0, next_seq: 1 }), bounds }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a call (its sequence number is assigned here) cut to the entry budget, dropping the
    /// oldest entries past the entry count or the byte total. The newest entry is always kept.
    pub fn record(&self, call: Logged) {
        if self.bounds.entries == 0 || self.bounds.total_bytes == 0 {
            return;
        }
        // Cut (and the cut-off bytes freed) before the lock is taken.
        let mut recorded = Recorded::new(call, self.bounds.entry_bytes);
        // A full journal drops one entry a call: that one is held apart, and a vector is made
        // only when a big entry pushes out more (no allocation a request in the steady state).
        let mut evicted_first = None;
        let mut evicted = Vec::new();
        let mut ring = self.ring();
        recorded.seq = ring.next_seq;
        ring.next_seq += 1;
        while ring.entries.len() >= self.bounds.entries || (!ring.entries.is_empty() && ring.bytes + recorded.bytes > self.bounds.total_bytes) {
            let Some(oldest) = ring.entries.pop_front() else { break };
            ring.bytes -= oldest.bytes;
            match evicted_first {
                None => evicted_first = Some(oldest),
                Some(_) => evicted.push(oldest),
            }
        }
        ring.bytes += recorded.bytes;
        ring.entries.push_back(Arc::new(recorded));
        drop(ring);
        // The oldest entries are freed here, out of the lock.
        drop(evicted_first);
        drop(evicted);
    }

    /// The entries the filter wants, oldest first: handles copied under the lock, nothing more.
    /// Show them with [`render`] or [`Recorded::entry`].
    pub fn query(&self, filter: &Filter) -> Vec<Arc<Recorded>> {
        let ring = self.ring();
        let mut newest: Vec<Arc<Recorded>> = ring.entries.iter().rev().filter(|s| filter.wants(s)).take(filter.limit.unwrap_or(usize::MAX)).cloned().collect();
        drop(ring);
        newest.reverse();
        newest
    }

    /// Whether any entry kept names this operation (ignoring case): a call to an action the
    /// catalogue does not have is journalled under the name it sent, and can be asked for.
    pub fn has_operation(&self, name: &str) -> bool {
        self.ring().entries.iter().any(|e| e.call.operation.eq_ignore_ascii_case(name))
    }

    /// Forgets entries (only one tenant's, when given); says how many went.
    pub fn clear(&self, tenant: Option<&str>) -> usize {
        let mut ring = self.ring();
        let before = ring.entries.len();
        match tenant {
            None => ring.entries.clear(),
            Some(t) => ring.entries.retain(|e| e.call.tenant.as_deref() != Some(t)),
        }
        ring.bytes = ring.entries.iter().map(|e| e.bytes).sum();
        before - ring.entries.len()
    }

    pub fn len(&self) -> usize {
        self.ring().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the entries count against `--journal-bytes`.
    pub fn bytes(&self) -> usize {
        self.ring().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn entry(operation: &'static str, status: u16, tenant: Option<&str>) -> Logged {
        Logged {
            arrived_ms: crate::instant::parse_rfc3339("2026-11-23T10:00:00Z").unwrap(),
            virtual_ms: crate::instant::parse_rfc3339("2026-11-22T08:00:00Z").unwrap(),
            cloud: "alibaba",
            product: "ecs",
            operation: operation.into(),
            method: "POST".into(),
            path: "/".into(),
            parameters: Parameters { query: "RegionId=cn-hangzhou&Signature=x".into(), ..Parameters::default() },
            tenant: tenant.map(Arc::from),
            request_id: "r".into(),
            status,
            error_code: (status >= 400).then(|| "X".to_string()),
            latency_us: 1,
            auth_failure: None,
        }
    }

    fn journal(entries: usize) -> Journal {
        Journal::new(Bounds { entries, ..Bounds::default() })
    }

    /// The entries as `GET /_emu/requests` shows them.
    fn shown(journal: &Journal, filter: &Filter) -> Vec<Value> {
        let page: Value = serde_json::from_slice(&render(&journal.query(filter)).unwrap()).unwrap();
        assert_eq!(page["count"].as_u64(), page["requests"].as_array().map(|a| a.len() as u64));
        page["requests"].as_array().unwrap().clone()
    }

    fn seqs(entries: &[Arc<Recorded>]) -> Vec<u64> {
        entries.iter().map(|e| e.seq()).collect()
    }

    #[test]
    fn ring_keeps_the_newest_and_filters() {
        let journal = journal(3);
        for i in 0..5u16 {
            journal.record(entry("DescribeTasks", 200 + i * 100, if i % 2 == 0 { Some("a") } else { None }));
        }
        assert_eq!(seqs(&journal.query(&Filter::default())), vec![3, 4, 5]);
        assert_eq!(journal.query(&Filter { status: Some(400), ..Filter::default() }).len(), 1);
        assert_eq!(journal.query(&Filter { tenant: Some("a".into()), ..Filter::default() }).len(), 2);
        assert_eq!(journal.query(&Filter { after_seq: Some(4), ..Filter::default() }).len(), 1);
        assert_eq!(seqs(&journal.query(&Filter { limit: Some(1), ..Filter::default() })), [5]);
        assert_eq!(seqs(&journal.query(&Filter { tenant: Some("a".into()), limit: Some(1), ..Filter::default() })), [5]);
        assert_eq!(journal.clear(Some("a")), 2);
        assert_eq!(journal.len(), 1);
        let shown_one = &shown(&journal, &Filter::default())[0];
        assert_eq!(shown_one["time"], "2026-11-23T10:00:00.000Z");
        assert_eq!(shown_one["virtual_time"], "2026-11-22T08:00:00Z");
        assert_eq!(shown_one["parameters"], json!({ "RegionId": "cn-hangzhou", "Signature": "x" }));
        assert_eq!((shown_one["truncated"].as_bool(), shown_one["received_bytes"].as_u64()), (Some(false), Some(33)));
        // A full ring drops its oldest entry and keeps the new one whole.
        let journal = self::journal(2);
        for i in 0..3u16 {
            journal.record(entry("DescribeTasks", 200 + i, Some("a")));
        }
        let mut newest = entry("ListTasks", 201, None);
        newest.parameters.query.push_str("&x=y");
        newest.parameters.form = Some(bytes::Bytes::from_static(b"Search=a+b%2A&Signature=s"));
        newest.parameters.hide_signature = true;
        newest.parameters.body = Some(bytes::Bytes::from_static(b" {\"a\": [1, 2]} "));
        journal.record(newest);
        let last = shown(&journal, &Filter { limit: Some(1), ..Filter::default() });
        assert_eq!((last[0]["seq"].as_u64(), last[0]["operation"].as_str(), last[0]["status"].as_u64(), &last[0]["tenant"]), (Some(4), Some("ListTasks"), Some(201), &Value::Null));
        assert_eq!(last[0]["parameters"], json!({ "RegionId": "cn-hangzhou", "x": "y", "Search": "a b*", "body": { "a": [1, 2] } }));
        journal.record(entry("DescribeTasks", 200, Some("a")));
        let all = shown(&journal, &Filter::default());
        assert_eq!(all.iter().map(|e| (e["seq"].as_u64().unwrap(), e["operation"].as_str().unwrap())).collect::<Vec<_>>(), vec![(4, "ListTasks"), (5, "DescribeTasks")]);
        assert_eq!(all[1]["parameters"], json!({ "RegionId": "cn-hangzhou", "Signature": "x" }));
        // A body that is not JSON is shown as text.
        let mut text = entry("ListTasks", 400, None);
        text.parameters.body = Some(bytes::Bytes::from_static(b"{not json"));
        journal.record(text);
        assert_eq!(shown(&journal, &Filter { limit: Some(1), ..Filter::default() })[0]["parameters"]["body"], "{not json");
    }

    #[test]
    fn a_large_body_is_cut_to_the_entry_budget_and_marked() {
        let journal = Journal::new(Bounds { entries: 100, entry_bytes: 100, total_bytes: 1 << 20 });
        let mut big = entry("ListTasks", 400, Some("p"));
        big.parameters.query = "limit=10".into();
        let body = format!("[{}1]", "1,".repeat(10_000));
        big.parameters.body = Some(bytes::Bytes::from(body.clone()));
        journal.record(big);
        let kept = journal.query(&Filter::default());
        let c = &kept[0].call;
        assert_eq!(c.tenant.as_deref().unwrap().len() + c.path.len() + c.parameters.len(), 100);
        let shown = &shown(&journal, &Filter::default())[0];
        assert_eq!((shown["truncated"].as_bool(), shown["received_bytes"].as_u64()), (Some(true), Some((1 + 1 + 8 + body.len()) as u64)));
        assert_eq!(shown["parameters"]["limit"], "10");
        let cut = shown["parameters"]["body"].as_str().expect("a cut body is text");
        assert!(body.starts_with(cut) && cut.len() == 100 - 10, "{cut}");
        // Text is cut on a character boundary.
        let mut wide = entry("ListTasks", 400, None);
        wide.parameters.query = "é".repeat(100);
        journal.record(wide);
        let query = &journal.query(&Filter { limit: Some(1), ..Filter::default() })[0].call.parameters.query;
        assert_eq!(query.len(), 98, "99 bytes left after the path, and é is two");
    }

    #[test]
    fn the_total_budget_drops_the_oldest_entries() {
        let journal = Journal::new(Bounds { entries: 1_000, entry_bytes: 1_000, total_bytes: 10_000 });
        for _ in 0..100 {
            let mut big = entry("ListTasks", 400, None);
            big.parameters.body = Some(bytes::Bytes::from(vec![b'x'; 5_000]));
            journal.record(big);
            assert!(journal.bytes() <= 10_000, "{} bytes kept", journal.bytes());
        }
        let kept = seqs(&journal.query(&Filter::default()));
        assert!(kept.len() >= 5 && kept.len() < 10, "{kept:?}");
        assert_eq!(kept.last(), Some(&100));
        assert_eq!(journal.clear(None), kept.len());
        assert_eq!(journal.bytes(), 0);
        // Off when a bound is 0.
        let off = Journal::new(Bounds { total_bytes: 0, ..Bounds::default() });
        off.record(entry("ListTasks", 200, None));
        assert!(off.is_empty());
    }

    fn diagnosis(message_len: usize, sts_len: usize) -> Box<Diagnosis> {
        let mut d = Diagnosis { scheme: "RPC-HMAC-SHA1", cause: "signature_mismatch", ..Diagnosis::default() };
        d.findings.push(crate::auth::diagnosis::Finding { cause: "signature_mismatch", subject: None, message: "m".repeat(message_len) });
        d.computed.string_to_sign = Some("s".repeat(sts_len));
        Box::new(d)
    }

    #[test]
    fn a_diagnosis_is_shown_only_on_its_entry_and_found_by_the_filter() {
        let journal = journal(10);
        journal.record(entry("DescribeTasks", 200, Some("a")));
        let mut refused = entry("DescribeTasks", 400, None);
        refused.auth_failure = Some(diagnosis(10, 20));
        journal.record(refused);
        let all = shown(&journal, &Filter::default());
        assert!(all[0].get("auth_failure").is_none());
        assert_eq!(all[1]["auth_failure"]["cause"], "signature_mismatch");
        assert_eq!(all[1]["auth_failure"]["computed"]["string_to_sign"], "s".repeat(20));
        assert_eq!((all[1]["auth_failure"]["truncated"].as_bool(), all[1]["truncated"].as_bool()), (Some(false), Some(false)));
        assert_eq!(seqs(&journal.query(&Filter { auth_failures: true, ..Filter::default() })), [2]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        #[test]
        fn a_diagnosis_is_kept_within_the_entry_budget(budget in 0usize..4_096, message_len in 0usize..3_000, sts_len in 0usize..3_000) {
            let journal = Journal::new(Bounds { entries: 10, entry_bytes: budget, total_bytes: 1 << 20 });
            let mut call = entry("DescribeTasks", 400, None);
            call.auth_failure = Some(diagnosis(message_len, sts_len));
            let path_len = call.path.len();
            let wanted = message_len + sts_len;
            journal.record(call);
            let shown = &shown(&journal, &Filter::default())[0]["auth_failure"];
            let text = |v: &Value| v.as_str().map_or(0, str::len);
            let kept = text(&shown["findings"][0]["message"]) + text(&shown["computed"]["string_to_sign"]);
            let available = budget.saturating_sub(path_len);
            proptest::prop_assert_eq!((kept, shown["truncated"].as_bool()), (wanted.min(available), Some(wanted > available)));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        #[test]
        fn bodies_around_the_entry_budget_are_kept_whole_or_cut_and_marked(
            budget in 16usize..2_048,
            delta in -8isize..8,
            query_len in 0usize..16,
        ) {
            let journal = Journal::new(Bounds { entries: 10, entry_bytes: budget, total_bytes: 1 << 20 });
            let mut call = entry("ListTasks", 400, None);
            call.path = "/v5/p/image/scan-task".into();
            call.parameters.query = "q".repeat(query_len);
            let body_len = (budget as isize + delta).max(0) as usize;
            // `[ ... ]`: JSON whole, text once cut.
            let body = if body_len < 2 { "[".repeat(body_len) } else { format!("[{}]", " ".repeat(body_len - 2)) };
            call.parameters.body = Some(bytes::Bytes::from(body));
            let sent = call.path.len() + query_len + body_len;
            journal.record(call);
            let kept = &journal.query(&Filter::default())[0];
            let c = &kept.call;
            let kept_len = c.path.len() + c.parameters.len();
            proptest::prop_assert_eq!(kept_len, sent.min(budget));
            proptest::prop_assert_eq!(kept.truncated, sent > budget);
            proptest::prop_assert_eq!(kept.received_bytes, sent);
            let shown = &shown(&journal, &Filter::default())[0];
            proptest::prop_assert_eq!(shown["truncated"].as_bool(), Some(sent > budget));
            if body_len >= 2 {
                proptest::prop_assert_eq!(shown["parameters"]["body"].is_array(), sent <= budget);
            }
        }
    }
}
