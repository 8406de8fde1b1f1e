//! The request journal: every call to the five operations, newest last, in a bounded ring so a
//! long demo cannot eat memory. Recording takes a lock for a push, never across I/O; it stores
//! what the request already had (moved, not copied or formatted: names are static, tenants shared),
//! and the JSON shape of an entry is made only when someone asks for the journal.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::instant::{format_rfc3339, format_rfc3339_millis, Millis};

pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub seq: u64,
    /// Wall-clock time the request arrived, RFC 3339.
    pub time: String,
    /// The virtual clock then.
    pub virtual_time: String,
    #[serde(skip)]
    pub virtual_ms: Millis,
    pub cloud: &'static str,
    pub product: &'static str,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub parameters: serde_json::Value,
    /// The caller's access key (Alibaba) or project (Huawei).
    pub tenant: Option<String>,
    pub request_id: String,
    pub status: u16,
    pub error_code: Option<String>,
    pub latency_us: u64,
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
}

/// A call's parameters as received, kept raw and decoded only when the journal is read: the
/// query string, a form body (Alibaba), a JSON body (Huawei, shown parsed under `"body"`), and
/// whether the signature is left out (Alibaba's `Signature` parameter).
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    pub query: String,
    pub form: Option<bytes::Bytes>,
    pub body: Option<bytes::Bytes>,
    pub hide_signature: bool,
}

impl Parameters {
    /// The name–value pairs, query then form, as the edges decode them.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = crate::auth::form_decode(&self.query);
        if let Some(form) = &self.form {
            pairs.extend(crate::auth::form_decode(&String::from_utf8_lossy(form)));
        }
        if self.hide_signature {
            pairs.retain(|(k, _)| k != "Signature");
        }
        pairs
    }

    /// An object of the pairs (a repeated name keeps its last value) and the body.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map: serde_json::Map<String, serde_json::Value> = self.pairs().into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        if let Some(body) = self.body.as_ref().filter(|b| !b.is_empty()) {
            let parsed = serde_json::from_slice(body).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()));
            map.insert("body".into(), parsed);
        }
        serde_json::Value::Object(map)
    }
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    call: Logged,
}

impl Stored {
    fn entry(&self) -> Entry {
        let c = &self.call;
        Entry {
            seq: self.seq,
            time: format_rfc3339_millis(c.arrived_ms),
            virtual_time: format_rfc3339(c.virtual_ms),
            virtual_ms: c.virtual_ms,
            cloud: c.cloud,
            product: c.product,
            operation: c.operation.to_string(),
            method: c.method.to_string(),
            path: c.path.to_string(),
            parameters: c.parameters.to_json(),
            tenant: c.tenant.as_deref().map(str::to_string),
            request_id: c.request_id.clone(),
            status: c.status,
            error_code: c.error_code.clone(),
            latency_us: c.latency_us,
        }
    }
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
    pub limit: Option<usize>,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Stored>,
    next_seq: u64,
}

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    capacity: usize,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal { ring: Mutex::new(Ring { entries: VecDeque::with_capacity(capacity.min(1024)), next_seq: 1 }), capacity }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a call (its sequence number is assigned here), dropping the oldest past capacity.
    pub fn record(&self, call: Logged) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring();
        let seq = ring.next_seq;
        ring.next_seq += 1;
        let evicted = if ring.entries.len() < self.capacity { None } else { ring.entries.pop_front() };
        ring.entries.push_back(Stored { seq, call });
        drop(ring);
        // The oldest entry is freed here, out of the lock.
        drop(evicted);
    }

    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.ring();
        let matching: Vec<&Stored> = ring
            .entries
            .iter()
            .filter(|s| {
                let e = &s.call;
                filter.operation.as_deref().is_none_or(|o| o == e.operation.as_ref())
                    && filter.status.is_none_or(|st| st == e.status)
                    && filter.error_code.as_deref().is_none_or(|c| e.error_code.as_deref() == Some(c))
                    && filter.tenant.as_deref().is_none_or(|t| e.tenant.as_deref() == Some(t))
                    && filter.after_seq.is_none_or(|seq| s.seq > seq)
                    && filter.since_ms.is_none_or(|since| e.arrived_ms >= since)
            })
            .collect();
        let skip = filter.limit.map_or(0, |limit| matching.len().saturating_sub(limit));
        matching[skip..].iter().map(|s| s.entry()).collect()
    }

    /// Forgets entries (only one tenant's, when given); says how many went.
    pub fn clear(&self, tenant: Option<&str>) -> usize {
        let mut ring = self.ring();
        let before = ring.entries.len();
        match tenant {
            None => ring.entries.clear(),
            Some(t) => ring.entries.retain(|e| e.call.tenant.as_deref() != Some(t)),
        }
        before - ring.entries.len()
    }

    pub fn len(&self) -> usize {
        self.ring().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    #[test]
    fn ring_keeps_the_newest_and_filters() {
        let journal = Journal::new(3);
        for i in 0..5u16 {
            journal.record(entry("DescribeTasks", 200 + i * 100, if i % 2 == 0 { Some("a") } else { None }));
        }
        let all = journal.query(&Filter::default());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(journal.query(&Filter { status: Some(400), ..Filter::default() }).len(), 1);
        assert_eq!(journal.query(&Filter { tenant: Some("a".into()), ..Filter::default() }).len(), 2);
        assert_eq!(journal.query(&Filter { after_seq: Some(4), ..Filter::default() }).len(), 1);
        assert_eq!(journal.query(&Filter { limit: Some(1), ..Filter::default() })[0].seq, 5);
        assert_eq!(journal.clear(Some("a")), 2);
        assert_eq!(journal.len(), 1);
        let shown = serde_json::to_value(&journal.query(&Filter::default())[0]).unwrap();
        assert_eq!(shown["time"], "2026-11-23T10:00:00.000Z");
        assert_eq!(shown["virtual_time"], "2026-11-22T08:00:00Z");
        assert_eq!(shown["parameters"], serde_json::json!({ "RegionId": "cn-hangzhou", "Signature": "x" }));
        let body = Parameters { query: "limit=10".into(), body: Some(bytes::Bytes::from_static(b"{\"a\":1}")), ..Parameters::default() };
        assert_eq!(body.to_json(), serde_json::json!({ "limit": "10", "body": { "a": 1 } }));
        // A full ring drops its oldest entry and keeps the new one whole.
        let journal = Journal::new(2);
        for i in 0..3u16 {
            journal.record(entry("DescribeTasks", 200 + i, Some("a")));
        }
        let mut newest = entry("ListTasks", 201, None);
        newest.parameters.query.push_str("&x=y");
        newest.parameters.form = Some(bytes::Bytes::from_static(b"Search=a+b%2A&Signature=s"));
        newest.parameters.hide_signature = true;
        newest.parameters.body = Some(bytes::Bytes::from_static(b"{}"));
        journal.record(newest.clone());
        let last = journal.query(&Filter { limit: Some(1), ..Filter::default() });
        assert_eq!((last[0].seq, last[0].operation.as_str(), last[0].status, last[0].tenant.as_deref()), (4, "ListTasks", 201, None));
        assert_eq!(last[0].parameters, newest.parameters.to_json());
        journal.record(entry("DescribeTasks", 200, Some("a")));
        let all = journal.query(&Filter::default());
        assert_eq!(all.iter().map(|e| (e.seq, e.operation.as_str())).collect::<Vec<_>>(), vec![(4, "ListTasks"), (5, "DescribeTasks")]);
        assert_eq!(all[1].parameters, serde_json::json!({ "RegionId": "cn-hangzhou", "Signature": "x" }));
    }
}
