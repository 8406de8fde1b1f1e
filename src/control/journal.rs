//! The request journal: every call to the five operations, newest last, in a bounded ring so a
//! long demo cannot eat memory. Recording takes a lock for a push, never across I/O.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use crate::instant::Millis;

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
    entries: VecDeque<Entry>,
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

    /// Stores an entry (its `seq` is assigned here), dropping the oldest past capacity.
    pub fn record(&self, mut entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() >= self.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.ring();
        let matching = ring.entries.iter().filter(|e| {
            filter.operation.as_deref().is_none_or(|o| o == e.operation)
                && filter.status.is_none_or(|s| s == e.status)
                && filter.error_code.as_deref().is_none_or(|c| e.error_code.as_deref() == Some(c))
                && filter.tenant.as_deref().is_none_or(|t| e.tenant.as_deref() == Some(t))
                && filter.after_seq.is_none_or(|s| e.seq > s)
                && filter.since_ms.is_none_or(|since| crate::instant::parse_rfc3339(&e.time).is_some_and(|t| t >= since))
        });
        let mut found: Vec<Entry> = matching.cloned().collect();
        if let Some(limit) = filter.limit {
            let skip = found.len().saturating_sub(limit);
            found.drain(..skip);
        }
        found
    }

    /// Forgets entries (only one tenant's, when given); says how many went.
    pub fn clear(&self, tenant: Option<&str>) -> usize {
        let mut ring = self.ring();
        let before = ring.entries.len();
        match tenant {
            None => ring.entries.clear(),
            Some(t) => ring.entries.retain(|e| e.tenant.as_deref() != Some(t)),
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

    fn entry(operation: &str, status: u16, tenant: Option<&str>) -> Entry {
        Entry {
            seq: 0,
            time: "2026-11-23T10:00:00Z".into(),
            virtual_time: "2026-11-22T08:00:00Z".into(),
            virtual_ms: 0,
            cloud: "alibaba",
            product: "ecs",
            operation: operation.into(),
            method: "POST".into(),
            path: "/".into(),
            parameters: serde_json::json!({}),
            tenant: tenant.map(str::to_string),
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
    }
}
