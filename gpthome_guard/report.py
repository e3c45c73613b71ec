"""shell + core: what the guard did after a session, for the operator and for the agent's
next prompt. `gather` reads history, the quarantine manifest and the session's incidents;
everything else renders values (pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from gpthome_guard import __version__, history
from gpthome_guard.apply import MANIFEST, QUARANTINE
from gpthome_guard.errors import GuardError
from gpthome_guard.gitrepo import Repo
from gpthome_guard.models import printable
from gpthome_guard.quarantine import Entry
from gpthome_guard.reader import read_regular
from gpthome_guard.render import JSON_SCHEMA_VERSION
from gpthome_guard.rules import RULES

INCIDENTS_FILE = "gpthome-guard/last-session.json"  # in the git directory; written by others
MAX_ITEMS = 20  # in the agent's report, then "and N more"
MAX_AGENT_BYTES = 4096
MAX_TEXT = 300  # characters of one message, incident or name list
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_LISTED = 200  # paths read from one section of a commit message
_FROZEN = ConfigDict(frozen=True, extra="forbid")
_KEPT_HEADER = "Journal entries deleted and put back"
_HELD_HEADER = "Deletions held back"
_INCIDENTS_HEADER = "Security incidents"

Kind = Literal["status", "incident", "held", "quarantined", "removed", "restored", "kept", "fixed"]
_ORDER: tuple[Kind, ...] = (
    "status", "incident", "held", "quarantined", "removed", "restored", "kept", "fixed"
)  # fmt: skip
_ACTIONS: dict[str, Kind] = {"fixed": "fixed", "quarantined": "quarantined", "removed": "removed"}


class Problem(BaseModel):
    """One finding behind an action: the rule and what the file said."""

    model_config = _FROZEN
    code: str
    name: str
    message: str
    summary: str  # the rule's summary: how to do it right


class Item(BaseModel):
    """One thing the agent should hear about."""

    model_config = _FROZEN
    kind: Kind
    path: str | None = None  # printable, home-relative
    paths: tuple[str, ...] = ()  # for a held-back mass deletion
    problems: tuple[Problem, ...] = ()
    detail: str | None = None  # where it went, the commit a page came back from, the incident


class SessionInfo(BaseModel):
    model_config = _FROZEN
    id: str
    type: str | None
    status: str | None
    date: str | None
    subject: str | None
    turns: int | None
    cost_usd: float | None
    added: int | None
    changed: int | None
    deleted: int | None


class SessionReport(BaseModel):
    """The previous session's outcome; `session` is None when there is none yet."""

    model_config = _FROZEN
    session: SessionInfo | None
    items: tuple[Item, ...] = ()


# --- gathering ---------------------------------------------------------------------------


def gather(home: Path, repo: Repo, session_id: str | None = None) -> SessionReport:
    """The newest session (or `session_id`) as history, the manifest and incidents tell it."""
    records = history.sessions(repo, None if session_id else 1)
    record = next((r for r in records if session_id in (None, r.id)), None)
    if record is None:
        if session_id:
            raise GuardError(f"no session {session_id} in the history; `guard log` lists them")
        return SessionReport(session=None)
    items = [*_status_items(record.status)]
    items += _manifest_items(home, record.id)
    kept, held, incidents = _message_lists(repo, record.commits)
    items += [Item(kind="kept", path=p) for p in kept]
    if held:
        items.append(Item(kind="held", paths=tuple(held)))
    incidents += read_incidents(repo.git_dir, record.id)
    items += [Item(kind="incident", detail=text) for text in dict.fromkeys(incidents)]
    items.sort(key=lambda item: _ORDER.index(item.kind))  # stable: the worst first
    info = SessionInfo(
        id=record.id,
        type=record.type,
        status=record.status,
        date=record.date.isoformat() if record.date else None,
        subject=printable(record.subject)[:MAX_TEXT] if record.subject else None,
        turns=record.turns,
        cost_usd=record.cost_usd,
        added=record.added,
        changed=record.changed,
        deleted=record.deleted,
    )
    return SessionReport(session=info, items=tuple(items))


def _status_items(status: str | None) -> list[Item]:
    return [] if status in (None, "completed", "no_log") else [Item(kind="status", detail=status)]


def _manifest_items(home: Path, session_id: str) -> list[Item]:
    seen: dict[str, Item] = {}
    for entry in _run_entries(home, f"session-{session_id}"):
        if entry.path in seen:
            continue
        problems = tuple(_problem(f) for f in entry.findings)
        if entry.restored_from:
            seen[entry.path] = Item(
                kind="restored", path=entry.path, problems=problems, detail=entry.restored_from[:12]
            )
        elif entry.action in _ACTIONS:
            moved = {"fixed": entry.renamed_to, "quarantined": entry.stored_as}.get(entry.action)
            seen[entry.path] = Item(
                kind=_ACTIONS[entry.action],
                path=entry.path,
                problems=problems,
                detail=printable(moved) if moved else None,
            )
    return list(seen.values())


def _run_entries(home: Path, run: str) -> list[Entry]:
    """One run's manifest records, removals included (quarantine.entries lists only what
    is still stored). Read without following a link; a line that is not a record (cut short
    by a killed run) is skipped."""
    data = read_regular(home / QUARANTINE / run / MANIFEST, MAX_MANIFEST_BYTES) or b""
    found = []
    for line in data.splitlines():
        try:
            found.append(Entry.model_validate_json(line))
        except ValidationError:
            continue
    return found


def _problem(finding: dict[str, str]) -> Problem:
    code = str(finding.get("code", "?"))
    rule = RULES.get(code)
    return Problem(
        code=printable(code)[:16],
        name=printable(str(finding.get("name", rule.name if rule else "")))[:60],
        message=printable(str(finding.get("message", "")))[:MAX_TEXT],
        summary=rule.summary if rule else "",
    )


def _message_lists(repo: Repo, commits: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """The journal entries put back, the deletions held back and the security incidents, as
    the session's agent commit lists them (its trailers only count them). The lines are the
    guard's: each path is printable(), so no name can start a line of its own."""
    for sha in commits[:8]:
        out = repo.run("show", "-s", "--format=%(trailers:key=Guard-Phase,valueonly)%x00%B", sha)
        phase, _, body = out.decode("utf-8", "replace").partition("\0")
        if phase.strip() == "agent":
            kept, held = _section(body, _KEPT_HEADER), _section(body, _HELD_HEADER)
            return kept, held, _section(body, _INCIDENTS_HEADER)
    return [], [], []


def _section(body: str, header: str) -> list[str]:
    """The "  - " lines under `header`. Every such section counts: the agent's summary (in
    the same body) can copy a header line, but never an item line (its text is wrapped with
    leading blanks dropped), so a copied header lists nothing and hides nothing."""
    found: list[str] = []
    inside = False
    for line in body.splitlines():
        if inside and line.startswith("  - "):
            found.extend([line[4:]] if len(found) < MAX_LISTED else [])
        else:
            inside = line.startswith(header) and line.endswith(":")
    return found


def read_incidents(git_dir: Path, session_id: str) -> list[str]:
    """`"incidents"` of the session's state file; missing, malformed or another session's
    (a `"session"` that does not name this one) = none. Read without following a link."""
    data = read_regular(git_dir / INCIDENTS_FILE, 256 * 1024)
    try:
        doc = json.loads(data.decode("utf-8")) if data else None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return []
    if not isinstance(doc, dict):
        return []
    owner = doc.get("session")
    if isinstance(owner, str) and owner and session_id not in owner:
        return []
    raw = doc.get("incidents")
    found = []
    for value in raw[:100] if isinstance(raw, list) else []:
        text = value.get("message") if isinstance(value, dict) else value
        if isinstance(text, str) and text.strip():
            found.append(printable(" ".join(text.split()))[:MAX_TEXT])
    return found


# --- rendering (pure) --------------------------------------------------------------------

_STATUS_FOR_AGENT = {
    "max_turns": (
        "Your session stopped at the maximum number of turns, before you had finished.",
        "Do the writing that matters first (your journal entry), in few steps.",
    ),
    "timeout": (
        "Your session was stopped by the time limit, before you had finished.",
        "Do the writing that matters first (your journal entry), and keep sessions short.",
    ),
}
_STATUS_FAILED = (
    "Your session ended with an error in the program that runs you ({status}), not by your doing.",
    "Nothing to change on your side; the operator sees it in the logs.",
)
_SECTIONS = {
    "thoughts": "Journal entries",
    "dreams": "Dreams",
    "landing-page": "The about page and landing text",
    "about": "The about page and landing text",
}


def guide_section(code: str, path: str | None) -> str:
    """The section of GPT.md that says how to do it right."""
    if code.startswith("S"):
        return "After each session"  # never copy credentials into your writing
    if code.startswith(("H", "A", "R10")) and code not in ("R106", "R107", "R108", "R109"):
        return "Your home"
    if code.startswith("J") or path == "landing-page/landing.json":
        return "The landing page"
    if code.startswith("C") and path:
        return _SECTIONS.get(path.split("/", 1)[0], "The conventions")
    return "The conventions"


def for_agent(report: SessionReport) -> str:
    """Plain text for the agent's next prompt: per item what was wrong, what the guard did,
    how to do it right. At most MAX_ITEMS items and MAX_AGENT_BYTES, then "and N more"."""
    info = report.session
    if info is None:
        return "There is no previous session: this is your first.\n"
    head = f"Your previous session ({info.id}, {info.type or 'unknown type'})"
    if not report.items:
        return f"{head} went well: the guard found nothing to fix or set aside.\n"
    lines = [f"{head}: the guard has {_count(len(report.items), 'thing')} to tell you."]
    size = len(lines[0]) + 1
    for number, item in enumerate(report.items, start=1):
        block = _agent_item(number, item)
        cost = sum(len(line.encode()) + 1 for line in block)
        if number > MAX_ITEMS or size + cost > MAX_AGENT_BYTES - 64:
            lines.append(f"... and {len(report.items) - number + 1} more.")
            break
        lines += block
        size += cost
    return "\n".join(lines) + "\n"


def _agent_item(number: int, item: Item) -> list[str]:
    what, did, next_time = _agent_parts(item)
    pad = " " * (len(str(number)) + 2)
    return [f"{number}. {what}", f"{pad}What the guard did: {did}", f"{pad}Next time: {next_time}"]


def _agent_parts(item: Item) -> tuple[str, str, str]:
    path = item.path or ""
    wrong = "; ".join(f"{p.code} {p.name}: {p.message}" for p in item.problems[:3])
    wrong = _cut(wrong or "it broke the conventions")
    codes = list(dict.fromkeys(p.code for p in item.problems))
    summaries = " ".join(dict.fromkeys(p.summary for p in item.problems[:3] if p.summary))
    cite = f'See GPT.md, "{guide_section(codes[0] if codes else "", path)}".'
    advice = _cut(f"{summaries} {cite}" if summaries else cite)
    if item.kind == "fixed":
        renamed = f" and renamed it to {item.detail}" if item.detail else ""
        return (f"{path}: {wrong}", f"fixed it in place{renamed}; your text is unchanged.", advice)
    if item.kind == "quarantined":
        return (
            f"{path}: {wrong}",
            "set it aside in the quarantine, as it was: it is no longer in your home or on "
            "the site, and a person will look at it.",
            advice,
        )
    if item.kind == "removed":
        return (
            f"{path}: {wrong}",
            "removed it: it was not a file and held no writing (recorded in the quarantine).",
            advice,
        )
    if item.kind == "restored":
        return (
            f"{path}: {wrong}",
            f"put back the page's last good version (commit {item.detail}) so the site stays "
            "up, and set yours aside in the quarantine.",
            advice,
        )
    if item.kind == "kept":
        return (
            f"{path}: you deleted this journal entry.",
            "put it back: the journal only grows.",
            'Leave past entries as they are and write a new one. See GPT.md, "After each session".',
        )
    if item.kind == "held":
        return (
            f"your session deleted {_count(len(item.paths), 'file')} at once: "
            + _cut(_listing(item.paths)),
            "held the deletions back: the files are still there until a person confirms.",
            'Delete only a few files in a session, never a whole directory. See GPT.md, "After '
            'each session".',
        )
    if item.kind == "incident":
        return (
            f"{item.detail}",
            "reported it to the operator.",
            "Stay out of runner/, logs/, .env and the guard's files, and never copy "
            'credentials into your writing. See GPT.md, "Your home".',
        )
    said, advice = _STATUS_FOR_AGENT.get(item.detail or "", _STATUS_FAILED)
    return said.format(status=item.detail), "kept and checked whatever you had written.", advice


def _listing(paths: tuple[str, ...], shown: int = 5) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_HEADINGS: dict[Kind, str] = {  # in _ORDER: the worst first
    "incident": "Security incidents",
    "held": "Deletions held back (confirm with `guard restore --forget PATH...`)",
    "quarantined": "Quarantined",
    "removed": "Removed (links, FIFOs and the like; recorded in the quarantine's manifest)",
    "restored": "Pages restored from history",
    "kept": "Journal entries put back (the journal is append-only)",
    "fixed": "Fixed",
}


def text(report: SessionReport) -> str:
    """For the operator: the session's facts, then what the guard did, grouped."""
    info = report.session
    if info is None:
        return "No session in the history yet.\n"
    facts = [
        f"{info.turns} turns" if info.turns is not None else None,
        f"${info.cost_usd:.2f}" if info.cost_usd is not None else None,
        f"{info.added or 0} added, {info.changed or 0} changed, {info.deleted or 0} deleted",
    ]
    lines = [
        f"Session {info.id} ({info.type or 'unknown'}), {info.date or 'date unknown'}: "
        f"{info.status or 'no agent commit'}",
        f"  {info.subject or '-'}",
        "  " + "; ".join(f for f in facts if f),
    ]
    for kind, heading in _HEADINGS.items():
        group = [i for i in report.items if i.kind == kind]
        if group:
            lines += ["", f"{heading}:", *(f"  {_operator_line(i)}" for i in group)]
    if not [i for i in report.items if i.kind != "status"]:
        lines += ["", "Nothing fixed, quarantined, put back or held back; no incidents."]
    return "\n".join(lines) + "\n"


def _operator_line(item: Item) -> str:
    codes = ", ".join(f"{p.code} {p.name}: {p.message}" for p in item.problems)
    if item.kind == "held":
        return _listing(item.paths, MAX_LISTED)
    if item.kind == "incident" or not item.path:
        return item.detail or ""
    where = {"fixed": " -> ", "quarantined": " -> ", "restored": " from "}.get(item.kind, "")
    moved = f"{where}{item.detail}" if item.detail and where else ""
    return f"{item.path}{moved}" + (f" ({codes})" if codes else "")


def to_json(report: SessionReport) -> str:
    findings = any(i.kind != "status" for i in report.items)
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "guard", "version": __version__},
        "command": "report",
        "status": "findings" if findings else "ok",
        **report.model_dump(mode="json"),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": text, "json": to_json}
