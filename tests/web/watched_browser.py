"""One headless Chromium for the page tests (tests/browser.py's Page), which also keeps every
console error, uncaught exception and failed or refused request it sees, so a test can fail on
any of them; its blocking calls run in a thread, so the API server in the test's event loop
keeps answering."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from tests.browser import BrowserError, Page


class WatchedPage(Page):
    def __init__(self, chromium: str, *, window: str = "1400,1800") -> None:
        self.problems: list[str] = []
        super().__init__(chromium, window=window)
        for domain in ("Runtime.enable", "Log.enable", "Network.enable"):
            self.call(domain)

    def _message(self, deadline: float) -> dict[str, Any]:
        message = super()._message(deadline)
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.problems.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            self.problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.problems.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.problems.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            self.problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        return message


class Browser:
    """The page's steps as coroutines."""

    def __init__(self, page: WatchedPage, base_url: str, shots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.shots = shots

    async def _run(self, fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def open(self, path: str, *expected: str, timeout_ms: int = 15_000) -> str:
        await self._run(self.page.navigate, self.base_url + path)
        return await self.wait_for(*expected, timeout_ms=timeout_ms)

    async def wait_for(self, *expected: str, timeout_ms: int = 15_000) -> str:
        # Wait for the new document first: text of the page being left must not count.
        await self._run(self._loaded, timeout_ms)
        text = await self._run(self.page.wait_for_text, list(expected), timeout_ms=timeout_ms)
        missing = [e for e in expected if e not in text]
        if missing:
            raise AssertionError(f"{missing} not on {await self.url()}:\n{text[:3000]}")
        return text

    def _loaded(self, timeout_ms: int) -> None:
        deadline = time.monotonic() + timeout_ms / 1000
        while self.page.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise BrowserError("the page did not finish loading")
            time.sleep(0.05)

    async def url(self) -> str:
        return await self._run(self.page.evaluate, "location.href")

    async def fill(self, selector: str, value: str) -> None:
        script = f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.value = {json.dumps(value)}; return true; }})()"
        await self._run(self.page.evaluate, script)

    async def submit(self, label: str, *expected: str, timeout_ms: int = 60_000) -> str:
        """Click the button labelled `label`, then wait for the page the form leads to."""
        before = await self._origin()
        await self._run(self.page.click, label, timeout_ms=5_000)
        deadline = time.monotonic() + timeout_ms / 1000
        while await self._origin() in (before, None):
            if time.monotonic() > deadline:
                raise AssertionError(f"clicking {label!r} led nowhere")
            await asyncio.sleep(0.1)
        return await self.wait_for(*expected, timeout_ms=timeout_ms)

    async def _origin(self) -> float | None:
        """When the current document began: a new value means the browser moved on."""
        try:
            return await self._run(self.page.evaluate, "performance.timeOrigin")
        except BrowserError:
            return None  # between two documents

    async def eval(self, expression: str) -> Any:
        return await self._run(self.page.evaluate, expression)

    async def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        await self._run(self.page.screenshot, path)
        return path

    async def sign_in(self, secret: str) -> str:
        await self.open("/web/login", "Sign in")
        await self.fill("input[name=api_key]", secret)
        return await self.submit("Sign in", "Sign out")

    async def problems(self) -> list[str]:
        await self._run(self.page.evaluate, "1")  # drains the events already sent
        found, self.page.problems[:] = list(self.page.problems), []
        return found
