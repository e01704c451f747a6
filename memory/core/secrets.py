"""Keeping secrets out of messages: passwords in service URLs are shown as ***.

Start-up errors, logs and reprs name the URL an operator set (so they can tell which
one is wrong) without printing the credential inside it.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://[user]:password@host — the password is everything between the first ':' after
# the scheme's '//' and the last '@' before the host (passwords may contain '@').
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):(?P<password>[^/?#\s]*)@")


def mask_url(url: str | None) -> str | None:
    """The URL with its password (if any) replaced by ***."""
    if url is None:
        return None
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", url)


def mask_text(text: str, *secrets: str | None) -> str:
    """`text` with every password of a URL in it, and each given secret, replaced by ***."""
    masked = mask_url(text) or ""
    for secret in secrets:
        if secret and len(secret) >= 4:
            masked = masked.replace(secret, MASK)
    return masked


def url_password(url: str | None) -> str | None:
    if not url:
        return None
    match = _URL_PASSWORD.search(url)
    return match["password"] if match and match["password"] else None
