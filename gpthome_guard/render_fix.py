"""core: plans and quarantine entries -> text for people, JSON for programs (pure)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gpthome_guard import __version__
from gpthome_guard.models import printable
from gpthome_guard.plan import Action, Outcome, Plan, Quarantine, RestorePage, Rewrite
from gpthome_guard.render import (
    BOLD,
    GREEN,
    JSON_SCHEMA_VERSION,
    RED,
    YELLOW,
    paint,
    plural,
)

if TYPE_CHECKING:
    from gpthome_guard.quarantine import Entry as QEntry


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
        lines.extend(paint(f"skipped {line}", YELLOW, color) for line in outcome.skipped)
        for left in plan.unresolved:
            lines.append(f"left {left.path}: {left.code} {left.message} ({left.reason})")
    lines.append(plan_summary(plan, outcome))
    return "\n".join(lines) + "\n"


def _action_lines(action: Action, color: bool) -> list[str]:
    if isinstance(action, Rewrite):
        codes = ", ".join(sorted({f"{c.code} {c.name}" for c in action.changes}))
        out = [paint(f"fix {action.path}", BOLD, color) + f" ({codes})"]
        if action.rename_to:
            out.append(f"rename {action.path} -> {action.rename_to}")
        out.extend(f"  note: {note}" for note in action.notes)
        out.extend(_diff_line(line, color) for line in action.diff.splitlines())
        return out
    reasons = "; ".join(f"{c.code} {c.name} {c.message}" for c in action.findings)
    if isinstance(action, Quarantine):
        return [paint(f"quarantine {action.path}", BOLD, color) + f": {reasons}"]
    return [
        paint(f"restore {action.path}", BOLD, color)
        + f" from {action.commit[:12]}, quarantining the current version: {reasons}"
    ]


def _diff_line(line: str, color: bool) -> str:
    line = printable(line)
    if line.startswith("+") and not line.startswith("+++"):
        return paint(line, GREEN, color)
    if line.startswith("-") and not line.startswith("---"):
        return paint(line, RED, color)
    return line


def plan_summary(plan: Plan, outcome: Outcome | None) -> str:
    if plan.empty and not plan.unresolved and not (outcome and outcome.done):
        return "Nothing to fix."
    fixes = sum(isinstance(a, Rewrite) for a in plan.actions)
    quarantines = sum(isinstance(a, Quarantine) for a in plan.actions)
    restores = sum(isinstance(a, RestorePage) for a in plan.actions)
    parts = [
        plural(fixes, "fix").replace("fixs", "fixes"),
        plural(quarantines, "quarantine"),
        plural(restores, "page restore"),
    ]
    if plan.unresolved:
        parts.append(f"{len(plan.unresolved)} left as is")
    if outcome is None:
        return f"Plan: {', '.join(parts)}. Dry run: nothing was changed."
    if outcome.skipped:
        parts.append(f"{len(outcome.skipped)} skipped")
    leftovers = len(outcome.swept)
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
    return "\n".join(lines) + f"\n{plural(len(entries), 'file')} in the quarantine.\n"


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
