"""Fixtures of the official-SDK conformance suite.

`emu` is a taskemu process in the default `sdk` dialect, `emu_docs` one in `--dialect docs`, both on
port 0 with tests/sdk/scenarios/*.toml and both stopped at the end of the session. The autouse
`reset` puts the world and the clock back to the scenario's start before every test, so clock moves
and read counters never leak between tests. `wire` is a recording proxy in front of `emu`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import clients
from emulator import Emulator, WireRecorder, find_binary

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCENARIOS = sorted((HERE / "scenarios").glob("*.toml"))


def _start(tmp_path_factory, dialect: str) -> Emulator:
    assert SCENARIOS, "tests/sdk/scenarios holds no scenario"
    log = tmp_path_factory.mktemp(f"taskemu-{dialect}") / "taskemu.log"
    return Emulator(find_binary(REPO), SCENARIOS, dialect, log).start()


@pytest.fixture(scope="session")
def emu(tmp_path_factory):
    server = _start(tmp_path_factory, "sdk")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _docs_server(tmp_path_factory):
    server = _start(tmp_path_factory, "docs")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emu_docs(_docs_server):
    _docs_server.reset()
    return _docs_server


@pytest.fixture(autouse=True)
def reset(emu):
    emu.reset()
    yield emu


@pytest.fixture(scope="session")
def _recorder(emu):
    recorder = WireRecorder(emu.host, emu.port)
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture
def wire(_recorder):
    _recorder.clear()
    return _recorder


@pytest.fixture
def huawei(emu):
    return clients.HuaweiClient(emu.url)
