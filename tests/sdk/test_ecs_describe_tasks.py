"""ECS DescribeTasks (2014-05-26) through Tea V3, Tea v2 and the legacy core SDK.

Each family's answer is read through its own API (Tea: the response model's attributes; legacy: the
raw bytes do_action_with_exception returns, json-loaded as its users do) into one dict per answer, so
that the same expectation, derived from scenarios/conformance.toml, judges all three.
"""

from __future__ import annotations

import json

import pytest

import clients
from clients import ALIBABA_REQUEST_ID, LEGACY, TEA_V2, TEA_V3, ecs_models
from world import (
    ECS_AT_T0, ECS_BEIJING, ECS_DELETED, ECS_FAILED, ECS_FIELDS, ECS_FINISHED, ECS_FUTURE, ECS_ORDER, ECS_POLLED,
    ECS_PROCESSING, ECS_REDEPLOY, ECS_WAITING, HOUR, MINUTE, SECOND, T0_TEXT, ecs_task, ecs_time, iso, ms,
)

FAMILIES = [TEA_V3, TEA_V2, LEGACY]

LEGACY_SETTERS = {
    "task_ids": "set_TaskIds",
    "task_status": "set_TaskStatus",
    "task_action": "set_TaskAction",
    "start_time": "set_StartTime",
    "end_time": "set_EndTime",
    "page_number": "set_PageNumber",
    "page_size": "set_PageSize",
}


def describe_tasks(emu, family: str, region: str = "cn-hangzhou", **filters) -> dict:
    """One DescribeTasks call; the answer as {PageNumber, PageSize, TotalCount, RegionId, Tasks}."""
    if family == LEGACY:
        request = clients.legacy_describe_tasks()
        for name, value in filters.items():
            getattr(request, LEGACY_SETTERS[name])(value)
        raw = json.loads(clients.legacy_client(emu.port, region).do_action_with_exception(request))
        for task in raw["TaskSet"]["Task"]:
            assert set(task) <= set(ECS_FIELDS), f"unexpected task keys {set(task) - set(ECS_FIELDS)}"
        answer = {k: raw[k] for k in ("PageNumber", "PageSize", "TotalCount", "RegionId", "RequestId")}
        answer["Tasks"] = [{f: t.get(f) for f in ECS_FIELDS} for t in raw["TaskSet"]["Task"]]
    else:
        response = clients.tea_ecs(emu.endpoint, family).describe_tasks(ecs_models.DescribeTasksRequest(region_id=region, **filters))
        assert response.status_code == 200
        body = response.body
        assert body is not None, f"the Tea model could not parse the answer: {response._map}"
        answer = {
            "PageNumber": body.page_number,
            "PageSize": body.page_size,
            "TotalCount": body.total_count,
            "RegionId": body.region_id,
            "RequestId": body.request_id,
            "Tasks": [
                {
                    "CreationTime": t.creation_time,
                    "FinishedTime": t.finished_time,
                    "ResourceId": t.resource_id,
                    "SupportCancel": t.support_cancel,
                    "TaskAction": t.task_action,
                    "TaskId": t.task_id,
                    "TaskStatus": t.task_status,
                }
                for t in body.task_set.task
            ],
        }
    assert ALIBABA_REQUEST_ID.match(answer.pop("RequestId") or "")
    return answer


def page(tasks, total, number=1, size=10, region="cn-hangzhou"):
    return {"PageNumber": number, "PageSize": size, "TotalCount": total, "RegionId": region, "Tasks": tasks}


def only(*ids):
    return [ECS_AT_T0[i] for i in ids]


@pytest.mark.parametrize("family", FAMILIES)
def test_first_page_has_every_task_with_every_field(emu, family):
    assert describe_tasks(emu, family) == page(only(*ECS_ORDER), 7)


@pytest.mark.parametrize("family", FAMILIES)
def test_task_ids_is_a_comma_string_and_skips_unknown_and_foreign_ids(emu, family):
    ids = ",".join([ECS_FINISHED, "t-sdk-does-not-exist", ECS_FAILED, ECS_BEIJING])
    assert describe_tasks(emu, family, task_ids=ids) == page(only(ECS_FAILED, ECS_FINISHED), 2)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    "status, expected",
    [
        ("Processing", [ECS_PROCESSING]),
        ("Finished", [ECS_FINISHED]),
        ("Failed", [ECS_FAILED]),
    ],
)
def test_task_status_filters_by_the_three_statuses_the_doc_allows(emu, family, status, expected):
    assert describe_tasks(emu, family, task_status=status) == page(only(*expected), len(expected))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("status", ["Waiting", "Paused", "Deleted"])
def test_other_task_status_values_are_ignored_as_the_doc_says(emu, family, status):
    assert describe_tasks(emu, family, task_status=status) == page(only(*ECS_ORDER), 7)


@pytest.mark.parametrize("family", FAMILIES)
def test_task_action_filter(emu, family):
    assert describe_tasks(emu, family, task_action="RedeployInstance") == page(only(ECS_REDEPLOY), 1)
    assert describe_tasks(emu, family, task_action="ExportImage") == page(only(ECS_PROCESSING, ECS_DELETED), 2)


@pytest.mark.parametrize("family", FAMILIES)
def test_action_and_status_filters_combine(emu, family):
    assert describe_tasks(emu, family, task_action="ImportImage", task_status="Failed") == page(only(ECS_FAILED), 1)
    assert describe_tasks(emu, family, task_action="ExportImage", task_status="Failed") == page([], 0)


@pytest.mark.parametrize("family", FAMILIES)
def test_start_and_end_time_bound_the_creation_time_inclusively(emu, family):
    # 08:30 .. 09:50: the polled task (created 09:50 exactly), the redeploy (09:40) and the deleted one (09:00).
    answer = describe_tasks(emu, family, start_time=iso(ms(-90 * MINUTE)), end_time=iso(ms(-10 * MINUTE)))
    assert answer == page(only(ECS_POLLED, ECS_REDEPLOY, ECS_DELETED), 3)
    assert describe_tasks(emu, family, start_time=iso(ms(-6 * MINUTE))) == page(only(ECS_WAITING, ECS_PROCESSING), 2)
    assert describe_tasks(emu, family, end_time=iso(ms(-2 * HOUR))) == page(only(ECS_FAILED, ECS_FINISHED), 2)


@pytest.mark.parametrize("family", FAMILIES)
def test_paging(emu, family):
    assert describe_tasks(emu, family, page_size=3, page_number=1) == page(only(*ECS_ORDER[:3]), 7, 1, 3)
    assert describe_tasks(emu, family, page_size=3, page_number=2) == page(only(*ECS_ORDER[3:6]), 7, 2, 3)
    assert describe_tasks(emu, family, page_size=3, page_number=3) == page(only(ECS_FINISHED), 7, 3, 3)
    assert describe_tasks(emu, family, page_size=3, page_number=4) == page([], 7, 4, 3)
    assert describe_tasks(emu, family, page_size=100) == page(only(*ECS_ORDER), 7, 1, 100)


@pytest.mark.parametrize("family", FAMILIES)
def test_regions_are_separate_worlds(emu, family):
    beijing = ecs_task(ECS_BEIJING, "ImportImage", ms(-HOUR), "Finished", finished=ms(-50 * MINUTE),
                       resource="m-sdk0000000beijing01", cancel="false")
    assert describe_tasks(emu, family, region="cn-beijing") == page([beijing], 1, region="cn-beijing")
    # A real region with no task: an empty Task array, which every SDK parses.
    assert describe_tasks(emu, family, region="eu-west-1") == page([], 0, region="eu-west-1")


@pytest.mark.parametrize("family", FAMILIES)
def test_a_polled_task_moves_waiting_processing_finished_as_the_clock_advances(emu, family):
    def poll():
        (task,) = describe_tasks(emu, family, task_ids=ECS_WAITING)["Tasks"]
        return task

    created = ms(-30 * SECOND)
    assert poll() == ECS_AT_T0[ECS_WAITING]
    emu.advance("2m")  # waiting ends at 10:01:30
    assert poll() == ecs_task(ECS_WAITING, "ImportImage", created, "Processing", resource="m-sdk00000000image001")
    emu.advance("9m")  # processing ends at 10:11:30
    assert poll()["TaskStatus"] == "Processing"
    emu.advance("1m")
    assert poll() == ecs_task(ECS_WAITING, "ImportImage", created, "Finished", finished=created + 12 * MINUTE,
                              resource="m-sdk00000000image001", cancel="false")


@pytest.mark.parametrize("family", FAMILIES)
def test_a_read_bounded_phase_advances_after_its_reads_with_the_clock_frozen(emu, family):
    seen = [describe_tasks(emu, family, task_ids=ECS_POLLED)["Tasks"][0] for _ in range(5)]
    assert [t["TaskStatus"] for t in seen] == ["Waiting", "Waiting", "Processing", "Processing", "Finished"]
    assert seen[4]["FinishedTime"] == ecs_time(ms(0)), "it finished on the read at the frozen instant"
    assert [t["SupportCancel"] for t in seen] == ["true"] * 4 + ["false"]
    assert emu.clock()["now"] == T0_TEXT


def test_a_task_created_later_appears_when_its_time_comes(emu):
    assert ECS_FUTURE not in [t["TaskId"] for t in describe_tasks(emu, TEA_V3)["Tasks"]]
    emu.advance("10m")
    answer = describe_tasks(emu, TEA_V3)
    assert answer["TotalCount"] == 8
    assert answer["Tasks"][0] == ecs_task(ECS_FUTURE, "ExportImage", ms(10 * MINUTE), "Processing",
                                          resource="m-sdk00000000image006")


def test_setting_the_clock_moves_a_task_through_a_pause(emu):
    # Processing 09:40-09:43, Paused until 10:43, Processing until 10:48, then Finished.
    emu.set_clock("2030-01-15T10:45:00Z")
    (task,) = describe_tasks(emu, TEA_V2, task_ids=ECS_REDEPLOY)["Tasks"]
    assert (task["TaskStatus"], task["FinishedTime"]) == ("Processing", None)
    emu.set_clock("2030-01-15T13:00:00Z")
    (task,) = describe_tasks(emu, TEA_V2, task_ids=ECS_REDEPLOY)["Tasks"]
    assert (task["TaskStatus"], task["FinishedTime"], task["SupportCancel"]) == ("Finished", "2030-01-15T10:48Z", "false")
