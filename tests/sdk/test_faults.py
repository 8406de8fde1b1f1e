"""Fault injection (README "Fault injection", errors.md) as each official SDK meets it: an injected
error comes out as the SDK's own exception with the code, status, message and request id the
emulator sent; the legacy core retries ECS DescribeTasks (and only it) as sdk-notes §3.1 says, so the
journal (GET /_emu/requests) shows every attempt; Tea and Huawei never retry by default; a latency
rule delays a right answer. Rules are added with POST /_emu/faults; the autouse reset removes them.

The legacy core sleeps between retries (100/200/400 ms, or 250 ms..2 s jittered for throttling): its
`time` is swapped for a recorder so the suite stays fast and the delays become assertions too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import aliyunsdkcore.client
import pytest
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkhss.v5 import ListImageScanTaskRequest, ListTasksRequest, ListTasksRequestBody

import clients
from calls import (
    ALIBABA_CASES, AVDS, CANONICAL_ANSWERS, CASE_IDS, ECS, OPERATIONS, PRODUCT_CODES, SAS, TEA_AVDS, alibaba_error,
    canonical_call, ecs_ids,
)
from clients import ALIBABA_AK, ALIBABA_REQUEST_ID, HUAWEI_REQUEST_ID, LEGACY, TEA_V2, TEA_V3
from world import ECS_ORDER, IMAGE_SYNCS_AT_T0, SAS_AT_T0, TASKS_AT_T0

UNAVAILABLE = "The request has failed due to a temporary failure of the server."
INTERNAL = "The request processing has failed due to some unknown error, exception or failure."
THROTTLED = "Request was denied due to request throttling."
HW_INTERNAL = "Internal server error."
HW_THROTTLED = "The throttling threshold has been reached."

TEA_CASES = [(f, p) for f, p in ALIBABA_CASES if f != LEGACY]
TEA_IDS = [i for i, (f, _) in zip(CASE_IDS, ALIBABA_CASES) if f != LEGACY]


@pytest.fixture
def journal(emu):
    """The main instance with an empty request journal (a reset does not clear it)."""
    emu.clear_requests()
    return emu


@pytest.fixture
def legacy_sleeps(monkeypatch):
    """The legacy core's back-off delays, in seconds, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(aliyunsdkcore.client, "time", SimpleNamespace(sleep=slept.append))
    return slept


def attempts(emu, operation: str) -> list[tuple[int, str | None]]:
    return [(e["status"], e["error_code"]) for e in emu.requests(operation=operation)]


def check_error_envelope(error, emu, product, kind, status, code, message):
    """The exception carries what the emulator sent, and its request id is the last journal entry's."""
    assert (error.kind, error.status, error.code, error.message) == (kind, status, code, message)
    last = emu.requests(operation=OPERATIONS[product])[-1]
    assert error.request_id == last["request_id"]
    assert ALIBABA_REQUEST_ID.match(error.request_id)


# --- the reset and the rule list --------------------------------------------------------------------
def test_reset_clears_rules_added_at_run_time(emu):
    assert emu.faults() == [], "the suite's scenario declares no fault rule"
    [rule_id] = emu.add_fault({"operation": "DescribeScanTaskProgress", "error": {"code": "ServiceUnavailable"}})
    [rule] = emu.faults()
    assert (rule["id"], rule["operation"], rule["remaining"], rule["fired"]) == (rule_id, "DescribeScanTaskProgress", None, 0)
    error = alibaba_error(lambda: canonical_call(emu, TEA_V3, SAS))
    assert (error.status, error.code) == (503, "ServiceUnavailable")
    assert emu.faults()[0]["fired"] == 1
    emu.reset()
    assert emu.faults() == []
    assert canonical_call(emu, TEA_V3, SAS) == CANONICAL_ANSWERS[SAS]


def test_reset_restores_the_rules_a_scenario_declares(start_emulator):
    here = Path(__file__).resolve().parent
    server = start_emulator([*sorted((here / "scenarios").glob("*.toml")), here / "scenarios" / "faults" / "declared.toml"], "faults")
    for _ in range(2):
        [rule] = server.faults()
        assert (rule["operation"], rule["error"]["code"], rule["remaining"]) == ("DescribeScanSessions", "ServiceUnavailable", 1)
        server.add_fault({"operation": "DescribeTasks", "error": {"code": "InternalError"}})
        assert len(server.faults()) == 2
        error = alibaba_error(lambda: canonical_call(server, TEA_AVDS, AVDS))
        assert (error.kind, error.status, error.code) == ("ServerException", 503, "ServiceUnavailable")
        assert canonical_call(server, TEA_AVDS, AVDS) == CANONICAL_ANSWERS[AVDS], "times = 1"
        assert alibaba_error(lambda: canonical_call(server, TEA_V3, ECS)).code == "InternalError"
        server.reset()  # back to the scenario's one rule, unused; the run-time rule is gone
    assert canonical_call(server, TEA_V3, ECS) == CANONICAL_ANSWERS[ECS]
    assert server.clear_faults() == 1
    assert canonical_call(server, TEA_AVDS, AVDS) == CANONICAL_ANSWERS[AVDS]


def test_rules_are_removed_one_by_one_or_all_at_once(emu):
    first, second = emu.add_fault({"operation": "DescribeTasks", "error": {"code": "InternalError"}},
                                  {"operation": "DescribeScanSessions", "error": {"code": "InternalError"}})
    assert emu.control("DELETE", f"/_emu/faults/{first}") == {"deleted": first}
    assert [r["id"] for r in emu.faults()] == [second]
    assert canonical_call(emu, TEA_V3, ECS) == CANONICAL_ANSWERS[ECS]
    assert alibaba_error(lambda: canonical_call(emu, TEA_AVDS, AVDS)).code == "InternalError"
    assert emu.clear_faults() == 1
    assert canonical_call(emu, TEA_AVDS, AVDS) == CANONICAL_ANSWERS[AVDS]


def test_a_rule_for_another_operation_changes_nothing(journal):
    journal.add_fault({"operation": "ListTasks", "error": {"code": "HSS.0041"}})
    for family, product in ALIBABA_CASES:
        assert canonical_call(journal, family, product) == CANONICAL_ANSWERS[product]
    assert journal.faults()[0]["fired"] == 0


# --- the legacy core: ECS DescribeTasks is retried ---------------------------------------------------
# (rule error, HTTP status, Code, Message, back-off kind)
RETRIED = [
    ({"code": "ServiceUnavailable"}, 503, "ServiceUnavailable", UNAVAILABLE, "plain"),
    ({"code": "InternalError"}, 500, "InternalError", INTERNAL, "plain"),
    ({"code": "Throttling"}, 400, "Throttling", THROTTLED, "throttled"),
    # retried for its status alone: 502 is in the SDK's list, the code is not
    ({"code": "BadGateway", "status": 502, "message": "upstream went away"}, 502, "BadGateway", "upstream went away", "plain"),
]
RETRIED_IDS = ["503-ServiceUnavailable", "500-InternalError", "400-Throttling", "502-by-status"]


def check_backoff(slept, kind, retries):
    if kind == "plain":  # ExponentialBackoffStrategy(100 ms, 20 s)
        assert slept == [0.1, 0.2, 0.4][:retries]
    else:  # JitteredExponentialBackoffStrategy(500 ms, 20 s): between half and all of 500 << n
        assert len(slept) == retries
        for n, delay in enumerate(slept):
            assert (500 << n) / 2000 <= delay <= (500 << n) / 1000


@pytest.mark.parametrize("error, status, code, message, backoff", RETRIED, ids=RETRIED_IDS)
def test_legacy_describe_tasks_succeeds_on_the_fourth_request(journal, legacy_sleeps, error, status, code, message, backoff):
    journal.add_fault({"operation": "DescribeTasks", "error": error, "times": 3})
    assert ecs_ids(journal, LEGACY) == ECS_ORDER
    assert attempts(journal, "DescribeTasks") == [(status, code)] * 3 + [(200, None)]
    assert journal.faults() == [], "the rule is used up"
    check_backoff(legacy_sleeps, backoff, 3)


@pytest.mark.parametrize("error, status, code, message, backoff", RETRIED, ids=RETRIED_IDS)
def test_legacy_describe_tasks_gives_up_after_four_requests(journal, legacy_sleeps, error, status, code, message, backoff):
    journal.add_fault({"operation": "DescribeTasks", "error": error, "times": 4})
    failure = alibaba_error(lambda: ecs_ids(journal, LEGACY))
    check_error_envelope(failure, journal, ECS, "ServerException", status, code, message)
    assert attempts(journal, "DescribeTasks") == [(status, code)] * 4
    assert journal.faults() == []
    check_backoff(legacy_sleeps, backoff, 3)


def test_legacy_describe_tasks_over_a_throttle_limit(journal, legacy_sleeps):
    journal.add_fault({"operation": "DescribeTasks", "throttle": 1})
    assert ecs_ids(journal, LEGACY) == ECS_ORDER  # the one request this second allows
    failure = alibaba_error(lambda: ecs_ids(journal, LEGACY))  # no real sleeps: all four within the second
    check_error_envelope(failure, journal, ECS, "ServerException", 400, "Throttling", THROTTLED)
    assert attempts(journal, "DescribeTasks") == [(200, None)] + [(400, "Throttling")] * 4
    check_backoff(legacy_sleeps, "throttled", 3)
    assert journal.faults()[0]["fired"] == 4


@pytest.mark.parametrize("product", [SAS, AVDS])
@pytest.mark.parametrize("error, status, code, message", [
    ({"code": "ServiceUnavailable"}, 503, "ServiceUnavailable", UNAVAILABLE),
    ({"code": "InternalError"}, 500, "InternalError", INTERNAL),
    ({"code": "Throttling"}, 400, "Throttling", THROTTLED),
], ids=["503", "500", "throttling"])
def test_legacy_retries_no_other_operation(journal, legacy_sleeps, product, error, status, code, message):
    journal.add_fault({"operation": OPERATIONS[product], "error": error, "times": 4})
    failure = alibaba_error(lambda: canonical_call(journal, LEGACY, product))
    check_error_envelope(failure, journal, product, "ServerException", status, code, message)
    assert attempts(journal, OPERATIONS[product]) == [(status, code)]
    assert legacy_sleeps == []
    assert journal.faults()[0]["remaining"] == 3


# --- Tea: ServerException / ThrottlingException, one request -----------------------------------------
@pytest.mark.parametrize("family, product", TEA_CASES, ids=TEA_IDS)
@pytest.mark.parametrize("error, status, code, message", [
    ({"code": "ServiceUnavailable"}, 503, "ServiceUnavailable", UNAVAILABLE),
    ({"code": "InternalError"}, 500, "InternalError", INTERNAL),
], ids=["503", "500"])
def test_tea_raises_server_exception_for_5xx(wire, journal, family, product, error, status, code, message):
    journal.add_fault({"operation": OPERATIONS[product], "error": error, "times": 2})
    failure = alibaba_error(lambda: canonical_call(wire, family, product))
    check_error_envelope(failure, journal, product, "ServerException", status, code, message)
    body = json.loads(wire.last.response_body)
    assert failure.request_id == body["RequestId"]
    assert failure.raw.data == {**body, "statusCode": status}
    assert body["Recommend"] == f"https://api.aliyun.com/troubleshoot?q={code}&product={PRODUCT_CODES[product]}"
    assert wire.last.response_header("x-acs-retry-after") is None
    assert attempts(journal, OPERATIONS[product]) == [(status, code)], "Tea does not retry by default"
    assert journal.faults()[0]["remaining"] == 1


def check_throttling(failure, wire, journal, product):
    assert isinstance(failure.raw, ThrottlingException)
    check_error_envelope(failure, journal, product, "ThrottlingException", 400, "Throttling", THROTTLED)
    assert failure.raw.retry_after == 1000
    assert wire.last.response_header("x-acs-retry-after") == "1000"
    assert failure.request_id == json.loads(wire.last.response_body)["RequestId"]


@pytest.mark.parametrize("family, product", TEA_CASES, ids=TEA_IDS)
def test_tea_raises_throttling_exception_over_a_throttle_limit(wire, journal, family, product):
    journal.add_fault({"operation": OPERATIONS[product], "throttle": 1})
    assert canonical_call(wire, family, product) == CANONICAL_ANSWERS[product]
    failure = alibaba_error(lambda: canonical_call(wire, family, product))
    check_throttling(failure, wire, journal, product)
    assert attempts(journal, OPERATIONS[product]) == [(200, None), (400, "Throttling")]


@pytest.mark.parametrize("family, product", TEA_CASES, ids=TEA_IDS)
def test_tea_raises_throttling_exception_for_a_throttling_error_rule(wire, journal, family, product):
    journal.add_fault({"operation": OPERATIONS[product], "error": {"code": "Throttling"}, "times": 1})
    failure = alibaba_error(lambda: canonical_call(wire, family, product))
    check_throttling(failure, wire, journal, product)
    assert attempts(journal, OPERATIONS[product]) == [(400, "Throttling")]
    assert canonical_call(wire, family, product) == CANONICAL_ANSWERS[product], "times = 1: the next call passes"


# --- Huawei: ServerResponseException / ClientRequestException ----------------------------------------
def huawei_call(client, operation):
    if operation == "ListTasks":
        return [t.task_id for t in client.list_tasks(ListTasksRequest(body=ListTasksRequestBody())).data_list]
    return [t.task_id for t in client.list_image_scan_task(ListImageScanTaskRequest(type="image_sync")).data_list]


HUAWEI_ANSWERS = {"ListTasks": [t["task_id"] for t in TASKS_AT_T0], "ListImageScanTask": [t["task_id"] for t in IMAGE_SYNCS_AT_T0]}
HUAWEI_OPERATIONS = list(HUAWEI_ANSWERS)


def huawei_failure(wire, journal, operation, exception_class, status, code, message):
    client = clients.HuaweiClient(f"http://{wire.endpoint}")
    with pytest.raises(exception_class) as caught:
        huawei_call(client, operation)
    error = caught.value
    assert (error.status_code, error.error_code, error.error_msg) == (status, code, message)
    assert error.request_id == client.last_headers["x-request-id"] == wire.last.response_header("x-request-id")
    assert HUAWEI_REQUEST_ID.match(error.request_id)
    assert journal.requests(operation=operation)[-1]["request_id"] == error.request_id
    return client, json.loads(wire.last.response_body)


@pytest.mark.parametrize("operation", HUAWEI_OPERATIONS)
def test_huawei_server_response_exception_for_a_500(wire, journal, operation):
    journal.add_fault({"operation": operation, "error": {"code": "HSS.1001"}, "times": 2})
    _, body = huawei_failure(wire, journal, operation, ServerResponseException, 500, "HSS.1001", HW_INTERNAL)
    assert body == {"error_code": "HSS.1001", "error_msg": HW_INTERNAL}, "a service error has no request_id in the body"
    assert attempts(journal, operation) == [(500, "HSS.1001")], "no retries by default"
    assert journal.faults()[0]["remaining"] == 1


def test_huawei_an_error_rule_with_its_own_status_and_message(wire, journal):
    journal.add_fault({"operation": "ListTasks", "error": {"code": "HSS.1002", "status": 502, "message": "scan engine unreachable"}})
    huawei_failure(wire, journal, "ListTasks", ServerResponseException, 502, "HSS.1002", "scan engine unreachable")


def test_huawei_client_request_exception_over_a_throttle_limit(wire, journal):
    journal.add_fault({"operation": "ListTasks", "throttle": 1})
    assert huawei_call(clients.HuaweiClient(f"http://{wire.endpoint}"), "ListTasks") == HUAWEI_ANSWERS["ListTasks"]
    _, body = huawei_failure(wire, journal, "ListTasks", ClientRequestException, 429, "APIGW.0308", HW_THROTTLED)
    # A gateway error carries the request id in the body too (the SDK reads only the header).
    assert body == {"error_code": "APIGW.0308", "error_msg": HW_THROTTLED, "request_id": wire.last.response_header("x-request-id")}
    assert attempts(journal, "ListTasks") == [(200, None), (429, "APIGW.0308")]


def test_huawei_a_throttling_error_rule(wire, journal):
    journal.add_fault({"operation": "ListTasks", "error": {"code": "APIGW.0308"}, "times": 1})
    huawei_failure(wire, journal, "ListTasks", ClientRequestException, 429, "APIGW.0308", HW_THROTTLED)
    assert attempts(journal, "ListTasks") == [(429, "APIGW.0308")]


@pytest.mark.parametrize("rule", [{"throttle": 1}, {"error": {"code": "APIGW.0308"}, "times": 1}], ids=["throttle", "error-rule"])
def test_huawei_a_429_to_a_get_never_reaches_the_sdks_error_parser(wire, journal, rule):
    # huaweicloudsdkcore 3.1.219 mounts urllib3 Retry(total=retry_times=0, status_forcelist=[429]):
    # for an idempotent GET (ListImageScanTask) a 429 exhausts it at once, requests raises
    # RetryError, and the SDK makes a ClientRequestException of its own: error_code "429", no request
    # id, the urllib3 message. POST (ListTasks) is not retried by urllib3, so its 429 is parsed.
    journal.add_fault({"operation": "ListImageScanTask", **rule})
    client = clients.HuaweiClient(f"http://{wire.endpoint}")
    if "throttle" in rule:
        assert huawei_call(client, "ListImageScanTask") == HUAWEI_ANSWERS["ListImageScanTask"]
    with pytest.raises(ClientRequestException) as caught:
        huawei_call(client, "ListImageScanTask")
    error = caught.value
    assert (error.status_code, error.error_code, error.request_id) == (429, "429", "")
    assert "too many 429 error responses" in error.error_msg
    # What the emulator sent is still the gateway's throttling error, once (no retry).
    assert json.loads(wire.last.response_body) == {
        "error_code": "APIGW.0308", "error_msg": HW_THROTTLED, "request_id": wire.last.response_header("x-request-id")}
    assert attempts(journal, "ListImageScanTask")[-1:] == [(429, "APIGW.0308")]
    assert len(journal.requests(operation="ListImageScanTask")) == (2 if "throttle" in rule else 1)


# --- latency ----------------------------------------------------------------------------------------
LATENCY_S = 0.3


@pytest.mark.parametrize("family", [TEA_V3, TEA_V2, LEGACY])
def test_a_latency_rule_delays_a_right_answer_alibaba(journal, family):
    journal.add_fault({"operation": "DescribeScanTaskProgress", "latency": "300ms"})
    started = time.monotonic()
    assert canonical_call(journal, family, SAS) == SAS_AT_T0[900003]
    assert time.monotonic() - started >= LATENCY_S
    [entry] = journal.requests(operation="DescribeScanTaskProgress")
    assert (entry["status"], entry["tenant"]) == (200, ALIBABA_AK)
    assert entry["latency_us"] >= LATENCY_S * 1_000_000


@pytest.mark.parametrize("operation", HUAWEI_OPERATIONS)
def test_a_latency_rule_delays_a_right_answer_huawei(journal, operation):
    journal.add_fault({"operation": operation, "latency": "300ms"})
    started = time.monotonic()
    assert huawei_call(clients.HuaweiClient(journal.url), operation) == HUAWEI_ANSWERS[operation]
    assert time.monotonic() - started >= LATENCY_S
    [entry] = journal.requests(operation=operation)
    assert entry["status"] == 200 and entry["latency_us"] >= LATENCY_S * 1_000_000


def test_a_latency_range_and_a_wildcard_operation(journal):
    journal.add_fault({"latency": "200ms..400ms", "times": 2})
    for family, product in ((TEA_V3, ECS), (TEA_AVDS, AVDS)):
        started = time.monotonic()
        assert canonical_call(journal, family, product) == CANONICAL_ANSWERS[product]
        assert time.monotonic() - started >= 0.2
    assert journal.faults() == [], "times = 2: used up by the two calls, whatever their operation"
    assert canonical_call(journal, TEA_V3, SAS) == CANONICAL_ANSWERS[SAS]
    assert [e["latency_us"] >= 200_000 for e in journal.requests()] == [True, True, False]
