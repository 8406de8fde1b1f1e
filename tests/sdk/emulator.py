"""The taskemu process under test, its control API, and a recording proxy.

`Emulator` starts the binary on port 0 with the suite's scenario, reads the one line it prints when
ready, and always stops it. `WireRecorder` sits between an SDK and the emulator and keeps every
request and response as it crossed the wire, so a test can check what the SDK really sent. Only the
standard library is used (urllib, http.client, http.server).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LISTENING = re.compile(r"^taskemu listening on (http://(127\.0\.0\.1):(\d+))\s*$")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


class Emulator:
    """One `taskemu serve` process."""

    def __init__(self, binary: Path, scenarios: list[Path], dialect: str, log_path: Path):
        self.binary = binary
        self.scenarios = scenarios
        self.dialect = dialect
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.host = ""
        self.port = 0

    def start(self) -> "Emulator":
        args = [str(self.binary), "serve", "--listen", "127.0.0.1:0", "--dialect", self.dialect]
        for scenario in self.scenarios:
            args += ["--scenario", str(scenario)]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        line = self._read_first_line()
        match = LISTENING.match(line)
        if not match:
            self.stop()
            raise RuntimeError(f"taskemu did not announce itself: first stdout line {line!r}; log:\n{self.log()}")
        self.url, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        return self

    def _read_first_line(self) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline().decode("utf-8", "replace")), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not box:
            self.stop()
            raise RuntimeError(f"taskemu printed nothing within {START_TIMEOUT}s; log:\n{self.log()}")
        return box[0]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def endpoint(self) -> str:
        """`host:port`, the form the Alibaba Tea Config takes."""
        return f"{self.host}:{self.port}"

    # --- control API --------------------------------------------------------------------------
    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"control API {method} {path} -> {e.code}: {e.read()!r}") from None

    def health(self) -> dict:
        return self.control("GET", "/_emu/health")

    def clock(self) -> dict:
        return self.control("GET", "/_emu/clock")

    def advance(self, by: str) -> dict:
        return self.control("POST", "/_emu/clock", {"advance": by})

    def set_clock(self, at: str) -> dict:
        return self.control("POST", "/_emu/clock", {"set": at})

    def reset(self) -> dict:
        return self.control("POST", "/_emu/reset")

    def load_scenario(self, text: str, tenant: str | None = None, name: str | None = None, replace: bool = False) -> dict:
        """POST /_emu/scenarios with a TOML body; stays loaded across resets."""
        query = {k: v for k, v in (("tenant", tenant), ("name", name), ("replace", "true" if replace else None)) if v}
        path = "/_emu/scenarios" + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(self.url + path, data=text.encode(), method="POST", headers={"Content-Type": "application/toml"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"control API POST {path} -> {e.code}: {e.read()!r}") from None

    # --- fault rules and the request journal ----------------------------------------------------
    def add_fault(self, *rules: dict) -> list[int]:
        """POST /_emu/faults; the new rules' ids."""
        answer = self.control("POST", "/_emu/faults", list(rules) if len(rules) > 1 else rules[0])
        return answer["ids"]

    def faults(self) -> list[dict]:
        return self.control("GET", "/_emu/faults")["faults"]

    def clear_faults(self) -> int:
        return self.control("DELETE", "/_emu/faults")["cleared"]

    def requests(self, **filters) -> list[dict]:
        """GET /_emu/requests with the given filters (operation, status, error_code, tenant, ...), oldest first."""
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self.control("GET", "/_emu/requests" + ("?" + query if query else ""))["requests"]

    def clear_requests(self, tenant: str | None = None) -> int:
        return self.control("DELETE", "/_emu/requests" + (f"?tenant={urllib.parse.quote(tenant)}" if tenant else ""))["cleared"]


@dataclass
class Exchange:
    """One request and its response, as they crossed the wire."""

    method: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def response_header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())


class WireRecorder:
    """A transparent HTTP proxy in front of the emulator that records every exchange."""

    def __init__(self, upstream_host: str, upstream_port: int):
        self.exchanges: list[Exchange] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, raw_query = self.path.partition("?")
                ex = Exchange(
                    method=self.command,
                    path=path,
                    query=urllib.parse.parse_qsl(raw_query, keep_blank_values=True),
                    raw_query=raw_query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=10)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive", "proxy-connection")}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    ex.status = resp.status
                    ex.response_headers = {k.lower(): v for k, v in resp.getheaders()}
                    ex.response_body = resp.read()
                finally:
                    conn.close()
                recorder.exchanges.append(ex)
                self.send_response(ex.status)
                for k, v in ex.response_headers.items():
                    if k not in ("connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(ex.response_body)))
                self.end_headers()
                self.wfile.write(ex.response_body)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def last(self) -> Exchange:
        assert self.exchanges, "no request reached the recorder"
        return self.exchanges[-1]

    def clear(self) -> None:
        self.exchanges.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def find_binary(repo: Path) -> Path:
    """TASKEMU_BIN when set (scripts/test sets it), else the debug build cargo makes."""
    configured = os.environ.get("TASKEMU_BIN")
    binary = Path(configured) if configured else repo / "target" / "debug" / "taskemu"
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise RuntimeError(f"taskemu binary not found at {binary}: run `cargo build` (scripts/test does) or set TASKEMU_BIN")
    return binary

