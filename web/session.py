"""A browser's sign-in: the API key is presented once in a form, and the browser then holds a
signed, HttpOnly, SameSite=Strict cookie naming the key (id, tenant, scope) and a random
nonce. The key itself is never stored in the cookie nor put in a URL. Each request checks the
signature, the expiry, that the key is still unrevoked and its scope; each form carries a CSRF
token derived from the nonce."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time

from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.keys import ApiKey, Scope

COOKIE = "amk_session"


class WebSession(BaseModel):
    key_id: str
    tenant_id: str
    scope: Scope
    nonce: str
    expires: float


class NotSignedIn(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


class Forbidden(Exception):
    """Signed in, but the key's scope does not allow this."""


class BadCsrf(Exception):
    """A form came without this session's CSRF token."""


def _sign(secret: str, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode().rstrip("=")


def issue(secret: str, key: ApiKey, hours: float) -> str:
    session = WebSession(
        key_id=key.key_id,
        tenant_id=key.tenant_id,
        scope=key.scope,
        nonce=secrets.token_urlsafe(16),
        expires=time.time() + hours * 3600,
    )
    payload = base64.urlsafe_b64encode(session.model_dump_json().encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload.encode())}"


def read(secret: str, cookie: str | None) -> WebSession | None:
    if not cookie or "." not in cookie or len(cookie) > 4096:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(secret, payload.encode())):
        return None
    try:
        session = WebSession.model_validate(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (ValueError, ValidationError):
        return None
    return session if session.expires > time.time() else None


def csrf_token(secret: str, session: WebSession) -> str:
    return _sign(secret, f"csrf:{session.key_id}:{session.nonce}".encode())


async def signed_in(request: Request, needed: Scope = Scope.READ) -> tuple[WebSession, ApiKey]:
    """The session and its key, checked as the API checks a key on every request."""
    web = request.app.state.web
    services = request.app.state.services
    session = read(web.settings.session_secret, request.cookies.get(COOKIE))
    if session is None:
        raise NotSignedIn()
    key = await services.keys.by_id(session.key_id)
    if key is None or key.revoked_at is not None or key.tenant_id != session.tenant_id:
        raise NotSignedIn()
    wait = services.rate_limit.take(key.key_id)
    if wait is not None:
        raise Forbidden(f"key {key.key_id} is over its rate limit; try again in {max(1, math.ceil(wait))} s")
    if not key.scope.allows(needed):
        raise Forbidden(f"key {key.key_id} has scope {key.scope.value}; this needs {needed.value}")
    return session, key


def check_csrf(request: Request, session: WebSession, token: str | None) -> None:
    expected = csrf_token(request.app.state.web.settings.session_secret, session)
    if not token or not hmac.compare_digest(token, expected):
        raise BadCsrf()
