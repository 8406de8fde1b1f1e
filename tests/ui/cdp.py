"""Just enough of the Chrome DevTools protocol to drive Debian's headless Chromium from a test:
start it, open a page, evaluate JavaScript, click like a mouse, type like a keyboard, and take a
screenshot. One blocking WebSocket per page (the `websockets` package); nothing is downloaded.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

# What the machine allows: no sandbox as root, no GPU, and none of the background calls home
# (the network is closed and Chromium would retry them forever).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
]


class CdpError(RuntimeError):
    pass


class Page:
    """One tab, over its own DevTools WebSocket."""

    def __init__(self, ws_url: str):
        self.stack = ExitStack()
        self.ws = self.stack.enter_context(connect(ws_url, max_size=None, open_timeout=15, close_timeout=2))
        self.next_id = 0
        self.exceptions: list[str] = []
        self.console_errors: list[str] = []

    def close(self) -> None:
        try:
            self.stack.close()
        except Exception:  # noqa: BLE001 - closing a dead socket is fine
            pass

    def _event(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.exceptions.append(str(text))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self.next_id += 1
        call_id = self.next_id
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"{method}: no answer within {timeout}s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") == call_id:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(f"{expression!r} threw {details.get('exception', {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 15.0) -> Any:
        """Evaluates `expression` until it is truthy; fails saying `what` was awaited."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {value!r})")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", f"{url} to load")

    def center_of(self, selector: str) -> tuple[float, float]:
        box = self.evaluate(
            f"""(() => {{
                const node = document.querySelector({json.dumps(selector)});
                if (!node) return null;
                node.scrollIntoView({{block: 'center', inline: 'center'}});
                const r = node.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}};
            }})()"""
        )
        if not box or box["w"] == 0 or box["h"] == 0:
            raise AssertionError(f"{selector} is not on the page, or not visible")
        return box["x"], box["y"]

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (press and release), as a person would."""
        x, y = self.center_of(selector)
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "clickCount": 1})
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left", "clickCount": 1})

    def type_into(self, selector: str, text: str) -> None:
        """Clicks a field, empties it, and types `text` into it."""
        self.click(selector)
        self.evaluate(f"(() => {{ const f = document.querySelector({json.dumps(selector)}); f.value = ''; }})()")
        self.send("Input.insertText", {"text": text})

    def select(self, selector: str, value: str) -> None:
        """Chooses an option of a <select>, and tells the page as a user's choice would."""
        self.evaluate(
            f"""(() => {{
                const s = document.querySelector({json.dumps(selector)});
                s.value = {json.dumps(value)};
                s.dispatchEvent(new Event('input', {{bubbles: true}}));
                s.dispatchEvent(new Event('change', {{bubbles: true}}));
            }})()"""
        )

    def screenshot(self, path: Path) -> Path:
        """The whole page, from the top."""
        self.evaluate("window.scrollTo(0, 0)")
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    """A headless Chromium with a fresh profile, reached over DevTools on a port it picks."""

    def __init__(self, binary: str, log_path: Path, width: int = 1400, height: int = 1000):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="taskemu-ui-chromium-")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.port = self._devtools_port()

    def _devtools_port(self, timeout: float = 60.0) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CdpError(f"chromium exited with {self.process.returncode} before DevTools was up (see {self.log.name})")
            if marker.exists():
                lines = marker.read_text().split()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.05)
        raise CdpError(f"chromium did not open DevTools within {timeout}s (see {self.log.name})")

    def new_page(self) -> Page:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=15) as answer:
            target = json.load(answer)
        page = Page(target["webSocketDebuggerUrl"])
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        return page

    def close(self) -> None:
        stop_process(self.process)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def stop_process(process: subprocess.Popen) -> None:
    """Terminates a child we started, killing it if it does not end within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def chromium_binary() -> str:
    binary = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(binary).exists():
        raise CdpError(f"no Chromium at {binary}: tests/ui/run installs Debian's chromium, or set CHROMIUM")
    return binary
