"""Headless Chromium for the browser tests: find (or install) it, open a page, read its text.

The page is driven over the Chrome DevTools Protocol on a pipe (`--remote-debugging-pipe`:
NUL-terminated JSON messages on file descriptors 3 and 4), so a single-page app that
renders after its own HTTP requests can be waited for until the expected text shows up.
No websocket client is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CALL_TIMEOUT_S = 30

# Without the background-networking flags Chromium stalls on a closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]

_TRAMPOLINE = """
import os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
os.dup2(r, 3)
os.dup2(w, 4)
os.close(r)
os.close(w)
os.execv(sys.argv[3], sys.argv[3:])
"""

_install_lock = threading.Lock()
_install_tried = False


def _installed() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@contextmanager
def _across_processes() -> Iterator[None]:
    """The suite runs in several processes: one installs, the others wait and then find it."""
    with open(Path(tempfile.gettempdir()) / "agent-memory-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_chromium() -> str | None:
    """The Chromium binary; installs Debian's `chromium` package once when it is missing and
    this process may (root, apt-get present). None when there is no way to get it."""
    global _install_tried
    with _install_lock, _across_processes():
        found = _installed()
        if found or _install_tried:
            return found
        _install_tried = True
        apt = shutil.which("apt-get")
        if apt is None or os.geteuid() != 0:
            log.warning("chromium is not installed and cannot be installed here (needs root and apt-get)")
            return None
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt, "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "chromium"]
        log.warning("chromium is missing: installing Debian's chromium package (apt-get install chromium)")
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log.warning("apt-get install chromium failed; updating the package lists and trying again")
            subprocess.run([apt, "update"], env=env, capture_output=True, text=True)
            done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log.warning("could not install chromium: %s", done.stderr.strip()[-2000:])
            return None
        return _installed()


class BrowserError(RuntimeError):
    pass


class ChromiumUnavailable(BrowserError):
    """Chromium is not installed, or it does not start."""


class Page:
    """One headless Chromium with one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, chromium: str, *, window: str = "1600,2000") -> None:
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # A small trampoline moves the pipe ends onto descriptors 3 and 4 for Chromium (no
        # preexec_fn: pages are opened from worker threads). Copies above 10 first, so the
        # moves cannot overwrite one another.
        child_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _TRAMPOLINE,
                str(child_r),
                str(child_w),
                chromium,
                *FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                f"--window-size={window}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(child_r, child_w),
        )
        os.close(child_r)
        os.close(child_w)
        self._out = os.fdopen(to_browser_w, "wb", buffering=0)
        self._in = os.fdopen(from_browser_r, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
            self._session = attached["sessionId"]
            width, height = (int(v) for v in window.split(","))
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            self.call("Page.enable")
        except BrowserError as err:
            self.close()
            raise ChromiumUnavailable(f"chromium does not start: {err}") from err
        except BaseException:
            self.close()
            raise

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if not select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise BrowserError(f"chromium did not answer in time: {self.stderr_tail()}")
            chunk = self._in.read(1 << 16)
            if not chunk:
                raise BrowserError(f"chromium exited: {self.stderr_tail()}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session:
            message["sessionId"] = self._session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while True:
            reply = self._message(deadline)
            if reply.get("id") != self._next_id:
                continue  # an event, or a reply nobody waits for
            if "error" in reply:
                raise BrowserError(f"{method}: {reply['error']}")
            return reply.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for_text(self, expected: Sequence[str], *, timeout_ms: int) -> str:
        """The page's text once every expected string is in it, or when the time is up."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            text = self.text()
            if all(item in text for item in expected) or time.monotonic() >= deadline:
                return text
            time.sleep(0.2)

    def click(self, label: str, *, timeout_ms: int) -> None:
        """Click the button whose text is `label`, once the page has rendered it."""
        script = (
            "(() => { const b = [...document.querySelectorAll('button')]"
            f".find(b => b.innerText.trim() === {json.dumps(label)});"
            " if (!b) return false; b.click(); return true; })()"
        )
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.evaluate(script):
            if time.monotonic() >= deadline:
                raise BrowserError(f"no button {label!r} on the page")
            time.sleep(0.2)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.call("Browser.close", session=False)
            except (BrowserError, OSError, ValueError):
                pass
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self._out, self._in):
            try:
                stream.close()
            except (OSError, AttributeError):
                pass
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render(
    url: str,
    *,
    screenshot: Path | None,
    wait_ms: int = 15000,
    window: str = "1600,2000",
    expect: Sequence[str] = (),
    click: Sequence[str] = (),
    chromium: str | None = None,
) -> str:
    """Open `url` in headless Chromium, click the buttons labelled `click` in turn, and
    return the page's text once every string in `expect` shows (or after `wait_ms`; with
    nothing expected, once the text stops changing); with `screenshot`, save a PNG there."""
    binary = chromium or ensure_chromium()
    if binary is None:
        raise ChromiumUnavailable("chromium is not installed and cannot be installed here")
    with Page(binary, window=window) as page:
        page.navigate(url)
        for label in click:
            page.click(label, timeout_ms=wait_ms)
        text = page.wait_for_text(expect, timeout_ms=wait_ms) if expect else _settled(page, wait_ms)
        if screenshot is not None:
            page.screenshot(screenshot)
        return text


def _settled(page: Page, wait_ms: int) -> str:
    """The page's text once it has stopped changing for a second (or after `wait_ms`)."""
    deadline = time.monotonic() + wait_ms / 1000
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        text = page.text()
        if text != last:
            last, stable_since = text, time.monotonic()
        elif text and time.monotonic() - stable_since >= 1:
            break
        time.sleep(0.2)
    return last or ""
