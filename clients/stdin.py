"""Standard input for client scripts: UTF-8, decoded strictly, whatever the locale.

Read as bytes, because the text layer's decoding depends on the locale: under the C or
POSIX locale Python reads undecodable bytes as lone surrogates, which pass unnoticed
until something downstream fails with "unpaired surrogate".
"""

from __future__ import annotations

import sys

from memory.core.validation import InvalidInput


def read_stdin_text(consequence: str = "nothing was sent") -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"standard input is not valid UTF-8 text (it holds byte 0x{data[err.start]:02x}); {consequence}"
        ) from None
