"""The dashboard in a real browser: headless Chromium loads /_emu/ui from a running taskemu (the
binary in $TASKEMU_BIN) serving scenarios/ecs-image-import-export.toml, and a person's steps are
checked: the task table shows the scenario's tasks, 'advance' moves the clock and a status
changes, the journal shows calls, a fault is added and cleared from the form, the clock controls
work, and the page says so when the server goes away. The server requires a control token
(TASKEMU_CONTROL_TOKEN): the page is opened at /_emu/ui#token=... as the server prints it, and a
page opened without it asks for it. Screenshots go to tests/output/ui/.

Run it with tests/ui/run (which installs Chromium and the Python packages when missing).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cdp import Chromium, Page, chromium_binary, stop_process

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output" / "ui"
SCENARIO = ROOT / "scenarios" / "ecs-image-import-export.toml"

BROKEN = "t-bp1import0broken003"  # Processing at 09:00, Failed at 09:05
CANCELLED = "t-bp1export0cancel004"  # Waiting at 09:00, Deleted at 09:06
SHANGHAI = "t-uf6import0golden005"  # appears at 09:10


class Taskemu:
    """The taskemu binary serving one scenario on a free port of the loopback, its control API
    behind a token of this run."""

    def __init__(self, binary: Path, scenario: Path, log_path: Path):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.token = secrets.token_hex(16)
        self.process = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--scenario", str(scenario)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "TASKEMU_CONTROL_TOKEN": self.token},
        )
        self.url = self._listening_url()

    def _listening_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        seen = b""
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = self.process.stdout.readline()
            if not line:
                break
            seen += line
            text = line.decode(errors="replace").strip()
            if "listening on " in text:
                return text.split("listening on ", 1)[1].strip()
        self.stop()
        raise RuntimeError(f"taskemu did not say where it listens: {seen!r} (see {self.log.name})")

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def control(self, method: str, path: str, body: object | None = None) -> dict:
        status, answer = self.call(method, path, body)
        assert status == 200, f"{method} {path}: {status} {answer}"
        assert isinstance(answer, dict)
        return answer

    def stop(self) -> None:
        stop_process(self.process)
        if self.process.stdout:
            self.process.stdout.close()
        self.log.close()


@pytest.fixture(scope="module")
def server():
    binary = Path(os.environ.get("TASKEMU_BIN", ROOT / "target" / "debug" / "taskemu"))
    if not binary.is_absolute():
        binary = ROOT / binary
    assert binary.exists(), f"no taskemu binary at {binary}: run cargo build, or set TASKEMU_BIN"
    emu = Taskemu(binary, SCENARIO, OUTPUT / "taskemu.log")
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def browser():
    chromium = Chromium(chromium_binary(), OUTPUT / "chromium.log")
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def page(server, browser):
    tab = browser.new_page()
    tab.navigate(server.url + "/_emu/ui#token=" + server.token)
    yield tab
    tab.close()


@pytest.fixture(autouse=True)
def no_script_errors(request):
    """No test may leave an uncaught exception or a console error in the page."""
    yield
    if "page" in request.fixturenames:
        tab: Page = request.getfixturevalue("page")
        assert tab.exceptions == [], f"uncaught exceptions in the page: {tab.exceptions}"
        assert tab.console_errors == [], f"console errors in the page: {tab.console_errors}"


def row_status(page: Page, task_id: str) -> str | None:
    return page.evaluate(f"(() => {{ const r = document.querySelector('#task-table tr[data-testid=task-row][data-id={json.dumps(task_id)}]'); return r ? r.dataset.status : null; }})()")


def rows(page: Page) -> dict[str, str]:
    return page.evaluate("Object.fromEntries([...document.querySelectorAll('#task-table tr[data-testid=task-row]')].map(r => [r.dataset.product + '/' + r.dataset.id, r.dataset.status]))")


def world(server: Taskemu) -> dict[str, str]:
    tasks = server.control("GET", "/_emu/tasks?limit=1000")["tasks"]
    return {f"{t['product']}/{t['id']}": t["status"] for t in tasks}


def test_the_task_table_shows_the_scenarios_tasks(server, page):
    page.wait_for("document.querySelectorAll('#task-table tr[data-testid=task-row]').length > 0", "the task table to fill")
    assert page.evaluate("window.location.hash") == "", "the token is taken out of the address bar"
    expected = world(server)
    assert len(expected) == 12, expected
    page.wait_for(f"document.querySelectorAll('#task-table tr[data-testid=task-row]').length === {len(expected)}", "every task in the table")
    assert rows(page) == expected
    assert row_status(page, BROKEN) == "Processing"
    assert row_status(page, CANCELLED) == "Waiting"
    assert row_status(page, SHANGHAI) is None, "not created before 09:10"
    assert page.evaluate("document.getElementById('scenario-name').textContent") == "ecs-image-import-export"
    assert page.evaluate("document.getElementById('clock-now').textContent") == "09:00:00"
    assert page.evaluate("document.getElementById('clock-state').textContent") == "frozen"
    group = page.evaluate("document.querySelector('#tasks-ecs tr.group').textContent")
    assert "DescribeTasks" in group and "12 tasks" in group, group
    # A progress bar and the phases of the task that is processing.
    progress = page.evaluate(f"document.querySelector('tr[data-id={json.dumps(BROKEN)}] [role=progressbar]').getAttribute('aria-valuenow')")
    assert progress == "38", progress  # 3 of 8 minutes
    chips = page.evaluate(f"[...document.querySelectorAll('tr[data-id={json.dumps(BROKEN)}] .chip')].map(c => c.textContent + (c.classList.contains('current') ? '*' : ''))")
    assert chips == ["Processing*", "Failed"], chips
    # The scenario's fault rule is listed.
    faults = page.evaluate("[...document.querySelectorAll('#fault-list [data-testid=fault]')].map(f => f.textContent)")
    assert len(faults) == 1 and "ServiceUnavailable" in faults[0], faults
    page.screenshot(OUTPUT / "dashboard.png")


def test_advance_moves_the_clock_and_statuses_change(server, page):
    assert row_status(page, BROKEN) == "Processing"
    page.click("#advance-10m")
    page.wait_for("document.getElementById('clock-now').textContent === '09:10:00'", "the clock to show 09:10:00")
    page.wait_for(f"document.querySelector('tr[data-id={json.dumps(BROKEN)}]')?.dataset.status === 'Failed'", "the broken import to fail")
    assert server.control("GET", "/_emu/clock")["now"] == "2026-11-22T09:10:00Z"
    assert row_status(page, CANCELLED) == "Deleted"
    page.wait_for(f"document.querySelector('tr[data-id={json.dumps(SHANGHAI)}]')?.dataset.status === 'Waiting'", "Shanghai's import to appear")
    assert rows(page) == world(server)
    # The row that changed is marked for a moment.
    assert page.evaluate(f"document.querySelector('tr[data-id={json.dumps(BROKEN)}]').classList.contains('changed')")
    page.screenshot(OUTPUT / "dashboard-after-advance.png")


def test_the_free_advance_field(server, page):
    page.type_into("#advance-by", "1h30m")
    page.click("#advance-go")
    page.wait_for("document.getElementById('clock-now').textContent === '10:40:00'", "the clock to show 10:40:00")
    page.wait_for("[...document.querySelectorAll('#task-table tr[data-testid=task-row]')].every(r => r.dataset.terminal === 'true')", "every task to be over")
    # A duration the server refuses is reported, and nothing moves.
    page.type_into("#advance-by", "soon")
    page.click("#advance-go")
    page.wait_for("document.getElementById('clock-message').classList.contains('error') && document.getElementById('clock-message').textContent.includes('bad duration')", "the error message")
    assert server.control("GET", "/_emu/clock")["now"] == "2026-11-22T10:40:00Z"


def test_the_journal_shows_the_calls(server, page):
    status, answer = server.call("GET", "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou")
    assert status == 503 and answer["Code"] == "ServiceUnavailable", (status, answer)  # the scenario's fault, once
    status, _ = server.call("GET", "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-shanghai")
    assert status == 200
    page.wait_for("document.querySelectorAll('#journal-body tr[data-testid=journal-row]').length >= 2", "two calls in the journal")
    journal = page.evaluate("[...document.querySelectorAll('#journal-body tr')].map(r => [...r.cells].map(c => c.textContent))")
    newest, older = journal[0], journal[1]
    assert newest[3].endswith("DescribeTasks") and newest[5] == "200" and newest[6] == "—", newest
    assert "RegionId=cn-shanghai" in newest[8], newest
    assert older[5] == "503" and older[6] == "ServiceUnavailable", older
    # The fault rule was used up, so it is gone from the list.
    page.wait_for("document.querySelectorAll('#fault-list [data-testid=fault]').length === 0", "the spent fault rule to go")
    page.click("#journal-clear")
    page.wait_for("document.querySelectorAll('#journal-body tr').length === 0", "the journal to be cleared")


def test_a_fault_is_added_and_cleared_from_the_form(server, page):
    page.select("#fault-operation", "ListTasks")
    page.select("#fault-effect", "error")
    page.type_into("#fault-value", "HSS.0041")
    page.type_into("#fault-times", "2")
    page.click("#fault-add")
    page.wait_for("document.querySelectorAll('#fault-list [data-testid=fault]').length === 1", "the new fault rule in the list")
    shown = page.evaluate("document.querySelector('#fault-list [data-testid=fault]').textContent")
    assert "ListTasks" in shown and "HSS.0041" in shown and "2 of 2" in shown, shown
    rules = server.control("GET", "/_emu/faults")["faults"]
    assert [(r["operation"], r["error"]["code"], r["times"]) for r in rules] == [("ListTasks", "HSS.0041", 2)]
    status, answer = server.call("POST", "/v5/0123456789abcdef0123456789abcdef/common/tasks/batch-query", {})
    assert status == 500 and answer["error_code"] == "HSS.0041", (status, answer)
    page.wait_for("document.querySelector('#fault-list [data-testid=fault]')?.textContent.includes('1 of 2')", "the rule's count to go down")

    # A latency rule for every operation, then clear them all.
    page.select("#fault-operation", "*")
    page.select("#fault-effect", "latency")
    page.type_into("#fault-value", "50ms")
    page.click("#fault-add")
    page.wait_for("document.querySelectorAll('#fault-list [data-testid=fault]').length === 2", "the latency rule in the list")
    page.screenshot(OUTPUT / "dashboard-faults.png")
    page.click("#faults-clear")
    page.wait_for("document.querySelectorAll('#fault-list [data-testid=fault]').length === 0", "the fault list to be empty")
    assert server.control("GET", "/_emu/faults")["faults"] == []

    # A rule the server refuses is explained, not added.
    page.select("#fault-effect", "latency")
    page.type_into("#fault-value", "forever")
    page.click("#fault-add")
    page.wait_for("document.getElementById('fault-message').classList.contains('error') && document.getElementById('fault-message').textContent.length > 0", "the refusal")
    assert server.control("GET", "/_emu/faults")["faults"] == []


def test_pause_and_rate_controls(server, page):
    page.click("#clock-toggle")
    page.wait_for("document.getElementById('clock-state').textContent === 'paused'", "the clock to show paused")
    assert server.control("GET", "/_emu/clock")["paused"] is True
    assert page.evaluate("document.getElementById('clock-toggle').textContent") == "Resume"
    page.click("#clock-toggle")
    page.wait_for("document.getElementById('clock-state').textContent === 'frozen'", "the clock to resume (frozen at rate 0)")
    assert server.control("GET", "/_emu/clock")["paused"] is False

    page.click("#rate-600")
    page.wait_for("document.getElementById('clock-state').textContent === 'running'", "the clock to run")
    before = server.control("GET", "/_emu/clock")["now_ms"]
    page.wait_for(f"(() => {{ const [h, m, s] = document.getElementById('clock-now').textContent.split(':').map(Number); return ((h * 60 + m) * 60 + s) * 1000 > {before % 86_400_000} + 60000; }})()", "the displayed clock to move on its own")
    page.type_into("#rate-input", "0")
    page.click("#rate-set")
    page.wait_for("document.getElementById('clock-state').textContent === 'frozen'", "the clock to freeze again")
    assert server.control("GET", "/_emu/clock")["rate"] == 0


def test_a_page_without_the_token_asks_for_it(server, browser):
    status, answer = server.call("GET", "/_emu/health")
    assert status == 200
    request = urllib.request.Request(server.url + "/_emu/health")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    tab = browser.new_page()  # a tab of its own: no token in its address or its session storage
    try:
        tab.navigate(server.url + "/_emu/ui")
        tab.wait_for("!document.getElementById('token-banner').hidden", "the page to ask for the token")
        assert tab.evaluate("document.getElementById('conn-state').dataset.state") == "locked"
        assert tab.evaluate("document.getElementById('offline-banner').hidden") is True, "answering, not offline"
        tab.screenshot(OUTPUT / "dashboard-token-needed.png")
        tab.type_into("#token-input", server.token)
        tab.click("#token-form button")
        tab.wait_for("document.getElementById('conn-state').dataset.state === 'live'", "the page to go live with the pasted token")
        tab.wait_for("document.querySelectorAll('#task-table tr[data-testid=task-row]').length > 0", "the task table to fill")
        assert tab.evaluate("document.getElementById('token-banner').hidden") is True
    finally:
        tab.close()


def test_the_page_says_when_the_server_is_gone(server, page):
    assert page.evaluate("document.getElementById('offline-banner').hidden") is True
    server.stop()
    page.wait_for("!document.getElementById('offline-banner').hidden", "the offline banner", timeout=20)
    assert page.evaluate("document.getElementById('conn-state').dataset.state") == "offline"
    page.screenshot(OUTPUT / "dashboard-offline.png")
