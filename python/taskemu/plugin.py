"""The pytest plugin (registered through the `pytest11` entry point, so installing the package is
all a user does).

Fixtures:
  taskemu          a fresh `Emulator` for each test (a few milliseconds), configured by the marker
                   `@pytest.mark.taskemu(scenario=..., scenario_text=..., seed=..., auth=...,
                   dialect=..., clock_rate=...)` over the ini options (a marker's scenario or
                   scenario_text replaces the ini's scenarios); the embedded demo world when
                   nothing is said.
  taskemu_session  one server for the whole session (one per pytest-xdist worker: a session is per
                   process), `reset()` before each test that uses it. Scenarios loaded at run time
                   stay across resets: tests that load use `taskemu`.
  taskemu_config   the keyword arguments both start from: the ini options `taskemu_scenarios`
                   (paths, relative to the ini file) and `taskemu_dialect`. Override it in a
                   conftest.py to configure in Python.

When a test fails, its report carries, for every emulator it used (any fixture value that is an
`Emulator`, or holds one as its `emulator` attribute), the requests it made during the test (the last 20: operation, status, error code,
caller, parameters) and the server's log: what the code under test sent, and what it was told.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from ._emulator import Emulator, TaskemuError

MARKER_KEYS = ("scenario", "scenario_text", "seed", "auth", "dialect", "clock_rate")
JOURNAL_SHOWN = 20
LOG_SHOWN_CHARS = 8000
PARAMETERS_SHOWN_CHARS = 400

_journal_marks = pytest.StashKey[Dict[int, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("taskemu_scenarios", type="paths", default=[], help="taskemu: scenario files or folders the emulator fixtures load (default: the embedded demo)")
    parser.addini("taskemu_dialect", default="", help="taskemu: response dialect of the emulator fixtures, sdk (default) or docs")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "taskemu(scenario=None, scenario_text=None, seed=None, auth=None, dialect=None, clock_rate=None): "
        "how the `taskemu` fixture starts this test's emulator (scenario: a path or a list of paths)",
    )


@pytest.fixture(scope="session")
def taskemu_config(pytestconfig: pytest.Config) -> Dict[str, Any]:
    """`Emulator` keyword arguments from the ini options; override in conftest.py to set others."""
    dialect = pytestconfig.getini("taskemu_dialect").strip()
    return {"scenarios": list(pytestconfig.getini("taskemu_scenarios")), "dialect": dialect or None}


def _marker_options(request: pytest.FixtureRequest) -> Dict[str, Any]:
    marker = request.node.get_closest_marker("taskemu")
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if marker.args or unknown:
        raise pytest.UsageError(f"@pytest.mark.taskemu takes keyword arguments {', '.join(MARKER_KEYS)}; got {list(marker.args) + unknown}")
    options = dict(marker.kwargs)
    # A marker that names a world replaces the configured one rather than adding to it.
    if "scenario" in options or "scenario_text" in options:
        given = options.pop("scenario", None)
        paths = [given] if isinstance(given, (str, os.PathLike)) else list(given or [])
        options["scenarios"] = [_near_test(request, Path(p)) for p in paths]
    return options


def _near_test(request: pytest.FixtureRequest, path: Path) -> Path:
    """A relative scenario path names a file next to the test module when there is one there."""
    if path.is_absolute():
        return path
    beside = Path(str(request.node.fspath)).parent / path
    return beside if beside.exists() else path


@pytest.fixture
def taskemu(request: pytest.FixtureRequest, taskemu_config: Dict[str, Any]) -> Iterator[Emulator]:
    """A fresh emulator for this test, stopped after it."""
    with Emulator(**{**taskemu_config, **_marker_options(request)}) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def _taskemu_session_server(taskemu_config: Dict[str, Any]) -> Iterator[Emulator]:
    with Emulator(**taskemu_config) as emulator:
        yield emulator


@pytest.fixture
def taskemu_session(_taskemu_session_server: Emulator) -> Emulator:
    """The session's emulator, reset to its scenarios' start (world, clock, fault rules)."""
    _taskemu_session_server.reset()
    return _taskemu_session_server


# --- the failure report ---------------------------------------------------------------------------
def _emulators(item: pytest.Item) -> List[Tuple[str, Emulator]]:
    """The running emulators among the test's fixture values (or wrapped by one, as its
    `emulator` attribute), each once, by fixture name."""
    seen: Dict[int, Tuple[str, Emulator]] = {}
    # Public fixture names first: a test asks for `taskemu_session`, not the server behind it.
    for name, value in sorted(getattr(item, "funcargs", {}).items(), key=lambda pair: pair[0].startswith("_")):
        if not isinstance(value, Emulator):
            value = getattr(value, "__dict__", {}).get("emulator")
        if isinstance(value, Emulator) and value.running and id(value) not in seen:
            seen[id(value)] = (name, value)
    return list(seen.values())


def _newest_seq(emulator: Emulator) -> int:
    newest = emulator.requests(limit=1)
    return int(newest[0]["seq"]) if newest else 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Where each emulator's journal stood when the test body began: a session server's journal
    # holds earlier tests' requests too, and the report shows only this test's.
    marks: Dict[int, int] = {}
    for _, emulator in _emulators(item):
        try:
            marks[id(emulator)] = _newest_seq(emulator)
        except TaskemuError:
            pass
    item.stash[_journal_marks] = marks
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    marks = item.stash.get(_journal_marks, {})
    for name, emulator in _emulators(item):
        report.sections.append((f"taskemu ({name}, {emulator.url}): requests during the test", _journal_text(emulator, marks.get(id(emulator), 0))))
        log = emulator.log
        shown = log if len(log) <= LOG_SHOWN_CHARS else "...\n" + log[-LOG_SHOWN_CHARS:]
        report.sections.append((f"taskemu ({name}): server log", shown or "(empty)\n"))


def _journal_text(emulator: Emulator, after: int) -> str:
    try:
        entries = emulator.requests(after=after, limit=JOURNAL_SHOWN)
    except TaskemuError as e:
        return f"(the journal could not be read: {e})\n"
    if not entries:
        return "(no request reached the emulator during the test)\n"
    header = f"the last {len(entries)} request(s), oldest first:" if len(entries) == JOURNAL_SHOWN else f"{len(entries)} request(s), oldest first:"
    lines = [header]
    for entry in entries:
        lines.append(_journal_line(entry))
    return "\n".join(lines) + "\n"


def _journal_line(entry: Dict[str, Any]) -> str:
    parameters = json.dumps(entry.get("parameters"), ensure_ascii=False, sort_keys=True)
    if len(parameters) > PARAMETERS_SHOWN_CHARS:
        parameters = parameters[:PARAMETERS_SHOWN_CHARS] + "..."
    error: Optional[str] = entry.get("error_code")
    return (
        f"#{entry.get('seq')} {entry.get('virtual_time')} {entry.get('method')} {entry.get('operation')} -> {entry.get('status')}"
        f" {error or 'OK'}  caller={entry.get('tenant') or '-'}  parameters={parameters}"
    )
