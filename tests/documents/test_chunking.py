"""Documents for ingestion: decoding refuses what is not text, chunking keeps every word."""

from __future__ import annotations

import itertools
import random
import string

import pytest

from memory.core.validation import InvalidInput
from memory.documents.chunking import DocumentRejected, chunk_document, decode_document


def test_utf8_with_or_without_a_byte_order_mark_decodes_with_unix_line_endings():
    assert decode_document("notes.md", "# Café\r\n\r\nToday.\r\n".encode()) == "# Café\n\nToday.\n"
    assert decode_document("notes.md", b"\xef\xbb\xbf" + "naïve".encode()) == "naïve"
    # An odd control character (a form feed, a colour escape) does not make a file binary.
    text = "page one\fpage two \x1b[1mbold\x1b[0m and plenty more ordinary text around it"
    assert decode_document("log.txt", text.encode()) == text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary (it contains NUL bytes)"),
        ("legacy.txt", "café".encode("latin-1"), "is not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("export.csv", "\ufeffa,b".encode("utf-16"), "is UTF-16 text: save it as UTF-8"),
        ("blank.md", b"", "is empty"),
        ("spaces.md", b" \n\t\r\n ", "contains only whitespace"),
        ("blob.bin", b"\x01\x02\x03\x04\x05" * 10 + b"text", "looks binary (50 of its 54 characters are control"),
    ],
)
def test_what_is_not_text_is_refused_naming_the_file(name, data, reason):
    with pytest.raises(DocumentRejected) as refused:
        decode_document(name, data)
    assert str(refused.value).startswith(f"document {name!r} {reason}")
    assert refused.value.name == name
    # Refusals are input errors: retrying the same bytes can never succeed.
    assert isinstance(refused.value, InvalidInput)


GUIDE = """\
Welcome to the handbook.

# Handbook

## Refunds

Refunds are accepted within thirty days. A receipt is required.

Store credit is offered after thirty days.

## Shipping

Orders ship in two days.

```
# not a heading, a shell comment

ship --express
```

Returns
-------

Use the prepaid label.
"""


def test_markdown_chunks_follow_sections_and_carry_their_heading():
    chunks = chunk_document(GUIDE, max_chars=1500)
    assert [(c.index, c.heading) for c in chunks] == [(0, None), (1, "Refunds"), (2, "Shipping"), (3, "Returns")]
    assert chunks[0].text == "Welcome to the handbook."
    # A heading directly above another is kept with the section below, not left alone.
    assert chunks[1].text.startswith("# Handbook\n\n## Refunds\n\nRefunds are accepted")
    assert chunks[1].text.endswith("Store credit is offered after thirty days.")
    assert "# not a heading, a shell comment\n\nship --express\n```" in chunks[2].text
    assert chunks[3].text == "Returns\n-------\n\nUse the prepaid label."


def test_a_heading_is_never_a_chunk_alone_when_text_follows_it():
    body = " ".join(f"term{n}" for n in range(300))  # no sentence ends, longer than a chunk
    chunks = chunk_document(f"## Glossary\n\n{body}", max_chars=500, overlap_chars=50)
    assert chunks[0].text.startswith("## Glossary\n\nterm0 term1")
    assert len(chunks[0].text) > 400
    assert {c.heading for c in chunks} == {"Glossary"}


def test_plain_text_packs_paragraphs_up_to_the_limit():
    paragraphs = [f"Paragraph {n} says something short." for n in range(30)]
    chunks = chunk_document("\n\n".join(paragraphs), max_chars=200, overlap_chars=0)
    assert all(c.heading is None for c in chunks)
    assert all(len(c.text) <= 200 for c in chunks)
    # Whole paragraphs, as many as fit: adding the next one would pass the limit.
    for chunk, following in itertools.pairwise(chunks):
        assert len(chunk.text) + 2 + len(following.text.split("\n\n")[0]) > 200
    assert [p for c in chunks for p in c.text.split("\n\n")] == paragraphs


def test_a_long_paragraph_is_cut_between_sentences():
    sentences = [f"Sentence number {n} is here, ending properly{'!' if n % 3 else '.'}" for n in range(40)]
    chunks = chunk_document(" ".join(sentences), max_chars=300, overlap_chars=0)
    assert len(chunks) > 1
    assert all(len(c.text) <= 300 and c.text.startswith("Sentence") and c.text[-1] in ".!" for c in chunks)


def test_a_sentence_longer_than_the_limit_is_cut_between_words_and_a_huge_word_anywhere():
    words = [f"word{n}" for n in range(200)]
    chunks = chunk_document(" ".join(words) + " " + "x" * 450, max_chars=100, overlap_chars=0)
    assert all(len(c.text) <= 100 for c in chunks)
    wordy = [c.text for c in chunks if c.text.startswith("word")]
    assert " ".join(wordy).split() == words, "cut between words, none split or lost"
    assert [c.text for c in chunks[len(wordy) :]] == ["x" * 100] * 4 + ["x" * 50]


def test_consecutive_chunks_of_a_section_overlap():
    text = " ".join(f"Fact {n} is recorded." for n in range(100))
    chunks = chunk_document(text, max_chars=200, overlap_chars=50)
    for before, after in itertools.pairwise(chunks):
        head = after.text[:20]
        assert head in before.text, "the next chunk starts with words the previous one ends with"
        assert len(after.text) <= 200


def random_document(rng: random.Random) -> str:
    """Headings, code, prose with and without sentence ends, overlong words; every word is
    unique so a chunk can be found where it came from."""
    stems = ["alpha", "refund", "a", "of", "Émile", "naïve", "東京"]
    counter = iter(range(1_000_000))

    def words(low: int, high: int) -> str:
        return " ".join(f"{rng.choice(stems)}{next(counter)}" for _ in range(rng.randint(low, high)))

    blocks = []
    for _ in range(rng.randint(1, 40)):
        kind = rng.random()
        if kind < 0.15:
            blocks.append("#" * rng.randint(1, 4) + " " + words(1, 5))
        elif kind < 0.25:
            body = "\n".join(words(0, 12) for _ in range(rng.randint(1, 30)))
            blocks.append(f"```\n{body}\n```")
        elif kind < 0.3:
            blocks.append("".join(rng.choices(string.ascii_letters, k=rng.randint(1, 3000))))
        else:
            sentences = [words(1, 80) + rng.choice([".", "!", "?", "", ";"]) for _ in range(rng.randint(1, 25))]
            blocks.append(rng.choice([" ", "\n"]).join(sentences))
    return rng.choice(["\n\n", "\n\n\n", "\n"]).join(blocks)


def covered_positions(text: str, chunks, overlap_chars: int) -> set[int]:
    """Where each chunk lies in the document: no earlier than the overlap allows before the
    end of the previous chunk."""
    covered, position = set(), 0
    for chunk in chunks:
        start = text.find(chunk.text, position)
        assert start >= 0, f"chunk {chunk.index} is not a span of the document"
        covered.update(range(start, start + len(chunk.text)))
        position = max(start + 1, start + len(chunk.text) - overlap_chars)
    return covered


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize(("max_chars", "overlap_chars"), [(1500, 150), (200, 0), (120, 60), (40, 10)])
def test_every_word_of_any_document_is_in_a_chunk_of_at_most_max_chars(seed, max_chars, overlap_chars):
    text = random_document(random.Random(seed))
    chunks = chunk_document(text, max_chars=max_chars, overlap_chars=overlap_chars)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(0 < len(c.text) <= max_chars and c.text == c.text.strip() for c in chunks)
    covered = covered_positions(text, chunks, overlap_chars)
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    if overlap_chars == 0:
        assert "".join("".join(c.text.split()) for c in chunks) == "".join(text.split())


def test_an_oversized_document_is_chunked_whole_and_the_same_way_every_time():
    text = "\n\n".join(
        f"## Part {part}\n\n" + " ".join(f"Line {line} of part {part} makes the document large." for line in range(40))
        for part in range(300)
    )
    assert len(text) > 500_000
    chunks = chunk_document(text)
    assert chunks == chunk_document(text)
    assert all(len(c.text) <= 1500 for c in chunks)
    assert chunks[-1].heading == "Part 299"
    covered = covered_positions(text, chunks, 150)
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_limits_must_leave_room_for_text():
    assert chunk_document("   \n\n  ") == []
    with pytest.raises(InvalidInput, match="max_chars must be at least 1"):
        chunk_document("text", max_chars=0)
    with pytest.raises(InvalidInput, match="overlap_chars must be between 0 and max_chars - 1"):
        chunk_document("text", max_chars=100, overlap_chars=100)
