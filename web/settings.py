"""Settings of the web pages, from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    # Where operators open the Temporal UI; a turn links to its workflow there.
    temporal_ui_url: str = "http://localhost:8233"
    # Signs session cookies. Without one set, a random secret per process: sessions end when
    # the process restarts, and several API processes behind one balancer need a shared one.
    session_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32), min_length=16, repr=False)
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "WebSettings":
        env = os.environ if environ is None else environ
        values = {
            "temporal_ui_url": env.get("WEB_TEMPORAL_UI_URL"),
            "session_secret": env.get("WEB_SESSION_SECRET"),
            "session_hours": env.get("WEB_SESSION_HOURS"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v})
