"""shell: bring back what sessions deleted, from the parent of the commit that deleted it.

Never overwrites a file that exists again, never rewrites history: a restore is a commit of
its own (`Guard-Phase: restore`), so it can be undone like any other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from gpthome_guard import __version__, archive
from gpthome_guard.apply import write_durably
from gpthome_guard.errors import UsageError
from gpthome_guard.gitrepo import Identity, Repo
from gpthome_guard.models import printable

MAX_RESTORE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Deletion:
    path: str  # as git names it (may hold undecodable bytes, surrogate-escaped)
    commit: str | None  # the commit that deleted it; None: deleted, not yet committed
    session: str | None
    when: str | None

    @property
    def source(self) -> str:
        return f"{self.commit}^" if self.commit else "HEAD"

    @property
    def shown_source(self) -> str:
        return f"{self.commit[:12]}^" if self.commit else "HEAD"


@dataclass(slots=True)
class RestoreResult:
    restored: list[Deletion] = field(default_factory=list)
    exists: list[Deletion] = field(default_factory=list)  # a file is there again: left alone
    skipped: list[tuple[Deletion, str]] = field(default_factory=list)
    commit: str | None = None


def last_session(repo: Repo) -> str | None:
    """The id of the newest session the history holds (its agent commit)."""
    out = repo.run(
        "log",
        "-1",
        "--format=%(trailers:key=Guard-Session,valueonly)",
        "--grep=^Guard-Phase: agent$",
        "HEAD",
        check=False,
    )
    return out.decode("utf-8", "replace").strip() or None


def find_deletions(
    repo: Repo,
    *,
    session: str | None = None,
    since: str | None = None,
    paths: list[str] | None = None,
) -> list[Deletion]:
    """Paths deleted in history (newest deletion per path) and still absent from HEAD, plus
    tracked files deleted since the last commit."""
    if repo.head() is None:
        return []
    specs = [f":(glob){p}" if any(c in p for c in "*?[") else p for p in paths or []]
    args = [
        "log",
        "--no-renames",
        "--diff-filter=D",
        "--name-only",
        "-z",
        "--format=%x1e%H%x1f%cI%x1f%(trailers:key=Guard-Session,valueonly)%x1f"
        "%(trailers:key=Guard-Phase,valueonly)%x1f",
    ]
    if since:
        args.append(f"--since={since}")
    # the user's PATHs may be globs: pathspec magic on for this one call
    out = repo.run(*args, "HEAD", "--", *specs, env={"GIT_LITERAL_PATHSPECS": "0"})
    in_head = set(repo.run("ls-tree", "-r", "-z", "--name-only", "HEAD").split(b"\0"))
    found: dict[str, Deletion] = {}
    for record in out.split(b"\x1e")[1:]:
        # "<sha>\x1f<date>\x1f<session>\n\x1f<phase>\n\x1f\0\n<path>\0..." (git 2.39, -z)
        head, _, names = record.partition(b"\x1f\0")
        sha, when, who, phase = ([*head.split(b"\x1f"), b"", b"", b""])[:4]
        sid = who.decode("utf-8", "replace").strip() or None
        if session is not None and sid != session:
            continue
        if phase.strip() == b"repair":  # the guard's quarantines: `guard quarantine release`
            continue
        for raw in names.lstrip(b"\n").split(b"\0"):
            if raw and raw not in in_head:
                name = os.fsdecode(raw)
                found.setdefault(name, Deletion(name, sha.decode(), sid, when.decode()))
    if session is None and since is None:  # deleted in the work tree, not yet committed
        deleted = repo.run(
            "ls-files", "--deleted", "-z", "--", *specs, env={"GIT_LITERAL_PATHSPECS": "0"}
        )
        for raw in deleted.split(b"\0"):
            if raw:
                found.setdefault(os.fsdecode(raw), Deletion(os.fsdecode(raw), None, None, None))
    return sorted(found.values(), key=lambda d: d.path)


def restore(
    repo: Repo, deletions: list[Deletion], guard: Identity, *, dry_run: bool, reason: str
) -> RestoreResult:
    result = RestoreResult()
    home = repo.work_tree
    for item in deletions:
        if os.path.lexists(home / item.path):
            result.exists.append(item)
            continue
        entry = repo.run("ls-tree", "-z", item.source, "--", item.path, check=False)
        meta = entry.partition(b"\t")[0].decode("ascii", "replace").split()
        if len(meta) != 3 or meta[1] != "blob" or meta[0] not in ("100644", "100755"):
            result.skipped.append(
                (item, "not a regular file in history (a link is never restored)")
            )
            continue
        size = int(repo.run("cat-file", "-s", meta[2]).strip() or 0)
        if size > MAX_RESTORE_BYTES:
            result.skipped.append((item, f"{size} bytes: restore it by hand"))
            continue
        if not dry_run:
            data = repo.run("cat-file", "blob", meta[2])
            try:
                write_file(home, item.path, data, 0o755 if meta[0] == "100755" else 0o644)
            except (OSError, UsageError) as exc:  # a parent is now a link or a file, ...
                why = exc.strerror if isinstance(exc, OSError) else str(exc)
                result.skipped.append((item, f"cannot write it there ({why})"))
                continue
        result.restored.append(item)
    if result.restored and not dry_run:
        repo.stage([d.path for d in result.restored])
        result.commit = repo.commit(_message(result.restored, reason), guard, guard)
    return result


def write_file(home: Path, rel: str, data: bytes, mode: int) -> None:
    """Create `rel` under the home: parents made without following links, the file written
    to a temporary name and linked into place (which fails if the name was taken)."""
    parts = rel.split("/")
    fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            if part in ("", ".", ".."):
                raise UsageError(f"{printable(rel)}: not a path inside the home")
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            next_fd = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = next_fd
        tmp = f".guard-restore-{os.getpid()}.tmp"
        out = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            mode,
            dir_fd=fd,
        )
        try:  # owned like its directory: the agent's, in the agent's own directories
            write_durably(out, data, os.fstat(fd))
        finally:
            os.close(out)
        try:
            os.link(tmp, parts[-1], src_dir_fd=fd, dst_dir_fd=fd)  # never replaces
        finally:
            os.unlink(tmp, dir_fd=fd)
    finally:
        os.close(fd)


def _message(restored: list[Deletion], reason: str) -> str:
    sessions = sorted({d.session for d in restored if d.session})
    commits = sorted({d.commit[:12] for d in restored if d.commit})
    subject = f"restore: {len(restored)} file{'s' if len(restored) != 1 else ''} " + (
        f"deleted in session {sessions[0]}" if len(sessions) == 1 else "deleted earlier"
    )
    lines = [subject[: archive.SUBJECT_MAX], "", reason, "", "Restored:",
             *(f"  - {printable(d.path)} (from {d.shown_source})" for d in restored[:200]), "",
             archive.trailers([("Guard-Phase", "restore"),
                               ("Guard-Session", sessions[0] if len(sessions) == 1 else None),
                               ("Guard-Restores", ",".join(commits) or "HEAD"),
                               ("Guard-Restored", len(restored)),
                               ("Guard-When", dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")),
                               ("Guard-Version", __version__)])]  # fmt: skip
    return "\n".join(lines) + "\n"
