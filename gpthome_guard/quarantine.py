"""shell: the quarantine: list what is in it, show one entry, release a file back home."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gpthome_guard.apply import MANIFEST, QUARANTINE
from gpthome_guard.checks import check_document
from gpthome_guard.config import Limits
from gpthome_guard.conventions import CONTENT_DIRS, kind_of
from gpthome_guard.documents import parse_document
from gpthome_guard.errors import GuardError, UsageError
from gpthome_guard.models import Finding, Kind, Severity

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Entry(BaseModel):
    """One record of a manifest: a file set aside, the original of a fixed file, a leftover."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    path: str  # printable
    stored_as: str  # printable
    path_bytes: str  # hex of the exact bytes
    stored_as_bytes: str
    action: str
    size: int | None = None
    sha256: str | None = None
    findings: list[dict[str, str]] = []
    when: str
    session: str | None = None
    run: str
    released: str | None = None
    renamed_to: str | None = None  # a fixed file given its proper name
    restored_from: str | None = None  # an invalid page replaced by this commit's version

    @property
    def reasons(self) -> str:
        return "; ".join(f"{f.get('code')} {f.get('message')}" for f in self.findings)

    @property
    def fs_path(self) -> str:
        return os.fsdecode(bytes.fromhex(self.path_bytes))

    @property
    def fs_stored_as(self) -> str:
        return os.fsdecode(bytes.fromhex(self.stored_as_bytes))


def _released(run: Path) -> set[str]:
    try:
        return set(json.loads((run / "released.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return set()


def entries(home: Path) -> list[Entry]:
    """Every manifest record whose file is there (or was released), oldest run first."""
    root = home / QUARANTINE
    if not root.is_dir() or root.is_symlink():
        return []
    found: list[Entry] = []
    for run in sorted(root.iterdir()):
        manifest = run / MANIFEST
        if run.is_symlink() or not manifest.is_file() or manifest.is_symlink():
            continue
        released = _released(run)
        for number, line in enumerate(manifest.read_bytes().splitlines(), start=1):
            try:
                entry = Entry.model_validate_json(line)
            except ValidationError:
                if number == len(manifest.read_bytes().splitlines()):
                    continue  # the last line, cut short by a killed run
                raise GuardError(
                    f"{manifest}:{number}: not a manifest record; the manifest is "
                    "damaged: repair or move that line"
                ) from None
            if entry.stored_as_bytes in released:
                entry = entry.model_copy(update={"released": "yes"})
            # A record is written before its move; one whose file never arrived (the run was
            # killed in between) is an intent, not an entry: the next run records it anew.
            if entry.released or os.path.lexists(home / entry.fs_stored_as):
                found.append(entry)
    return found


def find(home: Path, path: str) -> Entry:
    """The newest unreleased quarantined entry whose original or stored path is `path`."""
    path = path.strip("/")
    matches = [e for e in entries(home) if not e.released
               and path in (e.path, e.stored_as, e.fs_path, e.fs_stored_as)]  # fmt: skip
    if not matches:
        raise UsageError(
            f"{path}: nothing in the quarantine by that name; see `guard quarantine list`"
        )
    quarantined = [e for e in matches if e.action == "quarantined"]
    return (quarantined or matches)[-1]


def release(home: Path, entry: Entry, limits: Limits, force: bool) -> list[Finding]:
    """Put a quarantined file back where it came from. Returns the findings it still has
    (only possible with --force). Never overwrites, never writes through a link."""
    if entry.action != "quarantined":
        raise UsageError(
            f"{entry.path}: not a quarantined file but {entry.action}; copy "
            f"{entry.stored_as} by hand if you want it"
        )
    parts = entry.fs_path.split("/")
    if len(parts) != 2 or parts[0] not in CONTENT_DIRS or parts[1] in ("", ".", ".."):
        raise GuardError(
            f"{entry.path}: not a file in a content directory; move {entry.stored_as} by hand"
        )
    directory, name = parts
    source = home / entry.fs_stored_as
    try:
        st = os.lstat(source)
    except FileNotFoundError:
        raise GuardError(f"{entry.stored_as}: missing from the quarantine") from None
    findings = _check(entry, source, st, limits)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors and not force:
        first = errors[0]
        raise GuardError(
            f"{entry.stored_as}:{first.line or ''} {first.code} {first.message}; "
            "fix it there, or use --force"
        )
    if not stat.S_ISREG(st.st_mode) and not force:
        raise GuardError(f"{entry.path}: not a regular file; use --force to put it back anyway")
    root = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            dir_fd = os.open(directory, _DIR, dir_fd=root)
        except OSError as exc:
            raise GuardError(
                f"{directory}/ cannot be opened ({exc.strerror}); it must be a "
                "directory, not a link"
            ) from None
        try:
            _move_in(source, st, name, dir_fd, entry)
        finally:
            os.close(dir_fd)
    finally:
        os.close(root)
    _mark_released(home, entry)
    return errors


def _check(entry: Entry, source: Path, st: os.stat_result, limits: Limits) -> list[Finding]:
    directory, name = entry.fs_path.split("/")
    kind = kind_of(directory, name)
    if not stat.S_ISREG(st.st_mode) or kind is Kind.OTHER or st.st_size > limits.max_file_bytes:
        return []
    doc = parse_document(entry.path, kind, source.read_bytes(), limits)
    return check_document(doc, limits, name=name)


def _move_in(source: Path, st: os.stat_result, name: str, dir_fd: int, entry: Entry) -> None:
    try:
        if stat.S_ISREG(st.st_mode):
            os.link(source, name, dst_dir_fd=dir_fd, follow_symlinks=False)  # never replaces
            os.unlink(source)
        else:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            raise FileExistsError
    except FileExistsError:
        raise GuardError(
            f"{entry.path} exists; move it away first (release never overwrites)"
        ) from None
    except FileNotFoundError:
        os.rename(source, name, dst_dir_fd=dir_fd)


def _mark_released(home: Path, entry: Entry) -> None:
    run = home / QUARANTINE / entry.run
    released = _released(run) | {entry.stored_as_bytes}
    tmp = run / ".released.json.tmp"
    tmp.write_text(json.dumps(sorted(released)) + "\n", encoding="utf-8")
    os.replace(tmp, run / "released.json")
