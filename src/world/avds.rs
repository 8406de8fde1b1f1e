//! AVDS scans and the sessions they spawn (DescribeScanSessions). A one-off scan (`date`) has one
//! session; a periodic one (`interval`) spawns a session every Interval × Period from its start. A
//! session's number, start and state all follow from the instant: nothing is stored per session.

use chrono::{Months, TimeZone, Utc};

use super::lifecycle::{Lifecycle, Stage, Status};
use super::{Owner, Page, Pins, Record, Text};
use crate::instant::{Millis, DAY, HOUR, MINUTE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvdsStatus {
    Waiting,
    Running,
    Finished,
    Aborted,
}

impl Status for AvdsStatus {
    fn progressing(self) -> bool {
        self == AvdsStatus::Running
    }
    fn terminal(self) -> bool {
        matches!(self, AvdsStatus::Finished | AvdsStatus::Aborted)
    }
    fn name(self) -> &'static str {
        match self {
            AvdsStatus::Waiting => "waiting",
            AvdsStatus::Running => "running",
            AvdsStatus::Finished => "finished",
            AvdsStatus::Aborted => "aborted",
        }
    }
    fn all() -> &'static [Self] {
        &[AvdsStatus::Waiting, AvdsStatus::Running, AvdsStatus::Finished, AvdsStatus::Aborted]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

impl Period {
    pub const NAMES: &'static [&'static str] = &["minute", "hour", "day", "week", "month"];

    pub fn from_name(name: &str) -> Option<Period> {
        Some(match name {
            "minute" => Period::Minute,
            "hour" => Period::Hour,
            "day" => Period::Day,
            "week" => Period::Week,
            "month" => Period::Month,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn fixed_length(self) -> Option<Millis> {
        match self {
            Period::Minute => Some(MINUTE),
            Period::Hour => Some(HOUR),
            Period::Day => Some(DAY),
            Period::Week => Some(7 * DAY),
            Period::Month => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A single scan (TriggerType `date`).
    Once,
    /// TriggerType `interval`: every `interval` periods, at most `limit` sessions.
    Every { period: Period, interval: u32, limit: Option<u32> },
}

/// How the report of a finished session turns out, and how long it takes to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPlan {
    pub delay: Millis,
    pub fails: bool,
    /// `{ScanId}` and `{TaskId}` are filled in. Shared by the scans of a generator.
    pub url: std::sync::Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    Inexistent,
    Running,
    Finished,
    Failed,
}

impl ReportStatus {
    pub fn name(self) -> &'static str {
        match self {
            ReportStatus::Inexistent => "inexistent",
            ReportStatus::Running => "running",
            ReportStatus::Finished => "finished",
            ReportStatus::Failed => "failed",
        }
    }
}

#[derive(Debug)]
pub struct AvdsScan {
    pub scan_id: Text,
    pub name: Text,
    pub targets: Box<[Text]>,
    pub owner: Owner,
    /// The first session's TaskId; session k has `first_task_id + k`.
    pub first_task_id: i64,
    pub created: Millis,
    pub trigger: Trigger,
    /// Each session lives this lifecycle from its own start.
    pub lifecycle: Lifecycle<AvdsStatus>,
    pub report: ReportPlan,
    pub pins: Pins,
}

impl Record for AvdsScan {
    fn id(&self) -> &str {
        &self.scan_id
    }
    fn created(&self) -> Millis {
        self.created
    }
    const SEARCHABLE: bool = true;
    fn search_texts(&self, f: &mut dyn FnMut(&str)) {
        f(&self.name);
        for target in &self.targets {
            f(target);
        }
    }
}

/// A session as seen at an instant.
#[derive(Debug, Clone)]
pub struct AvdsSession<'a> {
    pub scan: &'a AvdsScan,
    pub task_id: i64,
    pub started: Millis,
    pub stage: Stage<AvdsStatus>,
    pub report: ReportStatus,
    pub report_url: Option<String>,
}

impl AvdsScan {
    /// Start of session `k`, if the schedule has one.
    fn session_start(&self, k: u32) -> Option<Millis> {
        match self.trigger {
            Trigger::Once => (k == 0).then_some(self.created),
            Trigger::Every { period, interval, limit } => {
                if limit.is_some_and(|limit| k >= limit) {
                    return None;
                }
                let steps = i64::from(k) * i64::from(interval);
                match period.fixed_length() {
                    Some(length) => self.created.checked_add(steps.checked_mul(length)?),
                    None => {
                        let start = Utc.timestamp_millis_opt(self.created).single()?;
                        start.checked_add_months(Months::new(u32::try_from(steps).ok()?)).map(|t| t.timestamp_millis())
                    }
                }
            }
        }
    }

    /// How many sessions have started by `now`.
    pub fn sessions_started(&self, now: Millis) -> u32 {
        if now < self.created {
            return 0;
        }
        match self.trigger {
            Trigger::Once => 1,
            Trigger::Every { period, interval, limit } => {
                let started = match period.fixed_length() {
                    Some(length) => {
                        let step = length * i64::from(interval.max(1));
                        u32::try_from((now - self.created) / step + 1).unwrap_or(u32::MAX)
                    }
                    None => (0..).take_while(|&k| self.session_start(k).is_some_and(|s| s <= now)).count() as u32,
                };
                limit.map_or(started, |limit| started.min(limit))
            }
        }
    }

    #[cfg(test)]
    fn session(&self, k: u32, now: Millis, count_read: bool) -> Option<AvdsSession<'_>> {
        Some(self.session_from(k, self.session_start(k)?, now, count_read))
    }

    fn session_from(&self, k: u32, started: Millis, now: Millis, count_read: bool) -> AvdsSession<'_> {
        let stage = if count_read { self.lifecycle.read(started, now) } else { self.lifecycle.at(started, now) };
        let task_id = self.first_task_id.saturating_add(i64::from(k));
        let report = match (stage.status, stage.ended_at) {
            (AvdsStatus::Finished, Some(ended)) if now >= ended.saturating_add(self.report.delay) => {
                if self.report.fails {
                    ReportStatus::Failed
                } else {
                    ReportStatus::Finished
                }
            }
            (AvdsStatus::Finished, _) => ReportStatus::Running,
            _ => ReportStatus::Inexistent,
        };
        let report_url = (report == ReportStatus::Finished)
            .then(|| self.report.url.replace("{ScanId}", &self.scan_id).replace("{TaskId}", &task_id.to_string()));
        AvdsSession { scan: self, task_id, started, stage, report, report_url }
    }
}

#[derive(Debug, Default, Clone)]
pub struct AvdsQuery {
    pub scan_id: Option<String>,
    pub search: Option<String>,
    pub statuses: Vec<AvdsStatus>,
    pub page: usize,
    pub page_size: usize,
}

/// `*` matches any run of characters; without one, the text is searched for anywhere. Case-blind.
pub fn search_matches(pattern: &str, text: &str) -> bool {
    Search::new(pattern).matches(text)
}

/// A Search pattern, lower-cased once for the scan over every scan's name and targets.
struct Search {
    pattern: String,
    parts: Vec<String>,
    ascii: bool,
}

impl Search {
    fn new(pattern: &str) -> Search {
        let pattern = pattern.to_lowercase();
        let parts = pattern.split('*').map(str::to_string).collect();
        let ascii = pattern.is_ascii();
        Search { pattern, parts, ascii }
    }

    fn matches(&self, text: &str) -> bool {
        // ASCII text lower-cases byte for byte: compare without a copy. Anything else the slow,
        // Unicode-aware way (lower-casing can change lengths).
        if self.ascii && text.is_ascii() {
            return self.matches_lowered(text, true);
        }
        self.matches_lowered(&text.to_lowercase(), false)
    }

    /// `text` is lower-cased already, or ASCII and compared case-blind (`fold`). Byte-wise: the
    /// pattern's parts are short, and `str`'s searchers cost more to set up than these loops take
    /// (a match in UTF-8 can only start at a character boundary, so the slices stay valid).
    fn matches_lowered(&self, text: &str, fold: bool) -> bool {
        let t = text.as_bytes();
        let eq = |a: &[u8], b: &[u8]| a.len() == b.len() && if fold { a.iter().zip(b).all(|(x, y)| x.to_ascii_lowercase() == *y) } else { a.iter().zip(b).all(|(x, y)| x == y) };
        let find = |h: &[u8], n: &[u8]| -> Option<usize> { (0..=h.len().checked_sub(n.len())?).find(|&i| eq(&h[i..i + n.len()], n)) };
        if self.parts.len() == 1 {
            return find(t, self.pattern.as_bytes()).is_some();
        }
        let (first, last) = (self.parts[0].as_bytes(), self.parts[self.parts.len() - 1].as_bytes());
        if t.len() < first.len() + last.len() || !eq(&t[..first.len()], first) || !eq(&t[t.len() - last.len()..], last) {
            return false;
        }
        let mut rest = &t[first.len()..t.len() - last.len()];
        for middle in &self.parts[1..self.parts.len() - 1] {
            let m = middle.as_bytes();
            match find(rest, m) {
                Some(at) => rest = &rest[at + m.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Every session matching the query (owners aside), newest first, without counting reads.
pub fn sessions<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, now: Millis) -> Vec<AvdsSession<'a>> {
    let mut found = matching_sessions(scans, query, None, now);
    found.sort_by(newest_session);
    found.into_iter().map(|(started, _, scan, k)| scan.session_from(k, started, now, false)).collect()
}

/// A session found: its start, TaskId, scan and number.
type Found<'a> = (Millis, i64, &'a AvdsScan, u32);

/// Newest first, then the greater TaskId; sessions equal in both stay in store order (the scan's
/// creation, newest first, then its id) and then in their own order.
fn newest_session(a: &Found, b: &Found) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then(b.1.cmp(&a.1))
        .then_with(|| b.2.created.cmp(&a.2.created))
        .then_with(|| a.2.scan_id.cmp(&b.2.scan_id))
        .then(a.3.cmp(&b.3))
}

/// A scan over every scan, in memory order (the sessions are sorted after): Search is a text
/// search, and sessions of periodic scans interleave. A Search reads the store's lower-cased
/// texts, one buffer, and looks at a scan only when it matches.
fn matching_sessions<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, caller: Option<&Owner>, now: Millis) -> Vec<Found<'a>> {
    let search = query.search.as_deref().map(Search::new);
    let candidates: Box<dyn Iterator<Item = &'a AvdsScan> + 'a> = match search {
        Some(search) => Box::new(scans.search(move |lowered| search.matches_lowered(lowered, false))),
        None => Box::new(scans.scan()),
    };
    let mut sessions: Vec<Found<'a>> = Vec::new();
    for scan in candidates {
        if scan.created > now || caller.is_some_and(|c| !scan.owner.visible_to(c)) || query.scan_id.as_deref().is_some_and(|id| id != scan.scan_id) {
            continue;
        }
        for k in 0..scan.sessions_started(now) {
            let Some(started) = scan.session_start(k) else { break };
            if !query.statuses.is_empty() && !query.statuses.contains(&scan.lifecycle.at(started, now).status) {
                continue;
            }
            sessions.push((started, scan.first_task_id.saturating_add(i64::from(k)), scan, k));
        }
    }
    sessions
}

pub fn describe_sessions<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, caller: &Owner, now: Millis) -> Page<AvdsSession<'a>> {
    let mut sessions = matching_sessions(scans, query, Some(caller), now);
    let total = sessions.len();
    let skip = query.page.saturating_sub(1).saturating_mul(query.page_size);
    // Only the sessions up to the page's end need ordering among themselves.
    let end = skip.saturating_add(query.page_size).min(total);
    if end < total && end > 0 {
        sessions.select_nth_unstable_by(end - 1, newest_session);
        sessions.truncate(end);
    }
    sessions.sort_by(newest_session);
    let items = sessions.into_iter().skip(skip).take(query.page_size).map(|(started, _, scan, k)| scan.session_from(k, started, now, true)).collect();
    Page { total, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::lifecycle::{Phase, PhaseEnd};

    fn scan(trigger: Trigger) -> AvdsScan {
        AvdsScan {
            scan_id: "s-1".into(),
            name: "hourly web".into(),
            targets: vec!["1.2.3.4".into(), "www.example.com".into()].into_boxed_slice(),
            owner: Owner::shared(),
            first_task_id: 100,
            created: 0,
            trigger,
            lifecycle: Lifecycle::new(vec![
                Phase { status: AvdsStatus::Running, end: PhaseEnd::After(10 * MINUTE) },
                Phase { status: AvdsStatus::Finished, end: PhaseEnd::Never },
            ]),
            report: ReportPlan { delay: MINUTE, fails: false, url: "https://r/{ScanId}/{TaskId}".into() },
            pins: None,
        }
    }

    #[test]
    fn periodic_scans_spawn_a_session_each_period() {
        let hourly = scan(Trigger::Every { period: Period::Hour, interval: 1, limit: None });
        assert_eq!(hourly.sessions_started(0), 1);
        assert_eq!(hourly.sessions_started(HOUR - 1), 1);
        assert_eq!(hourly.sessions_started(3 * HOUR), 4);
        let capped = scan(Trigger::Every { period: Period::Hour, interval: 2, limit: Some(2) });
        assert_eq!(capped.sessions_started(10 * HOUR), 2);
        let monthly = scan(Trigger::Every { period: Period::Month, interval: 1, limit: None });
        assert_eq!(monthly.sessions_started(31 * DAY + 1), 2, "Jan 1 and Feb 1 1970");
        assert_eq!(scan(Trigger::Once).sessions_started(100 * DAY), 1);
    }

    #[test]
    fn report_follows_the_session_end() {
        let s = scan(Trigger::Once);
        let at = |now| s.session(0, now, false).unwrap();
        assert_eq!(at(5 * MINUTE).report, ReportStatus::Inexistent);
        assert_eq!(at(10 * MINUTE).report, ReportStatus::Running);
        let done = at(11 * MINUTE);
        assert_eq!((done.report, done.report_url.as_deref()), (ReportStatus::Finished, Some("https://r/s-1/100")));
    }

    #[test]
    fn search_wildcards() {
        assert!(search_matches("1.2.*.*", "1.2.3.4"));
        assert!(!search_matches("1.2.*.*", "1.3.3.4"));
        assert!(search_matches("*example*", "www.Example.com"));
        assert!(search_matches("web", "hourly web"));
        assert!(!search_matches("a*b", "ab a"));
        assert!(search_matches("ÉTÉ*", "été 2026"));
        assert!(search_matches("*", "anything") && search_matches("", "anything"));
        assert!(search_matches("a**b", "ab") && !search_matches("ab*ba", "aba"));
    }
}
