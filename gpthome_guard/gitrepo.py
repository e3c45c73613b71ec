"""shell: the only module that runs git. Every call is hardened against the repository's
own configuration and the caller's environment (../shared/reference/security.md, 1.1-1.3).

git runs as a subprocess with an environment we build: GitPython's `Git.execute` merges its
environment into `os.environ`, so it cannot drop an inherited `GIT_DIR`, `GIT_INDEX_FILE` or
`GIT_CONFIG_PARAMETERS`, which would redirect or reconfigure every call.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gpthome_guard import faults
from gpthome_guard.errors import GuardError

# Settings that could make git run a program, descend into a planted repository, or change
# what is stored. Each overrides whatever the repository's own config says.
_HARDENING = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "core.autocrlf=false",
    "-c", "core.safecrlf=false",
    "-c", "core.symlinks=true",
    "-c", "core.quotePath=false",
    "-c", "diff.ignoreSubmodules=all",
    "-c", "diff.external=",
    "-c", "status.showUntrackedFiles=all",
    "-c", "core.pager=cat",
    "-c", "commit.gpgSign=false",
    "-c", "protocol.ext.allow=never",
    "-c", "gc.auto=0",
)  # fmt: skip
TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    @property
    def author(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True, slots=True)
class Change:
    """One line of `git diff --cached --name-status`: A, M, D, T or R (with the old path)."""

    status: str
    path: str
    old_path: str | None = None


class Repo:
    """A repository whose work tree is the home; its git directory may live elsewhere."""

    def __init__(self, work_tree: Path, git_dir: Path | None = None) -> None:
        self.work_tree = work_tree.resolve()
        self.git_dir = (git_dir if git_dir is not None else work_tree / ".git").resolve()

    def _env(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        # never mistake a home without its own repository for part of an enclosing one
        env["GIT_CEILING_DIRECTORIES"] = str(self.work_tree.parent)
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = os.devnull
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_OPTIONAL_LOCKS"] = "0"
        env["LC_ALL"] = "C"
        # names from the tree are names, never globs (a file may be called `dreams/*.md`)
        env["GIT_LITERAL_PATHSPECS"] = "1"
        env.update(extra or {})
        return env

    def _command(self, args: Sequence[str]) -> list[str]:
        return [
            "git", f"--git-dir={self.git_dir}", f"--work-tree={self.work_tree}",
            # the home may belong to the agent's user: trust this one repository, by name
            "-c", f"safe.directory={self.work_tree}", *_HARDENING, *args,
        ]  # fmt: skip

    def _exec(
        self, args: Sequence[str], stdin: bytes | None, env: dict[str, str] | None, timeout: float
    ) -> subprocess.CompletedProcess[bytes]:
        command = self._command(args)
        try:
            return subprocess.run(
                command, input=stdin, capture_output=True, env=self._env(env),
                timeout=timeout, check=False, cwd=self.work_tree,
            )  # fmt: skip
        except FileNotFoundError:
            raise GuardError("git is not installed; install git and rerun") from None
        except subprocess.TimeoutExpired:
            raise GuardError(f"git {args[0]} took longer than {timeout:.0f} s; gave up") from None

    def run(
        self,
        *args: str,
        check: bool = True,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = TIMEOUT_S,
    ) -> bytes:
        result = self._exec(args, stdin, env, timeout)
        faults.step()
        if check and result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GuardError(f"git {args[0]} failed: {lines[-1] if lines else result.returncode}")
        return result.stdout

    @contextlib.contextmanager
    def stream(
        self,
        *args: str,
        stdin: Iterable[bytes],
        env: dict[str, str] | None = None,
        timeout: float = TIMEOUT_S,
    ) -> Iterator[IO[bytes]]:
        """git's stdout as a stream, for output too large to hold at once (`cat-file
        --batch`). `stdin` is fed from a thread, so that git never waits on a full pipe while
        we wait on git. Leaving the block stops git: the caller reads only what it wants."""
        with tempfile.TemporaryFile() as errors:  # a file: a chatty git cannot block on it
            try:
                proc = subprocess.Popen(
                    self._command(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=errors, env=self._env(env), cwd=self.work_tree,
                )  # fmt: skip
            except FileNotFoundError:
                raise GuardError("git is not installed; install git and rerun") from None
            assert proc.stdin is not None
            assert proc.stdout is not None
            late = threading.Event()

            def stop() -> None:
                late.set()
                proc.kill()

            timer = threading.Timer(timeout, stop)
            feeder = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
            timer.start()
            feeder.start()
            try:
                yield proc.stdout
            except GuardError:  # the caller found the output cut short: say why, if git did
                proc.kill()
                proc.wait()
                errors.seek(0)
                lines = errors.read().decode("utf-8", "replace").strip().splitlines()
                if late.is_set():
                    message = f"git {args[0]} took longer than {timeout:.0f} s; gave up"
                    raise GuardError(message) from None
                if lines:
                    raise GuardError(f"git {args[0]} failed: {lines[-1]}") from None
                raise
            finally:
                proc.kill()
                proc.stdout.close()
                feeder.join()  # its next write fails, if it had any left
                proc.wait()
                timer.cancel()
                faults.step()

    # --- questions ---------------------------------------------------------------------

    def is_repo(self) -> bool:
        if not self.git_dir.is_dir():
            return False
        try:
            out = self.run("rev-parse", "--is-inside-work-tree", check=False)
        except GuardError:
            return False
        return out.strip() == b"true"

    def head(self) -> str | None:
        out = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip()
        return out.decode("ascii") if out else None

    def commits_touching(self, path: str) -> Iterator[str]:
        """Commits that changed `path`, newest first (renames not followed)."""
        if self.head() is None:
            return
        out = self.run("log", "--no-renames", "--format=%H", "HEAD", "--", path, check=False)
        yield from out.decode("ascii", "replace").split()

    def blob(self, commit: str, path: str, max_bytes: int) -> bytes | None:
        """The bytes of `path` at `commit`, or None if absent, not a file, or too large."""
        out = self.run("ls-tree", "-z", commit, "--", path, check=False)
        if not out:
            return None
        meta, _, _ = out.partition(b"\t")
        mode, kind, sha = meta.decode("ascii", "replace").split(" ")
        if kind != "blob" or mode not in ("100644", "100755"):
            return None
        size = int(self.run("cat-file", "-s", sha).strip() or 0)
        if size > max_bytes:
            return None
        return self.run("cat-file", "blob", sha)

    def first_added(self, path: str) -> str | None:
        """The day (YYYY-MM-DD, committer date) `path` first appeared in history."""
        if self.head() is None:
            return None
        out = self.run(
            "log", "--diff-filter=A", "--format=%cs", "--reverse", "HEAD", "--", path, check=False
        )
        days = out.decode("ascii", "replace").split()
        return days[0] if days else None

    def staged(self) -> list[Change]:
        """What the index holds against HEAD, renames detected (read from `-z` bytes)."""
        base = self.head() or self.run("hash-object", "-t", "tree", "/dev/null").decode().strip()
        return _name_status(self.run(
            "diff", "--cached", "--name-status", "-z", "-M", "--no-ext-diff",
            "--ignore-submodules=all", base, "--",
        ))  # fmt: skip

    def committed(self, commit: str) -> list[Change]:
        """What `commit` changed against its first parent (or, for a root commit, all)."""
        return _name_status(self.run(
            "diff-tree", "-r", "-z", "--name-status", "-M", "--no-commit-id", "--root",
            "--no-ext-diff", commit, "--",
        ))  # fmt: skip

    def worktree_changes(self, pathspecs: Sequence[str]) -> list[tuple[str, str]]:
        """(status, path) of every file under the pathspecs that differs from the index or is
        untracked and not ignored: `M`, `A` (untracked), `D` or `T`. Renames are not
        paired (a rename is a `D` and an `A`). Run only once nested repositories are gone."""
        out = self.run(
            "status", "--porcelain=v1", "-z", "--untracked-files=all",
            "--ignore-submodules=all", "--no-renames", "--", *pathspecs,
        )  # fmt: skip
        changes = []
        for entry in out.split(b"\0"):
            if len(entry) < 4:
                continue
            xy, path = entry[:2].decode("ascii", "replace"), _name(entry[3:])
            if xy == "??":
                changes.append(("A", path))
            elif "D" in xy:
                changes.append(("D", path))
            else:
                changes.append(("T" if "T" in xy else "M", path))
        return changes

    # --- changes -----------------------------------------------------------------------

    def init(self) -> None:
        self.git_dir.parent.mkdir(parents=True, exist_ok=True)
        self.run("init", "-q", "-b", "main")
        # the work tree is passed on every call; record it for people who run git by hand
        if self.git_dir != (self.work_tree / ".git"):
            self.run("config", "core.worktree", str(self.work_tree))

    def stage(self, pathspecs: Sequence[str], *, magic: bool = False, force: bool = False) -> None:
        """Stage additions, changes and deletions under the pathspecs; never a gitlink.
        Pathspecs are literal names unless `magic` (for the guard's own `:(exclude)`s)."""
        env = {"GIT_LITERAL_PATHSPECS": "0"} if magic else None
        # force: a .gitignore the agent planted must not hide its content from the archive
        flags = ["-A", "--ignore-errors", *(["--force"] if force else [])]
        self.run("add", *flags, "--", *pathspecs, check=False, env=env)
        # a nested repository is staged as a gitlink (mode 160000): take it out again
        # (security.md 1.1); only the staged changes are read, not the whole index
        base = self.head() or self.run("hash-object", "-t", "tree", "/dev/null").decode().strip()
        raw = self.run(
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--ignore-submodules=none",
            base,
            "--",
            *pathspecs,
            env=env,
        ).split(b"\0")
        for meta, name in zip(raw[::2], raw[1::2], strict=False):
            if meta.split(b" ")[1:2] == [b"160000"]:
                self.run("update-index", "--force-remove", "--", _name(name))

    def stage_exactly(self, paths: Sequence[str]) -> None:
        """Stage these files as they are now: added, changed, or removed when gone. No walk
        of the tree (the caller knows what changed); a directory name is skipped, so nothing
        can become a gitlink."""
        names = [os.fsencode(p) for p in paths if p and not p.endswith("/")]
        if names:
            self.run(
                "update-index", "--add", "--remove", "-z", "--stdin",
                stdin=b"".join(n + b"\0" for n in names),
            )  # fmt: skip

    def unstage(self, paths: Sequence[str]) -> None:
        """Put the index back to HEAD for these paths (the work tree is not touched)."""
        if paths and self.head() is not None:  # the paths through stdin: there may be many
            self.run(
                "reset",
                "-q",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
                "HEAD",
                stdin=b"".join(os.fsencode(p) + b"\0" for p in paths),
            )

    def has_staged(self) -> bool:
        if self.head() is None:
            return bool(self.run("ls-files", "-z"))
        args = ("diff", "--cached", "--quiet", "--ignore-submodules=all")
        return self._exec(args, None, None, TIMEOUT_S).returncode == 1

    def commit(
        self, message: str, author: Identity, committer: Identity, *, always: bool = False
    ) -> str | None:
        """Commit what is staged; None when nothing is (unless `always`: a session that
        changed nothing but did something worth recording). The message goes through stdin."""
        if not self.has_staged() and not (always and self.head() is not None):
            return None
        env = {
            "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
        }  # fmt: skip
        self.run(
            "commit",
            "-q",
            "--no-verify",
            "--cleanup=verbatim",
            "--allow-empty",
            "-F",
            "-",
            stdin=message.encode("utf-8"),
            env=env,
        )
        return self.head()


def _feed(pipe: IO[bytes], chunks: Iterable[bytes]) -> None:
    try:
        with pipe:
            for chunk in chunks:
                pipe.write(chunk)
    except (BrokenPipeError, ValueError):  # git stopped reading (it was killed): nothing to do
        pass


def _name_status(out: bytes) -> list[Change]:
    fields = out.split(b"\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) - 1:
        status = fields[i].decode("ascii", "replace")
        if status.startswith(("R", "C")):
            old, new = _name(fields[i + 1]), _name(fields[i + 2])
            changes.append(Change("R" if status[0] == "R" else "A", new, old))
            i += 3
        else:
            changes.append(Change(status[:1], _name(fields[i + 1])))
            i += 2
    return changes


def _name(raw: bytes) -> str:
    return os.fsdecode(raw)
