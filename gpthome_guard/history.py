"""shell: the sessions in a home's history, read with one `git log`; `parse_log` is its pure core.

Each session leaves up to two commits (archive.py): the agent's (`Guard-Phase: agent`) and the
guard's repairs (`Guard-Phase: repair`), tied together by `Guard-Session`. init and pre-session
commits are not sessions. Values come from trailers only, never from the free text of a message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import islice

from gpthome_guard.errors import GuardError
from gpthome_guard.gitrepo import Repo

KEYS = (
    "Guard-Session", "Guard-Session-Type", "Guard-Phase", "Guard-Log", "Guard-Status",
    "Guard-Turns", "Guard-Cost-USD", "Guard-Added", "Guard-Changed", "Guard-Deleted",
    "Guard-Renamed", "Guard-Fixed", "Guard-Quarantined", "Guard-Restored",
)  # fmt: skip
# Fields end in NUL, commits in RS. The subject comes last: split with a maximum, any NUL or RS
# in it cannot shift the other fields, and `%s` never holds the newline git puts after each RS.
FORMAT = (
    "%H%x00%cI%x00"
    + "".join(f"%(trailers:key={key},valueonly,separator=%x2C)%x00" for key in KEYS)
    + "%s%x1e"
)
_FIELDS = 2 + len(KEYS) + 1
_END = "\x1e\n"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
_INT = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,12})?")
_PHASES = ("agent", "repair")
_AGENT_COUNTS = ("added", "changed", "deleted", "renamed")
_REPAIR_COUNTS = ("fixed", "quarantined", "restored")


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session as its commits tell it. A count is 0 when its commit is missing and None
    when its trailer holds no number; turns and cost are None when unknown."""

    id: str
    type: str | None
    date: dt.datetime | None  # committer date of the agent commit, else of the repair commit
    status: str | None  # a sessionlog.SessionStatus value; None without an agent commit
    turns: int | None
    cost_usd: float | None
    added: int | None
    changed: int | None
    deleted: int | None
    renamed: int | None
    fixed: int | None
    quarantined: int | None
    restored: int | None
    subject: str | None  # of the agent commit, else of the repair commit
    log: str | None
    commits: tuple[str, ...]  # newest first


@dataclass(slots=True)
class _Commit:
    sha: str
    date: dt.datetime | None
    subject: str
    values: dict[str, str]


@dataclass(slots=True)
class _Group:
    id: str
    agent: list[_Commit] = field(default_factory=list)
    repair: list[_Commit] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)


def sessions(repo: Repo, limit: int | None = None) -> list[SessionRecord]:
    """The newest `limit` sessions (all when None), newest first, from one `git log`."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    if not repo.is_repo():
        raise GuardError(
            f"{repo.work_tree} has no history at {repo.git_dir}; run `guard init {repo.work_tree}`"
        )
    if repo.head() is None:  # git log fails on a branch without commits
        return []
    out = repo.run(
        "log",
        f"--format={FORMAT}",
        "--encoding=UTF-8",  # whatever i18n.logOutputEncoding says
        "--no-show-signature",  # log.showSignature would run gpg.program on signed commits
        "HEAD",
        "--",
    )
    return parse_log(out.decode("utf-8", "replace"), limit)


def parse_log(text: str, limit: int | None = None) -> list[SessionRecord]:
    """Records from `git log --format=FORMAT` output (newest commit first), newest first.
    A session's commits need not be adjacent; a malformed commit is skipped, never fatal."""
    groups: dict[str, _Group] = {}
    for chunk in text.split(_END):
        commit = _parse_commit(chunk.lstrip("\n"))
        if commit is None:
            continue
        phase = _first(commit.values["Guard-Phase"])
        session = _first(commit.values["Guard-Session"])
        if phase not in _PHASES or not session:
            continue
        group = groups.get(session)
        if group is None:
            group = groups[session] = _Group(session)
        (group.agent if phase == "agent" else group.repair).append(commit)
        group.commits.append(commit.sha)
    return [_record(group) for group in islice(groups.values(), limit)]


def _parse_commit(chunk: str) -> _Commit | None:
    parts = chunk.split("\0", _FIELDS - 1)
    if len(parts) != _FIELDS or not _SHA.fullmatch(parts[0]):
        return None
    return _Commit(
        sha=parts[0],
        date=_date(parts[1]),
        subject=parts[-1].rstrip("\x1e"),
        values=dict(zip(KEYS, parts[2:-1], strict=True)),
    )


def _record(group: _Group) -> SessionRecord:
    # the newest commit of each phase speaks for the session; counts add up over all of them
    ordered = [*group.agent, *group.repair]
    main = ordered[0]
    agent = group.agent[0].values if group.agent else dict.fromkeys(KEYS, "")
    counts = {name: _sum(group.agent, name) for name in _AGENT_COUNTS} | {
        name: _sum(group.repair, name) for name in _REPAIR_COUNTS
    }
    return SessionRecord(
        id=group.id,
        type=next(filter(None, (_first(c.values["Guard-Session-Type"]) for c in ordered)), None),
        date=main.date,
        status=_first(agent["Guard-Status"]) or None,
        turns=_int(agent["Guard-Turns"]),
        cost_usd=_decimal(agent["Guard-Cost-USD"]),
        subject=main.subject,
        log=_first(agent["Guard-Log"]) or None,
        commits=tuple(group.commits),
        **counts,
    )


def _first(value: str) -> str:
    """The first of a trailer's values (git joins repeats with commas, which guard never
    writes into a value: archive._trailer replaces them)."""
    return value.split(",", 1)[0].strip()


def _int(value: str) -> int | None:
    text = _first(value)
    return int(text) if _INT.fullmatch(text) else None


def _decimal(value: str) -> float | None:
    text = _first(value)
    return float(text) if _DECIMAL.fullmatch(text) else None


def _sum(commits: list[_Commit], name: str) -> int | None:
    total = 0
    for commit in commits:
        raw = commit.values[f"Guard-{name.capitalize()}"]
        if not raw:
            continue  # an older guard, or a commit written by hand: nothing counted
        number = _int(raw)
        if number is None:
            return None
        total += number
    return total


def _date(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
