"""Every error path as each SDK surfaces it: its own exception class, with the code, message, HTTP
status and request id the emulator sent (errors.md). Alibaba calls go through the recording proxy so
that the request id the SDK reports can be checked against the body that crossed the wire; Huawei's
is checked against the X-Request-Id response header, the only place that SDK reads it from."""

from __future__ import annotations

import json

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from darabonba.runtime import RuntimeOptions
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkhss.v5 import ListImageScanTaskRequest, ListTasksRequest, ListTasksRequestBody, ListTasksRequestBodyIacScanInfo

import clients
from clients import ALIBABA_REQUEST_ID, HUAWEI_REQUEST_ID, LEGACY, TEA_V2, TEA_V3, avds_models, ecs_models, sas_models
from world import MINUTE, ms

HOSTS = {"Ecs": "ecs.aliyuncs.com", "Sas": "tds.aliyuncs.com", "avds": "avds.aliyuncs.com"}


def missing(name):
    return f'An input parameter "{name}" that is mandatory for processing the request is not supplied.'


def invalid(name):
    return f'The specified parameter "{name}" is not valid.'


def check_tea(error, wire, status, code, message, product):
    assert isinstance(error, TeaClientException)
    assert (error.status_code, error.code) == (status, code)
    assert error.request_id == json.loads(wire.last.response_body)["RequestId"]
    assert ALIBABA_REQUEST_ID.match(error.request_id)
    assert error.message == f"code: {status}, {message} request id: {error.request_id}"
    assert error.data == {
        "RequestId": error.request_id,
        "HostId": HOSTS[product],
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product={product}",
        "statusCode": status,
    }
    assert wire.last.status == status
    assert wire.last.response_header("content-type") == "application/json;charset=utf-8"


def check_legacy(error, wire, status, code, message):
    assert isinstance(error, LegacyServerException)
    assert (error.get_http_status(), error.get_error_code(), error.get_error_msg()) == (status, code, message)
    assert error.get_request_id() == json.loads(wire.last.response_body)["RequestId"]
    assert ALIBABA_REQUEST_ID.match(error.get_request_id())


# --- ECS DescribeTasks -----------------------------------------------------------------------------
ECS_CASES = [
    # (request fields, HTTP status, Code, Message)
    ({"region_id": "cn-nowhere-9"}, 400, "InvalidRegionId.NotFound", "The specified RegionId does not exist."),
    ({"page_size": 101}, 400, "InvalidParameter", invalid("PageSize")),
    ({"page_size": 0}, 400, "InvalidParameter", invalid("PageSize")),
    ({"page_number": 0}, 400, "InvalidParameter", invalid("PageNumber")),
    ({"task_action": "RebootInstance"}, 400, "InvalidParameter", invalid("TaskAction")),
    ({"start_time": "yesterday"}, 400, "InvalidParameter", invalid("StartTime")),
    ({"start_time": "2030-01-15T10:00:00Z", "end_time": "2030-01-15T09:00:00Z"}, 400, "InvalidParameter", invalid("EndTime")),
    ({"task_ids": ",".join(f"t-sdk{i:03}" for i in range(101))}, 400, "InvalidParameter", invalid("TaskIds")),
]
ECS_IDS = ["region", "page-size-101", "page-size-0", "page-number-0", "task-action", "start-time", "end-before-start", "101-task-ids"]


@pytest.mark.parametrize("family", [TEA_V3, TEA_V2])
@pytest.mark.parametrize("fields, status, code, message", ECS_CASES, ids=ECS_IDS)
def test_ecs_tea(wire, family, fields, status, code, message):
    request = ecs_models.DescribeTasksRequest(**{"region_id": "cn-hangzhou", **fields})
    with pytest.raises(TeaClientException) as caught:
        clients.tea_ecs(wire.endpoint, family).describe_tasks(request)
    check_tea(caught.value, wire, status, code, message, "Ecs")


@pytest.mark.parametrize("fields, status, code, message", ECS_CASES, ids=ECS_IDS)
def test_ecs_legacy(wire, fields, status, code, message):
    fields = dict(fields)
    region = fields.pop("region_id", "cn-hangzhou")
    request = clients.legacy_describe_tasks()
    for name, value in fields.items():
        getattr(request, "set_" + "".join(part.capitalize() for part in name.split("_")))(value)
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port, region).do_action_with_exception(request)
    check_legacy(caught.value, wire, status, code, message)
    assert len(wire.exchanges) == 1, "a 400 is not retried"


@pytest.mark.parametrize("family", [TEA_V3, TEA_V2])
def test_ecs_tea_without_region_id_is_missing_parameter(wire, family):
    # Tea sends RegionId only when the request model sets it.
    with pytest.raises(TeaClientException) as caught:
        clients.tea_ecs(wire.endpoint, family).describe_tasks(ecs_models.DescribeTasksRequest(page_size=5))
    assert wire.last.param("RegionId") is None
    check_tea(caught.value, wire, 400, "MissingParameter", missing("RegionId"), "Ecs")


def test_ecs_legacy_with_an_empty_region_is_missing_parameter(wire):
    # The legacy core always sends the client's region: an empty one goes out as `RegionId=`.
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port, "").do_action_with_exception(clients.legacy_describe_tasks())
    assert wire.last.param("RegionId") == ""
    check_legacy(caught.value, wire, 400, "MissingParameter", missing("RegionId"))


@pytest.mark.parametrize("family", [TEA_V3, TEA_V2])
def test_an_unknown_action_is_invalid_action_not_found(wire, family):
    client = clients.tea_ecs(wire.endpoint, family)
    params = Params(action="DescribeTaskz", version="2014-05-26", protocol="HTTP", pathname="/", method="POST",
                    auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    request = OpenApiRequest(query={"RegionId": "cn-hangzhou"})
    with pytest.raises(TeaClientException) as caught:
        client.call_api(params, request, RuntimeOptions())
    check_tea(caught.value, wire, 404, "InvalidAction.NotFound",
              "Specified api is not found, please check your url and method.", "Ecs")


def test_an_unknown_action_through_the_legacy_common_request(wire):
    request = clients.legacy_common("Ecs", "2014-05-26", "DescribeTaskz")
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port).do_action_with_exception(request)
    check_legacy(caught.value, wire, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")


def test_an_unknown_version_through_the_legacy_common_request(wire):
    request = clients.legacy_common("Ecs", "2099-01-01", "DescribeTasks")
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port).do_action_with_exception(request)
    error = caught.value
    assert (error.get_http_status(), error.get_error_code()) == (400, "InvalidVersion")
    assert error.get_request_id() == json.loads(wire.last.response_body)["RequestId"]


# --- SAS DescribeScanTaskProgress ------------------------------------------------------------------
SAS_CASES = [
    ({}, 400, "MissingParameter", missing("TaskId")),
    ({"task_id": "not-a-number"}, 400, "InvalidParameter", invalid("TaskId")),
    ({"task_id": 123}, 400, "InvalidTaskId.NotFound", "The specified TaskId 123 does not exist."),
]
SAS_IDS = ["missing", "not-a-number", "unknown"]


@pytest.mark.parametrize("family", [TEA_V3, TEA_V2])
@pytest.mark.parametrize("fields, status, code, message", SAS_CASES, ids=SAS_IDS)
def test_sas_tea(wire, family, fields, status, code, message):
    with pytest.raises(TeaClientException) as caught:
        clients.tea_sas(wire.endpoint, family).describe_scan_task_progress(sas_models.DescribeScanTaskProgressRequest(**fields))
    check_tea(caught.value, wire, status, code, message, "Sas")


@pytest.mark.parametrize("fields, status, code, message", SAS_CASES, ids=SAS_IDS)
def test_sas_legacy(wire, fields, status, code, message):
    request = clients.legacy_scan_task_progress()
    if "task_id" in fields:
        request.set_TaskId(fields["task_id"])
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port).do_action_with_exception(request)
    check_legacy(caught.value, wire, status, code, message)


def test_a_sas_task_created_later_does_not_exist_yet(wire, emu):
    emu.set_clock("2030-01-15T09:59:00Z")  # task 900001 is created at 09:59:55
    with pytest.raises(TeaClientException) as caught:
        clients.tea_sas(wire.endpoint).describe_scan_task_progress(sas_models.DescribeScanTaskProgressRequest(task_id=900001))
    check_tea(caught.value, wire, 400, "InvalidTaskId.NotFound", "The specified TaskId 900001 does not exist.", "Sas")


# --- AVDS DescribeScanSessions ---------------------------------------------------------------------
AVDS_CASES = [
    ({"page_size": 101}, invalid("PageSize")),
    ({"current_page": 0}, invalid("CurrentPage")),
    ({"status_list": ["paused"]}, invalid("StatusList")),
]
AVDS_IDS = ["page-size", "current-page", "status-list"]


@pytest.mark.parametrize("fields, message", AVDS_CASES, ids=AVDS_IDS)
def test_avds_tea(wire, fields, message):
    with pytest.raises(TeaClientException) as caught:
        clients.tea_avds(wire.endpoint).describe_scan_sessions(avds_models.DescribeScanSessionsRequest(**fields))
    check_tea(caught.value, wire, 400, "InvalidParameter", message, "avds")


@pytest.mark.parametrize("fields, message", AVDS_CASES, ids=AVDS_IDS)
def test_avds_legacy(wire, fields, message):
    request = clients.legacy_common("avds", "2017-11-29", "DescribeScanSessions")
    for name, value in fields.items():
        if name == "status_list":
            for i, status in enumerate(value, start=1):
                request.add_query_param(f"StatusList.{i}", status)
        else:
            request.add_query_param({"page_size": "PageSize", "current_page": "CurrentPage"}[name], value)
    with pytest.raises(LegacyServerException) as caught:
        clients.legacy_client(wire.port).do_action_with_exception(request)
    check_legacy(caught.value, wire, 400, "InvalidParameter", message)


# --- Huawei HSS ------------------------------------------------------------------------------------
def check_huawei(error, client, parameter):
    assert isinstance(error, ClientRequestException)
    assert (error.status_code, error.error_code, error.error_msg) == (400, "HSS.0001", f"Invalid parameter: {parameter}")
    assert error.request_id == client.last_headers["x-request-id"]
    assert HUAWEI_REQUEST_ID.match(error.request_id)


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"type": "image_scan", "limit": 5}, "limit"),
        ({"type": "image_scan", "limit": 201}, "limit"),
        ({"type": "image_scan", "offset": 2_000_001}, "offset"),
        ({"type": "image_scan", "offset": -1}, "offset"),
        ({}, "type"),
        ({"task_type": "manual"}, "type"),
        ({"type": "image_everything"}, "type"),
        ({"type": "image_scan", "task_type": "weekly"}, "task_type"),
        ({"type": "image_scan", "global_image_type": "remote"}, "global_image_type"),
        ({"type": "image_scan", "task_status": "paused"}, "task_status"),
        ({"type": "image_scan", "task_name": "x" * 257}, "task_name"),
        ({"type": "image_scan", "create_time": 4_070_880_000_001}, "create_time"),
        ({"type": "image_scan", "create_time": ms(0), "end_time": ms(-MINUTE)}, "end_time"),
    ],
    ids=lambda v: "-".join(f"{k}={str(v)[:12]}" for k, v in v.items()) or "no-type" if isinstance(v, dict) else v,
)
def test_list_image_scan_task(huawei, query, parameter):
    with pytest.raises(ClientRequestException) as caught:
        huawei.list_image_scan_task(ListImageScanTaskRequest(**query))
    check_huawei(caught.value, huawei, parameter)


@pytest.mark.parametrize(
    "query, body, parameter",
    [
        ({"limit": 5}, {}, "limit"),
        ({"offset": 2_000_001}, {}, "offset"),
        ({}, {"sort_dir": "sideways"}, "sort_dir"),
        ({}, {"sort_key": "end_time"}, "sort_key"),
        ({}, {"task_status": "paused"}, "task_status"),
        ({}, {"task_type": "vm_scan"}, "task_type"),
        ({}, {"trigger_type": "cron"}, "trigger_type"),
        ({}, {"start_create_time": ms(0), "end_create_time": ms(-MINUTE)}, "end_create_time"),
        ({}, {"iac_scan_info": ListTasksRequestBodyIacScanInfo(file_type="helm")}, "iac_scan_info.file_type"),
    ],
    ids=["limit", "offset", "sort_dir", "sort_key", "task_status", "task_type", "trigger_type", "end-before-start", "file_type"],
)
def test_list_tasks(huawei, query, body, parameter):
    with pytest.raises(ClientRequestException) as caught:
        huawei.list_tasks(ListTasksRequest(body=ListTasksRequestBody(**body), **query))
    check_huawei(caught.value, huawei, parameter)


def test_a_project_id_over_256_characters(emu):
    client = clients.HuaweiClient(emu.url, "p" * 257)
    with pytest.raises(ClientRequestException) as caught:
        client.list_tasks(ListTasksRequest(body=ListTasksRequestBody()))
    check_huawei(caught.value, client, "project_id")
