"""Who is calling: the API key in `Authorization: Bearer <key>` (or `X-API-Key`), its tenant
and its scope. Every route takes its tenant from the key, never from the request, so a key
cannot name another tenant's data."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.keys import ApiKey, Scope

_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer amk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key, as a header of its own")


def require(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    async def caller(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        header: str | None = Depends(_header),
    ) -> ApiKey:
        presented = bearer.credentials if bearer is not None else header
        if not presented:
            raise ApiError("unauthenticated", "no API key: send `Authorization: Bearer <key>`")
        services = request.app.state.services
        key = await services.keys.authenticate(presented)
        if key is None:
            raise ApiError("unauthenticated", "the API key is unknown or revoked")
        wait = services.rate_limit.take(key.key_id)
        if wait is not None:
            raise ApiError(
                "rate_limited",
                f"key {key.key_id} is over its rate limit of {services.rate_limit.rate:g} requests a second",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if not key.scope.allows(scope):
            raise ApiError("forbidden", f"key {key.key_id} has scope {key.scope.value}; this needs {scope.value}")
        return key

    return caller


read_key = require(Scope.READ)
write_key = require(Scope.WRITE)
operator_key = require(Scope.OPERATOR)
