"""The archive directory: where export workflows write archives and uploaded archives wait
for their import. Every worker and the API must see the same directory (one host, or a
shared volume). Only names this module made are ever opened: no caller-given path."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from memory.archive.models import FileStamp
from memory.core.validation import InvalidInput, check_id

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(f"{kind} {str(name)[:80]!r} is malformed: use 1-100 letters, digits, '_' or '-'")
    return name


class ArchiveDirectory:
    def __init__(self, root: str | Path):
        self._root = root

    @property
    def root(self) -> Path:
        return Path(self._root)

    # Exports: part files written page by page (a retried page overwrites its own part),
    # joined into one archive at the end.
    def export_path(self, tenant_id: str, export_id: str) -> Path:
        return self._tenant(tenant_id) / "exports" / f"{check_name('export id', export_id)}.jsonl"

    def write_part(self, tenant_id: str, export_id: str, seq: int, lines: list[str]) -> None:
        parts = self._tenant(tenant_id) / "exports" / check_name("export id", export_id)
        parts.mkdir(parents=True, exist_ok=True)
        _write_atomically(parts / f"part-{seq:06d}.jsonl", "".join(lines).encode("utf-8"))

    def join_parts(self, tenant_id: str, export_id: str, header: str, end: str) -> FileStamp:
        parts_dir = self._tenant(tenant_id) / "exports" / check_name("export id", export_id)
        target = self.export_path(tenant_id, export_id)
        tmp = target.with_suffix(".partial")
        with tmp.open("wb") as out:
            out.write(header.encode("utf-8"))
            for part in sorted(parts_dir.glob("part-*.jsonl")) if parts_dir.exists() else []:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out)
            out.write(end.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        shutil.rmtree(parts_dir, ignore_errors=True)
        return stamp(target)

    # Uploads: an archive sent in parts (each under the API's body limit), then joined.
    def upload_part(self, tenant_id: str, upload_id: str, seq: int, data: bytes) -> None:
        parts = self._tenant(tenant_id) / "uploads" / check_name("upload id", upload_id)
        parts.mkdir(parents=True, exist_ok=True)
        _write_atomically(parts / f"part-{seq:06d}", data)

    def join_upload(self, tenant_id: str, upload_id: str) -> Path:
        parts_dir = self._tenant(tenant_id) / "uploads" / check_name("upload id", upload_id)
        target = self.upload_path(tenant_id, upload_id)
        if not parts_dir.exists():
            if target.exists():
                return target
            raise InvalidInput(f"no archive was uploaded as {upload_id}")
        tmp = target.with_suffix(".partial")
        with tmp.open("wb") as out:
            for part in sorted(parts_dir.glob("part-*")):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out)
        os.replace(tmp, target)
        shutil.rmtree(parts_dir, ignore_errors=True)
        return target

    def upload_path(self, tenant_id: str, upload_id: str) -> Path:
        return self._tenant(tenant_id) / "uploads" / f"{check_name('upload id', upload_id)}.jsonl"

    def holding(self, tenant_id: str, user_id: str | None = None) -> list[Path]:
        """The files erase() would delete: every archive, part and upload of a tenant (user_id
        None), or those with a record of one of its users."""
        root = self._tenant(tenant_id)
        if not root.exists():
            return []
        files = [p for p in root.rglob("*") if p.is_file()]
        if user_id is not None:
            check_id("user", user_id)
            files = [p for p in files if _mentions_user(p, user_id)]
        return sorted(files)

    def erase(self, tenant_id: str, user_id: str | None = None) -> int:
        """Delete what the directory holds of a tenant or of one of its users (holding()).
        Returns the files deleted. Archives are copies of memory: a forget that leaves them
        behind has forgotten nothing."""
        files = self.holding(tenant_id, user_id)
        for path in files:
            path.unlink(missing_ok=True)
        if user_id is None:
            shutil.rmtree(self._tenant(tenant_id), ignore_errors=True)
        return len(files)

    def _tenant(self, tenant_id: str) -> Path:
        return self.root / check_id("tenant", tenant_id)


def stamp(path: Path) -> FileStamp:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    st = path.stat()
    return FileStamp(bytes=st.st_size, sha256=digest.hexdigest(), modified_ns=st.st_mtime_ns)


def check_unchanged(path: Path, expected: FileStamp) -> None:
    st = path.stat()
    if st.st_size != expected.bytes or st.st_mtime_ns != expected.modified_ns:
        raise InvalidInput(f"the archive {path.name} changed after it was validated; import it again")


def lines(path: Path, first: int = 1) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, raw line) from line `first` on."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number >= first:
                yield number, raw


def _mentions_user(path: Path, user_id: str) -> bool:
    """Whether any line of an archive file is a record of the user (or names them at all:
    a part cut mid-line is searched as text)."""
    needle = json.dumps(user_id).encode("utf-8")
    with path.open("rb") as f:
        for raw in f:
            if needle in raw:
                try:
                    record = json.loads(raw)
                except ValueError:
                    return True
                if not isinstance(record, dict) or record.get("user_id") == user_id:
                    return True
    return False


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
