"""Fixtures of the official-SDK conformance suite.

`emu` is a taskemu process in the default `sdk` dialect, `emu_docs` one in `--dialect docs`, both on
port 0 with tests/sdk/scenarios/*.toml and both stopped at the end of the session. The autouse
`reset` puts the world and the clock back to the scenario's start before every test, so clock moves
and read counters never leak between tests (nor fault rules: a reset puts back the scenario's own,
and the suite's have none). `wire` is a recording proxy in front of `emu`.

`emu_auth` is a third instance: the same scenario plus scenarios/auth/credentials.toml, whose
credentials turn authentication on; it is reset before each test that uses it. `start_emulator`
starts further instances (each stopped at the end of the session), for tests that change what is
loaded, which a reset would not undo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import clients
from emulator import Emulator, WireRecorder, find_binary

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Only the top level: the sub-folders hold scenarios for the extra instances (auth/, tenants/).
SCENARIOS = sorted((HERE / "scenarios").glob("*.toml"))
AUTH_SCENARIO = HERE / "scenarios" / "auth" / "credentials.toml"


def _start(tmp_path_factory, dialect: str, scenarios: list[Path] | None = None, label: str | None = None) -> Emulator:
    assert SCENARIOS, "tests/sdk/scenarios holds no scenario"
    log = tmp_path_factory.mktemp(f"taskemu-{label or dialect}") / "taskemu.log"
    return Emulator(find_binary(REPO), SCENARIOS if scenarios is None else scenarios, dialect, log).start()


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


@pytest.fixture(scope="session")
def start_emulator(tmp_path_factory):
    """start_emulator(scenarios, label): one more taskemu in the sdk dialect, stopped at session end."""
    started: list[Emulator] = []

    def start(scenarios: list[Path], label: str) -> Emulator:
        server = _start(tmp_path_factory, "sdk", scenarios, label)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def _auth_server(start_emulator):
    server = start_emulator([*SCENARIOS, AUTH_SCENARIO], "auth")
    assert server.health()["auth"] is True, "a scenario that declares credentials turns authentication on"
    return server


@pytest.fixture
def emu_auth(_auth_server):
    _auth_server.reset()
    return _auth_server


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
