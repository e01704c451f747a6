"""What the API's routes work with: the Temporal client (every change goes through a
workflow), the memory stores (for reads), the key store and the limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from temporalio.client import Client

from api.keys import KeyStore
from api.limits import KeyRateLimit
from contract.conversation import ConversationLimits
from contract.names import TASK_QUEUE
from memory.runtime import MemoryRuntime


class ApiSettings(BaseModel):
    # Large enough for a document upload of a million characters.
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    rate_per_second: float = Field(default=20.0, gt=0)
    rate_burst: float = Field(default=40.0, ge=1)
    task_queue: str = TASK_QUEUE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ApiSettings":
        env = os.environ if environ is None else environ
        values = {
            "max_request_bytes": env.get("API_MAX_REQUEST_BYTES"),
            "rate_per_second": env.get("API_RATE_PER_SECOND"),
            "rate_burst": env.get("API_RATE_BURST"),
            "task_queue": env.get("TASK_QUEUE"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v})


@dataclass
class ApiServices:
    temporal: Client
    runtime: MemoryRuntime
    keys: KeyStore
    settings: ApiSettings = field(default_factory=ApiSettings)
    limits: ConversationLimits = field(default_factory=ConversationLimits.from_env)

    def __post_init__(self) -> None:
        self.rate_limit = KeyRateLimit(self.settings.rate_per_second, self.settings.rate_burst)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue
