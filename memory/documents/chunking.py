"""Documents for ingestion: decoding uploaded bytes, and cutting the text into chunks.

Chunks are spans of the document's own text, so nothing is rewritten, dropped or truncated:
an oversized document gives more chunks, never a refusal. Cuts fall, by preference, at
headings, then between paragraphs, then between sentences, then between words; a chunk
never spans two sections, and carries the heading of its section so a chunk read alone
still says what it is about.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel

from memory.core.validation import InvalidInput

# A text file may hold the odd control character (a form feed, a stray escape); a file
# where they are common is binary that happens to decode.
_MAX_CONTROL_SHARE = 0.05
_MIN_CONTROLS_FOR_BINARY = 4
_ALLOWED_CONTROLS = frozenset("\t\n\f\v")


class DocumentRejected(InvalidInput):
    """A document that can never be ingested as it is; the message names the file and why."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(f"document {name[:200]!r} {reason}")


def decode_document(name: str, data: bytes) -> str:
    """The document's text, from UTF-8 bytes (with or without a byte-order mark).

    Line endings are normalised to "\\n" so chunk boundaries do not depend on the uploader's OS.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DocumentRejected(name, "is UTF-16 text: save it as UTF-8 to ingest it")
    if b"\x00" in data:
        raise DocumentRejected(name, "is binary (it contains NUL bytes): only UTF-8 text documents can be ingested")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentRejected(
            name,
            f"is not valid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}): "
            "only UTF-8 text documents can be ingested",
        ) from None
    return check_document_text(name, text.replace("\r\n", "\n").replace("\r", "\n"))


def check_document_text(name: str, text: str) -> str:
    """The checks decode_document makes on the decoded text, for text that arrives already
    decoded (a workflow's input may come from any client, not only ours)."""
    if not text:
        raise DocumentRejected(name, "is empty")
    if not text.strip():
        raise DocumentRejected(name, "contains only whitespace")
    if "\x00" in text:
        raise DocumentRejected(name, "is binary (it contains NUL bytes): only UTF-8 text documents can be ingested")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DocumentRejected(name, "contains an unpaired surrogate and is not valid Unicode text") from None
    controls = sum(1 for ch in text if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc")
    if controls >= _MIN_CONTROLS_FOR_BINARY and controls > _MAX_CONTROL_SHARE * len(text):
        raise DocumentRejected(
            name,
            f"looks binary ({controls} of its {len(text)} characters are control characters): "
            "only text documents can be ingested",
        )
    return text


class Chunk(BaseModel):
    index: int
    text: str
    # The heading of the section the chunk belongs to; None before the first heading.
    heading: str | None


_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A sentence ends at terminal punctuation, possibly followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(\s+)")


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # "heading", "code" or "text"
    heading: str | None = None


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of every line between start and end, without its newline."""
    end = len(text) if end is None else end
    spans = []
    while (newline := text.find("\n", start, end)) != -1:
        spans.append((start, newline))
        start = newline + 1
    spans.append((start, end))
    return spans


def _blocks(text: str) -> list[_Block]:
    """Headings, fenced code blocks and blank-line separated paragraphs, in order."""
    blocks: list[_Block] = []
    paragraph: list[tuple[int, int]] = []
    fence: tuple[str, int] | None = None  # (opening marker, start)

    def flush() -> None:
        if paragraph:
            span = _trim(text, paragraph[0][0], paragraph[-1][1])
            if span:
                blocks.append(_Block(*span, kind="text"))
            paragraph.clear()

    for start, end in _lines(text):
        line = text[start:end]
        if fence is not None:
            marker, fence_start = fence
            closing = line.strip()
            if closing and closing[0] == marker[0] and len(closing) >= len(marker) and set(closing) == {marker[0]}:
                blocks.append(_Block(fence_start, end, kind="code"))
                fence = None
            continue
        if not line.strip():
            flush()
            continue
        if opening := _FENCE.match(line):
            flush()
            fence = (opening.group(1), start)
            continue
        if heading := _ATX_HEADING.match(line):
            flush()
            span = _trim(text, start, end)
            assert span is not None
            blocks.append(_Block(*span, kind="heading", heading=(heading.group(2) or "").strip() or None))
            continue
        if _SETEXT_UNDERLINE.match(line) and len(paragraph) == 1:
            title_start, title_end = paragraph[0]
            span = _trim(text, title_start, end)
            assert span is not None
            blocks.append(_Block(*span, kind="heading", heading=text[title_start:title_end].strip()))
            paragraph.clear()
            continue
        paragraph.append((start, end))
    flush()
    if fence is not None:
        # An unclosed fence runs to the end of the document, as Markdown renders it.
        span = _trim(text, fence[1], len(text))
        if span:
            blocks.append(_Block(*span, kind="code"))
    return blocks


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, begin = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((begin, match.start(1)))
        begin = match.end(1)
    spans.append((begin, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s]


def _cut(text: str, start: int, end: int, limit: int) -> tuple[tuple[int, int], int]:
    """The longest head of a span, at most limit chars, that ends between words (or at the limit
    inside a word too long to fit), and where the rest of the span begins."""
    cut = start + limit
    if cut >= end:
        return (start, end), end
    space = cut
    while space > start and not text[space].isspace():
        space -= 1
    if space == start:
        return (start, cut), cut
    head = _trim(text, start, space)
    assert head is not None  # spans start on a non-space character
    rest = space
    while text[rest].isspace():
        rest += 1
    return head, rest


def _hard_split(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    spans = []
    while end - start > limit:
        head, start = _cut(text, start, end, limit)
        spans.append(head)
    spans.append((start, end))
    return spans


@dataclass
class _Piece:
    start: int
    end: int
    heading: bool = False


def _pieces(text: str, block: _Block, max_chars: int, split_chars: int) -> list[_Piece]:
    """The block whole if it fits; else its sentences (code: its lines); a unit still too long
    is cut between lines, then between words into pieces of split_chars, which leaves room
    for the overlap of the chunk it starts."""
    heading = block.kind == "heading"
    if block.end - block.start <= max_chars:
        return [_Piece(block.start, block.end, heading)]
    # Code is cut between lines only: "sentences" of code are not meaningful.
    units = _sentences(text, block.start, block.end) if block.kind == "text" else [(block.start, block.end)]
    spans: list[tuple[int, int]] = []
    for unit in units:
        if unit[1] - unit[0] <= max_chars:
            spans.append(unit)
            continue
        for line in filter(None, (_trim(text, *span) for span in _lines(text, *unit))):
            if line[1] - line[0] <= max_chars:
                spans.append(line)
            else:
                spans.extend(_hard_split(text, *line, split_chars))
    return [_Piece(start, end, heading) for start, end in spans]


@dataclass
class _Section:
    heading: str | None
    pieces: list[_Piece]
    has_body: bool = False


def _sections(text: str, max_chars: int, split_chars: int) -> list[_Section]:
    sections = [_Section(heading=None, pieces=[])]
    for block in _blocks(text):
        if block.kind == "heading":
            current = sections[-1]
            if current.has_body:
                sections.append(_Section(heading=block.heading, pieces=[]))
            else:
                # A heading directly under another ("# Guide" then "## Install") starts no chunk
                # of its own: alone it would be a chunk with nothing to find.
                current.heading = block.heading
        else:
            sections[-1].has_body = True
        sections[-1].pieces.extend(_pieces(text, block, max_chars, split_chars))
    return [s for s in sections if s.pieces]


def _word_start(text: str, position: int, limit: int) -> int:
    """The first word start at or after position, or limit if none comes before it."""
    if position > 0 and not text[position - 1].isspace():
        while position < limit and not text[position].isspace():
            position += 1
    while position < limit and text[position].isspace():
        position += 1
    return min(position, limit)


def _pack(text: str, pieces: list[_Piece], max_chars: int, overlap_chars: int) -> list[tuple[int, int]]:
    """Greedy packing of one section's pieces into spans of at most max_chars, each after the
    first repeating up to overlap_chars of the text before it, so a fact cut at a boundary is
    still whole in one of the two chunks."""
    pieces = list(pieces)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        lead = piece.start
        if spans and overlap_chars:
            earliest = max(piece.start - overlap_chars, spans[-1][0] + 1, piece.end - max_chars)
            lead = _word_start(text, earliest, piece.start)
        end, headings_only = piece.end, piece.heading
        index += 1
        while index < len(pieces):
            following = pieces[index]
            if following.end - lead <= max_chars:
                end, headings_only = following.end, headings_only and following.heading
                index += 1
                continue
            room = max_chars - (following.start - lead)
            if headings_only and room > 0:
                # A heading alone is a chunk with nothing to find: fill the room after it with
                # the start of what follows, and leave the rest for the next chunk.
                (_, end), rest = _cut(text, following.start, following.end, room)
                pieces[index] = _Piece(rest, following.end)
            break
        spans.append((lead, end))
    return spans


def chunk_document(text: str, *, max_chars: int = 1500, overlap_chars: int = 150) -> list[Chunk]:
    """Markdown-aware chunks of a document (plain text is paragraphs without headings)."""
    if max_chars < 1:
        raise InvalidInput(f"max_chars must be at least 1, got {max_chars}")
    if not 0 <= overlap_chars < max_chars:
        raise InvalidInput(f"overlap_chars must be between 0 and max_chars - 1, got {overlap_chars}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks: list[Chunk] = []
    split_chars = max(1, max_chars - overlap_chars)
    for section in _sections(text, max_chars, split_chars):
        for start, end in _pack(text, section.pieces, max_chars, overlap_chars):
            chunks.append(Chunk(index=len(chunks), text=text[start:end], heading=section.heading))
    return chunks
