"""core: a hardened YAML reader for frontmatter blocks.

PyYAML composes the node graph (in C where libyaml is present); we then build the values
ourselves, so that nothing the agent wrote can make us expand aliases, construct arbitrary
tags, silently drop duplicate keys or accept YAML 1.1 guesses without saying so.
(../shared/reference/security.md, sections 4 and 5.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gpthome_guard.models import printable

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCT = SafeConstructor()

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}": t for t in ("str", "bool", "int", "float", "null", "timestamp")}
_TAB_INDENT = re.compile(r"^[ ]*\t", re.M)
_ODD_BREAK = re.compile(r"[\r\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Entry:
    """One top-level key of a frontmatter block, with how it was written."""

    key: str
    value: object  # str, bool, int, float, None, datetime.date, list or dict
    line: int  # 1-based, in the file
    tag: str  # str, bool, int, float, null, timestamp, seq or map
    plain: bool  # a scalar written without quotes or block style
    text: str | None  # the scalar as written; None for lists and mappings
    valid: bool = True  # False when the scalar looks like its tag but is not (2026-02-30)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    line: int | None = None
    field: str | None = None


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass(slots=True)
class _Walk:
    text: str
    first_line: int
    nodes: int
    max_depth: int
    seen: set[int]

    def line(self, node: Node) -> int:
        # libyaml counts NEL, LS, PS and a lone CR as line breaks; we count only LF, as
        # editors do, so the mark's character index is the reliable part.
        return self.first_line + self.text.count("\n", 0, node.start_mark.index)

    def visit(self, node: Node, depth: int, *, key: bool = False) -> None:
        if id(node) in self.seen:
            raise _Refused(
                Problem(
                    "Y208", "YAML aliases (*name) are refused; write the value out", self.line(node)
                )
            )
        self.seen.add(id(node))
        if key:
            return  # keys are bounded by the values they come with
        self.nodes -= 1
        if self.nodes < 0:
            raise _Refused(
                Problem(
                    "Y209",
                    "the frontmatter has too many values (limits.max_yaml_nodes)",
                    self.line(node),
                )
            )
        if depth > self.max_depth:
            raise _Refused(
                Problem(
                    "Y209",
                    "the frontmatter is nested too deeply (limits.max_yaml_depth)",
                    self.line(node),
                )
            )


def load_mapping(
    text: str, *, first_line: int, max_nodes: int, max_depth: int
) -> tuple[dict[str, Entry], list[Problem]]:
    """Parse a frontmatter block (the text between the `---` lines) into its entries.

    `first_line` is the file line of the block's first line. Never raises for bad input:
    every problem is returned as a Problem value.
    """
    odd = _ODD_BREAK.search(text)
    if odd:  # YAML reads them as line breaks, editors and line numbers do not
        at = first_line + text.count("\n", 0, odd.start())
        return {}, [
            Problem(
                "Y204",
                f"a line break other than LF (U+{ord(odd[0]):04X}) in the "
                "frontmatter; end lines with LF only",
                at,
            )
        ]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return {}, [_syntax_problem(text, first_line, exc)]
    except yaml.YAMLError as exc:  # ReaderError (control characters) and friends
        return {}, [Problem("Y204", f"invalid YAML ({type(exc).__name__}); write plain text")]
    except (RecursionError, UnicodeError, ValueError) as exc:
        return {}, [Problem("Y204", f"invalid YAML ({type(exc).__name__})", first_line)]
    if root is None:
        return {}, []
    walk = _Walk(text, first_line, max_nodes, max_depth, set())
    if not isinstance(root, MappingNode) or root.tag != f"{_TAG}map":
        return {}, [
            Problem(
                "Y211",
                "the frontmatter is not a mapping; write `key: value` lines",
                walk.line(root),
            )
        ]
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    try:
        for key_node, value_node in root.value:
            key = _key(key_node, walk, problems)
            if key is None:
                continue
            line = walk.line(key_node)
            if key in entries:
                problems.append(
                    Problem(
                        "Y206",
                        f"key {printable(key[:60])!r} appears more than once; keep one",
                        line,
                        key,
                    )
                )
            entries[key] = _entry(key, value_node, line, walk)
    except _Refused as refused:
        return {}, [*problems, refused.problem]
    except RecursionError:  # only with an absurd limits.max_yaml_depth
        return {}, [Problem("Y209", "the frontmatter is nested too deeply", first_line)]
    return entries, problems


def _syntax_problem(text: str, first_line: int, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = first_line + text.count("\n", 0, mark.index) if mark else None
    what = printable(str(exc.problem or exc.context or "invalid YAML"))
    if "nesting depth" in what:
        return Problem("Y209", "the frontmatter is nested too deeply", line)
    tab = _TAB_INDENT.search(text)
    if "\t" in what or "tab" in what or tab:
        at = first_line + text.count("\n", 0, tab.start()) if tab else line
        return Problem("Y205", "a tab where YAML allows only spaces; indent with spaces", at)
    return Problem(
        "Y204",
        f"invalid YAML: {what}; quote text values, especially those containing ': ' or ' #'",
        line,
    )


def _key(node: Node, walk: _Walk, problems: list[Problem]) -> str | None:
    walk.visit(node, 0, key=True)
    if isinstance(node, ScalarNode) and node.tag == f"{_TAG}str":
        return str(node.value)  # the usual case, first: this runs for every key of every file
    line = walk.line(node)
    if isinstance(node, ScalarNode) and node.tag == f"{_TAG}merge":
        raise _Refused(Problem("Y210", "merge keys (<<) are refused; write the keys out", line))
    shown = printable(str(node.value))[:40] if isinstance(node, ScalarNode) else "a list"
    problems.append(
        Problem("Y207", f"the key {shown} is not read as text; use a plain word as the key", line)
    )
    return None


def _entry(key: str, node: Node, line: int, walk: _Walk) -> Entry:
    value, tag, valid = _value(node, 1, walk)
    if isinstance(node, ScalarNode):
        return Entry(key, value, line, tag, not node.style, str(node.value), valid)
    return Entry(key, value, line, tag, False, None, valid)


def _value(node: Node, depth: int, walk: _Walk) -> tuple[object, str, bool]:
    walk.visit(node, depth)
    if isinstance(node, ScalarNode):
        return _scalar(node, walk)
    if isinstance(node, SequenceNode) and node.tag == f"{_TAG}seq":
        return [_value(item, depth + 1, walk)[0] for item in node.value], "seq", True
    if isinstance(node, MappingNode) and node.tag == f"{_TAG}map":
        mapping: dict[str, object] = {}
        for key_node, value_node in node.value:
            problems: list[Problem] = []
            key = _key(key_node, walk, problems)
            if problems:
                raise _Refused(problems[0])
            assert key is not None
            if key in mapping:
                raise _Refused(
                    Problem(
                        "Y206",
                        f"key {printable(key[:60])!r} appears more than once; keep one",
                        walk.line(key_node),
                    )
                )
            mapping[key] = _value(value_node, depth + 1, walk)[0]
        return mapping, "map", True
    raise _refused_tag(node, walk)


def _refused_tag(node: Node, walk: _Walk) -> _Refused:
    tag = printable(str(node.tag))[:60]
    return _Refused(
        Problem("Y210", f"the YAML tag {tag} is refused; write plain values", walk.line(node))
    )


def _scalar(node: ScalarNode, walk: _Walk) -> tuple[object, str, bool]:
    tag = _SCALAR_TAGS.get(node.tag)
    # libyaml gives plain scalars the style "", the pure-Python parser None
    if tag is None or (tag != "str" and node.style):
        raise _refused_tag(node, walk)
    if tag == "str":
        return node.value, tag, True
    try:
        value = _CONSTRUCT.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError):
        return node.value, tag, False  # e.g. 2026-02-30, or an int of 5000 digits
    finally:
        _CONSTRUCT.constructed_objects.clear()
    return value, tag, True
