"""`Emulator`: one `taskemu serve` process on a free loopback port, and its control API.

The process is started with `--listen 127.0.0.1:0`; its one stdout line (`taskemu listening on
http://HOST:PORT`) says where it is; its stderr goes to a file (`Emulator.log`). Every control call
carries a per-process random token (`Authorization: Bearer ...`, handed to the child in
`TASKEMU_CONTROL_TOKEN`) and a JSON content type (TOML for scenarios), so it works against a server
that requires either. Standard library only: this runs inside other people's test environments.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.parse
import weakref
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

__all__ = ["ControlError", "Emulator", "StartError", "TaskemuError", "find_binary"]

PathLike = Union[str, "os.PathLike[str]"]

READY_LINE = re.compile(r"^taskemu listening on (http://(\[[^\]]+\]|[^\s:/]+):(\d+))\s*$")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
CONTROL_TIMEOUT = 30.0
BINARY_NAME = "taskemu.exe" if os.name == "nt" else "taskemu"


class TaskemuError(Exception):
    """Anything taskemu-related that went wrong: the base of the other errors."""


class StartError(TaskemuError):
    """The binary was not found, or did not come up; the message carries its log."""


class ControlError(TaskemuError):
    """The control API refused a call: `status`, the server's `message` (`FILE:LINE:COL: ...` for
    a scenario), and, for scenarios, `errors` (one dict per problem: file, line, column, message)."""

    def __init__(self, method: str, path: str, status: int, message: str, errors: Optional[list] = None):
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.errors = errors or []
        super().__init__(f"taskemu refused {method} {path} ({status}): {message}")


def find_binary(binary: Optional[PathLike] = None) -> Path:
    """The `taskemu` executable: `binary` when given, else `$TASKEMU_BIN`, else the one this
    package installed (the scripts folder of this interpreter), else the first on PATH."""
    if binary is not None:
        candidates = [Path(binary)]
    elif os.environ.get("TASKEMU_BIN"):
        candidates = [Path(os.environ["TASKEMU_BIN"])]
    else:
        # The wheel puts the binary next to this interpreter's scripts, whether or not the
        # virtualenv is activated (so PATH may not name it).
        folders = [sysconfig.get_path("scripts")]
        try:
            folders.append(sysconfig.get_path("scripts", f"{os.name}_user"))
        except KeyError:
            pass
        folders.append(str(Path(sys.executable).parent))
        candidates = [Path(f) / BINARY_NAME for f in dict.fromkeys(folders) if f]
        on_path = shutil.which(BINARY_NAME)
        if on_path:
            candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise StartError(f"no taskemu binary found (tried {tried}): `pip install taskemu` puts one on PATH, or set TASKEMU_BIN")


def _rfc3339(instant: Union[str, _dt.datetime]) -> str:
    if isinstance(instant, str):
        return instant
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=_dt.timezone.utc)
    instant = instant.astimezone(_dt.timezone.utc)
    millis = instant.microsecond // 1000
    return instant.strftime("%Y-%m-%dT%H:%M:%S") + (f".{millis:03d}" if millis else "") + "Z"


def _parse_instant(text: str) -> _dt.datetime:
    # Python before 3.11 does not take the `Z` suffix.
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _duration(by: Union[str, _dt.timedelta]) -> str:
    if isinstance(by, str):
        return by
    millis = round(by.total_seconds() * 1000)
    return f"-{-millis}ms" if millis < 0 else f"{millis}ms"


class Clock:
    """The virtual clock: `emu.clock()` is its state (`now`, `now_ms`, `rate`, `paused`)."""

    def __init__(self, emulator: "Emulator"):
        self._emu = emulator

    def __call__(self) -> dict:
        return self._emu.control("GET", "/_emu/clock")

    def now(self) -> _dt.datetime:
        """The virtual now, a timezone-aware UTC datetime."""
        return _parse_instant(self()["now"])

    def advance(self, by: Union[str, _dt.timedelta]) -> _dt.datetime:
        """Moves virtual time by `"5m"`, `"1h30m"`, `"-10s"` or a timedelta; the new now."""
        return _parse_instant(self._emu.control("POST", "/_emu/clock", {"advance": _duration(by)})["now"])

    def set(self, instant: Union[str, _dt.datetime]) -> _dt.datetime:
        """Jumps to an instant (RFC 3339 text, or a datetime; naive ones are UTC); the new now."""
        return _parse_instant(self._emu.control("POST", "/_emu/clock", {"set": _rfc3339(instant)})["now"])

    def rate(self, rate: float) -> dict:
        """Virtual seconds per real second (0 frozen, 1 real time)."""
        return self._emu.control("POST", "/_emu/clock", {"rate": rate})

    def pause(self) -> dict:
        return self._emu.control("POST", "/_emu/clock", {"pause": True})

    def resume(self) -> dict:
        return self._emu.control("POST", "/_emu/clock", {"pause": False})


class Faults:
    """Fault rules: `emu.faults()` lists them; `add`, `remove`, `clear` change them."""

    def __init__(self, emulator: "Emulator"):
        self._emu = emulator

    def __call__(self, tenant: Optional[str] = None) -> list:
        return self._emu.control("GET", "/_emu/faults" + _query(tenant=tenant))["faults"]

    def add(
        self,
        operation: Union[str, Mapping[str, Any]] = "*",
        *,
        error: Union[str, Mapping[str, Any], None] = None,
        status: Optional[int] = None,
        message: Optional[str] = None,
        latency: Optional[str] = None,
        throttle: Optional[int] = None,
        times: Optional[int] = None,
        probability: Optional[float] = None,
        tenant: Optional[str] = None,
    ) -> int:
        """Adds one rule with the control API's fields and returns its id. `error` is a code
        (`"Throttling"`, `"HSS.1001"`) or the API's `{"code", "status", "message"}`; `status` and
        `message` fill in the former. A whole rule dict may be passed instead of `operation`."""
        if isinstance(operation, Mapping):
            rule = dict(operation)
        else:
            rule = {"operation": operation}
            if error is not None:
                rule["error"] = dict(error) if isinstance(error, Mapping) else {"code": error}
                if status is not None:
                    rule["error"]["status"] = status
                if message is not None:
                    rule["error"]["message"] = message
            elif status is not None or message is not None:
                raise ValueError("status and message describe an error: give error= too")
            for key, value in (("latency", latency), ("throttle", throttle), ("times", times), ("probability", probability), ("tenant", tenant)):
                if value is not None:
                    rule[key] = value
        [rule_id] = self.add_many([rule])
        return rule_id

    def add_many(self, rules: Iterable[Mapping[str, Any]]) -> list:
        """Adds several rules at once (all or none); their ids."""
        return self._emu.control("POST", "/_emu/faults", list(rules))["ids"]

    def remove(self, rule_id: int) -> dict:
        return self._emu.control("DELETE", f"/_emu/faults/{int(rule_id)}")

    def clear(self, tenant: Optional[str] = None) -> int:
        """Removes every rule (or one tenant's); how many went."""
        return self._emu.control("DELETE", "/_emu/faults" + _query(tenant=tenant))["cleared"]


def _query(**params: Any) -> str:
    pairs = [(k, "true" if v is True else str(v)) for k, v in params.items() if v is not None and v is not False]
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM (the server finishes requests in flight), then kill; safe to call twice."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
        except OSError:
            pass
    if proc.stdout:
        proc.stdout.close()


class Emulator:
    """A taskemu server of its own, on `127.0.0.1:PORT`. Use it as a context manager (or call
    `start()` and `stop()`); it is stopped at interpreter exit whatever happens.

    scenarios      scenario files or folders of *.toml; default: the embedded demo world
    scenario_text  a scenario as TOML text (served along with `scenarios`)
    seed           seed for generated data, overriding the scenarios' own
    auth           True checks every signature, False none, None when a scenario declares credentials
    dialect        "sdk" (default) or "docs": response shapes of ECS and AVDS
    clock_rate     virtual seconds per real second (the scenarios' own by default; the demo's is 0)
    binary         the executable (default: $TASKEMU_BIN, else the one this package installed)
    serve_args     further `taskemu serve` flags, e.g. ["--journal-size", "100"]
    """

    def __init__(
        self,
        scenarios: Union[PathLike, Sequence[PathLike], None] = None,
        scenario_text: Optional[str] = None,
        seed: Optional[int] = None,
        auth: Optional[bool] = None,
        dialect: Optional[str] = None,
        clock_rate: Optional[float] = None,
        binary: Optional[PathLike] = None,
        serve_args: Sequence[str] = (),
    ):
        if isinstance(scenarios, (str, os.PathLike)):
            scenarios = [scenarios]
        self.scenarios = [Path(s) for s in scenarios or []]
        self.scenario_text = scenario_text
        self.seed = seed
        self.auth = auth
        self.dialect = dialect
        self.clock_rate = clock_rate
        self.binary = binary
        self.serve_args = list(serve_args)
        self.token = secrets.token_urlsafe(24)
        self.url = ""
        self.host = ""
        self.port = 0
        self.clock = Clock(self)
        self.faults = Faults(self)
        self._proc: Optional[subprocess.Popen] = None
        self._dir: Optional[Path] = None
        self._log_file = None
        self._final_log: Optional[str] = None
        self._finalizer: Optional[weakref.finalize] = None

    # --- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<taskemu.Emulator {self.url or 'not started'}>"

    @property
    def endpoint(self) -> str:
        """`HOST:PORT`, what the Alibaba SDKs take as their endpoint."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, text_file: Optional[Path] = None) -> list:
        """The command line `start()` runs (`text_file` holds `scenario_text`)."""
        args = [str(find_binary(self.binary)), "serve", "--listen", "127.0.0.1:0"]
        for scenario in [*self.scenarios, *([text_file] if text_file else [])]:
            args += ["--scenario", str(scenario)]
        if self.seed is not None:
            args += ["--seed", str(int(self.seed))]
        if self.auth is not None:
            args += ["--auth", self.auth if isinstance(self.auth, str) else ("on" if self.auth else "off")]
        if self.dialect is not None:
            args += ["--dialect", self.dialect]
        if self.clock_rate is not None:
            args += ["--clock-rate", repr(float(self.clock_rate))]
        return args + self.serve_args

    def start(self) -> "Emulator":
        """Starts the server and waits for its ready line; a `StartError` with its log otherwise
        (a bad scenario says FILE:LINE:COL there)."""
        if self._proc is not None:
            return self
        find_binary(self.binary)  # before any file is made: the likeliest failure
        self._dir = Path(tempfile.mkdtemp(prefix="taskemu-"))
        text_file = None
        if self.scenario_text is not None:
            text_file = self._dir / "scenario_text.toml"
            text_file.write_text(self.scenario_text, encoding="utf-8")
        args = self.command(text_file)
        env = dict(os.environ, TASKEMU_CONTROL_TOKEN=self.token)
        self._final_log = None
        self._log_file = open(self._dir / "taskemu.log", "wb")
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log_file, stdin=subprocess.DEVNULL, env=env)
        self._finalizer = weakref.finalize(self, _stop_process, self._proc)
        line = self._first_line()
        match = READY_LINE.match(line)
        if not match:
            code = self._proc.poll()
            self.stop()
            said = f"exited with status {code}" if code is not None else f"printed {line!r}"
            raise StartError(f"taskemu did not start ({' '.join(args)}): it {said}; its log:\n{self.log}")
        self.url, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
        # The server prints nothing more on stdout; drain it anyway so a full pipe can never block it.
        threading.Thread(target=self._drain, args=(self._proc.stdout,), daemon=True).start()
        return self

    def _first_line(self) -> str:
        box: list = []
        stdout = self._proc.stdout
        reader = threading.Thread(target=lambda: box.append(stdout.readline().decode("utf-8", "replace")), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        return box[0] if box else f"nothing within {START_TIMEOUT:.0f}s"

    @staticmethod
    def _drain(stream) -> None:
        try:
            while stream.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def stop(self) -> None:
        """Stops the server (SIGTERM, then kill after 5 s) and removes its temporary files; the
        log stays readable. Safe to call twice."""
        if self._proc is None:
            return
        _stop_process(self._proc)
        if self._finalizer is not None:
            self._finalizer.detach()
        self._proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._final_log = self._read_log()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _read_log(self) -> str:
        if self._dir is None:
            return ""
        try:
            return (self._dir / "taskemu.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def log(self) -> str:
        """What the server wrote on stderr so far (all of it, also after `stop()`)."""
        return self._final_log if self._final_log is not None else self._read_log()

    # --- the control API ----------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        """One control call: `body` is JSON-encoded unless it is bytes or str; the decoded answer.
        A refusal raises `ControlError` with the server's message."""
        if not self.port:
            raise TaskemuError("the emulator is not started: use it as a context manager or call start()")
        if body is None:
            data = None if method == "GET" else b""
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type, "Accept": "application/json"}
        conn = http.client.HTTPConnection(self.host.strip("[]"), self.port, timeout=CONTROL_TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except OSError as e:
            raise TaskemuError(f"no taskemu answering at {self.url} ({e}); its log:\n{self.log[-2000:]}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"error": raw.decode("utf-8", "replace")}
        if response.status >= 400:
            message = answer.get("error", "") if isinstance(answer, dict) else str(answer)
            errors = answer.get("errors") if isinstance(answer, dict) else None
            raise ControlError(method, path, response.status, message, errors)
        return answer

    def health(self) -> dict:
        """`status` ("ready"), `auth`, `version`, `clock`, `tasks`, `scenario`."""
        return self.control("GET", "/_emu/health")

    def reset(self) -> dict:
        """Back to the scenarios' start: world, clock and their fault rules (the journal stays)."""
        return self.control("POST", "/_emu/reset")

    def load(self, scenario: Union[str, "os.PathLike[str]"], tenant: Optional[str] = None, replace: bool = False, name: Optional[str] = None) -> dict:
        """Loads a scenario given as TOML text or as a path (a `Path`, or a one-line str naming an
        existing file); it stays loaded across resets. `tenant` makes its tasks that caller's own;
        `replace` replaces the world. Errors raise `ControlError` saying NAME:LINE:COL."""
        if isinstance(scenario, os.PathLike) or ("\n" not in scenario and os.path.isfile(scenario)):
            path = Path(scenario)
            text = path.read_text(encoding="utf-8")
            name = name or str(path)
        else:
            text = scenario
        query = _query(name=name, tenant=tenant, replace=bool(replace))
        return self.control("POST", "/_emu/scenarios" + query, text, content_type="application/toml")

    def tasks(self, **filters: Any) -> list:
        """Tasks with their state now, as dicts; filters: product, status, tenant, offset, limit."""
        return self.control("GET", "/_emu/tasks" + _query(**filters))["tasks"]

    def requests(self, **filters: Any) -> list:
        """The request journal, oldest first, as dicts (operation, parameters, status, error_code,
        tenant, ...); filters: operation, status, error_code, tenant, after (a seq), since, limit
        (the newest N)."""
        return self.control("GET", "/_emu/requests" + _query(**filters))["requests"]

    def clear_requests(self, tenant: Optional[str] = None) -> int:
        """Forgets the journal (or one tenant's part of it); how many entries went."""
        return self.control("DELETE", "/_emu/requests" + _query(tenant=tenant))["cleared"]
