"""Tenants (README "Tenants", "Control API"): one instance, auth off, several Alibaba AccessKeyIds.
Each tenant's tasks are loaded at run time with POST /_emu/scenarios?tenant=KEY (scenarios/tenants/);
through every SDK family each caller sees the shared tasks of conformance.toml plus its own, never
another tenant's, and GET /_emu/requests?tenant=KEY lists only that caller's calls.

A run-time load stays across resets, so this module has its own instance (a reset of the main one
could not take the tenants' tasks away again).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions

import clients
from calls import AVDS, CANONICAL_ANSWERS, ECS, OPERATIONS, SAS, TEA_AVDS, alibaba_error, avds_sessions, canonical_call, ecs_ids, sas_status
from clients import ALIBABA_AK, LEGACY, TEA_V2, TEA_V3
from world import (
    AVDS_AT_T0, ECS_DELETED, ECS_FAILED, ECS_FINISHED, ECS_ORDER, ECS_POLLED, ECS_PROCESSING, ECS_REDEPLOY, ECS_WAITING,
)

HERE = Path(__file__).resolve().parent
ALPHA = "LTAI5tSDKTENANTALPHA01"
BETA = "LTAI5tSDKTENANTBETA002"
SECRET = "TenantSecret0123456789abcdefghij"  # auth is off: any secret signs

# scenarios/tenants/alpha.toml and beta.toml
ALPHA_ECS, BETA_ECS = "t-sdktenantalpha00001", "t-sdktenantbeta000001"
ALPHA_SAS, BETA_SAS = 910001, 920001
ALPHA_SESSION, BETA_SESSION = 3900001, 3900101

# Newest first: alpha's task was created at 09:59, beta's at 08:30.
ECS_SEEN = {
    ALPHA: [ECS_WAITING, ALPHA_ECS, ECS_PROCESSING, ECS_POLLED, ECS_REDEPLOY, ECS_DELETED, ECS_FAILED, ECS_FINISHED],
    BETA: [ECS_WAITING, ECS_PROCESSING, ECS_POLLED, ECS_REDEPLOY, ECS_DELETED, BETA_ECS, ECS_FAILED, ECS_FINISHED],
    ALIBABA_AK: ECS_ORDER,
}
SHARED_SESSIONS = [s["TaskId"] for s in AVDS_AT_T0]
# Newest start first: alpha's session started at 09:57 (after the 10:00 hourly one), beta's at 06:00.
SESSIONS_SEEN = {
    ALPHA: SHARED_SESSIONS[:1] + [ALPHA_SESSION] + SHARED_SESSIONS[1:],
    BETA: SHARED_SESSIONS + [BETA_SESSION],
    ALIBABA_AK: SHARED_SESSIONS,
}
OWN_SAS = {ALPHA: (ALPHA_SAS, "Processing"), BETA: (BETA_SAS, "Failed")}
CALLERS = [ALPHA, BETA, ALIBABA_AK]
CALLER_IDS = ["alpha", "beta", "no-tenant-tasks"]


@pytest.fixture(scope="module")
def _tenant_server(start_emulator):
    server = start_emulator(sorted((HERE / "scenarios").glob("*.toml")), "tenants")
    before = server.health()["tasks"]
    for tenant, name in ((ALPHA, "alpha.toml"), (BETA, "beta.toml")):
        loaded = server.load_scenario((HERE / "scenarios" / "tenants" / name).read_text(), tenant=tenant, name=name)
        assert loaded["loaded"] == name and loaded["tasks"] > loaded["tasks_before"]
    assert server.health()["tasks"] > before
    assert server.health()["auth"] is False
    return server


@pytest.fixture
def tenants(_tenant_server):
    """The tenants' instance, reset (its run-time loads stay), with an empty journal."""
    _tenant_server.reset()
    _tenant_server.clear_requests()
    return _tenant_server


def test_the_loads_are_listed_with_their_tenant(tenants):
    listed = {s["name"]: s["tenant"] for s in tenants.control("GET", "/_emu/scenarios")["scenarios"]}
    assert (listed["alpha.toml"], listed["beta.toml"]) == (ALPHA, BETA)
    owned = tenants.control("GET", f"/_emu/tasks?tenant={ALPHA}")["tasks"]
    assert [(t["product"], t["id"], t["tenant"], t["status"]) for t in owned] == [
        ("ecs", ALPHA_ECS, ALPHA, "Processing"),
        ("sas", str(ALPHA_SAS), ALPHA, "Processing"),
        ("avds", str(ALPHA_SESSION), ALPHA, "running"),
    ]


@pytest.mark.parametrize("caller", CALLERS, ids=CALLER_IDS)
@pytest.mark.parametrize("family", [TEA_V3, TEA_V2, LEGACY])
def test_describe_tasks_shows_shared_and_own_tasks(tenants, family, caller):
    assert ecs_ids(tenants, family, caller, SECRET) == ECS_SEEN[caller]
    # Asked by id, another tenant's task is simply not there.
    others = [t for t in (ALPHA_ECS, BETA_ECS) if t not in ECS_SEEN[caller]]
    assert ecs_ids(tenants, family, caller, SECRET, task_ids=",".join(others + [ECS_FAILED])) == [ECS_FAILED]


@pytest.mark.parametrize("caller", CALLERS, ids=CALLER_IDS)
@pytest.mark.parametrize("family", [TEA_AVDS, LEGACY])
def test_describe_scan_sessions_shows_shared_and_own_sessions(tenants, family, caller):
    assert [task_id for task_id, _ in avds_sessions(tenants, family, caller, SECRET)] == SESSIONS_SEEN[caller]


@pytest.mark.parametrize("family", [TEA_AVDS, LEGACY])
def test_own_sessions_live_their_own_lifecycle(tenants, family):
    assert avds_sessions(tenants, family, ALPHA, SECRET, search="sdk alpha*") == [(ALPHA_SESSION, "running")]
    assert avds_sessions(tenants, family, BETA, SECRET, search="sdk beta*") == [(BETA_SESSION, "aborted")]
    assert avds_sessions(tenants, family, ALPHA, SECRET, search="sdk beta*") == []
    assert avds_sessions(tenants, family, BETA, SECRET, search="sdk alpha*") == []


@pytest.mark.parametrize("caller", CALLERS, ids=CALLER_IDS)
@pytest.mark.parametrize("family", [TEA_V3, TEA_V2, LEGACY])
def test_scan_task_progress_finds_only_shared_and_own_tasks(tenants, family, caller):
    assert sas_status(tenants, family, 900003, caller, SECRET) == "Failed"
    if caller in OWN_SAS:
        task_id, status = OWN_SAS[caller]
        assert sas_status(tenants, family, task_id, caller, SECRET) == status
    for tenant, (task_id, _) in OWN_SAS.items():
        if tenant == caller:
            continue
        error = alibaba_error(lambda: sas_status(tenants, family, task_id, caller, SECRET))
        assert (error.status, error.code, error.message) == (400, "InvalidTaskId.NotFound", f"The specified TaskId {task_id} does not exist.")


def test_the_journal_filters_by_tenant(tenants):
    calls = [(ALPHA, TEA_V3, ECS), (BETA, TEA_V2, SAS), (ALPHA, LEGACY, SAS), (BETA, LEGACY, ECS), (ALPHA, TEA_AVDS, AVDS),
             (ALIBABA_AK, TEA_V3, ECS)]
    for caller, family, product in calls:
        canonical_call(tenants, family, product, caller, SECRET)
    for tenant in (ALPHA, BETA, ALIBABA_AK):
        entries = tenants.requests(tenant=tenant)
        assert [(e["tenant"], e["operation"]) for e in entries] == [(tenant, OPERATIONS[p]) for c, _, p in calls if c == tenant]
        assert all(e["status"] == 200 and e["cloud"] == "alibaba" for e in entries)
    assert len(tenants.requests()) == len(calls)
    assert tenants.requests(tenant="LTAI5tSDKNOBODY0000000") == []
    # Clearing one tenant's entries leaves the others'.
    assert tenants.clear_requests(ALPHA) == 3
    assert tenants.requests(tenant=ALPHA) == []
    assert [e["tenant"] for e in tenants.requests()] == [BETA, BETA, ALIBABA_AK]


def test_a_fault_rule_for_one_tenant(tenants):
    tenants.add_fault({"operation": "DescribeTasks", "tenant": ALPHA, "error": {"code": "ServiceUnavailable"}})
    error = alibaba_error(lambda: ecs_ids(tenants, TEA_V3, ALPHA, SECRET))
    assert (error.kind, error.status, error.code) == ("ServerException", 503, "ServiceUnavailable")
    assert ecs_ids(tenants, TEA_V3, BETA, SECRET) == ECS_SEEN[BETA]
    assert canonical_call(tenants, TEA_V3, SAS, ALPHA, SECRET) == CANONICAL_ANSWERS[SAS], "only the rule's operation"
    assert [(e["tenant"], e["status"]) for e in tenants.requests(operation="DescribeTasks")] == [(ALPHA, 503), (BETA, 200)]


# --- With auth on, a caller is the key that signed, never the AccessKeyId it names (issue 11, S1) ---
AUTH_CREDENTIALS = HERE / "scenarios" / "auth" / "credentials.toml"


@pytest.fixture(scope="module")
def _guarded_server(start_emulator):
    """The suite's world with credentials (auth on), and ALPHA's tasks; ALPHA itself holds no credential."""
    server = start_emulator([*sorted((HERE / "scenarios").glob("*.toml")), AUTH_CREDENTIALS], "tenants-auth")
    assert server.health()["auth"] is True
    loaded = server.load_scenario((HERE / "scenarios" / "tenants" / "alpha.toml").read_text(), tenant=ALPHA, name="alpha.toml")
    assert loaded["tasks"] > loaded["tasks_before"]
    return server


@pytest.fixture
def guarded(_guarded_server):
    _guarded_server.reset()
    _guarded_server.clear_requests()
    return _guarded_server


def tea_v3_naming_alpha(target, action: str, version: str, **query) -> dict:
    """A Tea V3 (ACS3) call signed with the suite's own key that also sends `AccessKeyId=ALPHA`."""
    params = Params(action=action, version=version, protocol="HTTP", pathname="/", method="POST", auth_type="AK",
                    style="RPC", req_body_type="formData", body_type="json")
    request = OpenApiRequest(query=Utils.query({**query, "AccessKeyId": ALPHA}))
    return clients.tea_ecs(target.endpoint, TEA_V3).call_api(params, request, RuntimeOptions())["body"]


def test_an_acs3_caller_naming_another_key_sees_only_its_own_world(guarded):
    guarded.add_fault({"tenant": ALPHA, "error": {"code": "InternalError"}})
    ecs = tea_v3_naming_alpha(guarded, "DescribeTasks", "2014-05-26", RegionId="cn-hangzhou")
    assert [t["TaskId"] for t in ecs["TaskSet"]["Task"]] == ECS_SEEN[ALIBABA_AK], "not ALPHA's task, nor ALPHA's fault"
    error = alibaba_error(lambda: tea_v3_naming_alpha(guarded, "DescribeScanTaskProgress", "2018-12-03", TaskId=str(ALPHA_SAS)))
    assert (error.status, error.code) == (400, "InvalidTaskId.NotFound")
    avds = tea_v3_naming_alpha(guarded, "DescribeScanSessions", "2017-11-29")
    assert [s["TaskId"] for s in avds["List"]] == SESSIONS_SEEN[ALIBABA_AK]
    assert guarded.requests(tenant=ALPHA) == []
    assert [(e["tenant"], e["status"]) for e in guarded.requests()] == [(ALIBABA_AK, 200), (ALIBABA_AK, 400), (ALIBABA_AK, 200)]
