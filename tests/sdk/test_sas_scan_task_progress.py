"""Security Center DescribeScanTaskProgress (2018-12-03) through Tea V3, Tea v2 and the legacy core SDK."""

from __future__ import annotations

import json

import pytest

import clients
from clients import ALIBABA_REQUEST_ID, LEGACY, TEA_V2, TEA_V3, sas_models
from world import SAS_AT_T0, SAS_TARGETS, T0_TEXT

FAMILIES = [TEA_V3, TEA_V2, LEGACY]


def progress(emu, family: str, task_id: int) -> tuple[str, list]:
    """(ScanTaskProgress, TargetInfo decoded) for one task."""
    if family == LEGACY:
        request = clients.legacy_scan_task_progress()
        request.set_TaskId(task_id)
        raw = json.loads(clients.legacy_client(emu.port).do_action_with_exception(request))
        assert set(raw) == {"RequestId", "ScanTaskProgress", "TargetInfo"}
        request_id, status, target_info = raw["RequestId"], raw["ScanTaskProgress"], raw["TargetInfo"]
    else:
        client = clients.tea_sas(emu.endpoint, family)
        response = client.describe_scan_task_progress(sas_models.DescribeScanTaskProgressRequest(task_id=task_id))
        assert response.status_code == 200
        body = response.body
        request_id, status, target_info = body.request_id, body.scan_task_progress, body.target_info
    assert ALIBABA_REQUEST_ID.match(request_id)
    # TargetInfo is a string holding a JSON array (the doc and the SDK model's str type), not an array.
    assert isinstance(target_info, str), f"TargetInfo should be a JSON string, got {type(target_info).__name__}"
    return status, json.loads(target_info)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("task_id", sorted(SAS_AT_T0))
def test_every_field_of_every_task(emu, family, task_id):
    assert progress(emu, family, task_id) == (SAS_AT_T0[task_id], SAS_TARGETS[task_id])


@pytest.mark.parametrize("family", FAMILIES)
def test_target_info_keeps_the_documented_key_order(emu, family):
    if family == LEGACY:
        request = clients.legacy_scan_task_progress()
        request.set_TaskId(900002)
        target_info = json.loads(clients.legacy_client(emu.port).do_action_with_exception(request))["TargetInfo"]
    else:
        client = clients.tea_sas(emu.endpoint, family)
        target_info = client.describe_scan_task_progress(sas_models.DescribeScanTaskProgressRequest(task_id=900002)).body.target_info
    assert target_info == (
        '[{"type":"uuid","name":"sdk-host-b","target":"11111111-2222-4333-8444-555555555555"},'
        '{"type":"groupId","name":"sdk web group","target":"8076"}]'
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_progress_follows_the_clock_init_processing_success(emu, family):
    assert progress(emu, family, 900001)[0] == "init"
    emu.advance("25s")  # created 09:59:55, init for 30 seconds
    assert progress(emu, family, 900001)[0] == "Processing"
    emu.advance("9m59s")
    assert progress(emu, family, 900001)[0] == "Processing"
    emu.advance("1s")
    assert progress(emu, family, 900001) == ("Success", SAS_TARGETS[900001])


@pytest.mark.parametrize("family", FAMILIES)
def test_read_bounded_phases_advance_per_poll(emu, family):
    seen = [progress(emu, family, 900004)[0] for _ in range(5)]
    assert seen == ["init", "Processing", "Processing", "Success", "Success"]
    assert emu.clock()["now"] == T0_TEXT


def test_reads_of_one_task_do_not_move_another(emu):
    for _ in range(3):
        progress(emu, TEA_V3, 900001)
    assert progress(emu, TEA_V3, 900004)[0] == "init"
