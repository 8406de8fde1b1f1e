"""Tests of `wait_for_image_import` against taskemu, through the real Tea ECS SDK.

Nothing here waits in real time: the helper's `sleep` is the emulator's clock (`advance`), so a
ten-minute import takes a few milliseconds. The `taskemu` fixture is a fresh emulator per test,
loaded with scenarios/image-imports.toml (pytest.ini); `taskemu_session` is one per session.
"""

from __future__ import annotations

import pytest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from image_import import ImportFailed, ImportTimedOut, ecs_client, wait_for_image_import

REGION = "cn-hangzhou"


@pytest.fixture(autouse=True)
def fake_keys(monkeypatch):
    # Authentication is off in this world: any key signs. `taskemu env` prints real ones when on.
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-example-key")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret")


def clock_sleep(emu):
    """A `sleep` that moves the emulator's virtual clock instead of waiting."""
    return lambda seconds: emu.clock.advance(f"{int(seconds)}s")


def test_polls_until_the_import_is_finished(taskemu):
    task = wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-golden", poll_every=60, sleep=clock_sleep(taskemu))
    assert (task.task_id, task.task_status, task.resource_id) == ("t-import-golden", "Finished", "m-golden-2026w47")
    # Finished at 09:12, seen by the poll at 09:12: twelve one-minute sleeps.
    assert taskemu.clock.now().isoformat() == "2026-11-22T09:12:00+00:00"


def test_gives_up_at_once_on_a_failed_import(taskemu):
    with pytest.raises(ImportFailed, match="t-import-broken ended Failed"):
        wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-broken", poll_every=60, sleep=clock_sleep(taskemu))
    assert len(taskemu.requests(operation="DescribeTasks")) == 5, "polled at 09:00..09:04, stopped at the first Failed"


def test_times_out_while_the_import_still_runs(taskemu):
    with pytest.raises(ImportTimedOut):
        wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-golden", poll_every=60, timeout=300, sleep=clock_sleep(taskemu))


@pytest.mark.parametrize("code, status", [("ServiceUnavailable", 503), ("Throttling", 400)])
def test_survives_transient_errors(taskemu, code, status):
    taskemu.faults.add("DescribeTasks", error=code, times=2)
    task = wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-golden", poll_every=60, sleep=clock_sleep(taskemu))
    assert task.task_status == "Finished"
    answered = [(r["status"], r["error_code"]) for r in taskemu.requests(operation="DescribeTasks")]
    assert answered[:2] == [(status, code)] * 2
    assert answered[2:] and all(a == (200, None) for a in answered[2:])


def test_a_lasting_outage_is_raised_not_hidden(taskemu):
    taskemu.faults.add("DescribeTasks", error="ServiceUnavailable")
    with pytest.raises(AlibabaCloudException) as raised:
        wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-golden", sleep=clock_sleep(taskemu))
    assert raised.value.code == "ServiceUnavailable"
    assert len(taskemu.requests()) == 3, "three transient errors in a row, then it stops"


def test_the_journal_shows_what_the_code_sent(taskemu):
    wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-golden", poll_every=300, sleep=clock_sleep(taskemu))
    sent = taskemu.requests()
    assert {r["operation"] for r in sent} == {"DescribeTasks"}
    for request in sent:
        assert request["parameters"]["RegionId"] == REGION
        assert request["parameters"]["TaskIds"] == "t-import-golden"
        assert request["parameters"]["TaskAction"] == "ImportImage"
    assert len(sent) == 4, "09:00, 09:05, 09:10 still running; 09:15 Finished"


@pytest.mark.taskemu(scenario_text="""
[clock]
start = "2026-11-22T09:00:00Z"

[[ecs.tasks]]
id = "t-import-quick"
region = "cn-hangzhou"
action = "ImportImage"
created = "+0s"
lifecycle = [{ status = "Processing", for = "30s" }, { status = "Finished" }]
""")
def test_a_test_can_bring_its_own_world(taskemu):
    assert [t["id"] for t in taskemu.tasks(product="ecs")] == ["t-import-quick"]
    task = wait_for_image_import(ecs_client(taskemu.endpoint), REGION, "t-import-quick", poll_every=10, sleep=clock_sleep(taskemu))
    assert task.task_status == "Finished"


@pytest.mark.parametrize("run", [1, 2])
def test_the_session_server_is_reset_before_each_test(taskemu_session, run):
    # Both runs start at 09:00 with no fault rule, whatever the other left behind.
    assert taskemu_session.clock.now().isoformat() == "2026-11-22T09:00:00+00:00"
    assert taskemu_session.faults() == []
    taskemu_session.faults.add("DescribeTasks", error="Throttling")
    taskemu_session.clock.advance("1h")
