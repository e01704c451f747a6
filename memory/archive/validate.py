"""Read a whole archive and check every record before anything is written: the format and
its version, each record's shape, and what the normal write paths would refuse (paths, skill
and notebook limits, identifiers, document digests, agent definitions)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from memory.agents.models import AgentSpec, McpTool
from memory.archive.files import lines, stamp
from memory.archive.models import ArchivePlan
from memory.archive.records import (
    FORMAT,
    FORMAT_VERSION,
    MEMORY_KINDS,
    RECORD,
    RECORD_KINDS,
    AgentVersionRecord,
    DocumentRecord,
    DocumentVersionRecord,
    End,
    EpisodeRecordLine,
    Header,
    MessageRecord,
    RecallItemRecord,
    SkillLockRecord,
)
from memory.core.validation import InvalidInput, check_id, check_storable
from memory.documents.chunking import DocumentRejected, check_document_text
from memory.documents.notebook import NOTEBOOK_PATH, check_notebook_text
from memory.documents.path_store import normalise_path
from memory.documents.skills import MAX_SKILL_CHARS, SKILLS_DIR, check_task_type

MAX_ERRORS = 10


class ArchiveRejected(InvalidInput):
    """The archive cannot be imported as it is; nothing was written."""


def validate_archive(path: Path) -> ArchivePlan:
    if not path.is_file():
        raise ArchiveRejected(f"there is no archive at {path.name}")
    checker = _Checker()
    header: Header | None = None
    end: End | None = None
    for number, raw in lines(path):
        if end is not None:
            checker.fail(number, "comes after the end record")
            break
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            if number == 1:
                raise ArchiveRejected("this is not an agent memory archive: its first line is not JSON") from None
            checker.fail(number, f"is not a JSON object ({err.__class__.__name__}: {str(err)[:120]})")
            continue
        if not isinstance(data, dict):
            if number == 1:
                raise ArchiveRejected("this is not an agent memory archive: its first line is not a JSON object")
            checker.fail(number, "is not a JSON object")
            continue
        kind = data.get("kind")
        if number == 1:
            header = _header(data)  # raises: nothing else can be read without it
            continue
        if kind == "end":
            end = checker.parse(number, End, data)
            continue
        if kind not in RECORD_KINDS:
            checker.fail(number, f"has kind {str(kind)[:40]!r}, which this format does not have (kinds: {', '.join(RECORD_KINDS)})")
            continue
        if kind in MEMORY_KINDS and not header.memories:
            checker.fail(number, f"is a {kind} record, but the header says the archive holds no memories")
            continue
        record = checker.parse(number, RECORD, data)
        if record is not None:
            checker.check(number, record)
        if checker.full:
            break
    if header is None:
        raise ArchiveRejected("the archive is empty: its first line must be the header")
    if end is None and not checker.errors:
        checker.errors.append("the archive has no end record: it was cut short")
    elif end is not None and end.records != checker.records:
        checker.errors.append(f"the end record counts {end.records} records, but the archive holds {checker.records}")
    if checker.errors:
        raise ArchiveRejected(
            f"the archive {path.name} is malformed; nothing was imported:\n" + "\n".join(f"- {e}" for e in checker.errors)
        )
    return ArchivePlan(
        archive_id=header.archive_id,
        format_version=header.format_version,
        source=header.source,
        embedding_model=header.embedding_model,
        memories=header.memories,
        records=checker.records,
        counts=checker.counts,
        file=stamp(path),
    )


def _header(data: dict) -> Header:
    if data.get("kind") != "header" or data.get("format") != FORMAT:
        raise ArchiveRejected(f"this is not an agent memory archive: its first line is not a {FORMAT!r} header")
    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ArchiveRejected(
            f"the archive is format version {version}, newer than this runtime reads (up to {FORMAT_VERSION}); "
            "upgrade the runtime to import it. Nothing was imported"
        )
    try:
        return Header.model_validate(data)
    except ValidationError as err:
        raise ArchiveRejected(f"the archive's header is malformed: {_first(err)}; nothing was imported") from None


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.records = 0
        self.counts: dict[str, int] = {}
        self._ids: set[str] = set()
        self._versions: dict[str, int] = {}
        self._thread_users: dict[str, str | None] = {}

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def fail(self, number: int, why: str) -> None:
        self.errors.append(f"line {number} {why}")

    def parse(self, number: int, model, data: dict):
        try:
            return model.validate_python(data) if hasattr(model, "validate_python") else model.model_validate(data)
        except ValidationError as err:
            self.fail(number, f"({data.get('kind')}) is malformed: {_first(err)}")
            return None

    def check(self, number: int, record) -> None:
        self.records += 1
        self.counts[record.kind] = self.counts.get(record.kind, 0) + 1
        if record.id in self._ids:
            self.fail(number, f"repeats record id {record.id}")
            return
        self._ids.add(record.id)
        try:
            _CHECKS[type(record)](self, record)
        except (InvalidInput, ValidationError, DocumentRejected) as err:
            self.fail(number, f"({record.kind} {record.id}) would be refused: {_first(err) if isinstance(err, ValidationError) else err}")

    def version(self, record: DocumentVersionRecord) -> None:
        path = normalise_path(record.path)
        check_storable("the text", record.content)
        check_storable("the author", record.author)
        check_storable("the reason", record.reason)
        if path == NOTEBOOK_PATH:
            check_notebook_text(record.content)
        elif path.startswith(SKILLS_DIR):
            _skill_task_type(path)
            if len(record.content) > MAX_SKILL_CHARS:
                raise InvalidInput(f"the skill is {len(record.content)} characters; the limit is {MAX_SKILL_CHARS}")
        previous = self._versions.get(path, 0)
        if record.version <= previous:
            raise InvalidInput(f"version {record.version} of {path} comes after version {previous}: versions must come in order")
        self._versions[path] = record.version

    def lock(self, record: SkillLockRecord) -> None:
        path = normalise_path(record.path)
        _skill_task_type(path)
        if path not in self._versions:
            raise InvalidInput(f"{path} is locked, but the archive holds no version of it before the lock")

    def agent_version(self, record: AgentVersionRecord) -> None:
        AgentSpec.model_validate(record.spec)
        for tool in record.mcp_tools:
            McpTool.model_validate(tool)
        check_storable("the author", record.author)
        check_storable("the note", record.note)

    def document(self, record: DocumentRecord) -> None:
        check_storable("the document name", record.name)
        check_document_text(record.name, record.text)
        if hashlib.sha256(record.text.encode("utf-8")).hexdigest() != record.sha256:
            raise InvalidInput(f"the sha256 of document {record.name!r} is not the sha256 of its text")

    def private(self, record: MessageRecord | RecallItemRecord | EpisodeRecordLine) -> None:
        check_id("thread", record.thread_id)
        if record.user_id is not None:
            check_id("user", record.user_id)
        owner = self._thread_users.setdefault(record.thread_id, record.user_id)
        if owner != record.user_id:
            raise InvalidInput(
                f"thread {record.thread_id} belongs to {f'user {owner}' if owner else 'no user'} in an earlier record: "
                "a thread belongs to at most one user"
            )
        for name in ("content", "text", "summary", "transcript"):
            value = getattr(record, name, None)
            if isinstance(value, str):
                check_storable(f"the {name}", value)
        if isinstance(record, EpisodeRecordLine):
            for tool in record.tools_used:
                check_storable("a tool name", tool)


_CHECKS = {
    DocumentVersionRecord: _Checker.version,
    SkillLockRecord: _Checker.lock,
    AgentVersionRecord: _Checker.agent_version,
    DocumentRecord: _Checker.document,
    MessageRecord: _Checker.private,
    RecallItemRecord: _Checker.private,
    EpisodeRecordLine: _Checker.private,
}


def _skill_task_type(path: str) -> str:
    name = path[len(SKILLS_DIR) :]
    if not name.endswith(".md"):
        raise InvalidInput(f"a skill's path is /skills/<task-type>.md, not {path}")
    return check_task_type(name[: -len(".md")])


def _first(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
