"""shell: read the home's content directories without ever following a link or blocking.

Every entry is examined with lstat and opened relative to a directory descriptor with
O_NOFOLLOW | O_NONBLOCK, so a symlink, FIFO or swapped-in directory becomes a finding,
never a read outside the home or a hang (../shared/reference/security.md, section 2).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gpthome_guard.config import Limits
from gpthome_guard.conventions import PAGES, SKIPPED_NAMES, kind_of
from gpthome_guard.models import Finding, Kind, printable
from gpthome_guard.rules import RULES

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def display(name: str) -> str:
    """A path as text that is safe to print: undecodable bytes and control characters escaped."""
    return printable(os.fsencode(name).decode("utf-8", "backslashreplace"))


def read_regular(
    name: str | Path, limit: int | None = None, dir_fd: int | None = None
) -> bytes | None:
    """A regular file's bytes (at most `limit`), read without following a link or blocking
    on a FIFO; None when it is anything else, gone or unreadable."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, left = [], limit if limit is not None else -1
        while left != 0 and (chunk := os.read(fd, 1 << 20 if left < 0 else min(left, 1 << 20))):
            chunks.append(chunk)
            left = left - len(chunk) if left > 0 else left
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Item:
    """One directory entry to check: `directory` is a content directory, `name` its entry."""

    directory: str
    name: str
    regular: bool = False  # readdir said it is a regular file (a hint: verified after open)

    @property
    def path(self) -> str:
        return display(self.fs_path)

    @property
    def fs_path(self) -> str:
        return f"{self.directory}/{self.name}"


@dataclass(frozen=True, slots=True)
class Raw:
    """What reading an Item gave: its bytes, or the finding that stopped the read."""

    item: Item
    kind: Kind
    data: bytes | None = None
    finding: Finding | None = None
    mtime: float = 0.0


class Home:
    """Descriptors for the home's root and content directories, opened without following links."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._dirs: dict[str, int | OSError] = {}

    def close(self) -> None:
        for fd in self._dirs.values():
            if isinstance(fd, int):
                os.close(fd)
        os.close(self._root_fd)

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def dir_fd(self, directory: str) -> int | OSError:
        if directory not in self._dirs:
            try:
                self._dirs[directory] = os.open(directory, _DIR_FLAGS, dir_fd=self._root_fd)
            except OSError as exc:
                self._dirs[directory] = exc
        return self._dirs[directory]

    def lstat(self, path: str) -> os.stat_result | None:
        try:
            return os.stat(path, dir_fd=self._root_fd, follow_symlinks=False)
        except OSError:
            return None

    def scan(self, directory: str) -> tuple[Iterator[Item], list[Finding]]:
        """The entries of a content directory (lazily, so memory does not grow with the
        home), and the findings about the directory itself."""
        st = self.lstat(directory)
        if st is None:
            return iter(()), _missing_pages(directory, set())
        if not stat.S_ISDIR(st.st_mode):
            what = _file_type(st.st_mode)
            return iter(()), [
                RULES["H503"].finding(
                    display(directory), f"{directory} is {what}, not a directory; it is not read"
                )
            ]
        fd = self.dir_fd(directory)
        if isinstance(fd, OSError):
            return iter(()), [  # a directory the guard cannot open: a problem, not content
                RULES["R105"].finding(
                    display(directory),
                    f"cannot open {directory}/: {fd.strerror}; give the guard's user access to it",
                )
            ]
        present = {
            p.split("/", 1)[1]
            for p in PAGES
            if p.startswith(f"{directory}/") and self.lstat(p) is not None
        }
        return self._entries(directory, fd), _missing_pages(directory, present)

    def count(self, directory: str) -> int:
        fd = self.dir_fd(directory)
        if isinstance(fd, OSError):
            return 0
        with os.scandir(fd) as entries:
            return sum(1 for _ in entries)

    @staticmethod
    def _entries(directory: str, fd: int) -> Iterator[Item]:
        with os.scandir(fd) as entries:
            for entry in entries:
                regular = entry.is_file(follow_symlinks=False)
                if entry.name not in SKIPPED_NAMES or not regular:  # a README link is no README
                    yield Item(directory, entry.name, regular)

    def read(self, item: Item, limits: Limits) -> Raw:
        kind = kind_of(item.directory, item.name)
        fd = self.dir_fd(item.directory)
        if isinstance(fd, OSError):
            return Raw(
                item, kind, finding=_rule("R105", item, f"cannot open the directory: {fd.strerror}")
            )
        if item.regular and kind is not Kind.OTHER:
            return _read_file(item, kind, fd, limits)  # open() and fstat() check it again
        try:
            st = os.stat(item.name, dir_fd=fd, follow_symlinks=False)
        except OSError as exc:
            return Raw(item, kind, finding=_rule("R105", item, f"cannot stat: {exc.strerror}"))
        problem = _unreadable(item, kind, st, fd, limits)
        if problem is not None:
            return Raw(item, kind, finding=problem)
        if kind is Kind.OTHER:
            return Raw(
                item,
                kind,
                finding=_rule(
                    "H501", item, "not content the site serves; move it to sandbox/ or projects/"
                ),
            )
        return _read_file(item, kind, fd, limits)


def _rule(code: str, item: Item, message: str) -> Finding:
    return RULES[code].finding(item.path, message)


def _missing_pages(directory: str, present: set[str]) -> list[Finding]:
    return [
        RULES["H504"].finding(page, f"{page} is missing; the site has no such page to show")
        for page in PAGES
        if page.startswith(f"{directory}/") and page.split("/", 1)[1] not in present
    ]


def _file_type(mode: int) -> str:
    for test, what in (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISREG, "a file"),
    ):
        if test(mode):
            return what
    return "an unknown kind of file"


def _unreadable(
    item: Item, kind: Kind, st: os.stat_result, dir_fd: int, limits: Limits
) -> Finding | None:
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        # the target is not shown: a link's text is the agent's to choose, and may be a secret
        return _rule("R101", item, "a symlink; links are never followed: write a regular file")
    if stat.S_ISDIR(mode):
        if kind is not Kind.OTHER or item.name.endswith((".md", ".json")):
            return _rule("R102", item, "a directory with a content file's name; write a file")
        return _rule(
            "H502",
            item,
            f"the site does not serve files in subdirectories; keep {item.directory}/ flat",
        )
    if not stat.S_ISREG(mode):
        return _rule("R101", item, f"{_file_type(mode)}, not a regular file; it is never opened")
    if kind is Kind.OTHER:
        return None
    if st.st_nlink > 1:
        return _rule(
            "R104", item, f"the file has {st.st_nlink} hard links; write it as a file of its own"
        )
    if st.st_size > limits.max_file_bytes:
        return _too_large(item, st.st_size, limits)
    return None


def _too_large(item: Item, size: int, limits: Limits) -> Finding:
    return _rule(
        "R103",
        item,
        f"{size} bytes, over the limit of {limits.max_file_bytes} (limits.max_file_bytes); "
        "split or shorten it",
    )


def _read_file(item: Item, kind: Kind, dir_fd: int, limits: Limits) -> Raw:
    try:
        fd = os.open(item.name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a symlink since the lstat
            return Raw(
                item,
                kind,
                finding=_rule(
                    "R101", item, "a symlink; links are never followed: write a regular file"
                ),
            )
        return Raw(item, kind, finding=_rule("R105", item, f"cannot open: {exc.strerror}"))
    try:
        st = os.fstat(fd)
        if st.st_nlink > 1:  # swapped for a hard link since the lstat
            return Raw(
                item,
                kind,
                finding=_rule(
                    "R104",
                    item,
                    f"the file has {st.st_nlink} hard links; write it as a file of its own",
                ),
            )
        if stat.S_ISREG(st.st_mode) and st.st_size > limits.max_file_bytes:
            return Raw(item, kind, finding=_too_large(item, st.st_size, limits))
        if not stat.S_ISREG(st.st_mode):  # swapped since the lstat
            return Raw(
                item,
                kind,
                finding=_rule(
                    "R101", item, f"{_file_type(st.st_mode)}, not a regular file; it is never read"
                ),
            )
        # Ask for one byte more than fstat promised: a short read is the end of the file, so
        # the usual file costs one read(); one that grew meanwhile is read on to the limit.
        chunks = []
        left = limits.max_file_bytes + 1
        want = min(st.st_size + 1, left)
        while left > 0:
            chunk = os.read(fd, want)
            chunks.append(chunk)
            left -= len(chunk)
            if len(chunk) < want:
                break
            want = min(left, 1 << 20)
    except OSError as exc:
        return Raw(item, kind, finding=_rule("R105", item, f"cannot read: {exc.strerror}"))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limits.max_file_bytes:
        return Raw(
            item,
            kind,
            finding=_rule(
                "R103",
                item,
                f"over the limit of "
                f"{limits.max_file_bytes} bytes "
                "(limits.max_file_bytes); split or shorten it",
            ),
        )
    return Raw(item, kind, data=data, mtime=st.st_mtime)
