"""core: `guard log` -> a table and a calendar for people, JSON for programs (pure)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence

from gpthome_guard import __version__
from gpthome_guard.history import SessionRecord
from gpthome_guard.models import printable
from gpthome_guard.render import BOLD, DIM, GREEN, JSON_SCHEMA_VERSION, RED, YELLOW, paint, plural

WIDTH = 100
MAX_WEEKS = 26  # calendar rows; older weeks are counted, not drawn
COMPLETED = "completed"
_STATUS_STYLE = {COMPLETED: GREEN, "max_turns": YELLOW, "timeout": YELLOW}
_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
LEGEND = ". no session   1-9 sessions that day (+ for more)   ! a session that did not complete"


def log_text(records: Sequence[SessionRecord], color: bool = False) -> str:
    """The records as given (newest first), a one-line summary, then sessions per day."""
    if not records:
        return "No sessions in the history yet.\n"
    lines = [*_table(records, color), "", _summary(records, color)]
    lines += ["", *_calendar(records, color)]
    return "\n".join(lines) + "\n"


def log_json(records: Sequence[SessionRecord]) -> str:
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "guard", "version": __version__},
        "command": "log",
        "status": "ok",
        "sessions": [_record_json(r) for r in records],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _record_json(r: SessionRecord) -> dict[str, object]:
    return {
        "id": r.id,
        "type": r.type,
        "date": r.date.isoformat() if r.date else None,
        "status": r.status,
        "turns": r.turns,
        "cost_usd": r.cost_usd,
        "added": r.added,
        "changed": r.changed,
        "deleted": r.deleted,
        "renamed": r.renamed,
        "fixed": r.fixed,
        "quarantined": r.quarantined,
        "restored": r.restored,
        "subject": r.subject,
        "log": r.log,
        "commits": list(r.commits),
    }


# --- the table ---------------------------------------------------------------------------

_Column = tuple[str, int, bool, Callable[[SessionRecord], str]]  # header, max width, right, cell


def _num(n: int | None) -> str:
    return "?" if n is None else str(n)  # None: the trailer held no number


def _changes(r: SessionRecord) -> str:
    text = f"+{_num(r.added)} ~{_num(r.changed)} -{_num(r.deleted)}"
    return text if r.renamed == 0 else f"{text} >{_num(r.renamed)}"


def _subject(r: SessionRecord) -> str:
    subject = r.subject or ""
    # the type has a column of its own; the subject repeats it as `session(<type>): `
    prefix = f"session({r.type}): "
    return subject.removeprefix(prefix) if r.type else subject


COLUMNS: tuple[_Column, ...] = (
    ("date", 16, False, lambda r: r.date.strftime("%Y-%m-%d %H:%M") if r.date else "-"),
    ("type", 10, False, lambda r: r.type or "-"),
    ("status", 10, False, lambda r: r.status or "-"),
    ("turns", 5, True, lambda r: "-" if r.turns is None else str(r.turns)),
    ("cost", 8, True, lambda r: "-" if r.cost_usd is None else f"${r.cost_usd:.2f}"),
    ("changes", 18, False, _changes),
    ("fixed", 5, True, lambda r: _num(r.fixed)),
    ("quar", 4, True, lambda r: _num(r.quarantined)),
)
_GAP = " "


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _table(records: Sequence[SessionRecord], color: bool) -> list[str]:
    cells = [[_cut(printable(cell(r)), most) for _, most, _, cell in COLUMNS] for r in records]
    widths = [
        max(len(header), *(len(row[i]) for row in cells))
        for i, (header, _, _, _) in enumerate(COLUMNS)
    ]
    room = max(WIDTH - sum(widths) - len(_GAP) * len(widths), 12)

    def line(row: list[str], styles: list[str], subject: str) -> str:
        padded = (
            text.rjust(w) if right else text.ljust(w)
            for text, w, (_, _, right, _) in zip(row, widths, COLUMNS, strict=True)
        )
        painted = (
            paint(t, style, color) if style else t for t, style in zip(padded, styles, strict=True)
        )
        return (_GAP.join(painted) + _GAP + subject).rstrip()

    header = line([h for h, _, _, _ in COLUMNS], [DIM] * len(COLUMNS), paint("subject", DIM, color))
    rows = [header]
    for record, row in zip(records, cells, strict=True):
        styles = [""] * len(COLUMNS)
        styles[2] = _STATUS_STYLE.get(record.status or "", RED if record.status else DIM)
        if record.quarantined:
            styles[7] = YELLOW
        rows.append(line(row, styles, _cut(printable(_subject(record)), room)))
    return rows


def _summary(records: Sequence[SessionRecord], color: bool) -> str:
    other = sum(r.status != COMPLETED for r in records)
    costs = [r.cost_usd for r in records if r.cost_usd is not None]
    text = plural(len(records), "session")
    if other:
        text += ", " + paint(f"{other} not completed", RED, color)
    if costs:
        text += f", ${sum(costs):.2f} spent"
    return text + "."


# --- the calendar ------------------------------------------------------------------------


def _cell(count: int, failed: bool, color: bool) -> str:
    if failed:
        return paint("!", RED, color)
    if not count:
        return paint(".", DIM, color)
    return paint(str(count) if count < 10 else "+", GREEN, color)


def _calendar(records: Sequence[SessionRecord], color: bool) -> list[str]:
    counts: dict[dt.date, int] = defaultdict(int)
    failed: set[dt.date] = set()
    for record in records:
        if record.date is None:
            continue
        day = record.date.date()  # the day where the commit was made (its own UTC offset)
        counts[day] += 1
        if record.status != COMPLETED:
            failed.add(day)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    monday = first - dt.timedelta(days=first.weekday())
    weeks = (last - monday).days // 7 + 1
    lines = [paint(f"Sessions per day, {first} to {last}:", BOLD, color)]
    if weeks > MAX_WEEKS:
        lines.append(f"({plural(weeks - MAX_WEEKS, 'earlier week')} not shown)")
        monday += dt.timedelta(weeks=weeks - MAX_WEEKS)
        weeks = MAX_WEEKS
    lines.append(" " * 10 + "".join(f" {d}" for d in _DAYS))
    for week in range(weeks):
        start = monday + dt.timedelta(weeks=week)
        days = [start + dt.timedelta(days=i) for i in range(7)]
        cells = [
            "  " + (_cell(counts.get(d, 0), d in failed, color) if first <= d <= last else " ")
            for d in days
        ]
        lines.append((start.isoformat() + "".join(cells)).rstrip())
    lines.append(paint(LEGEND, DIM, color))
    return lines
