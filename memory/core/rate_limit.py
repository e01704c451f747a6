"""A small async token-bucket rate limiter, one bucket per key (e.g. per embedding provider)."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Allows `rate` acquisitions per second per key, with bursts of up to `burst`.

    Limits calls within one process; a waiter sleeps until its tokens have refilled.
    """

    def __init__(self, rate: float, *, burst: float | None = None, clock=time.monotonic, sleep=asyncio.sleep):
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._rate = float(rate)
        self._burst = float(burst) if burst is not None else max(1.0, float(rate))
        self._clock = clock
        self._sleep = sleep
        # key -> (tokens, time of last refill)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, key: str, tokens: float = 1.0) -> None:
        if tokens > self._burst:
            raise ValueError(f"cannot take {tokens} tokens at once; the burst is {self._burst}")
        lock = self._locks.setdefault(key, asyncio.Lock())
        # One waiter at a time per key, so waiters are served in order.
        async with lock:
            while True:
                now = self._clock()
                available, last = self._buckets.get(key, (self._burst, now))
                available = min(self._burst, available + (now - last) * self._rate)
                if available >= tokens:
                    self._buckets[key] = (available - tokens, now)
                    return
                self._buckets[key] = (available, now)
                await self._sleep((tokens - available) / self._rate)
