"""shell: walk the home, read each content file safely, check it, and gather a report.

Large homes are checked by a pool of worker processes fed in bounded chunks, so that wall
time scales with the cores and memory stays flat however many files the home holds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gpthome_guard.checks import check_document
from gpthome_guard.config import Limits
from gpthome_guard.conventions import CONTENT_DIRS, SKIPPED_NAMES
from gpthome_guard.documents import parse_document
from gpthome_guard.errors import UsageError
from gpthome_guard.models import Counts, FileResult, Finding, Kind, Severity, ValidationReport
from gpthome_guard.reader import Home, Item, Raw, display
from gpthome_guard.rules import RULES

if TYPE_CHECKING:  # the fix machinery is imported only when a fix is asked for
    from gpthome_guard.fixes import DateSource
    from gpthome_guard.plan import FileState

CHUNK = 256
PARALLEL_FROM = 2000  # below this many entries, starting workers costs more than it saves

Outcome = tuple[str, Kind, tuple[Finding, ...], "FileState | None"]


@dataclass(frozen=True, slots=True)
class FixContext:
    """Asks the walk to prepare fixes, and says where a dream's missing date may come from."""

    session_date: str | None = None  # the session's day, when post-session knows it
    use_git: bool = True  # else the day the file first appeared in git, else its mtime


def check_item(home: Home, item: Item, limits: Limits, fix: FixContext | None = None) -> Outcome:
    path = item.path
    raw = home.read(item, limits)
    if raw.finding is not None:
        found: tuple[Finding, ...] = (raw.finding,)
    else:
        assert raw.data is not None
        try:
            doc = parse_document(path, raw.kind, raw.data, limits)
            found = tuple(check_document(doc, limits, name=item.name))
        except Exception as exc:  # a bug must cost one file, not the run (security.md 8.3)
            found = (
                RULES["R110"].finding(
                    path,
                    f"the guard failed on this file ({type(exc).__name__}); report it with --debug",
                ),
            )
            if os.environ.get("GUARD_DEBUG"):
                raise
    state = None
    if fix is not None and found:
        from gpthome_guard.fixes import fix_file
        from gpthome_guard.plan import FileState

        fixed = None
        if raw.data is not None:
            dream_date = _dream_date(home, item, raw, found, fix)
            fixed = fix_file(item.fs_path, raw.kind, raw.data, limits, dream_date=dream_date)
        state = FileState(
            path=path,
            fs_path=item.fs_path,
            kind=raw.kind,
            data=raw.data,
            findings=found,
            fix=fixed,
        )
    return path, raw.kind, found, state


def _dream_date(
    home: Home, item: Item, raw: Raw, found: tuple[Finding, ...], fix: FixContext
) -> DateSource | None:
    if raw.kind is not Kind.DREAM or not any(f.code == "C301" and f.field == "date" for f in found):
        return None
    from gpthome_guard.fixes import DateSource
    from gpthome_guard.gitrepo import Repo

    if fix.session_date:
        return DateSource(fix.session_date, "the session date")
    if fix.use_git:
        repo = Repo(Path(home.root))
        day = repo.first_added(item.fs_path) if repo.is_repo() else None
        if day:
            return DateSource(day, "the day it first appeared in git")
    day = dt.datetime.fromtimestamp(raw.mtime, dt.UTC).date().isoformat()
    return DateSource(day, "its modification time")


@dataclass(frozen=True, slots=True)
class Selection:
    """What to check: whole content directories and single entries."""

    directories: tuple[str, ...]
    items: tuple[Item, ...]


def select(home: Path, paths: Iterable[str], *, staged: bool = False) -> Selection:
    """Map the command line's PATHs (relative to the current directory) onto the home, or,
    with `staged`, onto git's index: then a path need not exist in the work tree (it may be
    staged and deleted since), and a deeper path stands for the subdirectory it lies in."""
    paths = list(paths)
    if not paths:
        return Selection(CONTENT_DIRS, ())
    directories: list[str] = []
    items: list[Item] = []
    root = os.path.abspath(home)
    for raw in paths:
        absolute = os.path.normpath(os.path.abspath(raw))
        if os.path.commonpath([root, absolute]) != root:
            raise UsageError(
                f"{display(raw)}: not inside the home {home}; pass --home or a path in it"
            )
        if not staged and not os.path.lexists(absolute):
            raise UsageError(f"{display(raw)}: no such file or directory")
        parts = Path(os.path.relpath(absolute, root)).parts
        if parts in ((), (".",)):
            directories.extend(CONTENT_DIRS)
        elif parts[0] not in CONTENT_DIRS:
            continue  # not content: nothing to check (pre-commit passes every staged file)
        elif len(parts) == 1:
            directories.append(parts[0])
        elif staged or (len(parts) == 2 and not (
            parts[1] in SKIPPED_NAMES and os.path.isfile(absolute) and not os.path.islink(absolute)
        )):  # fmt: skip
            items.append(Item(parts[0], parts[1]))
        # in the work tree, deeper paths lie in subdirectories the site does not serve; the
        # directory's own scan reports the subdirectory itself
    return Selection(
        tuple(dict.fromkeys(directories)),
        tuple(i for i in dict.fromkeys(items) if i.directory not in directories),
    )


def validate_home(
    home: Path,
    selection: Selection,
    limits: Limits,
    *,
    jobs: int = 0,
    keep_files: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    fix: FixContext | None = None,
    states: list[FileState] | None = None,
) -> ValidationReport:
    """Check the selected content. `jobs` 0 picks the number of workers by the home's size.

    With `fix`, the files that have findings are appended to `states`, their fixes computed.
    """
    findings: list[Finding] = []
    files: list[FileResult] = []
    tally = _Tally()
    with Home(str(home)) as fs:
        iterators: list[Iterator[Item]] = [iter(selection.items)]
        for directory in selection.directories:
            entries, about_dir = fs.scan(directory)
            iterators.append(entries)
            findings.extend(about_dir)
            for finding in about_dir:
                tally.add_loose(finding)
                if states is not None and finding.code == "H503":  # a link or file: set aside
                    from gpthome_guard.plan import FileState

                    states.append(
                        FileState(
                            path=finding.path,
                            fs_path=directory,
                            kind=Kind.OTHER,
                            data=None,
                            findings=(finding,),
                        )
                    )
        total = len(selection.items) + sum(fs.count(d) for d in selection.directories)
        if on_total is not None:
            on_total(total)
        workers = _workers(jobs, total)
        items = itertools.chain.from_iterable(iterators)
        outcomes = (
            _in_pool(str(home), items, limits, workers, fix)
            if workers > 1
            else (check_item(fs, item, limits, fix) for item in items)
        )
        for path, kind, found, state in outcomes:
            if state is not None and states is not None:
                states.append(state)
            tally.add(found)
            findings.extend(found)
            if keep_files:
                files.append(FileResult(path=path, kind=kind, findings=found))
            if progress is not None:
                progress(1)
    findings.sort(key=Finding.sort_key)
    return ValidationReport(
        home=str(home),
        counts=tally.counts(),
        findings=tuple(findings),
        files=tuple(sorted(files, key=lambda f: f.path)) if keep_files else None,
    )


class _Tally:
    def __init__(self) -> None:
        self.files = self.with_errors = self.with_warnings = 0
        self.errors = self.warnings = self.fixable = 0

    def add(self, found: tuple[Finding, ...]) -> None:
        self.files += 1
        errors = sum(1 for f in found if f.severity is Severity.ERROR)
        self.errors += errors
        self.warnings += len(found) - errors
        self.fixable += sum(1 for f in found if f.fixable)
        if errors:
            self.with_errors += 1
        elif found:
            self.with_warnings += 1

    def add_loose(self, finding: Finding) -> None:
        if finding.severity is Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1

    def counts(self) -> Counts:
        return Counts(
            files=self.files,
            files_with_errors=self.with_errors,
            files_with_warnings=self.with_warnings,
            errors=self.errors,
            warnings=self.warnings,
            fixable=self.fixable,
        )


def _workers(jobs: int, total: int) -> int:
    if jobs > 0:
        return jobs
    if total < PARALLEL_FROM:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), 8))


# --- the worker pool -------------------------------------------------------------------

_WORKER_HOME: Home | None = None


def _init_worker(root: str) -> None:
    global _WORKER_HOME
    _WORKER_HOME = Home(root)


def _check_chunk(chunk: list[Item], limits: Limits, fix: FixContext | None) -> list[Outcome]:
    assert _WORKER_HOME is not None
    return [check_item(_WORKER_HOME, item, limits, fix) for item in chunk]


def _in_pool(
    root: str, items: Iterator[Item], limits: Limits, workers: int, fix: FixContext | None
) -> Iterator[Outcome]:
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(root,)
    ) as pool:
        pending: set[Future[list[Outcome]]] = set()
        chunks = iter(lambda: list(itertools.islice(items, CHUNK)), [])
        for chunk in itertools.islice(chunks, workers * 2):
            pending.add(pool.submit(_check_chunk, chunk, limits, fix))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()
                chunk = next(chunks, [])
                if chunk:
                    pending.add(pool.submit(_check_chunk, chunk, limits, fix))
