"""core: safe repairs of one content file: bytes in, bytes out (plus a new name), no guessing.

A fix never changes the body's bytes (only BOM and CRLF fixes touch the whole file), and
a file that needs no fix is returned unchanged. Fixing twice gives the same as fixing once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import BaseModel

from gpthome_guard.checks import BOOL_WORDS, check_document
from gpthome_guard.config import Limits
from gpthome_guard.conventions import (
    DREAM_NAME_RE,
    KINDS,
    THOUGHT_NAME_RE,
    TYPE_SYNONYMS,
    is_calendar_day,
    slugify,
)
from gpthome_guard.documents import BOM, Document, parse_document
from gpthome_guard.models import Finding, Kind, Severity
from gpthome_guard.yamlsafe import Entry

_UNSAFE_IN_QUOTES = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


@dataclass(frozen=True, slots=True)
class DateSource:
    """Where a dream's missing date may come from, chosen by the caller (session, git, mtime)."""

    date: str
    source: str


@dataclass(frozen=True, slots=True)
class FixResult:
    data: bytes
    name: str  # the file name after the fix (a dream may be renamed to its slug)
    fixed: tuple[Finding, ...]  # the findings the fix repaired
    remaining: tuple[Finding, ...]  # what is still wrong afterwards
    notes: tuple[str, ...] = ()  # how a value was chosen, e.g. where a date came from

    @property
    def changed(self) -> bool:
        return bool(self.fixed)


def fix_file(
    path: str,
    kind: Kind,
    data: bytes,
    limits: Limits,
    *,
    dream_date: DateSource | None = None,
) -> FixResult:
    """Repair what can be repaired without guessing; report what is left."""
    directory, _, name = path.rpartition("/")
    before = _check(path, kind, data, limits, name)
    fixable = tuple(f for f in before if f.fixable)
    unfixable = any(f.severity is Severity.ERROR and not f.fixable for f in before)
    if not fixable or unfixable:
        # a file that will be set aside anyway is not half-repaired: it keeps its bytes
        return FixResult(data, name, (), tuple(before))
    notes: list[str] = []
    new = data[len(BOM) :] if data.startswith(BOM) else data
    new = new.replace(b"\r\n", b"\n")
    doc = parse_document(path, kind, new, limits)
    if doc.text is not None and kind in KINDS and kind is not Kind.LANDING:
        text = _fix_frontmatter(doc, kind, name, dream_date, notes)
        if text is not None:
            new = text.encode("utf-8")
    new_name = name
    if kind is Kind.DREAM and not DREAM_NAME_RE.match(name) and slugify(name):
        new_name = f"{slugify(name)}.md"
    new_path = f"{directory}/{new_name}" if directory else new_name
    after = _check(new_path, kind, new, limits, new_name)
    fixed = tuple(f for f in fixable if not _still_there(f, after))
    return FixResult(new, new_name, fixed, tuple(after), tuple(notes))


def _check(path: str, kind: Kind, data: bytes, limits: Limits, name: str) -> list[Finding]:
    return check_document(parse_document(path, kind, data, limits), limits, name=name)


def _still_there(finding: Finding, after: list[Finding]) -> bool:
    return any(f.code == finding.code and f.field == finding.field for f in after)


def _fix_frontmatter(
    doc: Document, kind: Kind, name: str, dream_date: DateSource | None, notes: list[str]
) -> str | None:
    """The file's text with a repaired frontmatter block, or None if the block is beyond repair."""
    assert doc.text is not None
    model = KINDS[kind].model
    if not doc.has_frontmatter:
        if kind is not Kind.THOUGHT or not doc.text.strip():
            return None
        values = _fields_from_name(name, {}, kind, dream_date, notes)
        block = "".join(f"{key}: {_render(value)}\n" for key, value in values.items())
        # (values from the file name are always text)
        return f"---\n{block}---\n\n{doc.text}"
    lines_used = [e.line for e in doc.frontmatter.values()]
    if not doc.frontmatter_ok or len(set(lines_used)) < len(lines_used):
        return None  # broken, or keys sharing a line (flow style): not ours to rewrite
    block_start, close = doc.block
    lines = doc.text[block_start:close].split("\n")[:-1]
    values = _canonical_values(model, doc.frontmatter)
    values = _fields_from_name(name, values, kind, dream_date, notes)
    # the closing line is always written `---`: `...` closes a YAML document, not frontmatter
    closing_end = doc.text.find("\n", close)
    rest = doc.text[closing_end:] if closing_end != -1 else "\n"
    return "---\n" + _render_block(model, doc.frontmatter, values, lines) + "---" + rest


def _canonical_values(model: type[BaseModel], entries: dict[str, Entry]) -> dict[str, object]:
    """The known fields' values as they should be written, where that is unambiguous."""
    values: dict[str, object] = {}
    for key, field in model.model_fields.items():
        entry = entries.get(key)
        if entry is None:
            continue
        value: object = entry.value
        if field.annotation is bool:
            word = str(entry.text if entry.text is not None else entry.value).strip().lower()
            value = BOOL_WORDS.get(word, entry.value)
        elif entry.tag in ("seq", "map", "null"):
            value = entry.value
        elif entry.plain and entry.tag != "str" and entry.text is not None:
            value = entry.text  # YAML guessed a bool, number or date: keep what was written
        if key == "type" and isinstance(value, str):
            word = " ".join(value.split()).lower()
            value = TYPE_SYNONYMS.get(word, word)
        values[key] = value
    return values


def _fields_from_name(
    name: str,
    values: dict[str, object],
    kind: Kind,
    dream_date: DateSource | None,
    notes: list[str],
) -> dict[str, object]:
    values = dict(values)
    if kind is Kind.THOUGHT:
        match = THOUGHT_NAME_RE.match(name)
        if match and is_calendar_day(match[1]):
            if "date" not in values:
                values["date"] = match[1]
                notes.append("date taken from the file name")
            if "title" not in values:
                values["title"] = _title_from_slug(match[2])
                notes.append("title taken from the file name")
    elif kind is Kind.DREAM:
        if "title" not in values and slugify(name):
            values["title"] = _title_from_slug(slugify(name))
            notes.append("title taken from the file name")
        if "date" not in values and dream_date is not None:
            values["date"] = dream_date.date
            notes.append(f"date taken from {dream_date.source}")
    return values


def _title_from_slug(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.split("-"))


def _render(value: object) -> str | None:
    """A bool or text as canonical YAML; None for anything else (it keeps its own lines)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        quoted = json.dumps(value, ensure_ascii=False)
        return _UNSAFE_IN_QUOTES.sub(lambda m: f"\\u{ord(m[0]):04x}", quoted)
    return None


def _render_block(
    model: type[BaseModel], entries: dict[str, Entry], values: dict[str, object], lines: list[str]
) -> str:
    """Known keys first in the model's order, then unknown keys in their original order.

    Unknown keys keep their original lines; a known key keeps the comment lines that followed
    it when its value fitted on one line.
    """
    first = 2  # the block's first line in the file
    order = sorted(entries.values(), key=lambda e: e.line)
    spans: dict[str, list[str]] = {}
    for i, entry in enumerate(order):
        end = order[i + 1].line if i + 1 < len(order) else first + len(lines)
        spans[entry.key] = lines[entry.line - first : end - first]
    head = lines[: order[0].line - first] if order else lines
    out = list(head)
    for key in model.model_fields:
        if key not in values:
            continue
        rendered = _render(values[key])
        span = spans.get(key, [])
        if rendered is None:
            out.extend(span)  # a list, a mapping, a null: not ours to rewrite
            continue
        out.append(f"{key}: {rendered}")
        if len(span) > 1 and (entries[key].text or "").count("\n") == 0:
            out.extend(line for line in span[1:] if not line.strip() or line.lstrip()[0] == "#")
    for entry in order:
        if entry.key not in model.model_fields:
            out.extend(spans[entry.key])
    return "".join(f"{line}\n" for line in out)
