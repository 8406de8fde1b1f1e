"""HSS ListTasks (POST /v5/{project_id}/common/tasks/batch-query) through huaweicloudsdkhss v5."""

from __future__ import annotations

import pytest
from huaweicloudsdkhss.v5 import (
    ListTasksRequest, ListTasksRequestBody, ListTasksRequestBodyClusterScanInfo, ListTasksRequestBodyIacScanInfo,
)

from clients import HUAWEI_REQUEST_ID
from world import (
    MINUTE, SECOND, T0_TEXT, TASK_DOCKERFILE, TASK_IAC, TASK_POLLED, TASK_PROD, TASK_STAGING, TASKS_AT_T0, cluster, ms,
)

TASK_FIELDS = ["task_id", "task_type", "task_name", "trigger_type", "task_status", "start_time", "end_time", "estimated_time"]
CLUSTER_FIELDS = ["scan_type_list", "scanning_cluster_num", "success_cluster_num", "failed_cluster_num"]
IAC_FIELDS = ["file_type", "scan_file_num", "success_file_num", "failed_file_num"]

UNSET = object()


def list_tasks(client, body=UNSET, **query) -> dict:
    """One ListTasks call; `body` is a ListTasksRequestBody, a dict of its fields, or None (no body)."""
    if body is UNSET:
        body = ListTasksRequestBody()
    elif isinstance(body, dict):
        fields = dict(body)
        if "scan_type_list" in fields:
            fields["cluster_scan_info"] = ListTasksRequestBodyClusterScanInfo(scan_type_list=fields.pop("scan_type_list"))
        if "file_type" in fields:
            fields["iac_scan_info"] = ListTasksRequestBodyIacScanInfo(file_type=fields.pop("file_type"))
        body = ListTasksRequestBody(**fields)
    response = client.list_tasks(ListTasksRequest(body=body, **query))
    assert response.status_code == 200
    assert HUAWEI_REQUEST_ID.match(client.last_headers.get("x-request-id", ""))
    items = []
    for info in response.data_list:
        item = {f: getattr(info, f) for f in TASK_FIELDS}
        c, i = info.cluster_scan_info, info.iac_scan_info
        item["cluster_scan_info"] = None if c is None else {f: getattr(c, f) for f in CLUSTER_FIELDS}
        item["iac_scan_info"] = None if i is None else {f: getattr(i, f) for f in IAC_FIELDS}
        items.append(item)
    return {"total_num": response.total_num, "data_list": items}


def answer(tasks, total=None):
    return {"total_num": len(tasks) if total is None else total, "data_list": tasks}


def pick(*ids):
    index = {t["task_id"]: t for t in TASKS_AT_T0}
    return [index[i] for i in ids]


ALL = [t["task_id"] for t in TASKS_AT_T0]


def test_every_task_with_every_field(huawei):
    assert list_tasks(huawei) == answer(TASKS_AT_T0)


def test_a_request_without_a_body_is_an_empty_filter(huawei):
    # The SDK sends Content-Length: 0 with Content-Type: application/json when body is None.
    assert list_tasks(huawei, body=None) == answer(TASKS_AT_T0)


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"task_type": "iac_scan"}, [TASK_IAC, TASK_DOCKERFILE]),
        ({"task_type": "cluster_scan"}, [TASK_STAGING, TASK_PROD, TASK_POLLED]),
        # A task matches only if it scanned every listed type; an empty list does not filter.
        ({"scan_type_list": ["cluster_vul"]}, [TASK_STAGING, TASK_PROD]),
        ({"scan_type_list": ["cluster_vul", "benchmark"]}, [TASK_PROD]),
        ({"scan_type_list": ["benchmark"]}, [TASK_PROD, TASK_POLLED]),
        ({"scan_type_list": ["risk_assessment", "benchmark"]}, []),
        ({"scan_type_list": []}, ALL),
        ({"file_type": "dockerfile"}, [TASK_DOCKERFILE]),
        ({"file_type": "k8s_yaml"}, [TASK_IAC]),
        ({"task_status": "running"}, [TASK_PROD]),
        ({"task_status": "finished"}, [TASK_IAC, TASK_DOCKERFILE]),
        ({"task_status": "ready"}, [TASK_STAGING, TASK_POLLED]),
        ({"trigger_type": "schedule"}, [TASK_STAGING, TASK_IAC]),
        ({"trigger_type": "manual"}, [TASK_PROD, TASK_POLLED, TASK_DOCKERFILE]),
        ({"task_name": "CLUSTER scan"}, [TASK_STAGING, TASK_PROD, TASK_POLLED]),
        ({"task_id": TASK_IAC}, [TASK_IAC]),
        ({"task_id": "bb000000-0000-4000-8000-0000000000ff"}, []),
        ({"start_create_time": ms(-90 * MINUTE), "end_create_time": ms(-3 * MINUTE)}, [TASK_PROD, TASK_POLLED, TASK_IAC]),
        ({"start_create_time": ms(-4 * MINUTE)}, [TASK_STAGING, TASK_PROD]),
        ({"end_create_time": ms(-60 * MINUTE)}, [TASK_IAC, TASK_DOCKERFILE]),
        ({"task_type": "cluster_scan", "trigger_type": "manual", "scan_type_list": ["benchmark"], "task_status": "running"}, [TASK_PROD]),
    ],
    ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()) if isinstance(v, dict) else None,
)
def test_body_filters(huawei, body, expected):
    assert list_tasks(huawei, body) == answer(pick(*expected))


def test_sorting_by_start_time(huawei, emu):
    assert list_tasks(huawei, {"sort_key": "start_time", "sort_dir": "asc"}) == answer(pick(*reversed(ALL)))
    emu.reset()  # that read moved the polled task on
    assert list_tasks(huawei, {"sort_key": "start_time", "sort_dir": "desc"}) == answer(TASKS_AT_T0)


def test_offset_and_limit(huawei):
    assert list_tasks(huawei, offset=3, limit=10) == answer(pick(TASK_IAC, TASK_DOCKERFILE), 5)
    assert list_tasks(huawei, {"sort_dir": "asc"}, offset=3, limit=10) == answer(pick(TASK_PROD, TASK_STAGING), 5)
    assert list_tasks(huawei, offset=5, limit=200) == answer([], 5)


def test_enterprise_projects(huawei):
    assert list_tasks(huawei, enterprise_project_id="all_granted_eps") == answer(TASKS_AT_T0)
    assert list_tasks(huawei, enterprise_project_id="ep-sdk") == answer([])


def test_cluster_counters_follow_the_running_phase(huawei, emu):
    def prod():
        return list_tasks(huawei, {"task_id": TASK_PROD})["data_list"][0]

    base = pick(TASK_PROD)[0]
    assert prod() == base
    emu.advance("3m")  # 7 of 10 minutes: floor(4 x 0.7) = 2 clusters done, floor(1 x 0.7) = 0 failed
    assert prod() == {**base, "estimated_time": 3, "cluster_scan_info": cluster(["cluster_vul", "benchmark"], 2, 2, 0)}
    emu.advance("3m")
    assert prod() == {
        **base, "task_status": "finished", "end_time": ms(6 * MINUTE), "estimated_time": 0,
        "cluster_scan_info": cluster(["cluster_vul", "benchmark"], 0, 3, 1),
    }


def test_a_ready_task_starts_running_when_its_time_comes(huawei, emu):
    def staging():
        return list_tasks(huawei, {"task_id": TASK_STAGING})["data_list"][0]

    assert staging()["task_status"] == "ready"
    emu.advance("1m30s")  # ready until 10:01:30, then 6 minutes running
    assert (staging()["task_status"], staging()["estimated_time"]) == ("running", 6)
    emu.advance("6m")
    done = staging()
    assert (done["task_status"], done["end_time"], done["cluster_scan_info"]) == (
        "finished", ms(-30 * SECOND + 8 * MINUTE), cluster(["risk_assessment", "cluster_vul"], 0, 2, 0),
    )


def test_a_read_bounded_task_advances_per_poll(huawei, emu):
    seen = [list_tasks(huawei, {"task_id": TASK_POLLED})["data_list"][0] for _ in range(4)]
    assert [(t["task_status"], t["end_time"], t["cluster_scan_info"]) for t in seen] == [
        ("ready", None, cluster(["benchmark"], 0, 0, 0)),
        ("running", None, cluster(["benchmark"], 2, 0, 0)),
        ("finished", ms(0), cluster(["benchmark"], 0, 2, 0)),
        ("finished", ms(0), cluster(["benchmark"], 0, 2, 0)),
    ]
    assert emu.clock()["now"] == T0_TEXT
