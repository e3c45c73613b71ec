"""core: `guard init --agent-user`: the owner and mode each path of the home should have, so
that `guard doctor` passes for the agent's user (from the map in `access`); how to tell what
changed; guard.toml with the agent's user recorded. `setup_apply` carries it out."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gpthome_guard.access import Zone, zone_of
from gpthome_guard.doctor_access import Who
from gpthome_guard.errors import UsageError


class Owner(StrEnum):
    operator = "operator"  # whoever runs guard (root)
    agent = "agent"


class Kind(StrEnum):
    dir = "dir"
    file = "file"
    other = "other"  # a link, FIFO, socket or device: its owner changes, never its mode


@dataclass(frozen=True, slots=True)
class Want:
    """What one path should be. `mode` None: leave the mode bits alone."""

    owner: Owner
    mode: int | None
    strip_acl: bool = False  # an ACL could give the agent what the mode bits take away
    skip: str = ""  # why the path is left as it is


HOME = Want(Owner.operator, 0o755, strip_acl=True)  # enter and list, never add or replace
_LINKED = "has other hard links (one may be outside the home); change it by hand if it is right"


def zone_of_entry(name: str, read_only: Sequence[str], forbidden: Sequence[str]) -> Zone:
    """The zone of a name at the home's root; every `.env.*` is as secret as `.env`."""
    if name.startswith(".env."):
        return Zone.forbidden
    return zone_of(name, tuple(read_only), tuple(forbidden))


def wanted(zone: Zone, kind: Kind, mode: int, nlink: int, is_agents: bool, top: bool) -> Want:
    """The owner and mode of one path: `mode` its permission bits now, `is_agents` whether the
    agent owns it already, `top` whether it is a name at the home's root."""
    if zone is Zone.outside:
        return Want(Owner.operator, None, skip="not in the map of the home")
    if zone is Zone.writable:
        if kind is Kind.file and nlink > 1 and not is_agents:
            return Want(Owner.agent, None, skip=_LINKED)
        if kind is Kind.dir:
            return Want(Owner.agent, mode | 0o700)
        # no set-id bits: a set-uid file of the agent's would let anyone act as the agent
        return Want(Owner.agent, (mode | 0o600) & ~0o6000 if kind is Kind.file else None)
    if zone is Zone.forbidden:  # below a 700 directory the modes no longer matter
        if not top or kind is Kind.other:
            return Want(Owner.operator, None)
        return Want(Owner.operator, 0o700 if kind is Kind.dir else 0o600, strip_acl=True)
    if kind is Kind.dir:  # read-only: readable by everyone, written by its owner only
        return Want(Owner.operator, 0o755, strip_acl=True)
    if kind is Kind.file:
        new = 0o755 if mode & 0o111 else 0o644
        if nlink > 1 and new & ~mode:  # would make another name of the file readable
            return Want(Owner.operator, None, skip=_LINKED)
        return Want(Owner.operator, new, strip_acl=True)
    return Want(Owner.operator, None)


@dataclass(frozen=True, slots=True)
class Change:
    """What changed on one path; `label` names the top-level entry it belongs to."""

    label: str
    inside: bool = False
    owner: tuple[str, str] | None = None  # "user:group" before, after
    mode: tuple[int, int] | None = None
    acl: bool = False  # a POSIX ACL was removed
    note: str = ""  # "created, 700 root:root", "skipped ...: why"


def summarize(changes: Sequence[Change]) -> list[str]:
    """One line per top-level entry that changed, in the order they were set up."""
    lines: list[str] = []
    labels = list(dict.fromkeys(c.label for c in changes))
    for label in labels:
        group = [c for c in changes if c.label == label]
        parts = [c.note for c in group if c.note and not c.note.startswith("skipped")]
        for c in (c for c in group if not c.inside and not c.note):
            if c.owner:
                parts.append(f"owner {c.owner[0]} -> {c.owner[1]}")
            if c.mode:
                parts.append(f"mode {c.mode[0]:03o} -> {c.mode[1]:03o}")
            if c.acl:
                parts.append("POSIX ACL removed")
        inside = [c for c in group if c.inside and not c.note]
        counts = [
            _count(sum(bool(c.owner) for c in inside), "owner"),
            _count(sum(bool(c.mode) for c in inside), "mode"),
            _count(sum(c.acl for c in inside), "ACL removed", "ACLs removed"),
        ]
        if any(counts):
            parts.append(f"inside: {', '.join(filter(None, counts))}")
        if parts:
            lines.append(f"{label}: {', '.join(parts)}")
        lines += [c.note for c in group if c.note.startswith("skipped")]
    return lines


def _count(n: int, one: str, many: str = "") -> str:
    return "" if not n else f"1 {one}" if n == 1 else f"{n} {many or one + 's'}"


def check_can_set_up(home: Path, euid: int, who: Who) -> None:
    """Refuse before anything is written: only root gives files to another user."""
    if euid != 0:
        raise UsageError(
            f"{home}: --agent-user needs root (only root can give files to another user); "
            f"rerun as root, e.g. sudo guard init {home} --agent-user {who.name}"
        )
    if who.uid == 0:
        raise UsageError(
            f"--agent-user {who.name}: the agent needs a user of its own, not root; create one "
            "(useradd --system --no-create-home gpt) and pass it"
        )


_HEADER = re.compile(r"^\s*\[(?!\[)\s*([^\]]*?)\s*\]\s*(#.*)?$")
_LIVE = re.compile(r"^\s*agent_user\s*=")
_COMMENTED = re.compile(r"^\s*#\s*agent_user\s*=")


def with_agent_user(text: str, name: str) -> str:
    """`text` (guard.toml) with `agent_user = "name"` in its [access] table: the key replaced,
    else its commented default, else added under the header; the table added if missing."""
    line = f"agent_user = {json.dumps(name)}\n"  # a JSON string is a TOML basic string
    lines = text.splitlines(keepends=True)
    tables = [(i, m[1]) for i, t in enumerate(lines) if (m := _HEADER.match(t))]
    start = next((i for i, table in tables if table == "access"), None)
    if start is None:
        gap = "" if not text else "\n" if text.endswith("\n") else "\n\n"
        return f"{text}{gap}[access]\n{line}"
    end = next((i for i, _ in tables if i > start), len(lines))
    live = [i for i in range(start + 1, end) if _LIVE.match(lines[i])]
    commented = [i for i in range(start + 1, end) if _COMMENTED.match(lines[i])]
    if live or commented:
        lines[(live or commented)[0]] = line
    else:
        lines.insert(start + 1, line)
    return "".join(lines)
