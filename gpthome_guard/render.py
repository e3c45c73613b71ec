"""core: reports -> text for people, JSON for programs, annotations for GitHub (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING

from gpthome_guard import __version__
from gpthome_guard.models import Finding, Severity, ValidationReport, printable
from gpthome_guard.plan import Action, Outcome, Plan, Quarantine, RestorePage, Rewrite
from gpthome_guard.rules import Rule

if TYPE_CHECKING:
    from gpthome_guard.quarantine import Entry as QEntry

JSON_SCHEMA_VERSION = 1

_RESET, _BOLD, _RED, _YELLOW, _GREEN, _DIM = (
    "\033[0m",
    "\033[1m",
    "\033[31m",
    "\033[33m",
    "\033[32m",
    "\033[2m",
)


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def finding_line(finding: Finding, color: bool = False) -> str:
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    style = _RED if finding.severity is Severity.ERROR else _YELLOW
    code = _paint(f"{finding.code} {finding.name}", style, color)
    fix = " " + _paint("[fixable]", _DIM, color) if finding.fixable else ""
    return f"{_paint(where, _BOLD, color)}: {code} {finding.message}{fix}"


def validation_text(report: ValidationReport, color: bool = False) -> str:
    lines: list[str] = []
    for _, group in groupby(report.findings, key=lambda f: f.path):
        lines.extend(finding_line(f, color) for f in group)
        lines.append("")
    lines.append(validation_summary(report, color))
    return "\n".join(lines) + "\n"


def validation_summary(report: ValidationReport, color: bool = False) -> str:
    c = report.counts
    checked = f"Checked {_plural(c.files, 'file')}"
    if not c.errors and not c.warnings:
        return f"{checked}: {_paint('all good', _GREEN, color)}."
    parts = []
    if c.errors:
        parts.append(_paint(_plural(c.errors, "error"), _RED, color))
    if c.warnings:
        parts.append(_paint(_plural(c.warnings, "warning"), _YELLOW, color))
    text = f"{checked}: {', '.join(parts)}"
    if c.fixable:
        text += f"; {c.fixable} fixable with `guard fix`"
    return text + "."


def validation_json(report: ValidationReport) -> str:
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "guard", "version": __version__},
        "command": "validate",
        "status": "ok" if report.ok else "findings",
        **report.model_dump(mode="json", exclude={"files"}),
    }
    if report.files is not None:
        data["files"] = [
            {"path": f.path, "kind": f.kind.value, "status": f.status} for f in report.files
        ]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _gh_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def validation_github(report: ValidationReport) -> str:
    lines = []
    for f in report.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        props = f"file={_gh_escape(f.path, True)}"
        if f.line:
            props += f",line={f.line}"
        props += f",title={_gh_escape(f'{f.code} {f.name}', True)}"
        lines.append(f"::{level} {props}::{_gh_escape(f.message)}")
    lines.append(validation_summary(report))
    return "\n".join(lines) + "\n"


def error_json(message: str, exit_code: int, command: str) -> str:
    return (
        json.dumps(
            {
                "schema_version": JSON_SCHEMA_VERSION,
                "tool": {"name": "guard", "version": __version__},
                "command": command,
                "status": "error",
                "error": {"message": message, "exit_code": exit_code},
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def rules_text(rules: list[Rule]) -> str:
    width = max(len(r.name) for r in rules)
    lines = [
        f"{r.code}  {r.name:<{width}}  {r.severity.value:<7}  {'fix ' if r.fixable else '    '}"
        f"{r.summary}"
        for r in rules
    ]
    return "\n".join(lines) + "\n"


def rule_text(rule: Rule) -> str:
    fix = "yes, `guard fix` repairs the clear cases" if rule.fixable else "no"
    return (
        f"{rule.code} {rule.name} ({rule.severity.value})\n\n{rule.summary}\n\n"
        f"Automatic fix: {fix}\n\nBad:\n{_indent(rule.bad)}\n\nGood:\n{_indent(rule.good)}\n"
    )


def rules_json(rules: list[Rule]) -> str:
    return (
        json.dumps(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "severity": r.severity.value,
                    "fixable": r.fixable,
                    "summary": r.summary,
                    "bad": r.bad,
                    "good": r.good,
                }
                for r in rules
            ],
            indent=2,
        )
        + "\n"
    )


def _indent(example: str) -> str:
    return "\n".join(f"    {line}" for line in example.replace("\\n", "\n").split("\n"))


VALIDATION_RENDERERS: dict[str, Callable[[ValidationReport, bool], str]] = {
    "text": validation_text,
    "json": lambda report, _color: validation_json(report),
    "github": lambda report, _color: validation_github(report),
}


def plan_text(plan: Plan, outcome: Outcome | None, color: bool = False) -> str:
    """The plan (with diffs) for --dry-run, or what was done."""
    lines: list[str] = []
    if outcome is None:
        for action in plan.actions:
            lines.extend(_action_lines(action, color))
        for left in plan.unresolved:
            lines.append(f"leave {left.path}: {left.code} {left.message} ({left.reason})")
    else:
        lines.extend(outcome.done)
        lines.extend(_paint(f"skipped {line}", _YELLOW, color) for line in outcome.skipped)
        for left in plan.unresolved:
            lines.append(f"left {left.path}: {left.code} {left.message} ({left.reason})")
    lines.append(plan_summary(plan, outcome))
    return "\n".join(lines) + "\n"


def _action_lines(action: Action, color: bool) -> list[str]:
    if isinstance(action, Rewrite):
        codes = ", ".join(sorted({f"{c.code} {c.name}" for c in action.changes}))
        out = [_paint(f"fix {action.path}", _BOLD, color) + f" ({codes})"]
        if action.rename_to:
            out.append(f"rename {action.path} -> {action.rename_to}")
        out.extend(f"  note: {note}" for note in action.notes)
        out.extend(_diff_line(line, color) for line in action.diff.splitlines())
        return out
    reasons = "; ".join(f"{c.code} {c.name} {c.message}" for c in action.findings)
    if isinstance(action, Quarantine):
        return [_paint(f"quarantine {action.path}", _BOLD, color) + f": {reasons}"]
    return [
        _paint(f"restore {action.path}", _BOLD, color)
        + f" from {action.commit[:12]}, quarantining the current version: {reasons}"
    ]


def _diff_line(line: str, color: bool) -> str:
    line = printable(line)
    if line.startswith("+") and not line.startswith("+++"):
        return _paint(line, _GREEN, color)
    if line.startswith("-") and not line.startswith("---"):
        return _paint(line, _RED, color)
    return line


def plan_summary(plan: Plan, outcome: Outcome | None) -> str:
    if plan.empty and not plan.unresolved and not (outcome and outcome.done):
        return "Nothing to fix."
    fixes = sum(isinstance(a, Rewrite) for a in plan.actions)
    quarantines = sum(isinstance(a, Quarantine) for a in plan.actions)
    restores = sum(isinstance(a, RestorePage) for a in plan.actions)
    parts = [
        _plural(fixes, "fix").replace("fixs", "fixes"),
        _plural(quarantines, "quarantine"),
        _plural(restores, "page restore"),
    ]
    if plan.unresolved:
        parts.append(f"{len(plan.unresolved)} left as is")
    if outcome is None:
        return f"Plan: {', '.join(parts)}. Dry run: nothing was changed."
    if outcome.skipped:
        parts.append(f"{len(outcome.skipped)} skipped")
    leftovers = len(outcome.quarantined) - quarantines
    if leftovers > 0:
        parts.append(
            f"{leftovers} leftover{'s' if leftovers > 1 else ''} of an interrupted run set aside"
        )
    return f"Done: {', '.join(parts)}."


def plan_json(plan: Plan, outcome: Outcome | None, ok: bool) -> str:
    data: dict[str, object] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "guard", "version": __version__},
        "command": "fix",
        "dry_run": outcome is None,
        "status": "ok" if ok else "findings",
        **plan.model_dump(mode="json"),
        "applied": None
        if outcome is None
        else {"done": outcome.done, "skipped": outcome.skipped, "quarantined": outcome.quarantined},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def quarantine_text(entries: list[QEntry]) -> str:
    if not entries:
        return "The quarantine is empty.\n"
    lines = [f"{e.when}  {e.path}  ->  {e.stored_as}\n    {e.reasons}" for e in entries]
    return "\n".join(lines) + f"\n{_plural(len(entries), 'file')} in the quarantine.\n"


def quarantine_entry_text(entry: QEntry) -> str:
    lines = [
        f"path:      {entry.path}",
        f"stored as: {entry.stored_as}",
        f"action:    {entry.action}",
        f"size:      {entry.size if entry.size is not None else '-'}",
        f"sha256:    {entry.sha256 or '-'}",
        f"when:      {entry.when}",
        f"run:       {entry.run}" + (f" (session {entry.session})" if entry.session else ""),
        "findings:",
    ]
    lines.extend(f"  {f.get('code')} {f.get('name')}: {f.get('message')}" for f in entry.findings)
    return "\n".join(printable(line) for line in lines) + "\n"
