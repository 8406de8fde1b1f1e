//! AVDS scans and the sessions they spawn (DescribeScanSessions). A one-off scan (`date`) has one
//! session; a periodic one (`interval`) spawns a session every Interval × Period from its start. A
//! session's number, start and state all follow from the instant: nothing is stored per session,
//! and a listing counts sessions from the schedules and makes only its page's (a scan a minute
//! for centuries has billions).

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
    fn successors(self) -> &'static [Self] {
        match self {
            AvdsStatus::Waiting => &[AvdsStatus::Running, AvdsStatus::Finished, AvdsStatus::Aborted],
            AvdsStatus::Running => &[AvdsStatus::Finished, AvdsStatus::Aborted],
            AvdsStatus::Finished | AvdsStatus::Aborted => &[],
        }
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
    pub url: super::Shared,
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
    pub report_url: Option<ReportUrl<'a>>,
}

/// Start of the `k`-th session of a schedule every `interval` periods from `created` (its limit
/// aside); None past the calendar's end.
fn scheduled(created: Millis, period: Period, interval: u32, k: u64) -> Option<Millis> {
    // The loader refuses an interval of 0; as 1 here, so that sessions always move on.
    let steps = k.checked_mul(u64::from(interval.max(1)))?;
    match period.fixed_length() {
        Some(length) => created.checked_add(i64::try_from(steps).ok()?.checked_mul(length)?),
        None => {
            let start = Utc.timestamp_millis_opt(created).single()?;
            start.checked_add_months(Months::new(u32::try_from(steps).ok()?)).map(|t| t.timestamp_millis())
        }
    }
}

/// Appends `text` with every `placeholder` (which starts with `{`) replaced by `value` to `out`,
/// left to right and without overlaps, as `str::replace` does it.
fn replace_placeholder(out: &mut String, text: &str, placeholder: &str, value: &str) {
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with(placeholder) {
            out.push_str(value);
            rest = &rest[placeholder.len()..];
        } else {
            out.push('{');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
}

thread_local! {
    /// The report URL with its ScanId filled, before its TaskId is: one buffer a thread, so that
    /// a finished session's URL costs one allocation, its own.
    static REPORT_SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `value` in decimal, in `buffer`.
fn decimal(value: i64, buffer: &mut [u8; 20]) -> &str {
    let mut at = buffer.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or_default()
}

/// A finished session's report URL: its scan's template with the ScanId and TaskId filled in,
/// filled when it is written (issue 16: a `String` built for every session listed, and freed
/// after, was a sixth of an AVDS page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportUrl<'a> {
    template: &'a super::Shared,
    scan_id: &'a Text,
    task_id: i64,
}

/// A piece of a filled report URL: text, or the session's TaskId (for a writer to write as a
/// number).
#[derive(Debug, Clone, Copy)]
pub(crate) enum UrlPiece<'a> {
    Text(&'a str),
    TaskId(i64),
}

impl<'a> ReportUrl<'a> {
    pub(crate) fn new(template: &'a super::Shared, scan_id: &'a Text, task_id: i64) -> ReportUrl<'a> {
        ReportUrl { template, scan_id, task_id }
    }

    /// The URL, as `template.replace("{ScanId}", ..).replace("{TaskId}", ..)` makes it.
    pub fn fill(&self) -> String {
        fill_report_url(self.template, self.scan_id, self.task_id)
    }

    /// Whether neither the template nor the scan id has a byte `escaped` says needs escaping.
    pub(crate) fn has_none_of(&self, escaped: impl Fn(&[u8]) -> bool) -> bool {
        !escaped(self.template.as_bytes()) && !escaped(self.scan_id.as_bytes())
    }

    /// Neither the template nor the scan id needs JSON escaping (known from their making,
    /// without a look at their bytes).
    pub(crate) fn json_plain(&self) -> bool {
        self.template.json_plain() && self.scan_id.json_plain()
    }

    /// Hands `piece` the URL's pieces in order and says true, where one pass fills it; false
    /// (and nothing handed) where only [`fill`](Self::fill) gets it right.
    pub(crate) fn pieces(&self, piece: impl FnMut(UrlPiece)) -> bool {
        if !fills_in_one_pass(self.scan_id) {
            return false;
        }
        fill_in_one_pass(self.template, self.scan_id, self.task_id, piece);
        true
    }
}

impl std::fmt::Display for ReportUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.fill())
    }
}

/// Whether one pass over the template fills both placeholders as the two replaces did. The
/// second replace sees the first's output: only a scan id with a brace, or one that is a piece of
/// "TaskId" between braces of the template, can make a `{TaskId}` the template does not have.
fn fills_in_one_pass(scan_id: &str) -> bool {
    let bytes = scan_id.as_bytes();
    !(find_byte_of(bytes, b'{', b'}').is_some() || (scan_id.len() <= 6 && "TaskId".contains(scan_id)))
}

/// Both placeholders filled in one pass over `url`, handed to `piece` in order.
/// ([`find_byte`]: the URL and the id are short, and `str`'s searchers cost more to set up.)
#[inline]
fn fill_in_one_pass<'a>(url: &'a str, scan_id: &'a str, task_id: i64, mut piece: impl FnMut(UrlPiece<'a>)) {
    let mut rest = url;
    while let Some(at) = find_byte(rest.as_bytes(), b'{') {
        piece(UrlPiece::Text(&rest[..at]));
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("{ScanId}") {
            piece(UrlPiece::Text(scan_id));
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{TaskId}") {
            piece(UrlPiece::TaskId(task_id));
            rest = after;
        } else {
            piece(UrlPiece::Text("{"));
            rest = &rest[1..];
        }
    }
    piece(UrlPiece::Text(rest));
}

/// Where `needle` first is in `bytes`: eight bytes a step (a byte loop over a report URL was a
/// twentieth of an AVDS page, issue 16; the library's `memchr` is a call with its own set-up).
#[inline]
fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    find_byte_of(bytes, needle, needle)
}

/// Where `one` or `other` first is in `bytes`, in one pass ([`find_byte`]'s way).
#[inline]
fn find_byte_of(bytes: &[u8], one: u8, other: u8) -> Option<usize> {
    use super::text::swar;
    let (words, rest) = swar::words(bytes);
    let mut at = 0;
    for w in words {
        let found = swar::equal(w, one) | swar::equal(w, other);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    rest.iter().position(|&b| b == one || b == other).map(|i| at + i)
}

/// `url.replace("{ScanId}", scan_id).replace("{TaskId}", task_id)`, in one allocation.
fn fill_report_url(url: &str, scan_id: &str, task_id: i64) -> String {
    let mut digits = [0u8; 20];
    let task = decimal(task_id, &mut digits);
    if fills_in_one_pass(scan_id) {
        let mut out = String::with_capacity(url.len() + scan_id.len() + task.len());
        fill_in_one_pass(url, scan_id, task_id, |piece| match piece {
            UrlPiece::Text(text) => out.push_str(text),
            UrlPiece::TaskId(_) => out.push_str(task),
        });
        return out;
    }
    REPORT_SCRATCH.with(|cell| {
        let (mut mine, mut spare) = (cell.try_borrow_mut().ok(), String::new());
        let with_scan = mine.as_deref_mut().unwrap_or(&mut spare);
        with_scan.clear();
        replace_placeholder(with_scan, url, "{ScanId}", scan_id);
        let mut out = String::with_capacity(with_scan.len() + task.len());
        replace_placeholder(&mut out, with_scan, "{TaskId}", task);
        out
    })
}

impl AvdsScan {
    /// Start of session `k`, if the schedule has one (None also past the calendar's end).
    fn session_start(&self, k: u64) -> Option<Millis> {
        match self.trigger {
            Trigger::Once => (k == 0).then_some(self.created),
            Trigger::Every { period, interval, limit } => {
                if limit.is_some_and(|limit| k >= u64::from(limit)) {
                    return None;
                }
                scheduled(self.created, period, interval, k)
            }
        }
    }

    /// The first session number whose start is at or after `t` (the schedule's limit aside):
    /// arithmetic, whatever the number of sessions before it.
    fn first_at_or_after(&self, t: Millis) -> u64 {
        if t <= self.created {
            return 0;
        }
        let Trigger::Every { period, interval, .. } = self.trigger else { return 1 };
        let periods = u64::from(interval.max(1));
        let since = u64::try_from(t.saturating_sub(self.created)).unwrap_or(0);
        match period.fixed_length() {
            Some(length) => since.div_ceil(u64::try_from(length).unwrap_or(1).saturating_mul(periods)),
            None => {
                // Calendar months: past `t`'s month by two at the latest (a session's day clamps
                // to the month's last), then a binary search below that: O(log), however far.
                use chrono::Datelike;
                let (from, to) = (Utc.timestamp_millis_opt(self.created).single(), Utc.timestamp_millis_opt(t).single());
                let mut high = match (from, to) {
                    (Some(from), Some(to)) => {
                        let months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month()) - i64::from(from.month());
                        u64::try_from(months.saturating_add(2)).unwrap_or(0).div_ceil(periods)
                    }
                    // Past the calendar: every session that has a start.
                    _ => u64::from(u32::MAX) / periods + 1,
                };
                let mut low = 0;
                while low < high {
                    let mid = low + (high - low) / 2;
                    if scheduled(self.created, period, interval, mid).is_some_and(|s| s < t) {
                        low = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                low
            }
        }
    }

    /// How many sessions have started by `now`.
    pub fn sessions_started(&self, now: Millis) -> u64 {
        if now < self.created {
            return 0;
        }
        let started = self.first_at_or_after(now.saturating_add(1));
        match self.trigger {
            Trigger::Every { limit: Some(limit), .. } => started.min(u64::from(limit)),
            _ => started,
        }
    }

    #[cfg(test)]
    fn session(&self, k: u64, now: Millis, count_read: bool) -> Option<AvdsSession<'_>> {
        Some(self.session_from(k, self.session_start(k)?, now, count_read))
    }

    fn session_from(&self, k: u64, started: Millis, now: Millis, count_read: bool) -> AvdsSession<'_> {
        let stage = if count_read { self.lifecycle.read(started, now) } else { self.lifecycle.at(started, now) };
        let task_id = self.task_id(k);
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
        let report_url = (report == ReportStatus::Finished).then_some(ReportUrl::new(&self.report.url, &self.scan_id, task_id));
        AvdsSession { scan: self, task_id, started, stage, report, report_url }
    }

    fn task_id(&self, k: u64) -> i64 {
        self.first_task_id.saturating_add(i64::try_from(k).unwrap_or(i64::MAX))
    }

    /// The session numbers (as `[lo, hi)` ranges, newest first) started by `now` whose status
    /// now is one of `statuses` (any, when empty). A periodic scan's sessions all live the same
    /// lifecycle of durations, so a status is a range of ages, and a range of ages a range of
    /// session numbers: nothing is walked.
    /// Appended to `ranges` (one buffer for every scan of a query: no allocation per scan).
    fn matching_ranges(&self, statuses: &[AvdsStatus], now: Millis, ranges: &mut Vec<(u64, u64)>) {
        let started = self.sessions_started(now);
        if started == 0 {
            return;
        }
        if statuses.is_empty() {
            ranges.push((0, started));
            return;
        }
        if self.trigger == Trigger::Once {
            if statuses.contains(&self.lifecycle.at(self.created, now).status) {
                ranges.push((0, 1));
            }
            return;
        }
        let from = ranges.len();
        // Ages [from, to) in the status: started in (now - to, now - from].
        let by_duration = self.lifecycle.intervals(0, |status, from, to| {
            if statuses.contains(&status) && from < to {
                let lo = self.first_at_or_after(now.saturating_sub(to).saturating_add(1)).min(started);
                let hi = self.first_at_or_after(now.saturating_sub(from).saturating_add(1)).min(started);
                if lo < hi {
                    ranges.push((lo, hi));
                }
            }
        });
        if !by_duration {
            // Periodic sessions end phases after durations only (the loader refuses reads), so
            // this is a backstop: the newest sessions, looked at one by one, a bounded number.
            ranges.truncate(from);
            for k in (started.saturating_sub(WALK_BACKSTOP)..started).rev() {
                if self.session_start(k).is_some_and(|at| statuses.contains(&self.lifecycle.at(at, now).status)) {
                    ranges.push((k, k + 1));
                }
            }
        }
        ranges[from..].sort_unstable_by_key(|&(lo, _)| std::cmp::Reverse(lo));
    }
}

/// Sessions of a scan whose lifecycle is not one of durations, looked at when a status filter
/// applies: the newest this many (never reached by a scenario the loader accepts).
const WALK_BACKSTOP: u64 = 10_000;

#[derive(Debug, Default, Clone)]
pub struct AvdsQuery {
    pub scan_id: Option<String>,
    pub search: Option<String>,
    pub statuses: Vec<AvdsStatus>,
    pub page: usize,
    pub page_size: usize,
}

/// `*` matches any run of characters; without one, the text is searched for anywhere. Case-blind.
/// (The tests' way in; a listing lower-cases each text once and calls `matches_lowered`.)
#[cfg(test)]
pub fn search_matches(pattern: &str, text: &str) -> bool {
    Search::new(&pattern.to_lowercase()).matches(text)
}

/// A Search pattern, lower-cased, and its literal parts (split on `*`): every text it matches
/// holds each part whole, which is what the store's trigram index narrows by.
struct Search<'p> {
    pattern: &'p str,
    parts: Vec<&'p str>,
}

impl<'p> Search<'p> {
    /// `pattern` is lower-cased already.
    fn new(pattern: &'p str) -> Search<'p> {
        Search { pattern, parts: pattern.split('*').collect() }
    }

    #[cfg(test)]
    fn matches(&self, text: &str) -> bool {
        // ASCII text lower-cases byte for byte: compare without a copy. Anything else the slow,
        // Unicode-aware way (lower-casing can change lengths).
        if self.pattern.is_ascii() && text.is_ascii() {
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

/// A session found: its start, TaskId, scan and number.
type Found<'a> = (Millis, i64, &'a AvdsScan, u64);

/// Newest first, then the greater TaskId; sessions equal in both stay in store order (the scan's
/// creation, newest first, then its id) and then in their own order.
fn newest_session(a: &Found, b: &Found) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then(b.1.cmp(&a.1))
        .then_with(|| b.2.created.cmp(&a.2.created))
        .then_with(|| a.2.scan_id.cmp(&b.2.scan_id))
        .then(a.3.cmp(&b.3))
}

/// One scan's matching sessions, newest first: ranges of session numbers (`[lo, hi)`, the newest
/// first) in the query's shared buffer, `[next, end)` of it, taken from the top.
struct Stream<'a> {
    scan: &'a AvdsScan,
    next: usize,
    end: usize,
}

impl<'a> Stream<'a> {
    fn len(&self, ranges: &[(u64, u64)]) -> u64 {
        ranges[self.next..self.end].iter().map(|(lo, hi)| hi - lo).sum()
    }

    /// How many of its sessions started at or after `t`.
    fn count_from(&self, ranges: &[(u64, u64)], t: Millis) -> u64 {
        let first = self.scan.first_at_or_after(t);
        ranges[self.next..self.end].iter().map(|&(lo, hi)| hi.saturating_sub(lo.max(first))).sum()
    }

    /// Keeps only its sessions started before `t`.
    fn cut_before(&mut self, ranges: &mut [(u64, u64)], t: Millis) {
        let first = self.scan.first_at_or_after(t);
        while self.next < self.end && ranges[self.next].0 >= first {
            self.next += 1;
        }
        if let Some((_, hi)) = ranges[self.next..self.end].first_mut() {
            *hi = (*hi).min(first);
        }
    }

    /// The newest session left.
    fn head(&self, ranges: &[(u64, u64)]) -> Option<Found<'a>> {
        let &(_, hi) = ranges[self.next..self.end].first()?;
        let k = hi - 1;
        Some((self.scan.session_start(k)?, self.scan.task_id(k), self.scan, k))
    }

    /// Takes the newest session left.
    fn pop(&mut self, ranges: &mut [(u64, u64)]) -> Option<Found<'a>> {
        let found = self.head(ranges)?;
        let (lo, hi) = &mut ranges[self.next];
        *hi -= 1;
        if lo == hi {
            self.next += 1;
        }
        Some(found)
    }
}

/// A stream in the merge, ordered by its next session (the newest on top of the heap).
struct Head<'a>(Found<'a>, usize);

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head<'_> {}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        newest_session(&other.0, &self.0)
    }
}

/// Up to this many sessions are skipped by merging from the newest; past it, the page's first
/// instant is found by a binary search over time (each step counts every scan arithmetically).
const MERGE_SKIP: u64 = 4_096;

/// One-off scans in the order of their one session among all sessions (see [`newest_session`]):
/// newest first, then the greater TaskId, then the scan id.
fn once_order(a: &AvdsScan, b: &AvdsScan) -> std::cmp::Ordering {
    b.created.cmp(&a.created).then(b.first_task_id.cmp(&a.first_task_id)).then_with(|| a.scan_id.cmp(&b.scan_id))
}

/// What [`once_order`] sorts by first, for one-off scans (None for the others).
fn once_rank(scan: &AvdsScan) -> Option<(std::cmp::Reverse<Millis>, std::cmp::Reverse<i64>)> {
    (scan.trigger == Trigger::Once).then_some((std::cmp::Reverse(scan.created), std::cmp::Reverse(scan.first_task_id)))
}

/// The one session of a one-off scan.
fn once_session(scan: &AvdsScan) -> Found<'_> {
    (scan.created, scan.task_id(0), scan, 0)
}

/// The merge's index for the one-off scans' list (every other index is a [`Stream`]'s).
const ONCE: usize = usize::MAX;

/// One page of the sessions (newest first) of the scans `keep` holds for that match the query's
/// scan id, search and statuses, and how many match in all, at `now`: counted per scan from its
/// schedule, and only the page's sessions made (O(scans + page), not O(sessions)). `count_read`
/// counts the page as read (the cloud API's callers do; the control API only looks).
/// `keep_key` names what `keep` keeps (the same key, the same scans kept): with one, a Search's
/// matches are remembered (see [`Store::search_cached`](super::Store::search_cached)), and without
/// a StatusList or ScanId the one-off scans among them (one session each, at their creation)
/// are counted by a binary search and paged from their sorted list: a request costs
/// O(log matches + periodic matches + page) once its pattern has been seen.
#[allow(clippy::too_many_arguments)] // as `page_with`: the query's parts, each one the callers vary
pub fn page<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, keep: impl Fn(&AvdsScan) -> bool, keep_key: Option<&str>, skip: usize, size: usize, now: Millis, count_read: bool) -> Page<AvdsSession<'a>> {
    page_with(scans, query, keep, keep_key, skip, size, now, count_read, MERGE_SKIP)
}

thread_local! {
    /// A request's search key (its keep key, then its lower-cased pattern), made in one buffer a
    /// thread: a repeated search costs no allocation to look up.
    static SEARCH_KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

#[allow(clippy::too_many_arguments)]
pub(super) fn page_with<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, keep: impl Fn(&AvdsScan) -> bool, keep_key: Option<&str>, skip: usize, size: usize, now: Millis, count_read: bool, merge_skip: u64) -> Page<AvdsSession<'a>> {
    let Some(pattern) = query.search.as_deref() else {
        return page_of(scans, query, None, keep, skip, size, now, count_read, merge_skip);
    };
    SEARCH_KEY.with(|cell| {
        // Taken already only by a page made within a page: that one has a buffer of its own.
        let (mut mine, mut spare) = (cell.try_borrow_mut().ok(), String::new());
        let buffer = mine.as_deref_mut().unwrap_or(&mut spare);
        buffer.clear();
        if let Some(keep_key) = keep_key {
            use std::fmt::Write;
            // Length-prefixed: no pattern makes another key's text.
            let _ = write!(buffer, "{}:{keep_key}", keep_key.len());
        }
        let from = buffer.len();
        super::store::push_lowered(buffer, pattern);
        let lowered = Lowered { pattern: &buffer[from..], key: keep_key.map(|_| buffer.as_str()) };
        page_of(scans, query, Some(lowered), keep, skip, size, now, count_read, merge_skip)
    })
}

/// A query's Search lower-cased, and the key its matches are remembered under (with a keep key).
#[derive(Clone, Copy)]
struct Lowered<'k> {
    pattern: &'k str,
    key: Option<&'k str>,
}

#[allow(clippy::too_many_arguments)]
fn page_of<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, search: Option<Lowered>, keep: impl Fn(&AvdsScan) -> bool, skip: usize, size: usize, now: Millis, count_read: bool, merge_skip: u64) -> Page<AvdsSession<'a>> {
    // Search is a text search over every scan's name and targets: the store's trigram index
    // names the scans that can match, its lower-cased texts say which do.
    let matched = match search {
        Some(Lowered { pattern, key: Some(key) }) => Some(scans.remembered(key).unwrap_or_else(|| {
            let search = Search::new(pattern);
            scans.search_cached(key, &search.parts, |lowered| search.matches_lowered(lowered, false), &keep, once_rank, once_order)
        })),
        _ => None,
    };
    // The one-off scans created by now, in session order: taken whole when nothing but the
    // search narrows them.
    let (once_listed, others): (&[u32], &[u32]) = match &matched {
        Some(m) => {
            let from = m.first.partition_point(|&s| scans.at_slot(s).created > now);
            (&m.first[from..], &m.rest)
        }
        None => (&[], &[]),
    };
    let whole_once = query.statuses.is_empty() && query.scan_id.is_none();
    let mut once: &[u32] = if whole_once { once_listed } else { &[] };
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut streams: Vec<Stream<'a>> = Vec::new();
    let mut consider = |scan: &'a AvdsScan| {
        if scan.created <= now && keep(scan) && query.scan_id.as_deref().is_none_or(|id| id == scan.scan_id) {
            let next = ranges.len();
            scan.matching_ranges(&query.statuses, now, &mut ranges);
            if ranges.len() > next {
                streams.push(Stream { scan, next, end: ranges.len() });
            }
        }
    };
    match (&matched, search) {
        (Some(_), _) => {
            let listed = if whole_once { &[][..] } else { once_listed };
            listed.iter().chain(others).for_each(|&s| consider(scans.at_slot(s)));
        }
        (None, Some(Lowered { pattern, .. })) => {
            let search = Search::new(pattern);
            scans.search(&search.parts, |lowered| search.matches_lowered(lowered, false), &mut consider);
        }
        (None, None) => scans.scan().for_each(&mut consider),
    }
    let created = |s: &u32| scans.at_slot(*s).created;
    let total: u64 = streams.iter().map(|s| s.len(&ranges)).sum::<u64>() + once.len() as u64;
    let total_items = usize::try_from(total).unwrap_or(usize::MAX);
    let skip = u64::try_from(skip).unwrap_or(u64::MAX);
    if skip >= total || size == 0 {
        return Page { total: total_items, items: Vec::new() };
    }
    if streams.is_empty() {
        // One-off scans alone: their list is the listing, in order.
        let page = once.iter().skip(usize::try_from(skip).unwrap_or(usize::MAX)).take(size);
        let items = page.map(|&s| scans.at_slot(s)).map(|scan| scan.session_from(0, scan.created, now, count_read)).collect();
        return Page { total: total_items, items };
    }
    // Where the merge starts: from the newest, or, for a deep page, from the instant of the
    // page's first session, the sessions after it counted rather than walked.
    let mut to_skip = skip;
    if skip > merge_skip {
        // The latest t with more than `skip` sessions started at or after it: the start of the
        // session at position `skip`.
        let count_from = |t: Millis| streams.iter().map(|s| s.count_from(&ranges, t)).sum::<u64>() + once.partition_point(|s| created(s) >= t) as u64;
        let oldest = streams.iter().map(|s| s.scan.created).chain(once.last().map(created)).min();
        let (mut low, mut high) = (oldest.unwrap_or(now), now);
        while low < high {
            let mid = low + (high - low) / 2 + 1;
            if count_from(mid) > skip {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        to_skip -= count_from(low.saturating_add(1));
        for stream in &mut streams {
            stream.cut_before(&mut ranges, low.saturating_add(1));
        }
        once = &once[once.partition_point(|s| created(s) > low)..];
    }
    let mut heap: std::collections::BinaryHeap<Head<'a>> = streams.iter().enumerate().filter_map(|(i, s)| Some(Head(s.head(&ranges)?, i))).collect();
    if let Some(&s) = once.first() {
        heap.push(Head(once_session(scans.at_slot(s)), ONCE));
    }
    // A caller's page size is not trusted to size the allocation.
    let mut items = Vec::with_capacity(size.min(total_items).min(1024));
    while let Some(Head(found, i)) = heap.pop() {
        let (started, scan, k) = if i == ONCE {
            once = &once[1..];
            if let Some(&s) = once.first() {
                heap.push(Head(once_session(scans.at_slot(s)), ONCE));
            }
            (found.0, found.2, found.3)
        } else {
            let Some((started, _, scan, k)) = streams[i].pop(&mut ranges) else { continue };
            if let Some(next) = streams[i].head(&ranges) {
                heap.push(Head(next, i));
            }
            (started, scan, k)
        };
        if to_skip > 0 {
            to_skip -= 1;
            continue;
        }
        items.push(scan.session_from(k, started, now, count_read));
        if items.len() == size {
            break;
        }
    }
    Page { total: total_items, items }
}

/// What [`page`]'s `keep_key` is for a caller who sees shared scans and its own.
pub(super) fn visible_key(caller: &Owner) -> std::borrow::Cow<'static, str> {
    match caller.key() {
        None => "shared".into(),
        Some(key) => format!("owner {key}").into(),
    }
}

/// DescribeScanSessions: the query's page of the sessions the caller may see, counted as read.
pub fn describe_sessions<'a>(scans: &'a super::Store<AvdsScan>, query: &AvdsQuery, caller: &Owner, now: Millis) -> Page<AvdsSession<'a>> {
    let skip = query.page.saturating_sub(1).saturating_mul(query.page_size);
    page(scans, query, |scan| scan.owner.visible_to(caller), Some(&visible_key(caller)), skip, query.page_size, now, true)
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
        assert_eq!((done.report, done.report_url.map(|u| u.fill())), (ReportStatus::Finished, Some("https://r/s-1/100".to_string())));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// The word-at-a-time search finds what a byte loop finds, at every length and place,
        /// among bytes one bit or one borrow away from the needle.
        #[test]
        fn find_byte_finds_the_first(bytes in proptest::collection::vec(proptest::sample::select(vec![b'{', b'}', 0, 1, 0x7a, 0x7c, 0xfb, 0x80, 0xff]), 0..40), needle in proptest::sample::select(vec![b'{', b'}', 0, 0xff])) {
            proptest::prop_assert_eq!(find_byte(&bytes, needle), bytes.iter().position(|&b| b == needle));
            proptest::prop_assert_eq!(find_byte_of(&bytes, needle, b'}'), bytes.iter().position(|&b| b == needle || b == b'}'));
        }
    }

    #[test]
    fn report_urls_fill_as_the_two_replaces_did() {
        let templates = ["https://r/{ScanId}/{TaskId}", "{TaskId}{ScanId}{ScanId}", "{Ta{ScanId}Id}", "{{ScanId}}", "{Scan", "no placeholder", "é{ScanId}ü{TaskId", "", "{Task{ScanId}Id}", "{{ScanId}TaskId}", "{ScanId}{TaskId}}"];
        let ids = ["s-1", "sk", "{TaskId}", "Id}", "{", "é", "", "TaskId", "}"];
        for template in templates {
            for id in ids {
                for task_id in [42, -7, i64::MIN, i64::MAX] {
                    let want = template.replace("{ScanId}", id).replace("{TaskId}", &task_id.to_string());
                    assert_eq!(fill_report_url(template, id, task_id), want, "{template:?} with {id:?}");
                }
            }
        }
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
