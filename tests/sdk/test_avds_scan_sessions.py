"""AVDS DescribeScanSessions (2017-11-29) through the Tea AVDS client (RPC v1, form body) and the legacy
core's CommonRequest (parameters in the query, or in a form body with add_body_params)."""

from __future__ import annotations

import json

import pytest

import clients
from clients import ALIBABA_REQUEST_ID, avds_models
from world import (
    ABORTED, AVDS_AT_T0, AVDS_FIELDS, AVDS_POLLED, HOURLY, MINUTE, ONE_OFF, REPORT_FAILS, T0_TEXT, hourly, ms,
    report_url,
)

TEA = "tea-avds"
LEGACY_QUERY = "legacy-query"
LEGACY_FORM = "legacy-form"
FAMILIES = [TEA, LEGACY_QUERY, LEGACY_FORM]
LEGACY_NAMES = {"scan_id": "ScanId", "search": "Search", "current_page": "CurrentPage", "page_size": "PageSize", "source_ip": "SourceIp"}


def sessions(emu, family: str, **filters) -> dict:
    """One DescribeScanSessions call as {TotalCount, PageSize, PageCount, CurrentPage, Count, List}."""
    if family == TEA:
        response = clients.tea_avds(emu.endpoint).describe_scan_sessions(avds_models.DescribeScanSessionsRequest(**filters))
        body = response.body
        answer = {
            "RequestId": body.request_id,
            "TotalCount": body.total_count,
            "PageSize": body.page_size,
            "PageCount": body.page_count,
            "CurrentPage": body.current_page,
            "Count": body.count,
            "List": [
                {
                    "TaskId": s.task_id,
                    "ScanId": s.scan_id,
                    "JobStatus": s.job_status,
                    "CreatedAt": s.created_at,
                    "FinishedAt": s.finished_at,
                    "Name": s.name,
                    "TriggerType": s.trigger_type,
                    "Period": s.period,
                    "Interval": s.interval,
                    "ReportStatus": s.report_status,
                    "ReportUrl": s.report_url,
                    "RunPercent": s.run_percent,
                    "Targets": s.targets,
                }
                for s in body.list
            ],
        }
    else:
        request = clients.legacy_common("avds", "2017-11-29", "DescribeScanSessions")
        add = request.add_body_params if family == LEGACY_FORM else request.add_query_param
        for name, value in filters.items():
            if name == "status_list":
                for i, status in enumerate(value, start=1):
                    add(f"StatusList.{i}", status)
            else:
                add(LEGACY_NAMES[name], value)
        raw = json.loads(clients.legacy_client(emu.port).do_action_with_exception(request))
        assert set(raw) == {"RequestId", "TotalCount", "PageSize", "PageCount", "CurrentPage", "Count", "List"}
        for item in raw["List"]:
            assert set(item) <= set(AVDS_FIELDS), f"unexpected item keys {set(item) - set(AVDS_FIELDS)}"
        answer = {k: v for k, v in raw.items() if k != "List"}
        answer["List"] = [{f: item.get(f) for f in AVDS_FIELDS} for item in raw["List"]]
    assert ALIBABA_REQUEST_ID.match(answer.pop("RequestId") or "")
    return answer


def page(items, total, current=1, size=20):
    return {
        "TotalCount": total,
        "PageSize": size,
        "PageCount": -(-total // size),
        "CurrentPage": current,
        "Count": len(items),
        "List": items,
    }


def by_task(*task_ids):
    index = {s["TaskId"]: s for s in AVDS_AT_T0}
    return [index[t] for t in task_ids]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_session_with_every_field(emu, family):
    assert sessions(emu, family) == page(AVDS_AT_T0, 7)


@pytest.mark.parametrize("family", FAMILIES)
def test_status_list(emu, family):
    assert sessions(emu, family, status_list=["running"]) == page(by_task(3100001), 1)
    assert sessions(emu, family, status_list=["finished"]) == page(by_task(3000002, 3400001, 3000001), 3)
    # Last: this one reads the polled session, which then leaves its read-bounded waiting phase.
    assert sessions(emu, family, status_list=["waiting", "aborted"]) == page(by_task(3000003, 3300001, 3200001), 3)


@pytest.mark.parametrize("family", FAMILIES)
def test_scan_id_lists_the_sessions_of_one_scan(emu, family):
    assert sessions(emu, family, scan_id=HOURLY) == page(by_task(3000003, 3000002, 3000001), 3)
    assert sessions(emu, family, scan_id=ABORTED) == page(by_task(3200001), 1)
    assert sessions(emu, family, scan_id="5d1f0000-0000-4000-8000-0000000fffff") == page([], 0)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    "search, expected",
    [
        ("10.1.*.*", [3000003, 3000002, 3000001]),  # a target, with the doc's wildcard form
        ("sdk*audit", [3100001]),  # a name, wildcard inside
        ("*legacy*", [3200001]),
        ("SDK REPORT", [3400001]),  # no wildcard: a case-blind substring, with a space on the wire
        ("*.example.org", []),
    ],
)
def test_search_with_wildcards(emu, family, search, expected):
    assert sessions(emu, family, search=search) == page(by_task(*expected), len(expected))


@pytest.mark.parametrize("family", FAMILIES)
def test_filters_combine(emu, family):
    answer = sessions(emu, family, scan_id=HOURLY, status_list=["finished"], search="www.sdk.*")
    assert answer == page(by_task(3000002, 3000001), 2)


@pytest.mark.parametrize("family", FAMILIES)
def test_source_ip_is_the_callers_address_not_a_filter(emu, family):
    assert sessions(emu, family, source_ip="1.2.3.4") == page(AVDS_AT_T0, 7)


@pytest.mark.parametrize("family", FAMILIES)
def test_paging(emu, family):
    order = [s["TaskId"] for s in AVDS_AT_T0]
    assert sessions(emu, family, page_size=3) == page(by_task(*order[:3]), 7, 1, 3)
    assert sessions(emu, family, page_size=3, current_page=2) == page(by_task(*order[3:6]), 7, 2, 3)
    assert sessions(emu, family, page_size=3, current_page=3) == page(by_task(order[6]), 7, 3, 3)
    assert sessions(emu, family, page_size=3, current_page=4) == page([], 7, 4, 3)


@pytest.mark.parametrize("family", [TEA, LEGACY_QUERY])
def test_a_periodic_session_runs_finishes_reports_and_the_next_one_starts(emu, family):
    def latest():
        return sessions(emu, family, scan_id=HOURLY, page_size=1)

    assert latest() == page([hourly(2, "waiting", 0.0)], 3, size=1)
    emu.advance("2m")  # waiting 2 minutes, then running 40
    assert latest()["List"] == [hourly(2, "running", 0.0)]
    emu.advance("20m")
    assert latest()["List"] == [hourly(2, "running", 50.0)]
    emu.advance("20m")  # finished at 10:42; the report takes 30 seconds
    assert latest()["List"] == [hourly(2, "finished", 100.0, finished=ms(42 * MINUTE), report="running")]
    emu.advance("30s")
    done = hourly(2, "finished", 100.0, finished=ms(42 * MINUTE), report="finished", url=report_url(HOURLY, 3000003))
    assert latest()["List"] == [done]
    emu.set_clock("2030-01-15T11:00:00Z")  # the next hour's session starts
    assert latest() == page([hourly(3, "waiting", 0.0)], 4, size=1)
    assert sessions(emu, family, scan_id=HOURLY, current_page=2, page_size=1)["List"] == [done]


@pytest.mark.parametrize("family", [TEA, LEGACY_FORM])
def test_a_read_bounded_session_advances_per_poll(emu, family):
    seen = [sessions(emu, family, scan_id=AVDS_POLLED)["List"][0] for _ in range(5)]
    assert [(s["JobStatus"], s["RunPercent"]) for s in seen] == [
        ("waiting", 0.0), ("running", 0.0), ("running", 50.0), ("finished", 100.0), ("finished", 100.0),
    ]
    # report_delay = 0s: the report is there on the read that sees the end.
    assert [(s["FinishedAt"], s["ReportStatus"], s["ReportUrl"]) for s in seen[3:]] == [
        (ms(0), "finished", report_url(AVDS_POLLED, 3300001))
    ] * 2
    assert emu.clock()["now"] == T0_TEXT


def test_a_failed_report_has_no_url(emu):
    (item,) = sessions(emu, TEA, scan_id=REPORT_FAILS)["List"]
    assert (item["JobStatus"], item["ReportStatus"], item["ReportUrl"]) == ("finished", "failed", None)


def test_one_off_scan_progress_grows_with_the_clock(emu):
    percents = []
    for _ in range(3):
        (item,) = sessions(emu, TEA, scan_id=ONE_OFF)["List"]
        percents.append(item["RunPercent"])
        emu.advance("7m")
    assert percents == [33.33, 56.67, 80.0]
