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

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCT = SafeConstructor()

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}": t for t in ("str", "bool", "int", "float", "null", "timestamp")}
_TAB_INDENT = re.compile(r"^[ ]*\t", re.M)


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
class _Budget:
    nodes: int
    max_depth: int
    first_line: int


def load_mapping(
    text: str, *, first_line: int, max_nodes: int, max_depth: int
) -> tuple[dict[str, Entry], list[Problem]]:
    """Parse a frontmatter block (the text between the `---` lines) into its entries.

    `first_line` is the file line of the block's first line. Never raises for bad input:
    every problem is returned as a Problem value.
    """
    problems: list[Problem] = []
    tab = _TAB_INDENT.search(text)
    if tab:
        at = first_line + text.count("\n", 0, tab.start())
        return {}, [Problem("Y205", "a tab indents this line; indent YAML with spaces", at)]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        if "\t" in what or "tab" in what:
            return {}, [Problem("Y205", f"{what}; use spaces, not tabs", line)]
        return {}, [
            Problem("Y204", f"invalid YAML: {what}; quote values that contain ': ' or '#'", line)
        ]
    except yaml.YAMLError as exc:  # ReaderError (control characters) and friends
        return {}, [Problem("Y204", f"invalid YAML: {type(exc).__name__}", None)]
    except RecursionError:
        return {}, [Problem("Y209", "the frontmatter is nested too deeply to read", first_line)]
    if root is None:
        return {}, []
    if not isinstance(root, MappingNode) or root.tag != f"{_TAG}map":
        return {}, [
            Problem(
                "Y211",
                "the frontmatter is not a mapping; write `key: value` lines",
                first_line + root.start_mark.line,
            )
        ]
    budget = _Budget(nodes=max_nodes, max_depth=max_depth, first_line=first_line)
    seen: set[int] = set()
    entries: dict[str, Entry] = {}
    try:
        for key_node, value_node in root.value:
            key = _key(key_node, budget, problems)
            if key is None:
                continue
            line = first_line + key_node.start_mark.line
            if key in entries:
                problems.append(
                    Problem("Y206", f"key {key!r} appears more than once; keep one", line, key)
                )
            entries[key] = _entry(key, value_node, line, budget, seen)
    except _Refused as refused:
        return {}, [*problems, refused.problem]
    return entries, problems


def _key(node: Node, budget: _Budget, problems: list[Problem]) -> str | None:
    line = budget.first_line + node.start_mark.line
    if isinstance(node, ScalarNode) and node.tag == f"{_TAG}merge":
        raise _Refused(Problem("Y210", "merge keys (<<) are refused; write the keys out", line))
    if not isinstance(node, ScalarNode) or node.tag != f"{_TAG}str":
        shown = node.value if isinstance(node, ScalarNode) else "a list or mapping"
        problems.append(
            Problem(
                "Y207", f"key {shown!s:.40} is not read as text; use a plain word as the key", line
            )
        )
        return None
    return str(node.value)


def _entry(key: str, node: Node, line: int, budget: _Budget, seen: set[int]) -> Entry:
    value, tag, valid = _value(node, 1, budget, seen)
    if isinstance(node, ScalarNode):
        return Entry(key, value, line, tag, not node.style, str(node.value), valid)
    return Entry(key, value, line, tag, False, None, valid)


def _value(node: Node, depth: int, budget: _Budget, seen: set[int]) -> tuple[object, str, bool]:
    line = budget.first_line + node.start_mark.line
    if id(node) in seen:
        raise _Refused(
            Problem("Y208", "YAML aliases (*name) are refused; write the value out", line)
        )
    seen.add(id(node))
    budget.nodes -= 1
    if budget.nodes < 0:
        raise _Refused(
            Problem("Y209", "the frontmatter has too many values (max_yaml_nodes)", line)
        )
    if depth > budget.max_depth:
        raise _Refused(
            Problem("Y209", "the frontmatter is nested too deeply (max_yaml_depth)", line)
        )
    if isinstance(node, ScalarNode):
        return _scalar(node, line)
    if isinstance(node, SequenceNode) and node.tag == f"{_TAG}seq":
        return [_value(item, depth + 1, budget, seen)[0] for item in node.value], "seq", True
    if isinstance(node, MappingNode) and node.tag == f"{_TAG}map":
        mapping: dict[str, object] = {}
        for key_node, value_node in node.value:
            problems: list[Problem] = []
            key = _key(key_node, budget, problems)
            if problems or key is None or key in mapping:
                what = problems[0].message if problems else f"key {key!r} appears more than once"
                raise _Refused(
                    Problem(
                        "Y206" if not problems else "Y207",
                        what,
                        budget.first_line + key_node.start_mark.line,
                    )
                )
            mapping[key] = _value(value_node, depth + 1, budget, seen)[0]
        return mapping, "map", True
    raise _Refused(
        Problem("Y210", f"the YAML tag {node.tag!s:.60} is refused; write plain values", line)
    )


def _scalar(node: ScalarNode, line: int) -> tuple[object, str, bool]:
    tag = _SCALAR_TAGS.get(node.tag)
    # libyaml gives plain scalars the style "", the pure-Python parser None
    if tag is None or (tag != "str" and node.style):
        raise _Refused(
            Problem("Y210", f"the YAML tag {node.tag!s:.60} is refused; write plain values", line)
        )
    if tag == "str":
        return node.value, tag, True
    try:
        value = _CONSTRUCT.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError):
        return node.value, tag, False  # e.g. 2026-02-30, or an int of 5000 digits
    finally:
        _CONSTRUCT.constructed_objects.clear()
    return value, tag, True
