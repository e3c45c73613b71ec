"""core: one wake session's log (wrapper markers around agent CLI output) -> SessionLog."""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

# Bounds: any input is read in linear time and memory, and what is kept is capped.
_MAX_BYTES = 32 << 20  # a longer log keeps its first MiB and its tail (markers, results)
_HEAD_BYTES = 1 << 20
_MAX_LINE = 1 << 20  # a longer JSON line (a huge --verbose array) is read for its result only
_MAX_JSON_LINES = 50_000  # the last ones are read: results come last
_MAX_TRIES = 3  # `{`/`[` positions tried per line (stderr prefixes, spinner residue)
_MAX_ERROR = 300
_MAX_SUMMARY = 4000
_MAX_NAMES = 16
_MAX_NAME = 100
_MAX_DATE = 200  # characters of a marker's date; `date` prints ~30

_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_LEAD = rb"(?:\x1b\[[0-?]*[ -/]*[@-~])*"  # colour codes before a marker at a line start
_START = re.compile(_LEAD + rb"=== Session started(?:: ([^\n]*?))? ===")
_END_LEAD = re.compile(_LEAD + rb"=== Session ended(?:: ([^\n]*?))? ===")
_END_TAIL = re.compile(rb"=== Session ended(?:: ([^\n]*))? ===[ \t]*")
_TYPE = re.compile(rb"(?m)^Type:[ \t]*([A-Za-z]*)[ \t]*$")
_TYPED_LINE = re.compile(rb'(?m)^[^\n]*"type"[^\n]*')
_OPEN = re.compile(r"[\[{]")
_NOT_FOUND = re.compile(rb"(?m)^[^\n]*command not found[^\n]*")
_ERROR_LINE = re.compile(
    rb"(?m)^[ \t]*(?:[\w.]*(?:Error|Exception)|error|fatal|panic)(?:\[[^\]\n]*\])?:[^\n]*"
)
_TEXT_LINE = re.compile(rb"(?m)^(?![ \t]*Type:)[ \t]*\S[^\n]*")  # not blank, not the Type line
_FILE_NAME = re.compile(r"session-([0-9]{8})-([0-9]{6})")
_DECODER = json.JSONDecoder()


class SessionStatus(StrEnum):
    COMPLETED = "completed"
    MAX_TURNS = "max_turns"
    API_ERROR = "api_error"  # also login and usage-limit failures
    ERROR = "error"  # other error subtypes, Codex `turn.failed`
    CRASHED = "crashed"  # plain text (traceback, `command not found`) or no result at all
    TIMEOUT = "timeout"  # a start marker and no end marker: the wrapper was killed
    NO_LOG = "no_log"  # empty, or nothing recognisable


class SessionLog(BaseModel):
    """What one session's log says. What the log does not tell is None, never a guess."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: SessionStatus
    type: Literal["morning", "evening", "visit"] | None = None
    started: AwareDatetime | None = None
    ended: AwareDatetime | None = None
    duration_s: float | None = None  # only from two marker times
    start_from_file_name: bool = False  # `started` is the file name's time, taken as UTC
    error: str | None = None  # one line
    summary: str | None = None  # the agent's closing text, when the last run completed
    turns: int | None = None
    cost_usd: float | None = None  # Codex reports none
    models: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()
    cli: Literal["claude", "codex"] | None = None
    results: int = 0  # Claude result objects plus Codex turn.completed/turn.failed events


def parse_session_log(data: bytes, file_name: str | None = None) -> SessionLog:
    """Read a session log; `file_name` (session-YYYYmmdd-HHMMSS.log) backs up the start time.

    Never raises: whatever cannot be read is None or an unknown status.
    """
    try:
        return _parse(bytes(data), file_name)
    except Exception as exc:  # the contract's last line of defence; tests check it stays unused
        return SessionLog(
            status=SessionStatus.NO_LOG, error=f"unreadable log ({type(exc).__name__})"
        )


def _parse(data: bytes, file_name: str | None) -> SessionLog:
    if len(data) > _MAX_BYTES:
        data = data[:_HEAD_BYTES] + b"\n" + data[_HEAD_BYTES - _MAX_BYTES :]
    raw = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    start = _find_start(raw)
    body_from = start[0] if start else 0
    end = _find_end(raw, body_from)
    body = _ANSI.sub(b"", raw[body_from : end[0] if end else len(raw)])
    events = _Events()
    for value in _json_values(body):
        events.add(value)
    events.finish()
    started = _marker_date(start[1]) if start else None
    from_name = False
    if started is None and file_name:
        started = _file_name_date(file_name)
        from_name = started is not None
    ended = _marker_date(end[1]) if end else None
    duration = None
    if started and ended and not from_name and ended >= started:
        duration = (ended - started).total_seconds()
    status, error = _verdict(start is not None, end is not None, events, body)
    kind = _TYPE.search(body)
    session_type = kind[1].decode().lower() if kind else None
    return SessionLog(
        status=status,
        type=session_type if session_type in ("morning", "evening", "visit") else None,
        started=started,
        ended=ended,
        duration_s=duration,
        start_from_file_name=from_name,
        error=error,
        summary=events.last.summary if events.last else None,
        turns=events.turns,
        cost_usd=None if events.cost is None else round(events.cost, 6),
        models=tuple(events.models),
        session_ids=tuple(events.session_ids),
        cli=events.cli,
        results=events.results,
    )


def _verdict(
    started: bool, ended: bool, events: _Events, body: bytes
) -> tuple[SessionStatus, str | None]:
    if started and not ended:
        return SessionStatus.TIMEOUT, None  # the status says it all
    if events.last:
        return events.last.status, events.last.error
    crash = _NOT_FOUND.search(body) or _ERROR_LINE.search(body)
    if crash:
        return SessionStatus.CRASHED, _one_line(crash[0].decode("utf-8", "replace"))
    if events.cli:
        return SessionStatus.CRASHED, f"no result from {events.cli}"
    if not (started or ended):
        return SessionStatus.NO_LOG, None
    last = deque(_TEXT_LINE.finditer(body), maxlen=1)  # plain text: its last line
    text = last[0][0].decode("utf-8", "replace") if last else "no output"
    return SessionStatus.CRASHED, _one_line(text)


# --- markers and dates -----------------------------------------------------------------


def _line_around(raw: bytes, i: int, low: int = 0) -> tuple[int, int]:
    end = raw.find(b"\n", i)
    return max(low, raw.rfind(b"\n", low, i) + 1), len(raw) if end < 0 else end


def _find_start(raw: bytes) -> tuple[int, bytes | None] | None:
    """The first line that starts with the start marker: (where the body begins, its date)."""
    pos = 0
    while (i := raw.find(b"=== Session started", pos)) >= 0:
        line_start, line_end = _line_around(raw, i)
        if m := _START.match(raw, line_start, line_end):
            return min(line_end + 1, len(raw)), m[1]
        pos = line_end  # only the first occurrence in a line can be at its start
    return None


def _find_end(raw: bytes, low: int) -> tuple[int, bytes | None] | None:
    """The last end marker after `low` that starts a line or closes one (glued to a line the
    killed CLI left unterminated): (where the body ends, its date). Text in JSON never does."""
    high = len(raw)
    while (i := raw.rfind(b"=== Session ended", low, high)) >= 0:
        line_start, line_end = _line_around(raw, i, low)
        if m := _END_TAIL.fullmatch(raw, i, line_end):
            return i, m[1]
        if m := _END_LEAD.match(raw, line_start, line_end):
            return line_start, m[1]
        high = line_start
    return None


def _marker_date(text: bytes | None) -> datetime | None:
    if not text or len(text) > _MAX_DATE:
        return None
    return parse_date(_ANSI.sub(b"", text).decode("utf-8", "replace"))


def _file_name_date(name: str) -> datetime | None:
    m = _FILE_NAME.search(re.split(r"[\\/]", name)[-1])
    try:
        return datetime.strptime(m[1] + m[2], "%Y%m%d%H%M%S").replace(tzinfo=UTC) if m else None
    except ValueError:
        return None


_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
_MONTHS = {n: i for i, m in enumerate(_MONTH_NAMES.split(), 1) for n in (m, m[:3])} | {"sept": 9}
_DAY_NAMES = "monday tuesday wednesday thursday friday saturday sunday"
_WEEKDAYS = {n for day in _DAY_NAMES.split() for n in (day, day[:3])}
# Unambiguous abbreviations only (CST and IST name several zones), in hours east of UTC.
_ZONE_HOURS = """UTC=0 UT=0 GMT=0 Z=0 WET=0 WEST=1 BST=1 CET=1 CEST=2 MET=1 MEST=2 EET=2 EEST=3
MSK=3 EST=-5 EDT=-4 CDT=-5 MST=-7 MDT=-6 PST=-8 PDT=-7 AKST=-9 AKDT=-8 HST=-10 JST=9 KST=9
AEST=10 AEDT=11 NZST=12 NZDT=13"""
_ZONES = {name: int(hours) * 60 for name, hours in (p.split("=") for p in _ZONE_HOURS.split())}
_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])([0-9]{1,2}):?([0-9]{2})?")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,6})[0-9]*)?)?")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> datetime | None:
    """A `date` printout (C or en_US locale, `date -R`) or an ISO 8601 time; None if unsure.

    Words may come in any order; a time without a zone is taken as UTC; an unknown zone
    abbreviation or a translated month gives None.
    """
    if len(text) > _MAX_DATE:
        return None
    if _ISO.match(text.strip()):
        return _iso_date(text.split())
    words = text.replace(",", " ").split()
    if not words or len(words) > 8:
        return None
    fields: dict[str, int] = {}
    clock: re.Match[str] | None = None
    for word in words:
        if clock is None and (clock := _CLOCK.fullmatch(word)):
            continue
        part = _date_word(word)
        if part is None or part[0] in fields:
            return None
        fields[part[0]] = part[1]
    if clock is None or not {"year", "month", "day"} <= fields.keys():
        return None
    hour = int(clock[1])
    if "half" in fields:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + fields["half"]
    day = (fields["year"], fields["month"], fields["day"])
    second, micro = int(clock[3] or 0), int((clock[4] or "0").ljust(6, "0"))
    try:
        zone = timezone(timedelta(minutes=fields.get("zone", 0)))
        return datetime(*day, hour, int(clock[2]), second, micro, tzinfo=zone)
    except ValueError:
        return None


def _date_word(word: str) -> tuple[str, int] | None:
    low = word.lower()
    if word.isascii() and word.isdigit() and len(word) in (1, 2, 4):
        return ("year" if len(word) == 4 else "day"), int(word)
    if low in _MONTHS:
        return "month", _MONTHS[low]
    if low in _WEEKDAYS:
        return "weekday", 0
    if low in ("am", "pm"):
        return "half", 12 if low == "pm" else 0
    zone = _zone(word)
    return None if zone is None else ("zone", zone)


def _zone(word: str) -> int | None:
    if word.upper() in _ZONES:
        return _ZONES[word.upper()]
    if m := _OFFSET.fullmatch(word):
        return (-1 if m[1] == "-" else 1) * (int(m[2]) * 60 + int(m[3] or 0))
    return None


def _iso_date(words: list[str]) -> datetime | None:
    zone = _zone(words[-1]) if len(words) > 1 else None
    try:
        value = datetime.fromisoformat(" ".join(words[:-1] if zone is not None else words))
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone(timedelta(minutes=zone or 0)))
    except ValueError:
        return None
    return value if zone is None else None


# --- the agent CLI's JSON output -------------------------------------------------------


def _json_values(body: bytes) -> Iterator[dict[str, Any]]:
    """Every JSON object on a line mentioning "type"; arrays (`--verbose`) are flattened."""
    spans = deque(map(re.Match.span, _TYPED_LINE.finditer(body)), maxlen=_MAX_JSON_LINES)
    for first, last in spans:
        line = body[first:last]
        if len(line) > _MAX_LINE:
            at = line.rfind(b'{"type":"result"')
            line = line[at : at + _MAX_LINE] if at >= 0 else b""
        text, pos = line.decode("utf-8", "replace"), 0
        for _ in range(_MAX_TRIES):
            if not (m := _OPEN.search(text, pos)):
                break
            try:
                value, pos = _DECODER.raw_decode(text, m.start())
            except (ValueError, RecursionError):
                pos = m.start() + 1
                continue
            found = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
            objects = [v for v in found if isinstance(v, dict)]
            yield from objects
            if objects:
                break


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: SessionStatus
    error: str | None = None
    summary: str | None = None


@dataclass(slots=True)
class _Events:
    """What the CLI events say so far; the last outcome (result or finished turn) wins."""

    last: _Outcome | None = None
    results: int = 0
    turns: int | None = None
    cost: float | None = None
    models: dict[str, None] = field(default_factory=dict)
    session_ids: dict[str, None] = field(default_factory=dict)
    cli: Literal["claude", "codex"] | None = None
    message: str | None = None  # Codex: the current turn's last agent_message
    pending_error: str | None = None  # Codex: an `error` event no turn has ended since

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        if kind == "result":
            self._claude_result(event)
        elif kind in ("system", "assistant"):
            self.cli = "claude"
            message = event.get("message")
            self._name(self.models, message.get("model") if isinstance(message, dict) else None)
            self._name(self.models, event.get("model"))
            self._name(self.session_ids, event.get("session_id"))
        elif kind in ("thread.started", "turn.started") or kind.startswith("item."):
            self.cli = "codex"
            self._name(self.session_ids, event.get("thread_id"))
            self._name(self.models, event.get("model"))
            item = event.get("item")
            if kind in ("thread.started", "turn.started"):
                self.message = None
            elif kind == "item.completed" and isinstance(item, dict):
                text = item.get("text")
                if item.get("type") == "agent_message" and isinstance(text, str):
                    self.message = _summary(text)
        elif kind in ("turn.completed", "turn.failed"):
            self._codex_turn(event, kind == "turn.completed")
        elif kind == "error" and isinstance(event.get("message"), str):
            self.pending_error = _one_line(event["message"])

    def finish(self) -> None:
        if self.pending_error is not None:  # a fatal error no turn.failed reported
            self.last = _Outcome(SessionStatus.ERROR, error=self.pending_error)
            self.cli = self.cli or "codex"

    def _claude_result(self, event: dict[str, Any]) -> None:
        self.cli, self.results, self.pending_error = "claude", self.results + 1, None
        turns = event.get("num_turns")
        if isinstance(turns, int) and not isinstance(turns, bool) and turns >= 0:
            self.turns = (self.turns or 0) + turns
        cost = event.get("total_cost_usd", event.get("cost_usd"))  # cost_usd: before 2.x
        if isinstance(cost, int | float) and not isinstance(cost, bool) and math.isfinite(cost):
            self.cost = (self.cost or 0.0) + max(cost, 0.0)
        usage = event.get("modelUsage")
        for model in usage if isinstance(usage, dict) else ():
            self._name(self.models, model)
        self._name(self.session_ids, event.get("session_id"))
        self.last = _claude_outcome(event)

    def _codex_turn(self, event: dict[str, Any], completed: bool) -> None:
        self.cli, self.results, self.turns = "codex", self.results + 1, (self.turns or 0) + 1
        error = event.get("error")
        text = error.get("message") if isinstance(error, dict) else None
        text = _one_line(text) if isinstance(text, str) else self.pending_error
        self.pending_error = None
        if completed:
            self.last = _Outcome(SessionStatus.COMPLETED, summary=self.message)
        else:
            self.last = _Outcome(SessionStatus.ERROR, error=text or "turn failed")

    @staticmethod
    def _name(names: dict[str, None], value: object) -> None:
        if not isinstance(value, str) or value == "<synthetic>":  # Claude's stand-in on API errors
            return
        if 0 < len(value) <= _MAX_NAME and len(names) < _MAX_NAMES:
            names.setdefault(value)


def _claude_outcome(event: dict[str, Any]) -> _Outcome:
    """`is_error` is the truth: API and login failures come as subtype "success"."""
    subtype = event.get("subtype") if isinstance(event.get("subtype"), str) else ""
    result = event.get("result") if isinstance(event.get("result"), str) else None
    is_error, reason = event.get("is_error") is True, event.get("terminal_reason")
    api = reason == "api_error" or isinstance(event.get("api_error_status"), int)
    if subtype == "error_max_turns" or (is_error and reason == "max_turns"):
        status = SessionStatus.MAX_TURNS
    elif is_error and (api or subtype in ("success", "")):
        status = SessionStatus.API_ERROR
    elif is_error or subtype not in ("success", ""):
        status = SessionStatus.ERROR
    else:
        return _Outcome(SessionStatus.COMPLETED, summary=_summary(result or ""))
    errors = event.get("errors")
    errors = "; ".join(e for e in errors if isinstance(e, str)) if isinstance(errors, list) else ""
    return _Outcome(status, error=_one_line(errors or result or subtype or "error"))


# --- text ------------------------------------------------------------------------------


def _summary(text: str) -> str | None:
    text = text.strip()
    return (text[: _MAX_SUMMARY - 1].rstrip() + "…" if len(text) > _MAX_SUMMARY else text) or None


def _one_line(text: str, limit: int = _MAX_ERROR) -> str:
    return _shorten(" ".join(text[: limit * 4].split()), limit)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


_HEADING = re.compile(r"#{1,6}(?:\s|$)")
_BULLET = re.compile(r"(?:[-*+]|[0-9]{1,3}[.)])\s+")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_EMPHASIS = re.compile(r"(?<!\w)[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}(?!\w)")
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s|$)")


def first_sentence(text: str, limit: int = 60) -> str:
    """The first sentence of `text` (a summary) as one plain line of at most `limit` chars.

    Headings are skipped while prose follows; bullets, links, emphasis and backticks are
    dropped; a single closing period goes (a commit subject); a longer sentence is cut at a
    word boundary and ends in "…".
    """
    lines: list[str] = []
    heading = ""
    for line in (raw.strip() for raw in text[:10_000].splitlines()):
        bullet = _BULLET.match(line)
        if lines and (not line or _HEADING.match(line) or bullet):
            break
        if _HEADING.match(line):
            heading = heading or line.lstrip("#").strip()
        elif line:
            lines.append(line[bullet.end() :] if bullet else line)
    parts = _LINK.sub(r"\1", " ".join(lines) or heading).split("`")
    plain = " ".join(
        "".join(_EMPHASIS.sub("", p) if i % 2 == 0 else p for i, p in enumerate(parts)).split()
    )
    if m := _SENTENCE_END.search(plain):
        plain = plain[: m.end()]
    if plain.endswith(".") and not plain.endswith(".."):
        plain = plain[:-1]
    return _shorten(plain, max(limit, 1))
