//! AVDS DescribeScanSessions (2017-11-29): the sessions scans have spawned, newest first.
//!
//! `sdk` dialect: the response table's shape, top-level PascalCase (what the SDK model reads).
//! `docs` dialect: the documented example, a `requestId`/`data`/`code`/`success` wrapper with
//! mixed-case item keys and `PageNumber` (sdk-notes §2.1: the Tea SDK reads every field as empty).

use super::{AliyunError, Call, Dialect};
use crate::render::{Hundredths, List, Word};
use crate::world::avds::{self, AvdsQuery, AvdsSession, AvdsStatus, Trigger};
use crate::world::lifecycle::Status;


fn query(call: &Call) -> Result<AvdsQuery, AliyunError> {
    let p = call.params;
    let statuses = p
        .list("StatusList")
        .into_iter()
        // The doc's request example quotes the value (`StatusList.1="finished"`); accept that too.
        .map(|s| AvdsStatus::from_name(s.trim_matches('"')).ok_or_else(|| AliyunError::invalid_parameter("StatusList")))
        .collect::<Result<Vec<_>, _>>()?;
    // SourceIp is the caller's own address (as on every Alibaba security API), not a filter.
    let (page, page_size) = call.pages()?;
    Ok(AvdsQuery {
        scan_id: p.get("ScanId").map(str::to_string),
        search: p.get("Search").map(str::to_string),
        statuses,
        page,
        page_size,
    })
}

/// The percentage to two decimals, as hundredths (written from its digits, not as a float).
fn run_percent(progress: f64) -> Hundredths {
    Hundredths((progress * 10_000.0).round())
}

fn session_sdk(list: &mut List, s: &AvdsSession) {
    let (period, interval) = match s.scan.trigger {
        Trigger::Once => (None, None),
        Trigger::Every { period, interval, .. } => (Some(period.name()), Some(interval)),
    };
    list.object(&s.scan.pins, |o| {
        o.field("TaskId", s.task_id)
            .field("ScanId", &s.scan.scan_id)
            .field("JobStatus", Word(s.stage.status.name()))
            .field("CreatedAt", s.started)
            .field_some("FinishedAt", s.stage.ended_at)
            .field("Name", &s.scan.name)
            .field("TriggerType", trigger_type(s))
            .field_some("Period", period)
            .field_some("Interval", interval)
            .field("ReportStatus", Word(s.report.name()))
            .field_some("ReportUrl", s.report_url.as_ref())
            .field("RunPercent", run_percent(s.stage.progress))
            .values("Targets", s.scan.targets.iter());
    });
}

fn trigger_type(s: &AvdsSession) -> &'static str {
    match s.scan.trigger {
        Trigger::Once => "date",
        Trigger::Every { .. } => "interval",
    }
}

/// The documented example's item: its key casing, and numbers where it shows numbers.
fn session_docs(list: &mut List, s: &AvdsSession) {
    let (period, interval) = match s.scan.trigger {
        Trigger::Once => ("", 0),
        Trigger::Every { period, interval, .. } => (period.name(), interval),
    };
    list.object(&s.scan.pins, |o| {
        match &s.report_url {
            Some(url) => o.field("reportUrl", url),
            None => o.field("reportUrl", ""),
        }
            .field("interval", interval)
            .field("name", &s.scan.name)
            .field("reportStatus", Word(s.report.name()))
            .field("JobStatus", Word(s.stage.status.name()))
            .field("TaskId", s.task_id)
            .field("period", period)
            .field("triggerType", trigger_type(s))
            .values("targets", s.scan.targets.iter())
            .field("FinishedAt", s.stage.ended_at.unwrap_or(0))
            .field("CreatedAt", s.started);
        match s.scan.scan_id.parse::<i64>() {
            Ok(number) => o.field("ScanId", number),
            Err(_) => o.field("ScanId", &s.scan.scan_id),
        };
    });
}

pub fn call(call: &Call) -> Result<Vec<u8>, AliyunError> {
    let q = query(call)?;
    let page = avds::describe_sessions(&call.snapshot.world.avds, &q, &call.caller, call.now);
    Ok(match call.dialect {
        Dialect::Sdk => call.document(|o| {
            o.field("RequestId", call.request_id)
                .field("TotalCount", page.total)
                .field("PageSize", q.page_size)
                .field("PageCount", page.total.div_ceil(q.page_size))
                .field("CurrentPage", q.page)
                .field("Count", page.items.len())
                .list("List", |list| page.items.iter().for_each(|s| session_sdk(list, s)));
        }),
        // The documented example's root is the operation's name.
        Dialect::Docs => call.document_under(call.operation.name, |o| {
            o.field("requestId", call.request_id)
                .object("data", |o| {
                    o.field("PageNumber", q.page)
                        .field("TotalCount", page.total)
                        .field("PageSize", q.page_size)
                        .list("List", |list| page.items.iter().for_each(|s| session_docs(list, s)));
                })
                .field("code", "200")
                .field("success", true);
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_percent_has_two_decimals() {
        assert_eq!(run_percent(0.102_14).0 / 100.0, 10.21);
        assert_eq!(run_percent(1.0).0 / 100.0, 100.0);
    }
}
