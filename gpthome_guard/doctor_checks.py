"""core: the checklist of `guard doctor`: a `Check` per line, the verdicts on git, .gitignore,
GPT.md and the disk, and the two renderings (pure)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gpthome_guard import __version__
from gpthome_guard.render import DIM, GREEN, JSON_SCHEMA_VERSION, RED, paint, plural

MIN_FREE_BYTES = 1 << 30  # 1 GiB: a session, its repairs and a commit fit many times over
MIN_FREE_FRACTION = 0.05
MUST_IGNORE = ("runner/", "logs/", ".env", "sessions.db", "quarantine/")


class Check(BaseModel):
    """One line of the checklist; `ok` is None when the check could not run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ok: bool | None
    detail: str = ""
    fix: str = ""


def judge_disk(
    free: int,
    total: int,
    where: Path,
    min_bytes: int = MIN_FREE_BYTES,
    min_fraction: float = MIN_FREE_FRACTION,
) -> Check:
    share = free / total if total else 0.0
    detail = f"{free / (1 << 30):.1f} GiB free ({share:.0%} of {total / (1 << 30):.1f} GiB)"
    if free >= min_bytes and share >= min_fraction:
        return Check(name="free disk", ok=True, detail=detail)
    return Check(
        name="free disk",
        ok=False,
        detail=f"{detail}; needs at least {min_bytes / (1 << 30):.1f} GiB and {min_fraction:.0%}",
        fix=f"free space on the filesystem of {where} (`du -xh --max-depth=2 "
        f"{shlex.quote(str(where))} | sort -h` shows what is large)",
    )


def judge_guide(text: bytes | None, expected: str, path: Path) -> Check:
    fix = f"guard guide --write --file {shlex.quote(str(path))}"
    if text is None:
        return Check(name="GPT.md current", ok=False, detail="missing", fix=fix)
    if text != expected.encode("utf-8"):
        detail = f"out of date: not the guide guard {__version__} writes"
        return Check(name="GPT.md current", ok=False, detail=detail, fix=fix)
    return Check(name="GPT.md current", ok=True, detail=f"guard {__version__}")


def judge_ignored(records: Mapping[str, tuple[str, str]], tracked: Sequence[str]) -> Check:
    """`records`: path -> (source, pattern) from `git check-ignore -v -n`."""
    if not records:
        return Check(
            name="ignored paths",
            ok=False,
            detail="git check-ignore gave no answer",
            fix="run `git check-ignore -v runner/` in the home to see why",
        )
    bad = {p: r for p, r in records.items() if not r[1] or r[1].startswith("!")}
    missing = [p for p in MUST_IGNORE if p not in records]
    if not bad and not missing and not tracked:
        return Check(name="ignored paths", ok=True, detail=", ".join(records))
    parts = [f"{p} (un-ignored by {s})" if pat else p for p, (s, pat) in bad.items()] + missing
    detail = f"not ignored: {', '.join(parts)}" if parts else ""
    fix = "remove the lines that un-ignore them from .gitignore"
    if tracked:
        detail = "; ".join(filter(None, [detail, f"tracked: {', '.join(tracked)}"]))
        fix = f"git rm -r --cached -- {' '.join(map(shlex.quote, tracked))}, then {fix}"
    return Check(name="ignored paths", ok=False, detail=detail, fix=fix)


def judge_git_dir(git_dir: Path, home: Path, agent_can_write: bool | None) -> Check:
    name = "git dir location"
    if not git_dir.is_relative_to(home):
        return Check(name=name, ok=True, detail=f"outside the home: {git_dir}")
    if agent_can_write is None:
        return Check(name=name, ok=None, detail="inside the home; pass --agent-user NAME to check")
    if not agent_can_write:
        return Check(name=name, ok=True, detail="inside the home, out of the agent's reach")
    where = shlex.quote(str(git_dir))
    return Check(
        name=name,
        ok=False,
        detail="inside the home, and the agent can write it: it could rewrite history or plant "
        "hooks and config",
        fix=f"chown -R root:root {where} && chmod 700 {where}",
    )


def judge_ignore_block(
    text: str | None, home: Path, begin: str, end: str, lines: Sequence[str]
) -> Check:
    name = ".gitignore block"
    fix = f"guard init {shlex.quote(str(home))}"
    if text is None:
        return Check(name=name, ok=False, detail="no .gitignore (or not a regular file)", fix=fix)
    if begin not in text or end not in text:
        return Check(name=name, ok=False, detail="the guard's managed block is missing", fix=fix)
    block = text.split(begin, 1)[1].split(end, 1)[0].split()
    if block != list(lines):
        return Check(name=name, ok=False, detail="the managed block was edited", fix=fix)
    return Check(name=name, ok=True, detail=f"{len(lines)} patterns")


def render_text(checks: Sequence[Check], color: bool = False) -> str:
    lines = []
    for check in checks:
        mark = {"pass": paint("✓", GREEN, color), "fail": paint("✗", RED, color)}.get(
            _status(check), paint("-", DIM, color)
        )
        detail = f": {check.detail}" if check.detail else ""
        lines.append(f"{mark} {check.name}{detail}")
        if check.ok is False and check.fix:
            lines.append(f"    fix: {check.fix}")
    failed = sum(c.ok is False for c in checks)
    skipped = sum(c.ok is None for c in checks)
    summary = f"{plural(failed, 'problem')}" if failed else "all good"
    if skipped:
        summary += f", {skipped} not checked"
    lines.append(f"doctor: {summary}")
    return "\n".join(lines) + "\n"


def _status(check: Check) -> str:
    return "skip" if check.ok is None else "pass" if check.ok else "fail"


def render_json(checks: Sequence[Check], home: Path, agent: str | None) -> str:
    """The shape of the other commands' documents: `status` is "ok" or "findings"."""
    failed = any(c.ok is False for c in checks)
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "guard", "version": __version__},
        "command": "doctor",
        "status": "findings" if failed else "ok",
        "home": str(home),
        "agent_user": agent,
        "checks": [{**c.model_dump(), "status": _status(c)} for c in checks],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
