"""What each SDK family really puts on the wire (sdk-notes §1), seen through the recording proxy, and
that the emulator answers each flavour. This is what makes the per-family tests elsewhere distinct:
V3 signs with a header and no Action parameter, v2 and the legacy core sign parameters, AVDS and
add_body_params send a form body, Huawei sends JSON with Content-Type even on GET."""

from __future__ import annotations

import json
import urllib.parse

from huaweicloudsdkhss.v5 import ListImageScanTaskRequest, ListTasksRequest, ListTasksRequestBody, ListTasksRequestBodyClusterScanInfo

import clients
from clients import ALIBABA_AK, HUAWEI_AK, PROJECT_ID, TEA_V2, TEA_V3, avds_models, ecs_models, sas_models
from world import ECS_FAILED, ECS_FINISHED


def test_tea_v3_signs_with_a_header_and_sends_action_only_as_a_header(wire):
    body = clients.tea_ecs(wire.endpoint, TEA_V3).describe_tasks(
        ecs_models.DescribeTasksRequest(region_id="cn-hangzhou", task_ids=f"{ECS_FINISHED},{ECS_FAILED}")
    ).body
    assert [t.task_id for t in body.task_set.task] == [ECS_FAILED, ECS_FINISHED]
    sent = wire.last
    assert (sent.method, sent.path) == ("POST", "/")
    assert sent.header("x-acs-action") == "DescribeTasks" and sent.header("x-acs-version") == "2014-05-26"
    assert sent.header("authorization").startswith(f"ACS3-HMAC-SHA256 Credential={ALIBABA_AK},SignedHeaders=")
    assert dict(sent.query) == {"RegionId": "cn-hangzhou", "TaskIds": f"{ECS_FINISHED},{ECS_FAILED}"}
    assert "%2C" in sent.raw_query and sent.body == b""
    assert sent.response_header("content-type") == "application/json;charset=utf-8"


def test_tea_v2_signs_the_parameters(wire):
    response = clients.tea_sas(wire.endpoint, TEA_V2).describe_scan_task_progress(sas_models.DescribeScanTaskProgressRequest(task_id=900003))
    assert response.body.scan_task_progress == "Failed"
    sent = wire.last
    assert (sent.param("Action"), sent.param("Version"), sent.param("Format")) == ("DescribeScanTaskProgress", "2018-12-03", "json")
    assert (sent.param("SignatureMethod"), sent.param("SignatureVersion"), sent.param("AccessKeyId")) == ("HMAC-SHA1", "1.0", ALIBABA_AK)
    assert sent.param("Signature") and sent.param("TaskId") == "900003"
    assert sent.param("RegionId") is None, "SAS's request model has no RegionId"
    assert sent.header("authorization") is None


def test_legacy_core_adds_region_format_and_an_empty_signature_type(wire):
    request = clients.legacy_describe_tasks()
    request.set_TaskStatus("Failed")
    answer = json.loads(clients.legacy_client(wire.port).do_action_with_exception(request))
    assert [t["TaskId"] for t in answer["TaskSet"]["Task"]] == [ECS_FAILED]
    sent = wire.last
    assert (sent.param("RegionId"), sent.param("Format"), sent.param("SignatureType")) == ("cn-hangzhou", "JSON", "")
    assert sent.param("Signature") and sent.header("x-sdk-invoke-type") == "normal"


def test_legacy_core_finds_the_endpoint_added_to_the_client(emu):
    # The other way to aim the legacy core: an endpoint entry for (region, product) on the client.
    client = clients.AcsClient(clients.ALIBABA_AK, clients.ALIBABA_SECRET, "cn-hangzhou", port=emu.port)
    client.add_endpoint("cn-hangzhou", "Ecs", "127.0.0.1")
    request = clients.LegacyDescribeTasks()
    request.set_protocol_type("http")
    request.set_TaskIds(ECS_FAILED)
    answer = json.loads(client.do_action_with_exception(request))
    assert [t["TaskId"] for t in answer["TaskSet"]["Task"]] == [ECS_FAILED]


def test_tea_avds_sends_a_form_body_with_a_flattened_status_list(wire):
    request = avds_models.DescribeScanSessionsRequest(status_list=["waiting", "running"], search="sdk one-off", page_size=5)
    body = clients.tea_avds(wire.endpoint).describe_scan_sessions(request).body
    assert [(s.task_id, s.job_status) for s in body.list] == [(3100001, "running")]
    sent = wire.last
    assert sent.header("content-type").startswith("application/x-www-form-urlencoded")
    assert sent.param("Action") == "DescribeScanSessions" and sent.param("StatusList.1") is None
    assert sent.form() == {"StatusList.1": "waiting", "StatusList.2": "running", "Search": "sdk one-off", "PageSize": "5"}
    assert b"Search=sdk+one-off" in sent.body, "the Tea SDKs encode a space as +"


def test_legacy_common_request_body_params_go_in_a_signed_form(wire):
    request = clients.legacy_common("avds", "2017-11-29", "DescribeScanSessions")
    request.add_body_params("ScanId", "5d1f0000-0000-4000-8000-00000000c003")
    answer = json.loads(clients.legacy_client(wire.port).do_action_with_exception(request))
    assert [s["TaskId"] for s in answer["List"]] == [3200001]
    sent = wire.last
    assert sent.header("content-type").startswith("application/x-www-form-urlencoded") and sent.header("content-md5")
    assert sent.form() == {"ScanId": "5d1f0000-0000-4000-8000-00000000c003"}
    assert sent.header("x-sdk-invoke-type") == "common"


def test_huawei_get_carries_a_canonical_query_and_json_content_type(wire):
    client = clients.HuaweiClient(f"http://{wire.endpoint}")
    response = client.list_image_scan_task(ListImageScanTaskRequest(type="image_sync", task_name="sdk automatic", limit=10))
    assert [t.task_name for t in response.data_list] == ["sdk automatic sync"]
    sent = wire.last
    assert (sent.method, sent.path) == ("GET", f"/v5/{PROJECT_ID}/image/tasks")
    assert sent.raw_query == "limit=10&task_name=sdk%20automatic&type=image_sync"
    assert sent.header("content-type") == "application/json" and sent.header("x-project-id") == PROJECT_ID
    assert sent.header("authorization").startswith(f"SDK-HMAC-SHA256 Access={HUAWEI_AK}, SignedHeaders=")
    assert sent.response_header("x-request-id") == client.last_headers["x-request-id"]


def test_huawei_post_sends_only_the_fields_set(wire):
    client = clients.HuaweiClient(f"http://{wire.endpoint}")
    body = ListTasksRequestBody(cluster_scan_info=ListTasksRequestBodyClusterScanInfo(scan_type_list=["risk_assessment"]))
    response = client.list_tasks(ListTasksRequest(body=body, limit=20))
    assert [t.task_name for t in response.data_list] == ["sdk cluster scan staging"]
    sent = wire.last
    assert (sent.method, sent.path, urllib.parse.parse_qs(sent.raw_query)) == (
        "POST", f"/v5/{PROJECT_ID}/common/tasks/batch-query", {"limit": ["20"]},
    )
    assert json.loads(sent.body) == {"cluster_scan_info": {"scan_type_list": ["risk_assessment"]}}
