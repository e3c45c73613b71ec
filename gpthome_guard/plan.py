"""core: what was found -> a Plan of changes (rewrites, renames, quarantines, page restores).

No I/O here: everything the planner needs (the bytes read, the fix computed, the names taken,
the last good version of a page) is handed to it.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gpthome_guard.fixes import FixResult
from gpthome_guard.models import Finding, Kind, Severity

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Change(BaseModel):
    """One repaired finding: the rule and what was wrong."""

    model_config = _FROZEN
    code: str
    name: str
    message: str


class Rewrite(BaseModel):
    """Replace a file's bytes with a fixed version, and perhaps give it its proper name."""

    model_config = _FROZEN
    action: Literal["rewrite"] = "rewrite"
    path: str
    fs_path: str = Field(exclude=True)  # the name on disk (may hold undecodable bytes)
    old_sha256: str
    new_sha256: str
    new_text: str = Field(exclude=True)
    rename_to: str | None = None
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    diff: str


class Quarantine(BaseModel):
    """Move a file (or link, FIFO, directory) out of the served directories, as it is."""

    model_config = _FROZEN
    action: Literal["quarantine"] = "quarantine"
    path: str
    fs_path: str = Field(exclude=True)
    sha256: str | None  # None when it was not read (a link, a FIFO, a file too large)
    findings: tuple[Change, ...]
    remove: bool = False  # a FIFO, socket or device: recorded, then removed (it holds no data)
    private: bool = False  # a secret or an oversized file: mode 600, never committed


class RestorePage(BaseModel):
    """Quarantine an invalid page and put back its newest valid version from git."""

    model_config = _FROZEN
    action: Literal["restore-page"] = "restore-page"
    path: str
    fs_path: str = Field(exclude=True)
    sha256: str | None
    commit: str
    new_sha256: str
    new_text: str = Field(exclude=True)
    findings: tuple[Change, ...]


Action = Rewrite | Quarantine | RestorePage


class Unresolved(BaseModel):
    """A finding the plan leaves as it is, with the reason."""

    model_config = _FROZEN
    path: str
    code: str
    message: str
    reason: str


class Plan(BaseModel):
    model_config = _FROZEN
    actions: tuple[Action, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.actions


class FileState(BaseModel):
    """What the planner knows of one file that has findings."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    path: str
    fs_path: str
    kind: Kind
    data: bytes | None  # None when the file was not read
    findings: tuple[Finding, ...]
    fix: FixResult | None = None
    last_good: tuple[str, bytes] | None = None  # (commit, bytes) for pages


@dataclass(slots=True)
class Outcome:
    done: list[str] = field(default_factory=list)  # one line per action carried out
    skipped: list[str] = field(default_factory=list)  # one line per action left alone, and why
    quarantined: list[str] = field(default_factory=list)  # home-relative paths in quarantine/
    swept: list[str] = field(default_factory=list)  # leftovers of an interrupted run, set aside


PAGE_KINDS = (Kind.LANDING, Kind.LANDING_CONTENT, Kind.ABOUT)


def _changes(findings: Iterable[Finding]) -> tuple[Change, ...]:
    return tuple(Change(code=f.code, name=f.name, message=f.message) for f in findings)


def _errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def build_plan(files: Iterable[FileState], taken: frozenset[str] = frozenset()) -> Plan:
    """Decide, file by file: fix it, quarantine it, restore its page, or leave it.

    `taken` holds the home-relative paths that exist, so a rename never overwrites.
    """
    actions: list[Action] = []
    unresolved: list[Unresolved] = []
    claimed = set(taken)
    for state in sorted(files, key=lambda s: s.path):
        if not _errors(state.findings) and not (state.fix and state.fix.changed):
            continue  # warnings only: nothing to do
        action = _decide(state, claimed, unresolved)
        if action is not None:
            actions.append(action)
    return Plan(actions=tuple(actions), unresolved=tuple(unresolved))


def _decide(state: FileState, claimed: set[str], unresolved: list[Unresolved]) -> Action | None:
    fix = state.fix
    if fix is not None and fix.changed and state.data is not None and not _errors(fix.remaining):
        directory = state.path.rpartition("/")[0]
        rename = None
        if fix.name != state.fs_path.rpartition("/")[2]:
            rename = f"{directory}/{fix.name}"
            if rename in claimed:
                return _quarantine(state, extra=f"its proper name {rename} is taken")
            claimed.add(rename)
        old = state.data.decode("utf-8", "replace")
        new = fix.data.decode("utf-8")
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=f"a/{state.path}",
                tofile=f"b/{rename or state.path}",
            )
        )
        return Rewrite(
            path=state.path,
            fs_path=state.fs_path,
            old_sha256=sha256(state.data),
            new_sha256=sha256(fix.data),
            new_text=new,
            rename_to=rename,
            changes=_changes(fix.fixed),
            notes=fix.notes,
            diff=diff,
        )
    if state.kind in PAGE_KINDS:
        if state.last_good is None:
            for f in _errors(state.findings):
                unresolved.append(
                    Unresolved(
                        path=state.path,
                        code=f.code,
                        message=f.message,
                        reason="no valid version of this page in history",
                    )
                )
            return None
        commit, good = state.last_good
        return RestorePage(
            path=state.path,
            fs_path=state.fs_path,
            sha256=sha256(state.data) if state.data is not None else None,
            commit=commit,
            new_sha256=sha256(good),
            new_text=good.decode("utf-8"),
            findings=_changes(_errors(state.findings)),
        )
    return _quarantine(state)


def _quarantine(state: FileState, extra: str | None = None) -> Quarantine:
    findings = _changes(_errors(state.findings) or state.findings)
    if extra:
        findings = tuple(c for c in findings if c.code != "C305")
        findings += (Change(code="C305", name="invalid-filename", message=extra),)
    return Quarantine(
        path=state.path,
        fs_path=state.fs_path,
        sha256=sha256(state.data) if state.data is not None else None,
        findings=findings,
    )
