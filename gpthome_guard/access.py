"""core: the map of the home: what the agent may write, only read, or not touch at all.

Code defaults, extended (never narrowed) by `[access]` in `guard.toml`. Paths are home-relative
top-level names; the guard's own state lives in the git directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# The agent's directories. The first four are served by the site and checked against the
# conventions; sandbox/ and projects/ hold code and are archived as they are.
WRITABLE = ("thoughts", "dreams", "landing-page", "about", "sandbox", "projects")
# What the agent reads and must not change (the API writes visitors/; the guard, the rest).
READ_ONLY = ("visitors", "GPT.md", "README.md", ".gitignore")
# What the agent must neither read nor write.
FORBIDDEN = ("runner", "logs", ".env", "sessions.db", "guard.toml", "quarantine", ".git")


class Zone(StrEnum):
    writable = "writable"
    read_only = "read-only"
    forbidden = "forbidden"
    outside = "outside"  # anything else: not part of the map (a new file at the root, say)


def zone_of(
    path: str, read_only: tuple[str, ...] = READ_ONLY, forbidden: tuple[str, ...] = FORBIDDEN
) -> Zone:
    """The zone of a home-relative path, by its first component."""
    top = path.split("/", 1)[0]
    if top in forbidden:
        return Zone.forbidden
    if top in read_only:
        return Zone.read_only
    if top in WRITABLE:
        return Zone.writable
    return Zone.outside


# --- fingerprints: what the forbidden and read-only paths looked like --------------------


@dataclass(frozen=True, slots=True)
class Stat:
    """One path of a fingerprint. ctime cannot be set by a user, so a write always shows."""

    type: str  # file, dir, link, fifo, socket, char, block, other
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    sha256: str | None = None  # files up to the hashing bound
    nlink: int = 1

    def same_inode_state(self, other: Stat) -> bool:
        """Nothing about the file changed, so a hash taken before still holds."""
        return (self.type, self.size, self.mtime_ns, self.ctime_ns, self.ino) == (
            other.type, other.size, other.mtime_ns, other.ctime_ns, other.ino,
        )  # fmt: skip

    def to_list(self) -> list[object]:
        return [self.type, self.mode, self.uid, self.gid, self.size, self.mtime_ns,
                self.ctime_ns, self.ino, self.sha256, self.nlink]  # fmt: skip

    @classmethod
    def from_list(cls, raw: list[object]) -> Stat:
        t, mode, uid, gid, size, mtime, ctime, ino, digest, nlink = raw
        return cls(str(t), _int(mode), _int(uid), _int(gid), _int(size), _int(mtime),
                   _int(ctime), _int(ino), None if digest is None else str(digest),
                   _int(nlink))  # fmt: skip


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


@dataclass(frozen=True, slots=True)
class AccessChange:
    """A change to a path the agent may not change."""

    path: str
    zone: Zone
    what: str  # "added (file)", "removed", "content changed", "mode 0644 -> 0666", ...
    kind: str  # added, removed, changed

    def line(self) -> str:
        return f"{self.path} ({self.zone.value}): {self.what}"


def compare(
    before: dict[str, Stat],
    after: dict[str, Stat],
    zone: Callable[[str], Zone],
    skip: Callable[[str], bool] = lambda _: False,
) -> list[AccessChange]:
    """Every difference between two fingerprints, sorted by path; `skip` names paths whose
    changes are expected (the session log the wrapper is writing)."""
    found = []
    for path in sorted(before.keys() | after.keys()):
        if skip(path):
            continue
        old, new = before.get(path), after.get(path)
        if old is None and new is not None:
            found.append(AccessChange(path, zone(path), f"added ({new.type})", "added"))
        elif new is None and old is not None:
            found.append(AccessChange(path, zone(path), f"removed (was a {old.type})", "removed"))
        elif old is not None and new is not None:
            what = _difference(old, new)
            if what:
                found.append(AccessChange(path, zone(path), what, "changed"))
    return found


def _difference(old: Stat, new: Stat) -> str | None:
    """What changed, in words. Inode numbers and ctimes are not compared (a home restored
    from a backup or copied keeps its content but not those); content, type, mode, owner and
    link count are. A file too large to hash is compared by size and mtime."""
    parts = []
    if old.type != new.type:
        parts.append(f"a {old.type} became a {new.type}")
    elif old.type == "file":
        if old.size != new.size or (old.sha256 or "") != (new.sha256 or ""):
            parts.append("content changed")
        elif old.sha256 is None and old.mtime_ns != new.mtime_ns:
            parts.append("content may have changed (too large to hash; its time changed)")
    elif old.type != "dir" and (old.size, old.mtime_ns) != (new.size, new.mtime_ns):
        parts.append("changed")  # a link's target, a FIFO re-created
    if old.mode != new.mode:
        parts.append(f"mode {old.mode:04o} -> {new.mode:04o}")
    if (old.uid, old.gid) != (new.uid, new.gid):
        parts.append(f"owner {old.uid}:{old.gid} -> {new.uid}:{new.gid}")
    if old.type == new.type and old.type != "dir" and old.nlink != new.nlink:
        parts.append(f"link count {old.nlink} -> {new.nlink} (a hard link was made or removed)")
    return ", ".join(parts) or None
