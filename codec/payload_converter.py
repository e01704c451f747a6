"""The pydantic payload converter, built once per process.

The SDK builds a data converter's payload converter afresh for every workflow activation and
every serialization context (a new DataConverter each time), and each new
PydanticPayloadConverter starts with an empty cache of pydantic TypeAdapters, so every
activation rebuilt the adapters of the turn's models (the read's result, the model call's
input, the commit's). The converter holds no per-context state: one instance serves all.
"""

from __future__ import annotations

from typing import ClassVar

from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    _shared: ClassVar[PydanticPayloadConverter | None] = None

    def __new__(cls) -> SharedPydanticPayloadConverter:
        if cls._shared is None:
            converter = super().__new__(cls)
            PydanticPayloadConverter.__init__(converter)
            cls._shared = converter
        return cls._shared  # type: ignore[return-value]

    def __init__(self) -> None:
        pass  # initialised once, in __new__


shared_pydantic_data_converter = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
