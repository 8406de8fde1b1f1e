"""`taskemu import` as a user meets it: an official SDK's answer dumped with `to_map()` / `to_json_object()`
(what a user has in hand from the real cloud), imported into a scenario, served by a fresh
taskemu, and read back through the same SDK call: the same answer.
"""

from __future__ import annotations

import json
import subprocess

import clients
from clients import ecs_models
from huaweicloudsdkhss.v5 import ListTasksRequest, ListTasksRequestBody


def imported(tmp_path, binary, name: str, capture: dict, at: str) -> list:
    """`taskemu import` of one capture at `at`; the scenario's path."""
    capture_file = tmp_path / f"{name}.json"
    capture_file.write_text(json.dumps(capture, default=str))
    scenario = tmp_path / f"{name}.toml"
    run = subprocess.run([binary, "import", str(capture_file), "--at", at, "--out", str(scenario)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return [scenario]


def now(emu) -> str:
    return emu.control("GET", "/_emu/clock")["now"]


def test_an_ecs_to_map_dump_comes_back_through_the_sdk(emu, start_emulator, taskemu_config, tmp_path):
    request = ecs_models.DescribeTasksRequest(region_id="cn-hangzhou", page_size=50)
    captured = clients.tea_ecs(emu.endpoint).describe_tasks(request).to_map()
    assert captured["body"]["TaskSet"]["Task"], "the suite's world has ECS tasks to capture"
    scenario = imported(tmp_path, taskemu_config["binary"], "ecs", captured, now(emu))
    replay = start_emulator(scenario, "import-ecs")
    again = clients.tea_ecs(replay.endpoint).describe_tasks(request).to_map()
    assert again["body"] == captured["body"]


def test_a_huawei_to_json_object_dump_comes_back_through_the_sdk(emu, start_emulator, taskemu_config, tmp_path):
    def list_tasks(url: str) -> dict:
        return clients.HuaweiClient(url).list_tasks(ListTasksRequest(body=ListTasksRequestBody(), limit=200)).to_json_object()

    captured = list_tasks(emu.url)
    assert captured["data_list"], "the suite's world has HSS tasks to capture"
    scenario = imported(tmp_path, taskemu_config["binary"], "hss", captured, now(emu))
    replay = start_emulator(scenario, "import-hss")
    assert list_tasks(replay.url) == captured
