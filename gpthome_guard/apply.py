"""shell: carry out a Plan on the home, one atomic step at a time.

Every write goes to a temporary file in the target's directory, is flushed, and renamed into
place, so a crash leaves each file old or new, never half-written. Files are opened relative
to directory descriptors with O_NOFOLLOW, so no step writes through a link. A file that
changed since it was read is left alone and reported. The bytes a fix or restore replaces are
kept in the quarantine, so nothing the agent wrote is ever lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gpthome_guard import faults
from gpthome_guard.errors import GuardError
from gpthome_guard.plan import Change, Outcome, Plan, Quarantine, RestorePage, Rewrite, sha256
from gpthome_guard.reader import display, read_regular

QUARANTINE = "quarantine"
MANIFEST = "manifest.jsonl"
TMP_PREFIX = ".guard-"
TMP_SUFFIX = ".tmp"
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KEPT_DEPTH = 8  # directories this shallow stay open for the run; deeper, only the last
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class Run:
    """Who is applying: names the quarantine folder and the manifest's records."""

    run_id: str
    session: str | None = None
    when: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def apply_plan(home: Path, plan: Plan, run: Run) -> Outcome:
    outcome = Outcome()
    with _Fs(home, run, faults.step) as fs:
        fs.sweep_temporaries(outcome)
        for action in plan.actions:
            try:
                if isinstance(action, Rewrite):
                    fs.rewrite(action, outcome)
                elif isinstance(action, Quarantine):
                    fs.quarantine(action, outcome)
                else:
                    fs.restore_page(action, outcome)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise GuardError(
                        f"{action.path}: the disk is full; free space and rerun "
                        "(nothing was half-written)"
                    ) from None
                outcome.skipped.append(f"{action.path}: {exc.strerror}; left as it was")
    return outcome


class _Fs:
    def __init__(self, home: Path, run: Run, step: Callable[[], None]) -> None:
        self.run = run
        self.step = step
        self.root = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._dirs: dict[str, int] = {}
        self._counter = 0

    def __enter__(self) -> _Fs:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        os.close(self.root)

    # --- directories -------------------------------------------------------------------

    def dir(self, rel: str, create: bool = False) -> int:
        """A descriptor for home-relative directory `rel`, never through a link."""
        if rel in ("", "."):
            return self.root
        # iterative, one component at a time from the nearest directory already open: a tree
        # a thousand levels deep must not exhaust the stack
        parts = rel.split("/")
        depth = len(parts)
        while depth and "/".join(parts[:depth]) not in self._dirs:
            depth -= 1
        fd = self._dirs["/".join(parts[:depth])] if depth else self.root
        for n in range(depth, len(parts)):
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(parts[n], 0o700, dir_fd=fd)
            parent, fd = fd, os.open(parts[n], _DIR, dir_fd=fd)
            if n > depth and n - 1 >= _KEPT_DEPTH:  # deep in: keep few descriptors open
                os.close(parent)
            if n < _KEPT_DEPTH or n == len(parts) - 1:
                self._dirs["/".join(parts[: n + 1])] = fd
        return fd

    @property
    def run_dir(self) -> str:
        return f"{QUARANTINE}/{self.run.run_id}"

    # --- primitives ----------------------------------------------------------------------

    def _read(self, dir_fd: int, name: str) -> bytes | None:
        """The bytes of a regular file, or None if it is anything else or gone."""
        return read_regular(name, dir_fd=dir_fd)

    def _write_new(
        self, dir_fd: int, data: bytes, mode: int = 0o644, like: os.stat_result | None = None
    ) -> str:
        """Write `data` to a fresh temporary file in the directory; return its name. With
        `like`, the file gets that file's exact mode and owner (the guard may run as root
        while the agent owns its files: a fix must not take them away from it)."""
        self._counter += 1
        name = f"{TMP_PREFIX}{os.getpid()}-{self._counter}{TMP_SUFFIX}"
        fd = os.open(name, _CREATE, mode, dir_fd=dir_fd)
        try:
            if like is not None:
                os.fchmod(fd, stat.S_IMODE(like.st_mode))
            write_durably(fd, data, like)
        finally:
            os.close(fd)
        self.step()
        return name

    def _free_name(self, dir_fd: int, name: str) -> str:
        candidate, n = name, 1
        while _exists(dir_fd, candidate):
            n += 1
            candidate = f"{name}.{n}"
        return candidate

    def _store(
        self,
        fs_rel: str,
        data: bytes,
        kind: str,
        action: Rewrite | RestorePage,
        under: str,
        extra: dict[str, str] | None = None,
    ) -> str:
        """Keep the bytes being replaced, as a copy: quarantine/<run>/<under><fs_rel>."""
        directory, _, name = f"{self.run_dir}/{under}{fs_rel}".rpartition("/")
        dir_fd = self.dir(directory, create=True)
        tmp = self._write_new(dir_fd, data, 0o600)
        final = self._free_name(dir_fd, name)
        os.rename(tmp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        findings = action.changes if isinstance(action, Rewrite) else action.findings
        where = f"{directory}/{final}"
        self._record(action.fs_path, where, kind, len(data), sha256(data), findings, extra)
        return where

    def _move_out(
        self,
        rel: str,
        fs_rel: str,
        findings: tuple[Change, ...],
        digest: str | None,
        size: int | None,
        action: str = "quarantined",
    ) -> str:
        """Rename the entry itself (file, link, FIFO, directory) into the quarantine."""
        src_dir, _, src_name = fs_rel.rpartition("/")
        directory, _, name = f"{self.run_dir}/{fs_rel}".rpartition("/")
        dst_fd = self.dir(directory, create=True)
        final = self._free_name(dst_fd, name)
        where = f"{directory}/{final}"
        self._record(fs_rel, where, action, size, digest, findings)
        os.rename(src_name, final, src_dir_fd=self.dir(src_dir), dst_dir_fd=dst_fd)
        os.fsync(dst_fd)  # the move is on disk before the run goes on
        os.fsync(self.dir(src_dir))
        self.step()
        return where

    def _record(
        self,
        fs_path: str,
        stored: str,
        kind: str,
        size: int | None,
        digest: str | None,
        findings: tuple[Change, ...],
        extra: dict[str, str] | None = None,
    ) -> None:
        """Append one line to the run's manifest (JSON lines: one write and fsync a record,
        so a run that sets aside thousands of files stays linear). Paths are kept twice: as
        printable text, and as the exact bytes (hex) that release needs."""
        record = {
            "path": display(fs_path),
            "stored_as": display(stored),
            "path_bytes": os.fsencode(fs_path).hex(),
            "stored_as_bytes": os.fsencode(stored).hex(),
            "action": kind,
            "size": size,
            "sha256": digest,
            "findings": [c.model_dump() for c in findings],
            "when": self.run.when,
            "session": self.run.session,
            "run": self.run.run_id,
            **(extra or {}),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        dir_fd = self.dir(self.run_dir, create=True)
        fd = os.open(MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)  # fmt: skip
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.step()

    # --- actions -------------------------------------------------------------------------

    def sweep_temporaries(self, outcome: Outcome) -> None:
        """Move leftovers of an interrupted run (our temporary files) into the quarantine."""
        for directory in ("thoughts", "dreams", "landing-page", "about"):
            try:
                dir_fd = self.dir(directory)
            except OSError:
                continue
            with os.scandir(dir_fd) as it:
                names = [e.name for e in it]
            for name in names:
                if name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX):
                    rel = f"{directory}/{name}"
                    note = Change(
                        code="-",
                        name="interrupted-write",
                        message="a temporary file left by an interrupted run",
                    )
                    where = self._move_out(rel, rel, (note,), None, None, action="leftover")
                    outcome.swept.append(where)
                    outcome.done.append(
                        f"set aside {display(rel)} -> {display(where)} ({note.message})"
                    )

    def rewrite(self, action: Rewrite, outcome: Outcome) -> None:
        directory, _, name = action.fs_path.rpartition("/")
        renamed = {"renamed_to": action.rename_to} if action.rename_to else None
        dir_fd = self.dir(directory)
        current = self._read(dir_fd, name)
        if current is None or sha256(current) != action.old_sha256:
            outcome.skipped.append(f"{action.path}: changed since it was read; left as it is")
            return
        target = action.rename_to.rpartition("/")[2] if action.rename_to else name
        if action.rename_to and _exists(dir_fd, target):
            there = self._read(dir_fd, target)
            if there is None or sha256(there) != action.new_sha256:
                outcome.skipped.append(
                    f"{action.path}: {action.rename_to} appeared meanwhile; left as it is"
                )
                return
            # an interrupted run renamed it already: keep the original, drop the old name
            self._store(action.fs_path, current, "fixed", action, "originals/", renamed)
            os.unlink(name, dir_fd=dir_fd)
            self.step()
            outcome.done.append(f"fixed {action.path} -> {action.rename_to} (finished)")
            return
        like = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        self._store(action.fs_path, current, "fixed", action, "originals/", renamed)
        tmp = self._write_new(dir_fd, action.new_text.encode("utf-8"), like=like)
        os.rename(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.fsync(dir_fd)  # the new name is on disk, not only the new bytes
        self.step()
        if action.rename_to:
            os.unlink(name, dir_fd=dir_fd)
            self.step()
        codes = ", ".join(sorted({c.code for c in action.changes}))
        moved = f" -> {action.rename_to}" if action.rename_to else ""
        outcome.done.append(f"fixed {action.path}{moved} ({codes})")

    def quarantine(self, action: Quarantine, outcome: Outcome) -> None:
        directory, _, name = action.fs_path.rpartition("/")
        dir_fd = self.dir(directory)
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            outcome.skipped.append(f"{action.path}: gone since it was read")
            return
        if action.sha256 is not None:
            current = self._read(dir_fd, name)
            if current is None or sha256(current) != action.sha256:
                outcome.skipped.append(f"{action.path}: changed since it was read; left as it is")
                return
        size = st.st_size if stat.S_ISREG(st.st_mode) else None
        kind = "removed" if action.remove else "quarantined"
        where = self._move_out(
            action.path, action.fs_path, action.findings, action.sha256, size, kind
        )
        stored_dir, _, stored = where.rpartition("/")
        if action.remove:  # recorded in the manifest; the thing itself holds no data
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stored, dir_fd=self.dir(stored_dir))
            self.step()
            outcome.done.append(f"removed {action.path} (recorded in {self.run_dir})")
            return
        if action.private and stat.S_ISREG(st.st_mode):
            os.chmod(stored, 0o600, dir_fd=self.dir(stored_dir))
        outcome.quarantined.append(where)
        outcome.done.append(f"quarantined {action.path} -> {display(where)}")

    def restore_page(self, action: RestorePage, outcome: Outcome) -> None:
        directory, _, name = action.fs_path.rpartition("/")
        dir_fd = self.dir(directory)
        current = self._read(dir_fd, name)
        if current is not None and sha256(current) == action.new_sha256:
            return  # already restored
        if action.sha256 is not None and (current is None or sha256(current) != action.sha256):
            outcome.skipped.append(f"{action.path}: changed since it was read; left as it is")
            return
        like = None
        with contextlib.suppress(FileNotFoundError):
            like = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if like is not None and not stat.S_ISREG(like.st_mode):
            like = None
        tmp = self._write_new(dir_fd, action.new_text.encode("utf-8"), like=like)
        if current is not None:  # the invalid page, set aside (a copy: the name stays served)
            outcome.quarantined.append(
                self._store(
                    action.fs_path,
                    current,
                    "quarantined",
                    action,
                    "",
                    {"restored_from": action.commit},
                )
            )
        elif _exists(dir_fd, name):  # a link, a directory, ...: the thing itself moves
            outcome.quarantined.append(
                self._move_out(action.path, action.fs_path, action.findings, None, None)
            )
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.fsync(dir_fd)
        self.step()
        outcome.done.append(
            f"restored {action.path} from {action.commit[:12]} (the invalid "
            "version is in the quarantine)"
        )


def write_durably(fd: int, data: bytes, owner: os.stat_result | None = None) -> None:
    """Write all of `data` to a new file and flush it to disk. With `owner`, the file gets
    that owner (the guard may run as root while the agent owns its files and directories:
    what the guard writes for it must stay the agent's)."""
    if owner is not None and (owner.st_uid, owner.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):
            os.fchown(fd, owner.st_uid, owner.st_gid)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
