"""Fixtures of the official-SDK conformance suite, on the `taskemu` package's pytest plugin.

`emu` is the plugin's `taskemu_session` (one server for the session, reset before each test: the
world, the clock and its fault rules back to the scenario's start) in the default `sdk` dialect,
loaded with tests/sdk/scenarios/*.toml through `taskemu_config`; the autouse `reset` makes every
test use it, so clock moves and read counters never leak between tests. `emu_docs` is one in
`--dialect docs`. `wire` is a recording proxy in front of `emu`. When a test fails, the plugin adds
the requests it made and the server's log to its report.

`emu_auth` is a third instance: the same scenario plus scenarios/auth/credentials.toml, whose
credentials turn authentication on; it is reset before each test that uses it. `start_emulator`
starts further instances (each stopped at the end of the session), for tests that change what is
loaded, which a reset would not undo.

The plugin and `taskemu.Emulator` come from the package when this virtualenv has it installed (its
pytest11 entry point has loaded the plugin before this file), else from the checkout's python/.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

if "taskemu.plugin" not in sys.modules:
    sys.path.insert(0, str(REPO / "python"))
    pytest_plugins = ["taskemu.plugin"]

import pytest  # noqa: E402

import clients  # noqa: E402
import taskemu  # noqa: E402
from emulator import Shorthand, WireRecorder, find_binary  # noqa: E402

# Only the top level: the sub-folders hold scenarios for the extra instances (auth/, tenants/).
SCENARIOS = sorted((HERE / "scenarios").glob("*.toml"))
AUTH_SCENARIO = HERE / "scenarios" / "auth" / "credentials.toml"


@pytest.fixture(scope="session")
def taskemu_config() -> dict:
    """What the plugin's servers start with: the suite's scenarios, the binary under test."""
    assert SCENARIOS, "tests/sdk/scenarios holds no scenario"
    return {"scenarios": SCENARIOS, "dialect": "sdk", "binary": find_binary(REPO)}


@pytest.fixture
def emu(taskemu_session) -> Shorthand:
    return Shorthand(taskemu_session)


@pytest.fixture(scope="session")
def start_emulator(taskemu_config):
    """start_emulator(scenarios, label, dialect="sdk"): one more taskemu, stopped at session end."""
    started: list[taskemu.Emulator] = []

    def start(scenarios: list[Path], label: str, dialect: str = "sdk") -> Shorthand:
        server = taskemu.Emulator(scenarios, dialect=dialect, binary=taskemu_config["binary"]).start()
        started.append(server)
        return Shorthand(server)

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def _docs_server(start_emulator):
    return start_emulator(SCENARIOS, "docs", dialect="docs")


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
    yield emu


@pytest.fixture(scope="session")
def _recorder(_taskemu_session_server):
    recorder = WireRecorder(_taskemu_session_server.host, _taskemu_session_server.port)
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
