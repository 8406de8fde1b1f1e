//! AVDS DescribeScanSessions (2017-11-29): the sessions scans have spawned, newest first.
//!
//! `sdk` dialect: the response table's shape, top-level PascalCase (what the SDK model reads).
//! `docs` dialect: the documented example, a `requestId`/`data`/`code`/`success` wrapper with
//! mixed-case item keys and `PageNumber` (sdk-notes §2.1: the Tea SDK reads every field as empty).

use super::{AliyunError, Answer, Call};
use crate::render::Node;
use crate::state::Dialect;
use crate::world::avds::{self, AvdsQuery, AvdsSession, AvdsStatus, Trigger};
use crate::world::lifecycle::Status;

const DEFAULT_PAGE_SIZE: i64 = 20;
const MAX_PAGE_SIZE: i64 = 100;

fn query(call: &Call) -> Result<AvdsQuery, AliyunError> {
    let p = call.params;
    let statuses = p
        .list("StatusList")
        .into_iter()
        // The doc's request example quotes the value (`StatusList.1="finished"`); accept that too.
        .map(|s| AvdsStatus::from_name(s.trim_matches('"')).ok_or_else(|| AliyunError::invalid_parameter("StatusList")))
        .collect::<Result<Vec<_>, _>>()?;
    // SourceIp is the caller's own address (as on every Alibaba security API), not a filter.
    Ok(AvdsQuery {
        scan_id: p.get("ScanId").map(str::to_string),
        search: p.get("Search").map(str::to_string),
        statuses,
        page: p.int("CurrentPage", 1, i64::from(i32::MAX), 1)? as usize,
        page_size: p.int("PageSize", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)? as usize,
    })
}

fn run_percent(progress: f64) -> f64 {
    (progress * 10_000.0).round() / 100.0
}

fn session_sdk(s: &AvdsSession) -> Node {
    let (period, interval) = match s.scan.trigger {
        Trigger::Once => (None, None),
        Trigger::Every { period, interval, .. } => (Some(period.name()), Some(i64::from(interval))),
    };
    Node::object()
        .with("TaskId", s.task_id)
        .with("ScanId", s.scan.scan_id.clone())
        .with("JobStatus", s.stage.status.name())
        .with("CreatedAt", s.started)
        .with_some("FinishedAt", s.stage.ended_at)
        .with("Name", s.scan.name.clone())
        .with("TriggerType", trigger_type(s))
        .with_some("Period", period)
        .with_some("Interval", interval)
        .with("ReportStatus", s.report.name())
        .with_some("ReportUrl", s.report_url.clone())
        .with("RunPercent", run_percent(s.stage.progress))
        .with("Targets", s.scan.targets.iter().map(|t| Node::from(t.as_str())).collect::<Vec<_>>())
        .pinned(&s.scan.pins)
}

fn trigger_type(s: &AvdsSession) -> &'static str {
    match s.scan.trigger {
        Trigger::Once => "date",
        Trigger::Every { .. } => "interval",
    }
}

/// The documented example's item: its key casing, and numbers where it shows numbers.
fn session_docs(s: &AvdsSession) -> Node {
    let (period, interval) = match s.scan.trigger {
        Trigger::Once => ("", 0),
        Trigger::Every { period, interval, .. } => (period.name(), i64::from(interval)),
    };
    let scan_id = s.scan.scan_id.parse::<i64>().map_or_else(|_| Node::from(s.scan.scan_id.as_str()), Node::Int);
    Node::object()
        .with("reportUrl", s.report_url.clone().unwrap_or_default())
        .with("interval", interval)
        .with("name", s.scan.name.clone())
        .with("reportStatus", s.report.name())
        .with("JobStatus", s.stage.status.name())
        .with("TaskId", s.task_id)
        .with("period", period)
        .with("triggerType", trigger_type(s))
        .with("targets", s.scan.targets.iter().map(|t| Node::from(t.as_str())).collect::<Vec<_>>())
        .with("FinishedAt", s.stage.ended_at.unwrap_or(0))
        .with("CreatedAt", s.started)
        .with("ScanId", scan_id)
        .pinned(&s.scan.pins)
}

pub fn call(call: &Call) -> Result<Answer, AliyunError> {
    let q = query(call)?;
    let page = avds::describe_sessions(&call.snapshot.world.avds, &q, &call.caller, call.now);
    let doc = match call.dialect {
        Dialect::Sdk => Node::object()
            .with("RequestId", call.request_id)
            .with("TotalCount", page.total)
            .with("PageSize", q.page_size)
            .with("PageCount", page.total.div_ceil(q.page_size))
            .with("CurrentPage", q.page)
            .with("Count", page.items.len())
            .with("List", page.items.iter().map(session_sdk).collect::<Vec<_>>()),
        Dialect::Docs => Node::object()
            .with("requestId", call.request_id)
            .with(
                "data",
                Node::object()
                    .with("PageNumber", q.page)
                    .with("TotalCount", page.total)
                    .with("PageSize", q.page_size)
                    .with("List", page.items.iter().map(session_docs).collect::<Vec<_>>()),
            )
            .with("code", "200")
            .with("success", true),
    };
    let root = match call.dialect {
        Dialect::Sdk => "DescribeScanSessionsResponse",
        Dialect::Docs => "DescribeScanSessions",
    };
    Ok(Answer { root, doc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_percent_has_two_decimals() {
        assert_eq!(run_percent(0.102_14), 10.21);
        assert_eq!(run_percent(1.0), 100.0);
    }
}
