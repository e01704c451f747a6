"""Convert LoCoMo (github.com/snap-research/locomo) to the retrieval benchmark's JSONL shape.

    python -m bench.locomo_convert SOURCE OUT.jsonl

SOURCE is a URL or a local path to `data/locomo10.json`, to `data/locomo10.zip`, or to a
directory of the zip's per-conversation files (`26.json` ... `50.json`). The dataset is not
part of this repository; fetch it from the project's GitHub repository.

Identifiers: `locomo10.json` names each conversation by `sample_id` ("conv-26"); the zip
holds one file per conversation named by the same number ("26.json" is "conv-26"). Both
become "conv-<n>" here, so results line up whichever form was read.

The JSONL shape (one conversation per line), which any other dataset can be converted to:

    {"id": "conv-26",
     "sessions": [{"id": "session_1", "time": "2023-05-08T13:56:00+00:00",
                   "turns": [{"id": "D1:1", "speaker": "Caroline", "text": "Hey Mel! ..."}]}],
     "questions": [{"question": "When did Caroline go to the LGBTQ support group?",
                    "category": 2, "evidence": ["D1:3"], "answer": "7 May 2023"}]}

A turn that shared a photo keeps its caption: "[shares a photo of ...]" is appended to
its text, as a reader of the conversation would have seen it. Evidence ids are split on
";" and spaces (a few questions list two in one string) and kept only when they name a
turn of the conversation.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import urllib.request
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SESSION = re.compile(r"^session_(\d+)$")
_FILE_NUMBER = re.compile(r"(\d+)\.json$")


def read_source(source: str) -> list[tuple[str, dict[str, Any]]]:
    """(conversation id, raw LoCoMo conversation) pairs from a URL, file or directory."""
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 (an operator's URL)
            return _from_bytes(source, response.read())
    path = Path(source)
    if path.is_dir():
        return sorted(
            ((_file_id(p.name), json.loads(p.read_text())) for p in path.rglob("*.json") if _FILE_NUMBER.search(p.name)),
            key=lambda pair: pair[0],
        )
    return _from_bytes(path.name, path.read_bytes())


def _file_id(name: str) -> str:
    return f"conv-{_FILE_NUMBER.search(name).group(1)}"


def _from_bytes(name: str, data: bytes) -> list[tuple[str, dict[str, Any]]]:
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = [n for n in archive.namelist() if _FILE_NUMBER.search(n)]
            return sorted(((_file_id(n), json.loads(archive.read(n))) for n in files), key=lambda pair: pair[0])
    # locomo10.json: a list of samples, each with sample_id, conversation and qa.
    samples = json.loads(data)
    return [(s["sample_id"], {**s["conversation"], "qa": s["qa"]}) for s in samples]


def session_time(raw: str) -> datetime:
    """LoCoMo's "1:56 pm on 8 May, 2023", read as UTC (the dataset names no zone)."""
    return datetime.strptime(raw.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def _turn_text(turn: dict[str, Any]) -> str:
    text = turn.get("text", "").strip()
    if caption := turn.get("blip_caption"):
        text = f"{text} [shares {caption}]".strip()
    return text


def convert(conversation_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    sessions = []
    numbers = sorted(int(m.group(1)) for key in raw if (m := _SESSION.match(key)))
    for n in numbers:
        turns = [
            {"id": t["dia_id"], "speaker": t["speaker"], "text": _turn_text(t)}
            for t in raw[f"session_{n}"]
            if _turn_text(t)
        ]
        sessions.append(
            {"id": f"session_{n}", "time": session_time(raw[f"session_{n}_date_time"]).isoformat(), "turns": turns}
        )
    known = {t["id"] for s in sessions for t in s["turns"]}
    questions = []
    for qa in raw["qa"]:
        evidence = [e for item in qa.get("evidence", []) for e in re.split(r"[;\s]+", item) if e in known]
        questions.append(
            {
                "question": qa["question"],
                "category": int(qa["category"]),
                "evidence": evidence,
                "answer": str(qa.get("answer", qa.get("adversarial_answer", ""))),
            }
        )
    return {"id": conversation_id, "sessions": sessions, "questions": questions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="URL or path of locomo10.json, locomo10.zip or a directory of its files")
    parser.add_argument("out", help="the JSONL file to write")
    args = parser.parse_args(argv)
    conversations = [convert(cid, raw) for cid, raw in read_source(args.source)]
    with open(args.out, "w") as out:
        for conversation in conversations:
            out.write(json.dumps(conversation) + "\n")
    turns = sum(len(s["turns"]) for c in conversations for s in c["sessions"])
    questions = sum(len(c["questions"]) for c in conversations)
    print(f"{len(conversations)} conversations, {turns} turns, {questions} questions -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
