"""uvicorn's h11 protocol with a deadline for a request's head.

uvicorn drops a keep-alive connection that stays idle after a response, but sets no timer
before a connection's first request, nor while a head arrives a byte at a time: such a
caller would hold its connection, and a place under the concurrency limit, for ever. Here a
connection must deliver a complete request line and headers within the deadline of opening
(or of the first byte of its next request), or it is closed. Bodies have their own deadline
where they are read (codec.http_guards.read_bounded_body).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadDeadlineH11Protocol(H11Protocol):
    head_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def data_received(self, data: bytes) -> None:
        # Between requests uvicorn's keep-alive timer runs, and it stops at the first byte:
        # from there the head is on our clock.
        if self.conn.their_state is h11.IDLE:
            self._start_head_deadline()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_deadline()  # the head is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_late)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.logger.debug("closing a connection whose request head did not arrive in %g s", self.head_timeout)
            self.transport.close()


def with_head_deadline(seconds: float) -> type[HeadDeadlineH11Protocol]:
    """The protocol class to give uvicorn (it builds one per connection from the config alone)."""
    return type("HeadDeadlineH11Protocol", (HeadDeadlineH11Protocol,), {"head_timeout": seconds})
