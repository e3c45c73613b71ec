"""shell: `guard init --agent-user`: apply what `setup` wants to a real home.

It walks the home through directory descriptors and never follows a link (owners change with
fchown, or fchownat without following; modes only with fchmod on what was opened O_NOFOLLOW):
an agent that swaps a directory for a link mid-walk changes nothing outside its home.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from gpthome_guard.access import FORBIDDEN, READ_ONLY, WRITABLE, Zone
from gpthome_guard.config import GuardConfig, default_config_toml, parse_config
from gpthome_guard.doctor import lookup_agent, owner_names
from gpthome_guard.doctor_access import Who
from gpthome_guard.errors import ConfigError, GuardError
from gpthome_guard.setup import (
    HOME,
    Change,
    Kind,
    Owner,
    Want,
    check_can_set_up,
    wanted,
    with_agent_user,
    zone_of_entry,
)

MAX_DEPTH = 256  # deeper directories are left as they are (and said so): no descriptor runs out
ACL_XATTRS = ("system.posix_acl_access", "system.posix_acl_default")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def prepare(home: Path, name: str) -> Who:
    """The agent's user, once it is sure the home can be given to it."""
    who = lookup_agent(name)
    check_can_set_up(home, os.geteuid(), who)
    return who


def record_agent_user(path: Path, name: str) -> bool:
    """Set `[access] agent_user` in guard.toml, keeping the rest; True if the file was new."""
    from gpthome_guard.reader import read_regular

    exists = os.path.lexists(path)
    raw = read_regular(path, 1 << 20) if exists else default_config_toml().encode()
    if raw is None:
        raise GuardError(f"{path}: not a readable regular file; replace it with one and rerun")
    try:
        new = with_agent_user(raw.decode("utf-8"), name)
    except UnicodeDecodeError:
        raise GuardError(f"{path}: not UTF-8 text; save it as UTF-8 and rerun") from None
    try:
        recorded = parse_config(new, str(path)).access.agent_user
    except ConfigError:  # an [access] written another way (a dotted key, an inline table)
        recorded = None
    if recorded != name:
        raise GuardError(
            f"{path}: could not set agent_user there; put agent_user = {json.dumps(name)} in "
            "its [access] table by hand and rerun"
        )
    if new.encode() != raw or not exists:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(new)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            why = exc.strerror
            raise GuardError(f"{path}: cannot be written ({why}); fix that and rerun") from None
    return not exists


def git_dir_of(home: Path, config: GuardConfig, option: str | None) -> Path:
    git_dir = Path(option or config.git.git_dir)
    return git_dir if git_dir.is_absolute() else home / git_dir


def set_up(home: Path, git_dir: Path, who: Who, config: GuardConfig) -> list[Change]:
    """Give the agent its directories and the operator (root) everything else."""
    home = home.resolve()
    git_dir = git_dir.parent.resolve() / git_dir.name  # not the last part: a link stays one
    walk = _Walk(
        who,
        (os.geteuid(), os.getegid()),
        (*READ_ONLY, *config.access.read_only),
        (*FORBIDDEN, *config.access.forbidden),
    )
    inner = git_dir.relative_to(home).parts if git_dir.is_relative_to(home) else None
    if inner and walk.zone(inner[0]) is Zone.writable:
        raise GuardError(
            f"{git_dir}: the git directory is inside the agent's {inner[0]}/, where it could "
            "rewrite history; move it out of there (guard init --git-dir DIR)"
        )
    if inner and len(inner) == 1:
        walk.forbidden += inner  # a name of its own at the root: as forbidden as .git
    try:
        fd = os.open(home, _DIR_FLAGS)
    except OSError as exc:
        raise GuardError(f"{home}: cannot be opened ({exc.strerror}); pass a directory") from None
    try:
        # the home first: from then on the agent can no longer add, remove or swap names in it
        walk.apply(fd, HOME, home, "home directory")
        walk.create(fd, home)
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries)
        for name in names:
            walk.top(fd, home, name)
        if inner is None or (len(inner) > 1 and walk.zone(inner[0]) is not Zone.forbidden):
            walk.git_dir(git_dir)
    except OSError as exc:  # what `_cannot` did not already name (a directory unreadable, say)
        raise _cannot(Path(exc.filename or home), exc) from None
    finally:
        os.close(fd)
    return walk.changes


def _kind(mode: int) -> Kind:
    return Kind.dir if stat.S_ISDIR(mode) else Kind.file if stat.S_ISREG(mode) else Kind.other


def _strip_acl(fd: int) -> bool:
    """Remove the POSIX ACLs of `fd`; True if there were any. Asked first: some file systems
    (tmpfs) report success for removing one that is not there."""
    removed = False
    for name in ACL_XATTRS:
        try:
            os.getxattr(fd, name)
        except OSError as exc:  # none there, or a file system without ACLs
            if exc.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            continue
        os.removexattr(fd, name)
        removed = True
    return removed


@dataclass(slots=True)
class _Walk:
    who: Who
    operator: tuple[int, int]
    read_only: tuple[str, ...]
    forbidden: tuple[str, ...]
    changes: list[Change] = field(default_factory=list)

    def zone(self, name: str) -> Zone:
        return zone_of_entry(name, self.read_only, self.forbidden)

    def ids(self, owner: Owner) -> tuple[int, int]:
        return (self.who.uid, self.who.gid) if owner is Owner.agent else self.operator

    def create(self, home_fd: int, home: Path) -> None:
        """The quarantine and the agent's directories, where missing."""
        for name in ("quarantine", *WRITABLE):
            mode, owner = (0o700, Owner.operator) if name == "quarantine" else (0o755, Owner.agent)
            try:
                os.mkdir(name, mode, dir_fd=home_fd)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _cannot(home / name, exc) from None
            fd = os.open(name, _DIR_FLAGS, dir_fd=home_fd)
            try:
                os.fchown(fd, *self.ids(owner))
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            user, group = owner_names(*self.ids(owner))
            self.changes.append(Change(f"{name}/", note=f"created, {mode:03o} {user}:{group}"))

    def git_dir(self, path: Path) -> None:
        """A git directory outside the home (its parents are the operator's business)."""
        try:
            fd = os.open(path, _DIR_FLAGS)
        except FileNotFoundError:
            return
        except OSError as exc:
            note = f"skipped {path}: {exc.strerror}; make it a directory (mode 700) by hand"
            self.changes.append(Change(f"{path}/", note=note))
            return
        try:
            self.apply(fd, Want(Owner.operator, 0o700, strip_acl=True), path, f"{path}/")
            self.below(fd, path, Zone.forbidden, f"{path}/", 0)
        finally:
            os.close(fd)

    def top(self, home_fd: int, home: Path, name: str) -> None:
        zone = self.zone(name)
        try:
            info = os.stat(name, dir_fd=home_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        label = f"{name}/" if stat.S_ISDIR(info.st_mode) else name
        if zone is Zone.outside:
            return
        if stat.S_ISLNK(info.st_mode):  # never followed: it could point anywhere
            note = f"skipped {home / name}: a symbolic link; set up what it points to by hand"
            self.changes.append(Change(label, note=note))
            return
        self.node(home_fd, name, home / name, zone, label, 0)

    def node(self, parent: int, name: str, path: Path, zone: Zone, label: str, depth: int) -> None:
        """Set up `name` in the directory open as `parent`, then what is below it."""
        try:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed while we looked
        kind = _kind(info.st_mode)
        is_agents = info.st_uid == self.who.uid
        mode = stat.S_IMODE(info.st_mode)
        want = wanted(zone, kind, mode, info.st_nlink, is_agents, top=depth == 0)
        if want.skip:
            self.changes.append(Change(label, note=f"skipped {path}: {want.skip}"))
            return
        if kind is Kind.other:  # never opened, never chmod-ed: fchownat, not following links
            self.chown_at(parent, name, info, want, path, label, inside=depth > 0)
            return
        try:
            fd = os.open(name, _DIR_FLAGS if kind is Kind.dir else _FILE_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT, errno.ENXIO):
                return  # swapped for a link, or gone, while we looked: leave it
            raise _cannot(path, exc) from None
        try:
            if stat.S_IFMT(os.fstat(fd).st_mode) != stat.S_IFMT(info.st_mode):
                return  # swapped for something else while we looked: leave it
            self.apply(fd, want, path, label, inside=depth > 0)
            if kind is Kind.dir:
                self.below(fd, path, zone, label, depth)
        finally:
            os.close(fd)

    def below(self, fd: int, path: Path, zone: Zone, label: str, depth: int) -> None:
        if depth >= MAX_DEPTH:
            note = f"skipped {path}: more than {MAX_DEPTH} directories deep; set it up by hand"
            self.changes.append(Change(label, note=note))
            return
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries)
        for name in names:
            self.node(fd, name, path / name, zone, label, depth + 1)

    def apply(self, fd: int, want: Want, path: Path, label: str, inside: bool = False) -> None:
        """Owner first (a chown clears set-id bits), then the ACL, then the mode."""
        try:
            info = os.fstat(fd)
            uid, gid = self.ids(want.owner)
            owner = None
            if (info.st_uid, info.st_gid) != (uid, gid):
                os.fchown(fd, uid, gid)
                owner = _owners(info, uid, gid)
            acl = want.strip_acl and _strip_acl(fd)
            old, mode = stat.S_IMODE(info.st_mode), None
            if want.mode is not None and old != want.mode:
                os.fchmod(fd, want.mode)
                mode = (old, want.mode)
        except OSError as exc:
            raise _cannot(path, exc) from None
        if owner or mode or acl:
            self.changes.append(Change(label, inside, owner, mode, acl))

    def chown_at(
        self, parent: int, name: str, info: os.stat_result, want: Want, path: Path, label: str,
        inside: bool,
    ) -> None:  # fmt: skip
        uid, gid = self.ids(want.owner)
        if (info.st_uid, info.st_gid) == (uid, gid):
            return
        try:
            os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _cannot(path, exc) from None
        self.changes.append(Change(label, inside, _owners(info, uid, gid)))


def _owners(info: os.stat_result, uid: int, gid: int) -> tuple[str, str]:
    return ":".join(owner_names(info.st_uid, info.st_gid)), ":".join(owner_names(uid, gid))


def _cannot(path: Path, exc: OSError) -> GuardError:
    return GuardError(
        f"{path}: cannot set its owner or mode ({exc.strerror}); check the file system "
        "(read-only? no owners?) and rerun guard init"
    )
