"""core: the bytes of one content file -> a Document (text, frontmatter, body) and findings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from gpthome_guard.config import Limits
from gpthome_guard.models import Finding, Kind
from gpthome_guard.rules import RULES
from gpthome_guard.yamlsafe import Entry, load_mapping

BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_CONTROL = bytes(b for b in range(256) if not _CONTROL.match(chr(b)))
_OPEN = re.compile(r"---[ \t]*(?:\n|$)")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


@dataclass(slots=True)
class Document:
    """A decoded content file. `text` has its BOM removed and LF line ends."""

    path: str
    kind: Kind
    text: str | None = None
    has_frontmatter: bool = False
    frontmatter: dict[str, Entry] = field(default_factory=dict)
    frontmatter_ok: bool = False  # the block was there and parsed as a mapping
    block: tuple[int, int] = (0, 0)  # where the block's text starts and its closing line starts
    body: str = ""
    body_line: int = 1
    json_value: object = None
    json_ok: bool = False
    findings: list[Finding] = field(default_factory=list)


def parse_document(path: str, kind: Kind, data: bytes, limits: Limits) -> Document:
    doc = Document(path, kind)
    text = _decode(doc, data)
    if text is None:
        return doc
    doc.text = text
    if kind is Kind.LANDING:
        _parse_json(doc, text)
    else:
        _split_frontmatter(doc, text, limits)
    return doc


def _add(
    doc: Document, code: str, message: str, line: int | None = None, field: str | None = None
) -> None:
    doc.findings.append(RULES[code].finding(doc.path, message, line=line, field=field))


def _line_at(data: bytes | str, offset: int) -> int:
    if isinstance(data, bytes):
        return data.count(b"\n", 0, offset) + 1
    return data.count("\n", 0, offset) + 1


def _decode(doc: Document, data: bytes) -> str | None:
    start = 0
    if data.startswith(BOM):
        _add(doc, "R107", "the file starts with a UTF-8 byte-order mark; remove it", 1)
        start = len(BOM)
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        _add(
            doc,
            "R106",
            f"invalid UTF-8 at byte {offset}; save the file as UTF-8",
            _line_at(data, offset),
        )
        return None
    # Every control character we refuse is one byte in UTF-8: a C-speed byte filter tells
    # whether to look for it at all (this runs on every byte of every file).
    control = _CONTROL.search(text) if data.translate(None, _NOT_CONTROL) else None
    if control:
        _add(
            doc,
            "R109",
            f"control character U+{ord(control[0]):04X} at character "
            f"{control.start()}; content must be plain text",
            _line_at(text, control.start()),
        )
        return None
    if "\r\n" in text:
        _add(doc, "R108", "Windows (CRLF) line endings; use LF", _line_at(text, text.index("\r\n")))
        text = text.replace("\r\n", "\n")
    return text


def _split_frontmatter(doc: Document, text: str, limits: Limits) -> None:
    first = text.split("\n", 1)[0].rstrip(" \t")
    if first in ("+++", "{"):
        doc.has_frontmatter = True  # there, but not readable: no body checks on top
        what = "TOML frontmatter (+++)" if first == "+++" else "JSON frontmatter"
        _add(doc, "Y203", f"{what} is not read; use YAML between --- lines", 1)
        return
    if not _OPEN.match(text):
        doc.body = text
        return
    doc.has_frontmatter = True
    block_start = text.find("\n") + 1 if "\n" in text else len(text)
    close = _CLOSE.search(text, block_start)
    if close is None:
        _add(
            doc,
            "Y202",
            "the frontmatter opened on line 1 is never closed; add a --- line after it",
            1,
        )
        return
    doc.block = (block_start, close.start())
    block = text[block_start : close.start()]
    end = close.end()
    body_start = end + 1 if text.startswith("\n", end) else end
    doc.body = text[body_start:]
    doc.body_line = _line_at(text, body_start)
    if len(block.encode("utf-8")) > limits.max_frontmatter_bytes:
        _add(
            doc,
            "Y209",
            f"the frontmatter is larger than {limits.max_frontmatter_bytes} bytes "
            "(limits.max_frontmatter_bytes); keep it to a few short fields",
            2,
        )
        return
    entries, problems = load_mapping(
        block, first_line=2, max_nodes=limits.max_yaml_nodes, max_depth=limits.max_yaml_depth
    )
    for problem in problems:
        _add(doc, problem.code, problem.message, problem.line, problem.field)
    doc.frontmatter = entries
    doc.frontmatter_ok = not any(p.code not in ("Y206", "Y207") for p in problems)


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _parse_json(doc: Document, text: str) -> None:
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        _add(doc, "J401", f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno)
        return
    except _Duplicate as dup:
        _add(doc, "J403", f"key {dup.key[:60]!r} appears more than once; keep one", None, dup.key)
        return
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        if str(exc) in ("NaN", "Infinity", "-Infinity"):
            _add(doc, "J404", f"{exc} is not JSON; write a number or a string")
        else:
            _add(doc, "J401", "invalid JSON: a number is too long")
        return
    except RecursionError:
        _add(doc, "J401", "invalid JSON: nested too deeply")
        return
    if not isinstance(value, dict):
        _add(
            doc,
            "J402",
            'the file must hold one JSON object: {"headline": ..., "subheadline": ...}',
            1,
        )
        return
    doc.json_value = value
    doc.json_ok = True
