"""shell: the only module that runs git. Every call is hardened against the repository's
own configuration and the caller's environment (../shared/reference/security.md, 1.1-1.3).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from gpthome_guard.errors import GuardError

# Settings that could make git run a program or descend into a planted repository.
_HARDENING = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "diff.ignoreSubmodules=all",
    "-c",
    "diff.external=",
    "-c",
    "core.pager=cat",
    "-c",
    "protocol.ext.allow=never",
)
_TIMEOUT = 60


def _env(work_tree: Path) -> dict[str, str]:
    """The environment without GIT_* variables, which could redirect or reconfigure git, and
    with discovery stopped at the home, so that a home without a repository of its own is
    never mistaken for part of an enclosing one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CEILING_DIRECTORIES"] = str(work_tree.resolve().parent)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


class Repo:
    def __init__(self, work_tree: Path) -> None:
        self.work_tree = work_tree

    def run(self, *args: str, check: bool = True, stdin: bytes | None = None) -> bytes:
        command = ["git", "-C", str(self.work_tree), *_HARDENING, *args]
        try:
            result = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                env=_env(self.work_tree),
                timeout=_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GuardError(f"git {args[0]} failed: {exc}; check that git is installed") from None
        if check and result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GuardError(
                f"git {args[0]} failed: {message[-1] if message else result.returncode}"
            )
        return result.stdout

    def is_repo(self) -> bool:
        try:
            out = self.run("rev-parse", "--is-inside-work-tree", check=False)
        except GuardError:
            return False
        return out.strip() == b"true"

    def commits_touching(self, path: str) -> Iterator[str]:
        """Commits that changed `path`, newest first (renames not followed)."""
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
        out = self.run(
            "log", "--diff-filter=A", "--format=%cs", "--reverse", "HEAD", "--", path, check=False
        )
        days = out.decode("ascii", "replace").split()
        return days[0] if days else None
