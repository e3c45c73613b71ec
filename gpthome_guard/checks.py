"""core: a Document -> findings against the conventions (names, fields, body)."""

from __future__ import annotations

import functools
import json
import re
import typing

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from gpthome_guard.config import Limits
from gpthome_guard.conventions import (
    DREAM_NAME_RE,
    KINDS,
    THOUGHT_NAME_RE,
    TYPE_SYNONYMS,
    is_calendar_day,
    slugify,
)
from gpthome_guard.documents import Document
from gpthome_guard.models import Finding, Kind
from gpthome_guard.rules import RULES
from gpthome_guard.yamlsafe import Entry

BOOL_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_TYPE_NAMES = {
    "str": "text",
    "bool": "a bool",
    "int": "a number",
    "float": "a number",
    "null": "empty (null)",
    "timestamp": "a date",
    "seq": "a list",
    "map": "a mapping",
}


def check_document(doc: Document, limits: Limits, *, name: str) -> list[Finding]:
    """All findings for `doc` (those from reading it included). `name` is its file name."""
    spec = KINDS.get(doc.kind)
    if spec is None or doc.text is None:
        return doc.findings
    _check_name(doc, name)
    if spec.frontmatter == "json":
        if doc.json_ok:
            data = typing.cast(dict[str, object], doc.json_value)
            _check_fields(
                doc, spec.model, {k: _json_entry(doc.text, k, v) for k, v in data.items()}, limits
            )
        return doc.findings
    if not doc.has_frontmatter:
        if spec.frontmatter == "required" and not any(f.code == "Y203" for f in doc.findings):
            _add(
                doc,
                "Y201",
                "no frontmatter; start the file with a --- block holding "
                + _required_keys(spec.model),
                1,
                fixable=doc.kind is Kind.THOUGHT,
            )
    elif doc.frontmatter_ok:
        _check_fields(doc, spec.model, doc.frontmatter, limits)
    if doc.has_frontmatter and not doc.frontmatter_ok:
        return doc.findings  # the block is broken: body checks would only add noise
    if not doc.body.strip():
        _add(
            doc,
            "C312",
            "the file has no text after its frontmatter; write the entry",
            doc.body_line,
        )
    return doc.findings


def _add(
    doc: Document,
    code: str,
    message: str,
    line: int | None = None,
    field: str | None = None,
    fixable: bool | None = None,
) -> None:
    doc.findings.append(
        RULES[code].finding(doc.path, message, line=line, field=field, fixable=fixable)
    )


def _required_keys(model: type[BaseModel]) -> str:
    return ", ".join(n for n, f in model.model_fields.items() if f.is_required())


def _check_name(doc: Document, name: str) -> None:
    if doc.kind is Kind.THOUGHT:
        match = THOUGHT_NAME_RE.match(name)
        if not match or not THOUGHT_NAME_RE.fullmatch(name) or not is_calendar_day(match[1]):
            _add(
                doc,
                "C305",
                "name a journal entry YYYY-MM-DD-<slug>.md, e.g. "
                "2026-01-16-morning.md (a real date; slug in lowercase words joined by -)",
                fixable=False,
            )
    elif doc.kind is Kind.DREAM and not DREAM_NAME_RE.fullmatch(name):
        slug = slugify(name)
        hint = f"; rename it {slug}.md" if slug else ""
        _add(
            doc,
            "C305",
            f"name a dream <slug>.md in lowercase words joined by -{hint}",
            fixable=bool(slug),
        )


def _json_entry(text: str, key: str, value: object) -> Entry:
    match = re.search(r'"' + re.escape(json.dumps(key)[1:-1]) + r'"\s*:', text)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    tag = {str: "str", bool: "bool", int: "int", float: "float", list: "seq", dict: "map"}.get(
        type(value), "null"
    )
    return Entry(key, value, line, tag, False, None)


def _expected(model: type[BaseModel], field: str) -> str:
    """'str', 'bool' or 'choice' for a model field."""
    return _field_kinds(model)[field]


@functools.cache
def _field_kinds(model: type[BaseModel]) -> dict[str, str]:
    """Per model, once: what each field expects (this runs for every field of every file)."""
    kinds = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = typing.get_args(annotation)
        if annotation is bool:
            kinds[name] = "bool"
        elif typing.get_origin(annotation) is typing.Literal or any(
            typing.get_origin(a) is typing.Literal for a in args
        ):
            kinds[name] = "choice"
        else:
            kinds[name] = "str"
    return kinds


def _check_fields(
    doc: Document, model: type[BaseModel], entries: dict[str, Entry], limits: Limits
) -> None:
    data: dict[str, object] = {}
    handled: set[str] = set()
    for key, entry in entries.items():
        if key not in _field_kinds(model):
            _add(
                doc,
                "C311",
                f"unknown key {key[:60]!r} is kept but not shown by the site",
                entry.line,
                key,
            )
            continue
        if _check_entry(doc, model, entry):
            data[key] = entry.value
        else:
            handled.add(key)
    try:
        model.model_validate(data, context={"limits": limits})
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            if not error["loc"] or error["loc"][0] not in handled:
                _report_error(doc, model, entries, error)
    _check_cross(doc, entries)


def _check_entry(doc: Document, model: type[BaseModel], entry: Entry) -> bool:
    """Report what YAML guessed for this field; False if it was reported."""
    expected = _expected(model, entry.key)
    key, line, text = entry.key, entry.line, entry.text
    if entry.tag in ("seq", "map"):
        _add(doc, "C302", f"{key} is {_TYPE_NAMES[entry.tag]}; write a single value", line, key)
        return False
    if entry.tag == "null":
        _add(doc, "C302", f"{key} is empty; give it a value or remove the line", line, key)
        return False
    if expected == "bool":
        if entry.tag == "bool" and text in ("true", "false"):
            return True
        word = str(text if text is not None else entry.value).strip().lower()
        fixable = word in BOOL_WORDS
        hint = f"write {key}: {str(BOOL_WORDS[word]).lower()}" if fixable else "write true or false"
        what = (
            f"{key}: {text} is read as a bool by some YAML readers and as text by others"
            if entry.tag == "bool"
            else f"{key} is {_shown(entry)}, not a bool"
        )
        _add(
            doc,
            "C310",
            f"{what}; {hint} (no quotes)",
            line,
            key,
            fixable=fixable,
        )
        return False
    if entry.tag == "str" or not entry.plain:
        return True
    if key == "date":
        if entry.tag == "timestamp" and entry.valid and text and is_calendar_day(text):
            _add(doc, "Y213", f'date is an unquoted YAML date; write date: "{text}"', line, key)
        else:
            _add(
                doc,
                "C303",
                f'{key} {text!s:.40} is not a calendar day; write "YYYY-MM-DD"',
                line,
                key,
            )
        return False
    if expected == "choice":  # quoting `type: 3` would not make it one of the choices
        choices = ", ".join(typing.get_args(model.model_fields[key].annotation))
        _add(
            doc,
            "C309",
            f"{key} {text!s:.40} is not one of {choices}; write one of them",
            line,
            key,
            fixable=False,
        )
        return False
    _add(
        doc,
        "Y212",
        f"{key} was read as {_TYPE_NAMES[entry.tag]} ({text!s:.40}); quote it: "
        f'{key}: "{text!s:.40}"',
        line,
        key,
    )
    return False


def _shown(entry: Entry) -> str:
    if entry.tag == "str":
        return f'the text "{str(entry.value)[:40]}"'
    return f"{_TYPE_NAMES.get(entry.tag, entry.tag)} ({entry.text!s:.40})"


def _report_error(
    doc: Document, model: type[BaseModel], entries: dict[str, Entry], error: ErrorDetails
) -> None:
    loc = error["loc"]
    key = str(loc[0]) if loc else None
    entry = entries.get(key) if key else None
    line = entry.line if entry else 1
    kind, msg = error["type"], error["msg"]
    if kind == "missing" and key is not None:
        _add(
            doc,
            "C301",
            f"{key} is missing; add "
            + (f'"{key}": "..."' if doc.kind is Kind.LANDING else f"{key}: {_example(model, key)}"),
            1,
            key,
            fixable=_missing_fixable(doc.kind, key),
        )
    elif kind == "invalid_date":
        _add(doc, "C303", f'{key}: {msg}; write a real day as "YYYY-MM-DD"', line, key)
    elif kind == "empty":
        _add(doc, "C308", f"{key}: {msg}", line, key)
    elif kind == "control":
        _add(doc, "R109", f"{key}: {msg}", line, key)
    elif kind == "multiline":
        _add(doc, "C306", f"{key}: {msg}", line, key)
    elif kind == "too_long":
        _add(doc, "C307", f"{key}: {msg}; shorten it", line, key)
    elif kind == "literal_error" and entry is not None:
        choices = ", ".join(typing.get_args(model.model_fields[entry.key].annotation))
        value = str(entry.value)
        fix = _normal_choice(value, choices.split(", "))
        hint = f'; write {key}: "{fix}"' if fix else f"; write one of {choices}"
        _add(
            doc,
            "C309",
            f'{key} "{value[:40]}" is not one of {choices}{hint}',
            line,
            key,
            fixable=fix is not None,
        )
    else:
        _add(doc, "C302", f"{key}: {msg.lower()}", line, key)


def _normal_choice(value: str, choices: list[str]) -> str | None:
    word = " ".join(value.split()).lower()
    word = TYPE_SYNONYMS.get(word, word)
    return word if word in choices else None


def _missing_fixable(kind: Kind, key: str) -> bool:
    if kind is Kind.THOUGHT:
        return key in ("date", "title")
    if kind is Kind.DREAM:
        return key in ("date", "title")
    return False


def _example(model: type[BaseModel], key: str) -> str:
    expected = _expected(model, key)
    if key == "date":
        return '"YYYY-MM-DD"'
    if expected == "choice":
        return f'"{typing.get_args(model.model_fields[key].annotation)[0]}"'
    return "false" if expected == "bool" else '"..."'


def _check_cross(doc: Document, entries: dict[str, Entry]) -> None:
    """A thought's date against its file name, from the date as written (quoted or not), so
    that the disagreement is reported even when other fields are wrong too."""
    entry = entries.get("date")
    if doc.kind is not Kind.THOUGHT or entry is None or entry.text is None:
        return
    name_date = doc.path.rsplit("/", 1)[-1][:10]
    date = entry.text.strip()
    if is_calendar_day(name_date) and is_calendar_day(date) and date != name_date:
        _add(
            doc,
            "C304",
            f'date "{date}" differs from the file name\'s {name_date}; make them '
            "agree (the entry is set aside until a person decides which is right)",
            entry.line,
            "date",
        )
