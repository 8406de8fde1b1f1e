"""The suite's view of a taskemu server, and a recording proxy.

The servers themselves are the `taskemu` package's (`taskemu.Emulator`, and the plugin's
`taskemu_session` for the main one): they start the binary on port 0, read its ready line, carry
the control token, and always stop it. `Shorthand` adds the names the suite's tests were written
with (`advance`, `set_clock`, `add_fault` ...) over the package's API. `WireRecorder` sits between
an SDK and the emulator and keeps every request and response as it crossed the wire, so a test can
check what the SDK really sent. Only the standard library is used (http.client, http.server).
"""

from __future__ import annotations

import http.client
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import taskemu


class Shorthand:
    """A `taskemu.Emulator` with the suite's shorthand; everything else is the emulator's own
    (`url`, `endpoint`, `clock()`, `faults()`, `requests()`, `reset()`, `control()` ...)."""

    def __init__(self, emulator: taskemu.Emulator):
        self.emulator = emulator

    def __getattr__(self, name):
        return getattr(self.emulator, name)

    def advance(self, by: str) -> dict:
        return self.emulator.control("POST", "/_emu/clock", {"advance": by})

    def set_clock(self, at: str) -> dict:
        return self.emulator.control("POST", "/_emu/clock", {"set": at})

    def load_scenario(self, text: str, tenant: str | None = None, name: str | None = None, replace: bool = False) -> dict:
        """POST /_emu/scenarios with a TOML body; stays loaded across resets."""
        return self.emulator.load(text, tenant=tenant, name=name, replace=replace)

    def add_fault(self, *rules: dict) -> list[int]:
        """POST /_emu/faults; the new rules' ids."""
        return self.emulator.faults.add_many(rules)

    def clear_faults(self) -> int:
        return self.emulator.faults.clear()


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
