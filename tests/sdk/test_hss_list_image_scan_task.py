"""HSS ListImageScanTask (GET /v5/{project_id}/image/tasks) through huaweicloudsdkhss v5."""

from __future__ import annotations

import pytest
from huaweicloudsdkhss.v5 import ListImageScanTaskRequest

import clients
from clients import HUAWEI_REQUEST_ID
from world import (
    ALL_SCOPES, FAILED_NGINX, FAILED_REDIS, IMAGE_SCANS_AT_T0, IMAGE_SYNCS_AT_T0, IMG_BROKEN, IMG_ENTERPRISE,
    IMG_NIGHTLY, IMG_OTHER_PROJECT, IMG_POLLED, IMG_QUEUED, IMG_SYNC_DONE, IMG_TIMEOUT, MINUTE, OTHER_PROJECT, T0_TEXT,
    image_task, ms,
)

TASK_FIELDS = list(IMAGE_SCANS_AT_T0[0])
FAILED_IMAGE_FIELDS = list(FAILED_NGINX)


def list_image_tasks(client, **query) -> dict:
    response = client.list_image_scan_task(ListImageScanTaskRequest(**query))
    assert response.status_code == 200
    assert HUAWEI_REQUEST_ID.match(client.last_headers.get("x-request-id", ""))
    tasks = []
    for info in response.data_list:
        task = {f: getattr(info, f) for f in TASK_FIELDS}
        task["failed_images"] = [{f: getattr(img, f) for f in FAILED_IMAGE_FIELDS} for img in info.failed_images]
        tasks.append(task)
    return {"total_num": response.total_num, "data_list": tasks}


def answer(tasks, total=None):
    return {"total_num": len(tasks) if total is None else total, "data_list": tasks}


def pick(*ids):
    index = {t["task_id"]: t for t in IMAGE_SCANS_AT_T0 + IMAGE_SYNCS_AT_T0}
    return [index[i] for i in ids]


def test_image_scans_with_every_field(huawei):
    assert list_image_tasks(huawei, type="image_scan") == answer(IMAGE_SCANS_AT_T0)


def test_image_syncs_with_every_field(huawei):
    assert list_image_tasks(huawei, type="image_sync") == answer(IMAGE_SYNCS_AT_T0)


def test_the_sdk_model_types_task_status_as_an_integer(huawei):
    response = huawei.list_image_scan_task(ListImageScanTaskRequest(type="image_scan", task_id=IMG_BROKEN))
    (info,) = response.data_list
    assert type(info.task_status) is int and info.task_status == -3
    assert type(info.is_all) is bool and type(info.begin_time) is int


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"type": "image_scan", "task_type": "cycle"}, [IMG_NIGHTLY]),
        ({"type": "image_scan", "task_type": "manual"}, [IMG_POLLED, IMG_BROKEN, IMG_TIMEOUT]),
        ({"type": "image_sync", "task_type": "autoSync"}, [IMG_SYNC_DONE]),
        ({"type": "image_sync", "task_type": "manualSync"}, [IMG_QUEUED]),
        ({"type": "image_scan", "task_status": "finished"}, [IMG_BROKEN, IMG_TIMEOUT]),
        ({"type": "image_scan", "task_status": "scanning"}, [IMG_POLLED, IMG_NIGHTLY]),
        ({"type": "image_scan", "task_name": "REGISTRY"}, [IMG_NIGHTLY, IMG_BROKEN]),
        ({"type": "image_scan", "task_id": IMG_TIMEOUT}, [IMG_TIMEOUT]),
        ({"type": "image_sync", "task_id": IMG_TIMEOUT}, []),
        ({"type": "image_scan", "global_image_type": "local"}, [IMG_TIMEOUT]),
        ({"type": "image_scan", "global_image_type": "registry"}, [IMG_POLLED, IMG_NIGHTLY, IMG_BROKEN]),
        # baseline bits (0x0000f000): the timeout task's own scope, and every all-scope task
        ({"type": "image_scan", "scan_scope": 0x0000F000}, [IMG_POLLED, IMG_BROKEN, IMG_TIMEOUT]),
        ({"type": "image_scan", "scan_scope": 0x000F0000}, [IMG_POLLED, IMG_NIGHTLY, IMG_BROKEN]),
        ({"type": "image_scan", "create_time": ms(-15 * MINUTE)}, [IMG_POLLED, IMG_NIGHTLY]),
        ({"type": "image_scan", "end_time": ms(-60 * MINUTE)}, [IMG_TIMEOUT]),
        ({"type": "image_scan", "task_type": "manual", "task_status": "finished", "global_image_type": "registry"}, [IMG_BROKEN]),
    ],
    ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()) if isinstance(v, dict) else None,
)
def test_filters(huawei, query, expected):
    assert list_image_tasks(huawei, **query) == answer(pick(*expected))


def test_offset_and_limit(huawei):
    assert list_image_tasks(huawei, type="image_scan", offset=2, limit=10) == answer(pick(IMG_BROKEN, IMG_TIMEOUT), 4)
    assert list_image_tasks(huawei, type="image_scan", offset=4, limit=200) == answer([], 4)
    assert list_image_tasks(huawei, type="image_scan", offset=0, limit=10) == answer(IMAGE_SCANS_AT_T0)


def test_enterprise_projects(huawei):
    enterprise = image_task(IMG_ENTERPRISE, "sdk enterprise scan", "manual", ms(-50 * MINUTE), 100, end=ms(-40 * MINUTE),
                            success=4, total=4)
    assert list_image_tasks(huawei, type="image_scan", enterprise_project_id="ep-sdk") == answer([enterprise])
    everything = pick(IMG_POLLED, IMG_NIGHTLY, IMG_BROKEN) + [enterprise] + pick(IMG_TIMEOUT)
    assert list_image_tasks(huawei, type="image_scan", enterprise_project_id="all_granted_eps") == answer(everything)


def test_projects_are_separate_worlds(emu):
    other = clients.HuaweiClient(emu.url, OTHER_PROJECT)
    mine = image_task(IMG_OTHER_PROJECT, "sdk other project scan", "manual", ms(-30 * MINUTE), 100, end=ms(-20 * MINUTE),
                      success=2, total=2)
    assert list_image_tasks(other, type="image_scan") == answer([mine])
    assert list_image_tasks(other, type="image_sync") == answer([])


def test_counters_and_failed_images_grow_as_the_scan_runs(huawei, emu):
    def nightly():
        return list_image_tasks(huawei, type="image_scan", task_id=IMG_NIGHTLY)["data_list"][0]

    base = dict(pick(IMG_NIGHTLY)[0])
    assert nightly() == base
    emu.advance("5m")  # 15 of 20 minutes: 30 images processed, 1 of 2 failures, 4 of 6 risky
    assert nightly() == {**base, "task_status": 75, "remain_min": 5, "success_num": 29, "failed_num": 1, "risky_num": 4}
    emu.advance("5m")
    assert nightly() == {
        **base, "task_status": 100, "end_time": ms(10 * MINUTE), "remain_min": 0, "success_num": 38, "failed_num": 2,
        "risky_num": 6, "failed_images": [FAILED_NGINX, FAILED_REDIS],
    }


def test_a_queued_sync_waits_then_scans(huawei, emu):
    def queued():
        return list_image_tasks(huawei, type="image_sync", task_id=IMG_QUEUED)["data_list"][0]

    assert queued() == pick(IMG_QUEUED)[0]
    emu.advance("3m")  # waiting until 10:01:59, then 61 of 180 seconds scanned
    assert (queued()["task_status"], queued()["success_num"], queued()["remain_min"]) == (33, 3, 2)
    emu.advance("3m")
    assert queued() == image_task(IMG_QUEUED, "sdk queued manual sync", "manualSync", ms(-1000), 100,
                                  end=ms(5 * MINUTE - 1000), success=9, total=9)


def test_a_read_bounded_task_advances_per_poll(huawei, emu):
    seen = [list_image_tasks(huawei, type="image_scan", task_id=IMG_POLLED)["data_list"][0] for _ in range(5)]
    assert [(t["task_status"], t["success_num"], t["end_time"]) for t in seen] == [
        (0, 0, None), (0, 0, None), (50, 5, None), (100, 10, ms(0)), (100, 10, ms(0)),
    ]
    assert all(t["scan_scope"] == ALL_SCOPES for t in seen)
    assert emu.clock()["now"] == T0_TEXT
