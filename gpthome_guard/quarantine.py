"""shell: the quarantine: list what is in it, show one entry, release a file back home."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gpthome_guard.apply import MANIFEST, QUARANTINE
from gpthome_guard.checks import check_document
from gpthome_guard.config import Limits
from gpthome_guard.conventions import CONTENT_DIRS, kind_of
from gpthome_guard.documents import parse_document
from gpthome_guard.errors import GuardError, UsageError
from gpthome_guard.models import Finding, Kind, Severity


class Entry(BaseModel):
    """One record of a manifest: a file set aside, or the original of a fixed file."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    path: str
    stored_as: str
    action: str
    size: int | None = None
    sha256: str | None = None
    findings: list[dict[str, str]] = []
    when: str
    session: str | None = None
    run: str
    released: str | None = None

    @property
    def reasons(self) -> str:
        return "; ".join(f"{f.get('code')} {f.get('message')}" for f in self.findings)


def entries(home: Path) -> list[Entry]:
    """Every manifest record, oldest run first."""
    root = home / QUARANTINE
    if not root.is_dir() or root.is_symlink():
        return []
    found: list[Entry] = []
    for run in sorted(root.iterdir()):
        manifest = run / MANIFEST
        if run.is_symlink() or not manifest.is_file() or manifest.is_symlink():
            continue
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for record in data.get("entries", []):
            entry = Entry.model_validate(record)
            # A record is written before its move; one whose file never arrived (the run was
            # killed in between) is an intent, not an entry: the next run records it anew.
            if entry.released or os.path.lexists(home / entry.stored_as):
                found.append(entry)
    return found


def find(home: Path, path: str) -> Entry:
    """The newest unreleased entry whose original or stored path is `path`."""
    path = path.strip("/")
    matches = [e for e in entries(home) if path in (e.path, e.stored_as) and not e.released]
    if not matches:
        raise UsageError(
            f"{path}: nothing in the quarantine by that name; see `guard quarantine list`"
        )
    return matches[-1]


def release(home: Path, entry: Entry, limits: Limits, force: bool) -> list[Finding]:
    """Put a quarantined file back where it came from. Returns the findings it still has
    (only possible with force). Never overwrites a file."""
    if entry.action != "quarantined":
        raise UsageError(
            f"{entry.path}: not a quarantined file but {entry.action} (the original of a fixed "
            f"file, or a leftover); copy {entry.stored_as} by hand if you want it"
        )
    source, target = home / entry.stored_as, home / entry.path
    parts = Path(entry.path).parts
    if len(parts) != 2 or parts[0] not in CONTENT_DIRS or ".." in parts:
        raise GuardError(f"{entry.path}: not a content path; the manifest may be damaged")
    try:
        st = os.lstat(source)
    except FileNotFoundError:
        raise GuardError(f"{entry.stored_as}: missing from the quarantine") from None
    if os.path.lexists(target):
        raise GuardError(f"{entry.path} exists; move it away first (release never overwrites)")
    findings: list[Finding] = []
    if stat.S_ISREG(st.st_mode) and st.st_size <= limits.max_file_bytes:
        kind = kind_of(parts[0], parts[1])
        if kind is not Kind.OTHER:
            doc = parse_document(entry.path, kind, source.read_bytes(), limits)
            findings = check_document(doc, limits, name=parts[1])
    elif not force:
        raise GuardError(
            f"{entry.path}: not a regular file within the size limit; use "
            "--force to put it back anyway"
        )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors and not force:
        first = errors[0]
        raise GuardError(
            f"{entry.stored_as}:{first.line or ''} {first.code} {first.message}; "
            "fix it there, or use --force"
        )
    (home / parts[0]).mkdir(exist_ok=True)
    if stat.S_ISREG(st.st_mode):
        os.link(source, target, follow_symlinks=False)  # fails if the target appeared
        os.unlink(source)
    else:
        os.rename(source, target)
    _mark_released(home, entry)
    return errors


def _mark_released(home: Path, entry: Entry) -> None:
    manifest = home / QUARANTINE / entry.run / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for record in data["entries"]:
        if record.get("stored_as") == entry.stored_as and not record.get("released"):
            record["released"] = now
    tmp = manifest.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, manifest)
