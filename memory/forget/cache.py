"""The Redis keys a forget erases: the session-learning cache of the user's threads (or all
of the tenant's sessions).

Keys are `session-cache:{tenant}:{context}:{session}`, the session being the thread id; the
context is a hash that includes the agent and project, so it cannot be matched to a thread of
one agent: a user's forget erases every session of the tenant with one of the user's thread
ids. A same-named thread of another agent loses its session cache too, which it relearns;
nothing of the user is left behind.
"""

from __future__ import annotations

import redis.asyncio as redis

from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope

_SCAN_BATCH = 500


class CacheEraser:
    def __init__(self, redis_url: str):
        self._redis = redis.Redis.from_url(redis_url, decode_responses=True)

    async def keys(self, scope: ForgetScope, threads: list[ThreadRef]) -> list[str]:
        sessions = {t.thread_id for t in threads}
        found: set[str] = set()
        async for key in self._redis.scan_iter(match=f"session-cache:{scope.tenant_id}:*", count=_SCAN_BATCH):
            if scope.user_id is None or key.rsplit(":", 1)[-1] in sessions:
                found.add(key)
        return sorted(found)

    async def erase(self, scope: ForgetScope, threads: list[ThreadRef]) -> int:
        keys = await self.keys(scope, threads)
        return int(await self._redis.delete(*keys)) if keys else 0

    async def close(self) -> None:
        await self._redis.aclose()
