"""shell: the access audit. Fingerprint what the agent may not change, find what it left that
could hurt the guard, git or the site, and what must never reach git (secrets, huge files).

Nothing here runs git before the hazards (nested repositories, planted ignore and attribute
files, links, FIFOs) are listed: the caller sets them aside first (security.md 1.1, 1.3).
Walks never follow a link, never open a FIFO, and use d_type where a full stat is not needed.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gpthome_guard.access import (
    FORBIDDEN,
    READ_ONLY,
    WRITABLE,
    Stat,
    Zone,
    zone_of,
)
from gpthome_guard.plan import sha256

CACHE_DIRS = frozenset({"__pycache__", ".venv", "venv", "node_modules", ".mypy_cache",
                        ".pytest_cache", ".ruff_cache", ".cache"})  # fmt: skip
GIT_CONTROL = frozenset({".gitignore", ".gitattributes", ".gitmodules"})
MAX_ENTRIES = 200_000  # a fingerprint is cut at this many paths (memory stays bounded)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# In the git directory, what git itself rewrites or what grows without bound is not watched:
# objects (their names are their hashes: a change is a new name, which `git fsck` checks),
# reflogs, and the guard's own state.
_GIT_UNWATCHED = ("objects/", "logs/", "gpthome-guard/")


@dataclass(frozen=True, slots=True)
class Map:
    """The map of one home: the defaults plus `[access]` in guard.toml."""

    read_only: tuple[str, ...]
    forbidden: tuple[str, ...]
    git_rel: str | None  # the git directory, relative to the home, when it lies inside it

    @classmethod
    def of(cls, home: Path, git_dir: Path, forbidden: list[str], read_only: list[str]) -> Map:
        try:
            rel: str | None = git_dir.resolve().relative_to(home.resolve()).as_posix()
        except ValueError:
            rel = None
        extra = (rel.split("/", 1)[0],) if rel and rel.split("/", 1)[0] not in FORBIDDEN else ()
        return cls(
            tuple(dict.fromkeys([*READ_ONLY, *read_only])),
            tuple(dict.fromkeys([*FORBIDDEN, *forbidden, *extra])),
            rel,
        )

    def zone(self, path: str) -> Zone:
        return zone_of(path, self.read_only, self.forbidden)

    def watched(self) -> tuple[str, ...]:
        return (*self.forbidden, *self.read_only)


def _type(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "link"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "char device"), (stat.S_ISBLK, "block device")):  # fmt: skip
        if test(mode):
            return name
    return "other"


def _stat(st: os.stat_result, digest: str | None = None) -> Stat:
    return Stat(_type(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size,
                st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest, st.st_nlink)  # fmt: skip


def _hash(path: Path, limit: int) -> str | None:
    try:
        fd = os.open(path, _FILE)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            if sum(map(len, chunks)) > limit:
                return None
        return sha256(b"".join(chunks))
    except OSError:
        return None
    finally:
        os.close(fd)


def fingerprint(
    home: Path, home_map: Map, hash_limit: int, previous: dict[str, Stat] | None = None
) -> dict[str, Stat]:
    """Every path under the forbidden and read-only names, and every entry at the home's root
    (so a new one shows). A file's hash is reused from `previous` when nothing about it
    changed, so the cost follows what changed, not the size of logs/ or visitors/."""
    previous = previous or {}
    found: dict[str, Stat] = {}
    with contextlib.suppress(OSError), os.scandir(home) as it:
        for entry in it:
            with contextlib.suppress(OSError):
                found[entry.name] = _stat(entry.stat(follow_symlinks=False))
    for top in home_map.watched():
        if top not in found:
            continue
        for rel, st in _walk(home, top, home_map.git_rel):
            if len(found) >= MAX_ENTRIES:
                break
            record = _stat(st)
            if record.type == "file" and st.st_size <= hash_limit:
                old = previous.get(rel)
                digest = (
                    old.sha256
                    if old is not None and old.sha256 and old.same_inode_state(record)
                    else _hash(home / rel, hash_limit)
                )
                record = _stat(st, digest)
            found[rel] = record
    return found


def _tree(
    home: Path, top: str, enter: Callable[[str, os.DirEntry[str]], bool]
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry below the directory `top`, depth first, never through a link; `enter`
    says whether to go into a directory (it is yielded either way)."""
    stack = [top]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(home / rel) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            path = f"{rel}/{entry.name}"
            yield path, entry
            try:
                if entry.is_dir(follow_symlinks=False) and enter(path, entry):
                    stack.append(path)
            except OSError:
                continue


def _walk(home: Path, top: str, git_rel: str | None) -> Iterator[tuple[str, os.stat_result]]:
    try:
        st = os.lstat(home / top)
    except OSError:
        return
    yield top, st
    if not stat.S_ISDIR(st.st_mode):
        return

    def watched(path: str, _: object = None) -> bool:
        if not git_rel or not path.startswith(git_rel + "/"):
            return True
        inner = path[len(git_rel) + 1 :] + "/"
        return not inner.startswith(_GIT_UNWATCHED) or inner.startswith("objects/info/")

    for path, entry in _tree(home, top, watched):
        if watched(path):
            try:
                yield path, entry.stat(follow_symlinks=False)
            except OSError:
                continue


# --- hazards in the agent's directories ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hazard:
    """Something in the agent's directories to set aside before git runs."""

    path: str  # home-relative, as on disk
    code: str  # a rule code (A603-A607)
    message: str
    remove: bool = False  # a FIFO, socket or device: recorded, then removed


def hazards(home: Path) -> list[Hazard]:
    """Links, FIFOs, sockets, devices, nested repositories and planted git control files in
    the agent's directories, found by readdir alone (no stat per file). Caches that git
    ignores anyway (node_modules, .venv, ...) are not descended into."""
    found: list[Hazard] = []
    for top in WRITABLE:
        try:
            st = os.lstat(home / top)
        except OSError:  # absent (or unreadable): nothing to set aside
            continue
        if not stat.S_ISDIR(st.st_mode):
            found.append(_hazard(top, st.st_mode))
            continue
        for path, entry in _tree(home, top, _enter):
            try:
                if entry.name == ".git":
                    found.append(Hazard(path, "A606", "a nested git repository (.git)"))
                elif entry.is_symlink():
                    found.append(Hazard(path, "A604", "a symbolic link"))
                elif entry.is_dir(follow_symlinks=False):
                    continue
                elif entry.is_file(follow_symlinks=False):
                    if entry.name in GIT_CONTROL:
                        found.append(Hazard(path, "A607", f"a planted {entry.name}"))
                else:
                    found.append(_hazard(path, entry.stat(follow_symlinks=False).st_mode))
            except OSError:
                continue
    return sorted(found, key=lambda h: h.path)


def _enter(_: str, entry: os.DirEntry[str]) -> bool:
    """Not into a nested repository (it is set aside whole) nor into caches git ignores."""
    return entry.name != ".git" and entry.name not in CACHE_DIRS


def _hazard(path: str, mode: int) -> Hazard:
    kind = _type(mode)
    if kind == "link":
        return Hazard(path, "A604", "a symbolic link")
    if kind in ("fifo", "socket", "char device", "block device", "other"):
        return Hazard(path, "A605", f"a {kind}", remove=True)
    return Hazard(path, "A603", f"a {kind} where a directory belongs")


# --- what the session wrote: read once, bounded ------------------------------------------


def read_candidate(home: Path, rel: str, cap: int) -> tuple[os.stat_result, bytes | None] | None:
    """A written file's stat and (when it is at most `cap` bytes) its bytes; None when it is
    not a regular file any more. Never follows a link, never blocks on a FIFO."""
    try:
        fd = os.open(f"{os.fspath(home)}/{rel}", _FILE)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > cap or st.st_nlink > 1:  # a hard link's bytes may not be ours to read
            return st, None
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                return st, None
        return st, b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def free_bytes(home: Path) -> int | None:
    try:
        vfs = os.statvfs(home)
    except OSError:
        return None
    return vfs.f_bavail * vfs.f_frsize
