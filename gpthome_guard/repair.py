"""shell: gather what `guard fix` needs (findings, fixes, free names, last good pages) and plan."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gpthome_guard.checks import check_document
from gpthome_guard.config import Limits
from gpthome_guard.documents import parse_document
from gpthome_guard.gitrepo import Repo
from gpthome_guard.models import Severity, ValidationReport
from gpthome_guard.plan import PAGE_KINDS, FileState, Outcome, Plan, Rewrite, build_plan
from gpthome_guard.reader import read_regular
from gpthome_guard.validate import FixContext, Selection, validate_home

MAX_HISTORY = 200  # commits searched for a page's last good version


@dataclass(frozen=True, slots=True)
class Prepared:
    report: ValidationReport
    plan: Plan


def prepare(
    home: Path, selection: Selection, limits: Limits, fix: FixContext, jobs: int = 0
) -> Prepared:
    states: list[FileState] = []
    report = validate_home(home, selection, limits, jobs=jobs, fix=fix, states=states)
    repo = Repo(home) if fix.use_git else None
    if repo is not None and not repo.is_repo():
        repo = None
    states = [_with_last_good(state, repo, limits) for state in states]
    return Prepared(report, build_plan(states, _taken(home, states)))


def _taken(home: Path, states: list[FileState]) -> frozenset[str]:
    """The rename targets that exist already, so that no rename overwrites."""
    taken = set()
    for state in states:
        if state.fix is not None and state.fix.name != state.fs_path.rpartition("/")[2]:
            target = f"{state.fs_path.rpartition('/')[0]}/{state.fix.name}"
            if (
                os.path.lexists(home / target)
                and read_regular(home / target, 16 * 1024 * 1024) != state.fix.data
            ):
                taken.add(target)  # (holding the fixed bytes: an interrupted run's rename)
    return frozenset(taken)


def _with_last_good(state: FileState, repo: Repo | None, limits: Limits) -> FileState:
    if repo is None or state.kind not in PAGE_KINDS:
        return state
    if not any(f.severity is Severity.ERROR for f in state.findings):
        return state
    if (
        state.fix is not None
        and state.fix.changed
        and not any(f.severity is Severity.ERROR for f in state.fix.remaining)
    ):
        return state  # a safe fix is enough
    name = state.fs_path.rpartition("/")[2]
    for n, commit in enumerate(repo.commits_touching(state.fs_path)):
        if n >= MAX_HISTORY:
            break
        data = repo.blob(commit, state.fs_path, limits.max_file_bytes)
        if data is None:
            continue
        doc = parse_document(state.path, state.kind, data, limits)
        found = check_document(doc, limits, name=name)
        if not any(f.severity is Severity.ERROR for f in found):
            return state.model_copy(update={"last_good": (commit, data)})
    return state


def all_repaired(prepared: Prepared, outcome: Outcome | None) -> bool:
    """True when nothing is left to report: every error fixed in place (or, for a dry run,
    would be), nothing quarantined, restored, skipped or left unresolved."""
    plan = prepared.plan
    if plan.unresolved or any(not isinstance(a, Rewrite) for a in plan.actions):
        return False
    if outcome is not None and (outcome.skipped or outcome.quarantined or outcome.swept):
        return False
    handled = {a.path for a in plan.actions}
    return not any(
        f.severity is Severity.ERROR and f.path not in handled for f in prepared.report.findings
    )
