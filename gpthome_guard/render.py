"""core: reports -> text for people, JSON for programs, annotations for GitHub (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby

from gpthome_guard import __version__
from gpthome_guard.models import Finding, Severity, ValidationReport
from gpthome_guard.rules import Rule

JSON_SCHEMA_VERSION = 1

RESET, BOLD, RED, YELLOW, GREEN, DIM = (
    "\033[0m",
    "\033[1m",
    "\033[31m",
    "\033[33m",
    "\033[32m",
    "\033[2m",
)


def paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{RESET}" if color else text


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def finding_line(finding: Finding, color: bool = False) -> str:
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    style = RED if finding.severity is Severity.ERROR else YELLOW
    code = paint(f"{finding.code} {finding.name}", style, color)
    fix = " " + paint("[fixable]", DIM, color) if finding.fixable else ""
    return f"{paint(where, BOLD, color)}: {code} {finding.message}{fix}"


def validation_text(report: ValidationReport, color: bool = False) -> str:
    lines: list[str] = []
    for _, group in groupby(report.findings, key=lambda f: f.path):
        lines.extend(finding_line(f, color) for f in group)
        lines.append("")
    lines.append(validation_summary(report, color))
    return "\n".join(lines) + "\n"


def validation_summary(report: ValidationReport, color: bool = False) -> str:
    c = report.counts
    checked = f"Checked {plural(c.files, 'file')}"
    if not c.errors and not c.warnings:
        return f"{checked}: {paint('all good', GREEN, color)}."
    parts = []
    if c.errors:
        parts.append(paint(plural(c.errors, "error"), RED, color))
    if c.warnings:
        parts.append(paint(plural(c.warnings, "warning"), YELLOW, color))
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
