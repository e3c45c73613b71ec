"""shell: check what git's index holds (what the next commit will hold), not the files.

The index entries under the content directories come from `git ls-files -s -z`, their
blobs from one `git cat-file --batch` stream. Each blob's size comes before its bytes: one
over `limits.max_file_bytes` is reported unread, and the stream is stopped and started again
after it. The bytes go through the same document checks as the files `guard validate` reads.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gpthome_guard.checks import check_document
from gpthome_guard.config import GuardConfig, Limits
from gpthome_guard.conventions import PAGES, SKIPPED_NAMES, kind_of
from gpthome_guard.documents import parse_document
from gpthome_guard.errors import GuardError, UsageError
from gpthome_guard.gitrepo import Repo
from gpthome_guard.models import Counts, FileResult, Finding, Kind, Severity, ValidationReport
from gpthome_guard.reader import Item, display
from gpthome_guard.rules import RULES
from gpthome_guard.session import repo_for
from gpthome_guard.validate import select

REGULAR = frozenset({"100644", "100755"})
_NOT_A_FILE = {
    "120000": "a symlink; links are never followed: write a regular file",
    "160000": "a gitlink (a nested repository); commit the files themselves",
}


@dataclass(slots=True)
class _Child:
    """What the index holds at `<content dir>/<name>`: an entry, a directory, or a conflict."""

    mode: str = ""  # of the merged (stage 0) entry; "" if only conflicted stages are there
    blob: str = ""
    nested: bool = False  # entries below it: a directory


@dataclass(slots=True)
class _Index:
    """The selected part of the index, by content directory and entry name."""

    children: dict[str, dict[str, _Child]] = field(default_factory=dict)
    at_directory: dict[str, str] = field(default_factory=dict)  # `thoughts` itself: its mode


def index_file(value: str | None) -> Path | None:
    """The index a git hook names in GIT_INDEX_FILE (a temporary one for `git commit -a` or
    `git commit PATH`), made absolute: it is relative to the hook's directory."""
    if not value:
        return None
    path = Path(os.path.abspath(value))
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise GuardError(
            f"GIT_INDEX_FILE={display(value)}: {exc.strerror}; unset it to use the repository's "
            "index"
        ) from None
    if not stat.S_ISREG(mode):
        raise GuardError(
            f"GIT_INDEX_FILE={display(value)} is not a regular file; unset it to use the "
            "repository's index"
        )
    return path


def validate_staged(
    home: Path,
    config: GuardConfig,
    paths: Iterable[str],
    *,
    index: str | None = None,
    keep_files: bool = False,
) -> ValidationReport:
    """Check the staged content of the selected paths. `index` is GIT_INDEX_FILE, if set."""
    repo = repo_for(home, config)
    if not repo.is_repo():
        raise GuardError(
            f"{home}: not a git repository, so nothing is staged; drop --staged to check the files"
        )
    index_path = index_file(index)
    # our Repo drops every GIT_* variable; the hook's index is the one thing we take back
    env = {"GIT_INDEX_FILE": str(index_path)} if index_path is not None else None
    selection = select(home, paths, staged=True)
    pathspecs = [*selection.directories, *(i.fs_path for i in selection.items)]
    staged = _read_index(repo, pathspecs, env)
    report = _Report(keep_files)
    todo: list[tuple[Item, Kind, str]] = []  # content to read: what, which kind, which blob
    for directory in selection.directories:
        _triage_directory(directory, staged, report, todo)
    for item in selection.items:
        found = staged.children.get(item.directory, {}).get(item.name)
        if found is None:
            raise UsageError(
                f"{item.path}: not in the index, so not in the next commit; `git add` it, "
                "or drop --staged to check the file"
            )
        _triage(item, found, report, todo)
    _check_blobs(repo, todo, config.limits, env, report)
    return report.build(str(home))


def _read_index(repo: Repo, pathspecs: list[str], env: dict[str, str] | None) -> _Index:
    staged = _Index()
    if not pathspecs:  # no pathspec would mean every entry
        return staged
    for record in repo.run("ls-files", "-s", "-z", "--", *pathspecs, env=env).split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")  # `<mode> <blob> <stage>\t<path>`
        mode, blob, stage = meta.decode("ascii").split(" ")
        directory, _, rest = os.fsdecode(raw_path).partition("/")
        if not rest:
            staged.at_directory[directory] = mode
            continue
        name, _, below = rest.partition("/")
        child = staged.children.setdefault(directory, {}).setdefault(name, _Child())
        if below:
            child.nested = True
        elif stage == "0":
            child.mode, child.blob = mode, blob
    return staged


def _triage_directory(
    directory: str, staged: _Index, report: _Report, todo: list[tuple[Item, Kind, str]]
) -> None:
    mode = staged.at_directory.get(directory)
    if mode is not None:
        what = {"120000": "a symlink", "160000": "a gitlink"}.get(mode, "a file")
        message = f"{directory} is {what} in the index, not a directory; it is not read"
        report.loose(RULES["H503"].finding(display(directory), message))
        return
    names = staged.children.get(directory, {})
    for page in PAGES:
        if page.startswith(f"{directory}/") and page.split("/", 1)[1] not in names:
            message = f"{page} is not in the index; the site has no such page to show"
            report.loose(RULES["H504"].finding(page, message))
    for name, child in names.items():
        _triage(Item(directory, name), child, report, todo)


def _triage(item: Item, child: _Child, report: _Report, todo: list[tuple[Item, Kind, str]]) -> None:
    """Judge an entry by its index mode alone, or queue its blob to be read."""
    kind = kind_of(item.directory, item.name)
    if child.nested:
        if kind is not Kind.OTHER or item.name.endswith((".md", ".json")):
            found = _rule("R102", item, "a directory with a content file's name; write a file")
        else:
            found = _rule(
                "H502",
                item,
                f"the site does not serve files in subdirectories; keep {item.directory}/ flat",
            )
    elif not child.mode:
        found = _rule(
            "R105", item, "unmerged (a merge conflict); resolve it and `git add` the file"
        )
    elif child.mode in REGULAR:
        if item.name in SKIPPED_NAMES:
            return  # a directory's README is for people, not the site
        if kind is not Kind.OTHER:
            todo.append((item, kind, child.blob))
            return
        found = _rule("H501", item, "not content the site serves; move it to sandbox/ or projects/")
    else:
        found = _rule(
            "R101",
            item,
            _NOT_A_FILE.get(child.mode, f"mode {child.mode} in the index, not a regular file"),
        )
    report.add(item.path, kind, (found,))


def _rule(code: str, item: Item, message: str) -> Finding:
    return RULES[code].finding(item.path, message)


def _check_blobs(
    repo: Repo,
    todo: list[tuple[Item, Kind, str]],
    limits: Limits,
    env: dict[str, str] | None,
    report: _Report,
) -> None:
    done = 0
    while done < len(todo):  # a blob too large to read ends one cat-file: the next goes on
        done = _check_some(repo, todo, done, limits, env, report)


def _check_some(
    repo: Repo,
    todo: list[tuple[Item, Kind, str]],
    start: int,
    limits: Limits,
    env: dict[str, str] | None,
    report: _Report,
) -> int:
    """Read and check todo[start:] from one `cat-file --batch`, up to and including the
    first blob over the limit, whose bytes are never read. Return how far it got."""
    requests = (f"{blob}\n".encode("ascii") for _, _, blob in todo[start:])
    with repo.stream("cat-file", "--batch", stdin=requests, env=env) as out:
        for n in range(start, len(todo)):
            item, kind, blob = todo[n]
            size = _header(out, blob)
            if size is None:
                message = "its staged blob is missing from git's objects; `git add` it again"
                report.add(item.path, kind, (_rule("R105", item, message),))
            elif size > limits.max_file_bytes:
                message = (
                    f"{size} bytes staged, over the limit of {limits.max_file_bytes} "
                    "(limits.max_file_bytes); split or shorten it"
                )
                report.add(item.path, kind, (_rule("R103", item, message),))
                return n + 1  # leaving the block stops git before we read any of it
            else:
                data = out.read(size)
                if len(data) != size or out.read(1) != b"\n":
                    raise GuardError(f"git cat-file stopped in the middle of blob {blob}; rerun")
                report.add(item.path, kind, _check(item, kind, data, limits))
    return len(todo)


def _header(out: IO[bytes], blob: str) -> int | None:
    """The size from `<blob> blob <size>`, or None from `<blob> missing`."""
    line = out.readline(256)
    fields = line.split()
    if fields == [blob.encode("ascii"), b"missing"]:
        return None
    if len(fields) != 3 or fields[:2] != [blob.encode("ascii"), b"blob"] or not fields[2].isdigit():
        what = "nothing" if not line else repr(line[:80])
        raise GuardError(f"git cat-file answered {what} for blob {blob}; rerun")
    return int(fields[2])


def _check(item: Item, kind: Kind, data: bytes, limits: Limits) -> tuple[Finding, ...]:
    try:
        doc = parse_document(item.path, kind, data, limits)
        return tuple(check_document(doc, limits, name=item.name))
    except Exception as exc:  # a bug must cost one file, not the run (security.md 8.3)
        if os.environ.get("GUARD_DEBUG"):
            raise
        message = f"the guard failed on this file ({type(exc).__name__}); report it with --debug"
        return (RULES["R110"].finding(item.path, message),)


class _Report:
    """Findings and counts as `guard validate` gathers them."""

    def __init__(self, keep_files: bool) -> None:
        self.findings: list[Finding] = []
        self.files: list[FileResult] | None = [] if keep_files else None
        self.counts = dict.fromkeys(
            ("files", "files_with_errors", "files_with_warnings", "errors", "warnings", "fixable"),
            0,
        )

    def add(self, path: str, kind: Kind, found: tuple[Finding, ...]) -> None:
        errors = sum(1 for f in found if f.severity is Severity.ERROR)
        self.counts["files"] += 1
        self.counts["errors"] += errors
        self.counts["warnings"] += len(found) - errors
        self.counts["fixable"] += sum(1 for f in found if f.fixable)
        if errors:
            self.counts["files_with_errors"] += 1
        elif found:
            self.counts["files_with_warnings"] += 1
        self.findings.extend(found)
        if self.files is not None:
            self.files.append(FileResult(path=path, kind=kind, findings=found))

    def loose(self, finding: Finding) -> None:
        """A finding about the home's shape rather than about one file."""
        self.counts["errors" if finding.severity is Severity.ERROR else "warnings"] += 1
        self.findings.append(finding)

    def build(self, home: str) -> ValidationReport:
        return ValidationReport(
            home=home,
            counts=Counts(**self.counts),
            findings=tuple(sorted(self.findings, key=Finding.sort_key)),
            files=None if self.files is None else tuple(sorted(self.files, key=lambda f: f.path)),
        )
