"""Stand-ins for the model API in fault tests.

FakeAnthropicAPI is a local HTTP server speaking enough of the Anthropic Messages API for
the real AnthropicClient (SDK, HTTP transport, timeouts, error classification): each
request gets the next scripted answer (an error status with its headers, or a request
that is never answered), then ordinary replies.

HeldModel is the offline model, except that the agent's first call waits for the test.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from memory.llm.base import ModelRequest, ModelResponse
from memory.llm.offline import OfflineModel

HANG = "hang"


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


def reply(text: str) -> Answer:
    return Answer(
        200,
        {
            "id": "msg_fault_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 7},
        },
    )


def error(status: int, kind: str, message: str, **headers: str) -> Answer:
    return Answer(status, {"type": "error", "error": {"type": kind, "message": message}}, dict(headers))


class FakeAnthropicAPI:
    """Answers POST /v1/messages with the script, then with `then` for every later request."""

    def __init__(self, script: list[Answer | str], then: Answer):
        self.script = list(script)
        self.then = then
        # When each request arrived (monotonic seconds), in order.
        self.arrivals: list[float] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> "FakeAnthropicAPI":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):  # a client's idle keep-alive connections
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:  # one connection carries many requests (keep-alive)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.arrivals.append(time.monotonic())
                answer = self.script.pop(0) if self.script else self.then
                if answer == HANG:
                    await reader.read()  # nothing is ever sent; returns when the client gives up
                    return
                assert isinstance(answer, Answer)
                body = json.dumps(answer.body).encode()
                headers = {"content-type": "application/json", "content-length": str(len(body)), **answer.headers}
                writer.write(
                    f"HTTP/1.1 {answer.status} Fault\r\n".encode()
                    + "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
                    + b"\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()


class HeldModel(OfflineModel):
    """The offline model; the agent's first call waits until the test releases it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.agent_calls = 0

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if request.purpose == "agent_turn":
            self.agent_calls += 1
            self.reached.set()
            await self.release.wait()
        return await super().generate(request)
