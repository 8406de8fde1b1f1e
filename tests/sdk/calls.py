"""One canonical call per (SDK family, Alibaba product), for the tests that judge who may call and
who sees what (test_auth.py, test_tenants.py) rather than the shape of every field (the per-operation
modules do that), plus the two exception classes reduced to one comparable form.

A `target` is anything with `.endpoint` (host:port, for Tea) and `.port` (for the legacy core): an
`Emulator` or a `WireRecorder`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException

import clients
from clients import ALIBABA_AK, ALIBABA_REQUEST_ID, ALIBABA_SECRET, LEGACY, TEA_V2, TEA_V3, avds_models, ecs_models, sas_models
from world import ECS_FAILED, ECS_FINISHED, ONE_OFF

ECS, SAS, AVDS = "ecs", "sas", "avds"
TEA_AVDS = "tea-avds"

# Every (family, product) pair an Alibaba SDK offers for the three operations.
ALIBABA_CASES = [
    (TEA_V3, ECS), (TEA_V2, ECS), (LEGACY, ECS),
    (TEA_V3, SAS), (TEA_V2, SAS), (LEGACY, SAS),
    (TEA_AVDS, AVDS), (LEGACY, AVDS),
]
CASE_IDS = [f"{family}-{product}" for family, product in ALIBABA_CASES]
HOST_IDS = {ECS: "ecs.aliyuncs.com", SAS: "tds.aliyuncs.com", AVDS: "avds.aliyuncs.com"}
PRODUCT_CODES = {ECS: "Ecs", SAS: "Sas", AVDS: "avds"}
OPERATIONS = {ECS: "DescribeTasks", SAS: "DescribeScanTaskProgress", AVDS: "DescribeScanSessions"}


def ecs_ids(target, family: str, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET, region: str = "cn-hangzhou", **filters) -> list[str]:
    """DescribeTasks: the TaskIds answered, in answer order."""
    if family == LEGACY:
        request = clients.legacy_describe_tasks()
        for name, value in filters.items():
            getattr(request, "set_" + "".join(part.capitalize() for part in name.split("_")))(value)
        raw = json.loads(clients.legacy_client(target.port, region, ak, secret).do_action_with_exception(request))
        assert ALIBABA_REQUEST_ID.match(raw["RequestId"])
        assert raw["TotalCount"] == len(raw["TaskSet"]["Task"]), "one page is enough for these tests"
        return [t["TaskId"] for t in raw["TaskSet"]["Task"]]
    response = clients.tea_ecs(target.endpoint, family, ak=ak, secret=secret).describe_tasks(
        ecs_models.DescribeTasksRequest(region_id=region, **filters))
    body = response.body
    assert body is not None, f"the Tea model could not parse the answer: {response._map}"
    assert ALIBABA_REQUEST_ID.match(body.request_id)
    assert body.total_count == len(body.task_set.task), "one page is enough for these tests"
    return [t.task_id for t in body.task_set.task]


def sas_status(target, family: str, task_id: int, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> str:
    """DescribeScanTaskProgress: ScanTaskProgress."""
    if family == LEGACY:
        request = clients.legacy_scan_task_progress()
        request.set_TaskId(task_id)
        raw = json.loads(clients.legacy_client(target.port, ak=ak, secret=secret).do_action_with_exception(request))
        assert ALIBABA_REQUEST_ID.match(raw["RequestId"])
        return raw["ScanTaskProgress"]
    body = clients.tea_sas(target.endpoint, family, ak=ak, secret=secret).describe_scan_task_progress(
        sas_models.DescribeScanTaskProgressRequest(task_id=task_id)).body
    assert ALIBABA_REQUEST_ID.match(body.request_id)
    return body.scan_task_progress


def avds_sessions(target, family: str, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET, **filters) -> list[tuple[int, str]]:
    """DescribeScanSessions: (TaskId, JobStatus) of each session answered, in answer order."""
    if family == LEGACY:
        request = clients.legacy_common("avds", "2017-11-29", "DescribeScanSessions")
        for name, value in filters.items():
            request.add_query_param({"scan_id": "ScanId", "search": "Search", "page_size": "PageSize"}[name], value)
        raw = json.loads(clients.legacy_client(target.port, ak=ak, secret=secret).do_action_with_exception(request))
        assert ALIBABA_REQUEST_ID.match(raw["RequestId"])
        assert raw["TotalCount"] == raw["Count"] == len(raw["List"]), "one page is enough for these tests"
        return [(s["TaskId"], s["JobStatus"]) for s in raw["List"]]
    body = clients.tea_avds(target.endpoint, ak=ak, secret=secret).describe_scan_sessions(
        avds_models.DescribeScanSessionsRequest(**filters)).body
    assert ALIBABA_REQUEST_ID.match(body.request_id)
    assert body.total_count == body.count == len(body.list), "one page is enough for these tests"
    return [(s.task_id, s.job_status) for s in body.list]


def canonical_call(target, family: str, product: str, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET):
    """One read of shared, time-bounded tasks of conformance.toml; compare with CANONICAL_ANSWERS."""
    if product == ECS:
        return ecs_ids(target, family, ak, secret, task_ids=f"{ECS_FINISHED},{ECS_FAILED}")
    if product == SAS:
        return sas_status(target, family, 900003, ak, secret)
    return avds_sessions(target, family, ak, secret, scan_id=ONE_OFF)


CANONICAL_ANSWERS = {
    ECS: [ECS_FAILED, ECS_FINISHED],  # newest first
    SAS: "Failed",
    AVDS: [(3100001, "running")],
}


@dataclass
class AlibabaError:
    """What an SDK exception says, whichever family raised it."""

    kind: str  # the exception class name
    status: int
    code: str
    message: str  # the server's Message as the SDK exposes it
    request_id: str
    raw: Exception


def alibaba_error(call) -> AlibabaError:
    """Runs `call`, which must raise the SDK's error, and reads the exception through its own API."""
    try:
        call()
    except AlibabaCloudException as e:  # Tea: ClientException, ServerException, ThrottlingException
        prefix, suffix = f"code: {e.status_code}, ", f" request id: {e.request_id}"
        assert e.message.startswith(prefix) and e.message.endswith(suffix), e.message
        return AlibabaError(type(e).__name__, e.status_code, e.code, e.message[len(prefix):-len(suffix)], e.request_id, e)
    except LegacyServerException as e:
        return AlibabaError(type(e).__name__, e.get_http_status(), e.get_error_code(), e.get_error_msg(), e.get_request_id(), e)
    raise AssertionError("the call succeeded; an error was expected")
