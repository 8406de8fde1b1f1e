"""Authentication as each official SDK meets it (README "Authentication", errors.md): an instance
started with scenarios/auth/credentials.toml checks every signature. For every family (Tea V3, Tea
v2, Tea AVDS, the legacy core, Huawei AK/SK): the right secret passes and gets the data; a wrong
secret, an unknown key and a denied operation each get the cloud's documented error, seen through the
SDK's own exception. Request ids are checked against the journal (GET /_emu/requests), and the
string to sign the emulator reports against one recomputed from what crossed the wire.
"""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkhss.v5 import ListImageScanTaskRequest, ListTasksRequest, ListTasksRequestBody

import clients
from calls import (
    ALIBABA_CASES, AVDS, CANONICAL_ANSWERS, CASE_IDS, ECS, HOST_IDS, OPERATIONS, PRODUCT_CODES, SAS, TEA_AVDS,
    alibaba_error, canonical_call,
)
from clients import ALIBABA_AK, ALIBABA_REQUEST_ID, HUAWEI_AK, HUAWEI_REQUEST_ID, HUAWEI_SK, LEGACY, PROJECT_ID, TEA_V2, TEA_V3
from emulator import WireRecorder
from world import IMAGE_SYNCS_AT_T0, OTHER_PROJECT, TASKS_AT_T0

# scenarios/auth/credentials.toml
ECS_ONLY = ("LTAI5tSDKECSONLY0000002", "EcsOnlySecret0123456789abcdefghi")
NO_ECS = ("LTAI5tSDKNOECS000000003", "NoEcsSecret0123456789abcdefghijk")
UNKNOWN_AK = "LTAI5tSDKNOSUCHKEY00099"
WRONG_SECRET = "WrongSecret0123456789abcdefghijk"
HW_LIST_TASKS_ONLY = ("HWSDKLISTTASKSONLY0002", "HwListTasksOnlySecret0123456789abcdefghi")
HW_UNKNOWN_AK = "HWSDKNOSUCHAK000000099"
HW_WRONG_SK = "HwWrongSecretKey0123456789abcdefghijklmn"

SIGNATURE_MISMATCH = "Specified signature is not matched with our calculation. server string to sign is:"
LEGACY_BAD_SECRET = "The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret."
DENIED = {
    ECS: (403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
    AVDS: (403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
    SAS: (403, "NoPermission", "caller has no permission"),
}
EXCEPTION_CLASS = {TEA_V3: "ClientException", TEA_V2: "ClientException", TEA_AVDS: "ClientException", LEGACY: "ServerException"}


@pytest.fixture(scope="module")
def _auth_wire(_auth_server):
    recorder = WireRecorder(_auth_server.host, _auth_server.port)
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture
def auth_wire(emu_auth, _auth_wire):
    """A recording proxy in front of the auth instance; the instance reset, its journal empty."""
    emu_auth.clear_requests()
    _auth_wire.clear()
    return _auth_wire


def pct(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def rpc_v1_string_to_sign(exchange) -> str:
    """sdk-notes §4.1, from the request as it crossed the wire."""
    params = [(k, v) for k, v in exchange.query if k != "Signature"]
    if (exchange.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
        params += urllib.parse.parse_qsl(exchange.body.decode(), keep_blank_values=True)
    canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params))
    return f"{exchange.method}&{pct('/')}&{pct(canonical)}"


def acs3_string_to_sign(exchange) -> str:
    """sdk-notes §4.2, from the request as it crossed the wire."""
    authorization = exchange.header("authorization")
    assert authorization.startswith("ACS3-HMAC-SHA256 ")
    fields = dict(part.split("=", 1) for part in authorization[len("ACS3-HMAC-SHA256 "):].split(","))
    signed = fields["SignedHeaders"]
    canonical_query = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(exchange.query))
    canonical_headers = "".join(f"{name}:{exchange.header(name).strip()}\n" for name in signed.split(";"))
    canonical = "\n".join([exchange.method, "/", canonical_query, canonical_headers, signed, hashlib.sha256(exchange.body).hexdigest()])
    return "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()


def check_refusal(error, emu, family, product, status, code, message, sent_code=None):
    """The SDK's exception and the journal agree, in the family's own exception class. `sent_code`:
    what the emulator answered when the SDK reports another code (the legacy rewrite)."""
    assert error.kind == EXCEPTION_CLASS[family]
    assert (error.status, error.code, error.message) == (status, code, message)
    journal = emu.requests(operation=OPERATIONS[product])
    assert len(journal) == 1, "a refusal is not retried"
    assert (journal[0]["status"], journal[0]["error_code"]) == (status, sent_code or code)
    assert error.request_id == journal[0]["request_id"]
    assert ALIBABA_REQUEST_ID.match(error.request_id)
    if family != LEGACY:
        assert error.raw.data["HostId"] == HOST_IDS[product]
        assert error.raw.data["Recommend"] == f"https://api.aliyun.com/troubleshoot?q={code}&product={PRODUCT_CODES[product]}"


def test_the_auth_instance_checks_signatures(emu_auth, emu):
    assert emu_auth.health()["auth"] is True
    assert emu.health()["auth"] is False, "the main instance declares no credentials"


# --- Alibaba ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_the_right_secret_gets_the_data(auth_wire, emu_auth, family, product):
    assert canonical_call(auth_wire, family, product) == CANONICAL_ANSWERS[product]
    journal = emu_auth.requests(operation=OPERATIONS[product])
    assert [(e["status"], e["tenant"]) for e in journal] == [(200, ALIBABA_AK)]


@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_a_wrong_secret(auth_wire, emu_auth, family, product):
    error = alibaba_error(lambda: canonical_call(auth_wire, family, product, ALIBABA_AK, WRONG_SECRET))
    if family == LEGACY and product != AVDS:
        # The legacy core compares the server's string to sign with its own and, as they match (only
        # the secret differs), reports the secret as wrong (sdk-notes §3.1).
        check_refusal(error, emu_auth, family, product, 400, "InvalidAccessKeySecret", LEGACY_BAD_SECRET, "SignatureDoesNotMatch")
        return
    # Tea, and the legacy CommonRequest (AVDS has no typed legacy request): aliyunsdkcore 2.16.1
    # compares with CommonRequest.string_to_sign, which stays '' (the string is set on the inner
    # RpcRequest it builds), so no rewrite happens and the server's own error comes through.
    check_refusal(error, emu_auth, family, product, 400, "SignatureDoesNotMatch", error.message)
    assert error.message.startswith(SIGNATURE_MISMATCH)
    server_string_to_sign = error.message[len(SIGNATURE_MISMATCH):]
    sent = auth_wire.last
    expected = acs3_string_to_sign(sent) if family == TEA_V3 else rpc_v1_string_to_sign(sent)
    assert server_string_to_sign == expected


@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_an_unknown_access_key_id(auth_wire, emu_auth, family, product):
    error = alibaba_error(lambda: canonical_call(auth_wire, family, product, UNKNOWN_AK, WRONG_SECRET))
    check_refusal(error, emu_auth, family, product, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")


@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_a_denied_operation(auth_wire, emu_auth, family, product):
    ak, secret = NO_ECS if product == ECS else ECS_ONLY
    error = alibaba_error(lambda: canonical_call(auth_wire, family, product, ak, secret))
    check_refusal(error, emu_auth, family, product, *DENIED[product])
    assert emu_auth.requests()[0]["tenant"] == ak


@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_a_call_that_proves_no_key_is_attributed_to_no_tenant(auth_wire, emu_auth, family, product):
    # The key it names is only a claim until its signature verifies (issue 11, S1).
    alibaba_error(lambda: canonical_call(auth_wire, family, product, ALIBABA_AK, WRONG_SECRET))
    assert [(e["status"], e["tenant"]) for e in emu_auth.requests()] == [(400, None)]


@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_a_restricted_key_may_call_what_it_is_allowed(auth_wire, emu_auth, family, product):
    ak, secret = ECS_ONLY if product == ECS else NO_ECS
    assert canonical_call(auth_wire, family, product, ak, secret) == CANONICAL_ANSWERS[product]


# --- Huawei ----------------------------------------------------------------------------------------
def huawei_call(emu, operation: str, ak: str = HUAWEI_AK, sk: str = HUAWEI_SK, project_id: str = PROJECT_ID):
    client = clients.HuaweiClient(emu.url, project_id, ak, sk)
    if operation == "ListTasks":
        response = client.list_tasks(ListTasksRequest(body=ListTasksRequestBody()))
        return client, [t.task_id for t in response.data_list]
    response = client.list_image_scan_task(ListImageScanTaskRequest(type="image_sync"))
    return client, [t.task_id for t in response.data_list]


HUAWEI_ANSWERS = {
    "ListTasks": [t["task_id"] for t in TASKS_AT_T0],
    "ListImageScanTask": [t["task_id"] for t in IMAGE_SYNCS_AT_T0],
}


def huawei_refusal(emu, operation, status, code, message, **credentials):
    client = clients.HuaweiClient(emu.url, credentials.pop("project_id", PROJECT_ID), **credentials)
    with pytest.raises(ClientRequestException) as caught:
        if operation == "ListTasks":
            client.list_tasks(ListTasksRequest(body=ListTasksRequestBody()))
        else:
            client.list_image_scan_task(ListImageScanTaskRequest(type="image_sync"))
    error = caught.value
    assert (error.status_code, error.error_code, error.error_msg) == (status, code, message)
    assert error.request_id == client.last_headers["x-request-id"]
    assert HUAWEI_REQUEST_ID.match(error.request_id)
    journal = emu.requests(operation=operation)
    assert [(e["status"], e["error_code"], e["request_id"]) for e in journal] == [(status, code, error.request_id)]


@pytest.fixture
def emu_auth_journal(emu_auth):
    emu_auth.clear_requests()
    return emu_auth


@pytest.mark.parametrize("operation", ["ListTasks", "ListImageScanTask"])
def test_huawei_the_right_sk_gets_the_data(emu_auth_journal, operation):
    client, task_ids = huawei_call(emu_auth_journal, operation)
    assert task_ids == HUAWEI_ANSWERS[operation]
    assert HUAWEI_REQUEST_ID.match(client.last_headers["x-request-id"])
    assert [e["status"] for e in emu_auth_journal.requests(operation=operation)] == [200]


@pytest.mark.parametrize("operation", ["ListTasks", "ListImageScanTask"])
def test_huawei_a_wrong_sk(emu_auth_journal, operation):
    huawei_refusal(emu_auth_journal, operation, 401, "APIGW.0301",
                   "Incorrect IAM authentication information: verify aksk signature fail", ak=HUAWEI_AK, sk=HW_WRONG_SK)


@pytest.mark.parametrize("operation", ["ListTasks", "ListImageScanTask"])
def test_huawei_an_unknown_ak(emu_auth_journal, operation):
    huawei_refusal(emu_auth_journal, operation, 401, "APIGW.0301",
                   f"Incorrect IAM authentication information: Get secretKey failed,ak:{HW_UNKNOWN_AK},err:ak not exist",
                   ak=HW_UNKNOWN_AK, sk=HW_WRONG_SK)


def test_huawei_a_denied_operation(emu_auth_journal):
    ak, sk = HW_LIST_TASKS_ONLY
    huawei_refusal(emu_auth_journal, "ListImageScanTask", 403, "HSS.0013", "Insufficient permissions.", ak=ak, sk=sk)


def test_huawei_a_key_bound_to_a_project_is_denied_in_another(emu_auth_journal):
    ak, sk = HW_LIST_TASKS_ONLY
    huawei_refusal(emu_auth_journal, "ListTasks", 403, "HSS.0013", "Insufficient permissions.", ak=ak, sk=sk, project_id=OTHER_PROJECT)


def test_huawei_a_key_bound_to_a_project_is_that_project_whatever_it_names(emu_auth_journal):
    # The journal (and tenant-scoped fault rules) see the project the key proved, not the path's claim.
    ak, sk = HW_LIST_TASKS_ONLY
    huawei_refusal(emu_auth_journal, "ListTasks", 403, "HSS.0013", "Insufficient permissions.", ak=ak, sk=sk, project_id=OTHER_PROJECT)
    assert [e["tenant"] for e in emu_auth_journal.requests()] == [PROJECT_ID]


def test_huawei_a_restricted_key_may_call_what_it_is_allowed(emu_auth_journal):
    ak, sk = HW_LIST_TASKS_ONLY
    _, task_ids = huawei_call(emu_auth_journal, "ListTasks", ak, sk)
    assert task_ids == HUAWEI_ANSWERS["ListTasks"]


# --- Signature diagnostics (issue 15) ---------------------------------------------------------------
@pytest.mark.parametrize("family, product", ALIBABA_CASES, ids=CASE_IDS)
def test_a_wrong_secret_is_diagnosed_in_the_journal(auth_wire, emu_auth, family, product):
    # The SDK sees the cloud's own refusal; the journal says why, from what crossed the wire.
    alibaba_error(lambda: canonical_call(auth_wire, family, product, ALIBABA_AK, WRONG_SECRET))
    [refused] = emu_auth.requests(auth_failures="true")
    diagnosis = refused["auth_failure"]
    assert diagnosis["cause"] == "signature_mismatch", diagnosis
    assert diagnosis["claimed"]["key_id"] == ALIBABA_AK
    sent = auth_wire.last
    acs3 = (sent.header("authorization") or "").startswith("ACS3-HMAC-SHA256 ")
    assert diagnosis["scheme"] == ("ACS3-HMAC-SHA256" if acs3 else "RPC-HMAC-SHA1")
    expected = acs3_string_to_sign(sent) if acs3 else rpc_v1_string_to_sign(sent)
    assert diagnosis["computed"]["string_to_sign"] == expected
    if acs3:
        assert diagnosis["claimed"]["signed_headers"] == diagnosis["computed"]["signed_headers"]
        assert diagnosis["computed"]["canonical_request"].startswith("POST\n/\n")
    # Only the refused call is listed: a call that passes carries no diagnosis.
    canonical_call(auth_wire, family, product)
    assert [("auth_failure" in e) for e in emu_auth.requests()] == [True, False]


def test_huawei_a_wrong_sk_is_diagnosed_in_the_journal(emu_auth_journal):
    huawei_refusal(emu_auth_journal, "ListImageScanTask", 401, "APIGW.0301",
                   "Incorrect IAM authentication information: verify aksk signature fail", ak=HUAWEI_AK, sk=HW_WRONG_SK)
    [refused] = emu_auth_journal.requests(auth_failures="true")
    diagnosis = refused["auth_failure"]
    assert (diagnosis["scheme"], diagnosis["cause"], diagnosis["claimed"]["key_id"]) == ("SDK-HMAC-SHA256", "signature_mismatch", HUAWEI_AK)
    assert diagnosis["computed"]["canonical_request"].startswith(f"GET\n/v5/{PROJECT_ID}/image/tasks/\n")
    assert abs(diagnosis["skew_seconds"]) < 60, "the SDK signs with the real time"
