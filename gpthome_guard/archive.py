"""core: commit messages for sessions, built from the session log and the changes, never by a
language model. Subject, body, then git trailers that `guard log` and `guard restore` read."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gpthome_guard import __version__
from gpthome_guard.gitrepo import Change
from gpthome_guard.models import printable
from gpthome_guard.sessionlog import SessionLog, first_sentence
from gpthome_guard.sessionlog import SessionStatus as Status

SUBJECT_MAX = 72
LIST_MAX = 200  # deleted/renamed files named in a message, then "... and N more"
_TRAILER_UNSAFE = re.compile(r"[^A-Za-z0-9._:/+-]")
_SESSION_ID = re.compile(r"^[0-9]{8}-[0-9]{6}$")
_STATUS_TEXT = {
    Status.COMPLETED: "completed",
    Status.MAX_TURNS: "hit the maximum number of turns",
    Status.API_ERROR: "API error",
    Status.ERROR: "error",
    Status.CRASHED: "crashed",
    Status.TIMEOUT: "killed by the timeout (the log has no end marker)",
    Status.NO_LOG: "no session log",
}


@dataclass(frozen=True, slots=True)
class Session:
    """Which session a commit belongs to: its id (YYYYmmdd-HHMMSS), type and log file."""

    id: str
    type: str
    log: str | None = None


def session_id(log_name: str | None, fallback: str) -> str:
    """The id from a log named `session-YYYYmmdd-HHMMSS.log`, else `fallback` (same form)."""
    if log_name:
        match = re.search(r"session-([0-9]{8}-[0-9]{6})", log_name)
        if match:
            return match[1]
    return fallback if _SESSION_ID.match(fallback) else "00000000-000000"


def _trailer(value: object) -> str:
    return _TRAILER_UNSAFE.sub("_", str(value))[:120] or "_"


def trailers(fields: Iterable[tuple[str, object]]) -> str:
    return "\n".join(f"{key}: {_trailer(value)}" for key, value in fields if value is not None)


def _subject(prefix: str, text: str) -> str:
    room = SUBJECT_MAX - len(prefix)
    return prefix + (text if len(text) <= room else first_sentence(text, room))


def count_line(changes: Sequence[Change]) -> str:
    kinds = Counter(c.status for c in changes)
    parts = [(kinds["A"], "added"), (kinds["M"] + kinds["T"], "changed"),
             (kinds["D"], "deleted"), (kinds["R"], "renamed")]  # fmt: skip
    return ", ".join(f"{n} {word}" for n, word in parts if n) or "no changes"


def _per_directory(changes: Sequence[Change]) -> list[str]:
    signs = {"A": "+", "M": "~", "T": "~", "D": "-", "R": ">"}
    table: dict[str, Counter[str]] = {}
    for change in changes:
        top = change.path.split("/", 1)[0] + "/" if "/" in change.path else change.path
        table.setdefault(top, Counter())[signs.get(change.status, "~")] += 1
    width = max((len(d) for d in table), default=0)
    return [
        f"  {printable(d):<{width}}  " + " ".join(f"{s}{n}" for s, n in sorted(c.items()))
        for d, c in sorted(table.items())
    ]


def _listed(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    shown = lines[:LIST_MAX]
    more = [f"  ... and {len(lines) - LIST_MAX} more"] if len(lines) > LIST_MAX else []
    return ["", f"{title}:", *(f"  - {line}" for line in shown), *more]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def status_text(log: SessionLog) -> str:
    text = _STATUS_TEXT.get(log.status, str(log.status))
    return f"{text}: {printable(log.error)[:200]}" if log.error else text


def agent_message(
    session: Session,
    log: SessionLog,
    changes: Sequence[Change],
    held: Sequence[str] = (),
    kept: Sequence[str] = (),
    incidents: Sequence[str] = (),
    set_aside: Sequence[str] = (),
) -> str:
    """The message of the commit that holds exactly what the agent left (but the deletions
    held back, `held`, and the journal entries put back, `kept`)."""
    summary = printable(" ".join((log.summary or "").split())).replace("\\x00", "")
    subject = _subject(
        f"session({session.type}): ",
        first_sentence(summary, SUBJECT_MAX) if summary else count_line(changes),
    )
    body = textwrap.wrap(printable(summary), 72)[:5] or ["No summary in the session log."]
    facts = [
        f"Status: {status_text(log)}",
        f"Started: {log.started.isoformat() if log.started else 'unknown'}; "
        f"ended: {log.ended.isoformat() if log.ended else 'unknown'}; "
        f"duration: {_duration(log.duration_s)}",
    ]
    usage = []
    if log.turns is not None:
        usage.append(f"turns: {log.turns}")
    if log.cost_usd is not None:
        usage.append(f"cost: ${log.cost_usd:.2f}")
    if log.models:
        usage.append("models: " + ", ".join(printable(m)[:60] for m in log.models[:5]))
    if usage:
        line = "; ".join(usage)
        facts.append(line[:1].upper() + line[1:])  # not capitalize(): model names keep case
    deleted = [printable(c.path) for c in changes if c.status == "D"]
    renamed = [
        f"{printable(c.old_path or '?')} -> {printable(c.path)}" for c in changes if c.status == "R"
    ]
    lines = [subject, "", *body, "", *facts, "", f"Changes: {count_line(changes)}",
             *_per_directory(changes),
             *_listed(f"Deleted (restore with `guard restore --session {session.id}`)", deleted),
             *_listed("Renamed", renamed),
             *_listed("Journal entries deleted and put back (the journal is append-only)",
                      [printable(p) for p in kept]),
             *_listed(f"Deletions held back ({len(held)}: too many, or a whole directory); "
                      "confirm with `guard restore --forget PATH`", [printable(p) for p in held]),
             *_listed("Security incidents (also in the alert log)",
                      [printable(p) for p in incidents]),
             *_listed("Set aside before this commit (in quarantine/, never committed)",
                      [printable(p) for p in set_aside]),
             "",
             trailers([("Guard-Session", session.id), ("Guard-Session-Type", session.type),
                       ("Guard-Phase", "agent"), ("Guard-Log", session.log),
                       ("Guard-Status", log.status.value), ("Guard-Turns", log.turns),
                       ("Guard-Cost-USD", None if log.cost_usd is None else f"{log.cost_usd:.4f}"),
                       ("Guard-Added", sum(c.status == "A" for c in changes)),
                       ("Guard-Changed", sum(c.status in "MT" for c in changes)),
                       ("Guard-Deleted", len(deleted)), ("Guard-Renamed", len(renamed)),
                       ("Guard-Held", len(held) or None), ("Guard-Kept", len(kept) or None),
                       ("Guard-Incidents", len(incidents) or None),
                       ("Guard-Version", __version__)])]  # fmt: skip
    return "\n".join(lines) + "\n"


def guard_message(
    session: Session,
    done: Sequence[str],
    skipped: Sequence[str],
    quarantined: int,
    fixed: int,
    restored: int,
) -> str:
    """The message of the commit that holds the guard's own repairs after a session."""
    parts = [f"{n} {word}" for n, word in ((fixed, "fixed"), (quarantined, "quarantined"),
                                          (restored, "restored")) if n]  # fmt: skip
    subject = _subject(f"guard({session.type}): ", ", ".join(parts) or "repairs")
    lines = [subject, "", f"What the guard changed after session {session.id}:",
             *(f"  - {printable(line)}" for line in done[:LIST_MAX]),
             *_listed("Left as they were", [printable(s) for s in skipped]), "",
             trailers([("Guard-Session", session.id), ("Guard-Session-Type", session.type),
                       ("Guard-Phase", "repair"), ("Guard-Fixed", fixed),
                       ("Guard-Quarantined", quarantined), ("Guard-Restored", restored),
                       ("Guard-Version", __version__)])]  # fmt: skip
    return "\n".join(lines) + "\n"


def external_message(session: Session, changes: Sequence[Change]) -> str:
    """pre-session: what changed since the last commit without the agent (visitors, operator)."""
    fields = [
        ("Guard-Session", session.id),
        ("Guard-Session-Type", session.type),
        ("Guard-Phase", "pre-session"),
        ("Guard-Version", __version__),
    ]
    lines = [_subject("pre-session: ", f"changes made outside a session ({count_line(changes)})"),
             "", "Committed before the session so that its own commit holds only its work.",
             "", f"Changes: {count_line(changes)}", *_per_directory(changes),
             *_listed("Deleted", [printable(c.path) for c in changes if c.status == "D"]), "",
             trailers(fields)]  # fmt: skip
    return "\n".join(lines) + "\n"
