"""Tests of the `taskemu` package itself: the launcher, its control client, and the pytest plugin.

scripts/test runs them in a fresh virtualenv where only the wheel is installed (the binary comes
from the wheel, the plugin from its pytest11 entry point), next to examples/pytest. The plugin's
behaviour is checked through pytester: a small test suite run inside this one.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import taskemu
from taskemu import ControlError, Emulator, StartError

pytest_plugins = ["pytester"]

ECS_CALL = "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&Format=JSON"


# --- the launcher ---------------------------------------------------------------------------------
def test_starts_on_a_free_port_answers_and_stops():
    with Emulator() as emu:
        assert emu.url == f"http://127.0.0.1:{emu.port}" and emu.endpoint == f"127.0.0.1:{emu.port}"
        assert emu.health()["status"] == "ready"
        assert emu.clock.now().isoformat() == "2026-11-22T08:00:00+00:00", "the demo world by default"
        assert emu.clock.advance("90m").isoformat() == "2026-11-22T09:30:00+00:00"
        assert emu.clock()["now"] == "2026-11-22T09:30:00Z"
        proc = emu._proc
    assert proc.poll() is not None, "stopped on leaving the with block"
    assert not emu.running


def test_a_bad_scenario_fails_the_start_with_file_line_column():
    with pytest.raises(StartError, match=r"scenario_text\.toml:2:6"):
        Emulator(scenario_text='[[sas.tasks]]\nid = "five"\n').start()


def test_a_refused_control_call_raises_control_error_with_the_servers_message():
    with Emulator() as emu:
        with pytest.raises(ControlError) as refused:
            emu.load('[[sas.tasks]]\nid = "five"\n', name="extra.toml")
        assert refused.value.status == 400
        assert refused.value.message.startswith("extra.toml:2:6")
        assert refused.value.errors[0]["line"] == 2
        with pytest.raises(ControlError, match="bad duration"):
            emu.clock.advance("soon")


def test_load_tasks_faults_requests_and_reset():
    with Emulator(scenario_text='[clock]\nstart = "2026-01-01T00:00:00Z"\n') as emu:
        assert emu.tasks() == []
        answer = emu.load('[[sas.tasks]]\nid = 5\nlifecycle = [{ status = "Failed" }]\n', name="five.toml")
        assert (answer["loaded"], answer["tasks"]) == ("five.toml", 1)
        assert [(t["product"], t["id"], t["status"]) for t in emu.tasks(product="sas")] == [("sas", "5", "Failed")]
        rule = emu.faults.add("DescribeTasks", error="ServiceUnavailable", times=1)
        assert [r["id"] for r in emu.faults()] == [rule]
        status, _ = _get(emu, ECS_CALL)
        assert status == 503
        [entry] = emu.requests(operation="DescribeTasks")
        assert (entry["status"], entry["error_code"], entry["parameters"]["RegionId"]) == (503, "ServiceUnavailable", "cn-hangzhou")
        emu.faults.add("*", latency="1ms")
        assert emu.faults.clear() == 1, "the first rule was used up"
        emu.clock.set("2026-06-01T12:00:00Z")
        emu.reset()
        assert emu.clock.now().isoformat() == "2026-01-01T00:00:00+00:00"
        assert len(emu.tasks()) == 1, "run-time loads stay across a reset"
        assert emu.clear_requests() == 1


def test_every_control_call_carries_the_token_and_a_content_type():
    seen = []

    class Recorder(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.command, self.path, self.headers.get("Authorization"), self.headers.get("Content-Type")))
            body = json.dumps({"ids": [1], "now": "2026-01-01T00:00:00Z", "loaded": "x", "cleared": 0, "faults": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        emu = Emulator()
        emu.host, emu.port, emu.url = "127.0.0.1", server.server_address[1], f"http://127.0.0.1:{server.server_address[1]}"
        emu.clock.advance("1m")
        emu.load("name = 'x'\n")
        emu.faults.add("DescribeTasks", throttle=1)
        emu.faults.clear()
        emu.faults()
    finally:
        server.shutdown()
        server.server_close()
    assert len(emu.token) >= 32
    assert [s[2] for s in seen] == [f"Bearer {emu.token}"] * 5
    assert [(s[0], s[3]) for s in seen] == [
        ("POST", "application/json"),
        ("POST", "application/toml"),
        ("POST", "application/json"),
        ("DELETE", "application/json"),
        ("GET", "application/json"),
    ]
    assert Emulator().token != emu.token, "a new token for every emulator"


@pytest.mark.skipif(taskemu.__version__ == "unknown", reason="runs where the wheel is installed (scripts/test's fresh virtualenv)")
def test_the_installed_binary_is_found_without_taskemu_bin(monkeypatch):
    monkeypatch.delenv("TASKEMU_BIN", raising=False)
    assert taskemu.find_binary().name.startswith("taskemu")
    monkeypatch.setenv("TASKEMU_BIN", "/nonexistent/taskemu")
    with pytest.raises(StartError, match="TASKEMU_BIN"):
        Emulator().start()


def _get(emu, path):
    import http.client

    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the plugin -----------------------------------------------------------------------------------
PLUGIN_SUITE = '''
import http.client, os, pathlib, pytest

def get(emu, path):
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=10)
    conn.request("GET", path)
    return conn.getresponse().read()

def test_fresh_one(taskemu):
    assert taskemu.clock()["now"] == "2030-01-01T00:00:00Z"
    taskemu.clock.advance("1h")

def test_fresh_two(taskemu):
    assert taskemu.clock()["now"] == "2030-01-01T00:00:00Z", "a new emulator: the move above is gone"

@pytest.mark.taskemu(scenario_text='[clock]\\nstart = "2031-05-05T05:05:05Z"\\n', seed=3, dialect="docs")
def test_marker(taskemu):
    assert taskemu.clock()["now"] == "2031-05-05T05:05:05Z"

@pytest.mark.parametrize("run", [1, 2, 3, 4])
def test_session(taskemu_session, run):
    assert taskemu_session.clock()["now"] == "2030-01-01T00:00:00Z"
    taskemu_session.clock.advance("1h")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (pathlib.Path(os.environ["PORTS_DIR"]) / f"{worker}-{run}").write_text(str(taskemu_session.port))

def test_fails_after_a_call(taskemu_session):
    get(taskemu_session, "{call}")
    get(taskemu_session, "/?Action=DescribeTasks&Version=2014-05-26")
    assert False, "the report shows what was sent"
'''


def _plugin_args() -> list:
    """`-p taskemu.plugin` when the package runs from a checkout (no pytest11 entry point)."""
    from importlib.metadata import entry_points

    try:
        installed = any(ep.name == "taskemu" for ep in entry_points(group="pytest11"))
    except TypeError:  # Python < 3.10
        installed = any(ep.name == "taskemu" for ep in entry_points().get("pytest11", []))
    return ["-p", "no:cacheprovider"] + ([] if installed else ["-p", "taskemu.plugin"])


@pytest.fixture
def plugin_suite(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTS_DIR", str(tmp_path))
    pytester.makefile(".toml", **{"scenarios/start": '[clock]\nstart = "2030-01-01T00:00:00Z"\n'})
    pytester.makeini("[pytest]\ntaskemu_scenarios = scenarios/start.toml\n")
    pytester.makepyfile(test_suite=PLUGIN_SUITE.replace("{call}", ECS_CALL + "&TaskIds=t-wanted"))
    return pytester


def test_plugin_fixtures_marker_ini_and_the_failure_report(plugin_suite):
    result = plugin_suite.runpytest_subprocess(*_plugin_args())
    result.assert_outcomes(passed=7, failed=1)
    output = result.stdout.str()
    assert "taskemu (taskemu_session, http://127.0.0.1:" in output and "requests during the test" in output
    # Only this test's two requests, not the session's earlier ones; operation, status, error code, parameters.
    assert "2 request(s), oldest first:" in output
    assert 'GET DescribeTasks -> 200 OK' in output and '"TaskIds": "t-wanted"' in output
    assert "-> 400 MissingParameter" in output or "-> 400 Missing" in output, output
    assert "taskemu (taskemu_session): server log" in output


def test_taskemu_session_is_one_server_per_xdist_worker(plugin_suite, tmp_path):
    pytest.importorskip("xdist")
    # --dist each: every worker runs every session test, so both must have started their own server.
    result = plugin_suite.runpytest_subprocess(*_plugin_args(), "-n", "2", "--dist", "each", "-k", "session")
    result.assert_outcomes(passed=8)
    ports: dict = {}
    for record in tmp_path.iterdir():
        ports.setdefault(record.name.split("-")[0], set()).add(record.read_text())
    assert sorted(ports) == ["gw0", "gw1"], "both workers ran session tests"
    assert all(len(p) == 1 for p in ports.values()), f"one server per worker: {ports}"
    assert len(set.union(*ports.values())) == 2, f"each worker its own: {ports}"
