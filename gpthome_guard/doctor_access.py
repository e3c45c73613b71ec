"""core: what the agent's user may do to a path, by the kernel's rule for mode bits and POSIX
ACLs, and the access checks of `guard doctor` built from it (pure)."""

from __future__ import annotations

import shlex
import stat
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gpthome_guard.doctor_checks import Check

R, W, X = 4, 2, 1
# POSIX ACL xattr (linux/posix_acl_xattr.h): a version word, then (tag, perm, id) entries
ACL_XATTR = "system.posix_acl_access"
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 1, 2, 4, 8, 16, 32


class Role(StrEnum):
    forbidden = "out of reach"  # neither read, nor write, nor enter
    read_only = "read-only"  # read (and enter), never write
    writable = "writable"  # read, write and enter: its sessions work there
    home = "home"  # the home itself: enter and list, never create or replace entries


NEEDS: dict[Role, dict[str, bool]] = {
    Role.forbidden: {"read": False, "write": False, "enter": False},
    Role.read_only: {"read": True, "write": False, "enter": True},
    Role.writable: {"read": True, "write": True, "enter": True},
    Role.home: {"read": True, "write": False, "enter": True},
}


@dataclass(frozen=True, slots=True)
class Who:
    """The agent's user: its ids, supplementary groups included."""

    name: str
    uid: int
    gid: int
    gids: frozenset[int]
    group: str


@dataclass(frozen=True, slots=True)
class Node:
    """What `lstat` (and the ACL xattr) says about one path."""

    path: str
    mode: int
    uid: int
    gid: int
    owner: str = ""
    group: str = ""
    acl: tuple[tuple[int, int, int], ...] | None = None  # (tag, id, perm)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    def describe(self) -> str:
        return f"{stat.S_IMODE(self.mode):03o} {self.owner or self.uid}:{self.group or self.gid}"


@dataclass(frozen=True, slots=True)
class Access:
    read: bool
    write: bool
    enter: bool
    blocked_at: Node | None = None  # the first ancestor the agent cannot search

    def get(self, op: str) -> bool:
        return bool(getattr(self, op))


@dataclass(frozen=True, slots=True)
class Target:
    label: str  # "runner/", ".env", "home directory"
    path: str  # absolute, links resolved
    role: Role
    link: bool = False


def parse_acl(raw: bytes) -> tuple[tuple[int, int, int], ...]:
    """The entries of a `system.posix_acl_access` value (little-endian, version 2)."""
    if len(raw) < 4 or struct.unpack_from("<I", raw)[0] != 2:
        return ()
    out = []
    for offset in range(4, len(raw) - 7, 8):
        tag, perm, qualifier = struct.unpack_from("<HHI", raw, offset)
        out.append((tag, qualifier, perm))
    return tuple(out)


def permits(node: Node, who: Who, want: int) -> bool:
    """Whether the kernel grants `who` the `want` bits (R, W, X) on `node`: root, then the owner
    class, then a POSIX ACL's named users and groups (under its mask), then group, then others."""
    if who.uid == 0:  # root reads, writes and searches anything; it executes only with an x bit
        return want != X or node.is_dir or bool(node.mode & 0o111)
    if who.uid == node.uid:
        return (node.mode >> 6) & want == want
    if node.acl:
        mask = next((p for t, _, p in node.acl if t == ACL_MASK), 7)
        named = [p for t, q, p in node.acl if t == ACL_USER and q == who.uid]
        if named:
            return named[0] & mask & want == want
        groups = [
            p
            for t, q, p in node.acl
            if (t == ACL_GROUP_OBJ and node.gid in who.gids) or (t == ACL_GROUP and q in who.gids)
        ]
        if groups:
            return any(p & mask & want == want for p in groups)
        return node.mode & want == want
    if node.gid in who.gids:
        return (node.mode >> 3) & want == want
    return node.mode & want == want


def reach(chain: Sequence[Node], who: Who) -> Access:
    """What `who` can do to the last node of `chain` (/, then each directory down to it)."""
    *ancestors, target = chain
    for node in ancestors:
        if not permits(node, who, X):
            return Access(False, False, False, node)
    if target.is_dir:  # creating or removing an entry needs write and search on the directory
        return Access(permits(target, who, R), permits(target, who, W | X), permits(target, who, X))
    return Access(permits(target, who, R), permits(target, who, W), False)


def _rwx(perm: int) -> str:
    return "".join(c if perm & bit else "-" for c, bit in zip("rwx", (R, W, X), strict=True))


def _class_of(node: Node, who: Who) -> str:
    """Which part of the mode (or ACL) decides for `who`, and what it says."""
    modes = stat.filemode(node.mode)
    if who.uid == 0:
        return "the agent is root"
    if who.uid == node.uid:
        return f"owner {modes[1:4]}"
    if node.acl:
        mask = next((p for t, _, p in node.acl if t == ACL_MASK), 7)
        for tag, qualifier, perm in node.acl:
            if (tag == ACL_USER and qualifier == who.uid) or (
                tag == ACL_GROUP and qualifier in who.gids
            ):
                kind = "user" if tag == ACL_USER else "group"
                return f"ACL {kind} {qualifier} {_rwx(perm)}, mask {_rwx(mask)}"
    if node.gid in who.gids:
        return f"group {node.group or node.gid} {modes[4:7]}"
    return f"others {modes[7:10]}"


def _ops(flags: Mapping[str, bool], ops: Sequence[str]) -> str:
    return ", ".join(op for op in ops if flags[op]) or "nothing"


def judge_access(
    target: Target,
    who: Who,
    chain: Sequence[Node] | None,
    tried: Mapping[str, bool | str] | None,
) -> Check:
    """A target's check from its ancestry (None: absent) and the real try (None: not made)."""
    name = target.label if target.role is Role.home else f"{target.label} {target.role.value}"
    path = shlex.quote(target.path)
    if chain is None:
        if target.role is Role.writable:
            fix = f"install -d -o {who.name} -g {who.group} -m 755 {path}"
            return Check(
                name=name, ok=False, detail="missing: the agent's sessions need it", fix=fix
            )
        return Check(name=name, ok=True, detail="absent")
    node = chain[-1]
    ops = [op for op in NEEDS[target.role] if node.is_dir or op != "enter"]
    need = {op: NEEDS[target.role][op] for op in ops}
    bits = reach(chain, who)
    got = {op: bits.get(op) for op in ops}
    real = {op: tried.get(op) is True for op in ops} if tried is not None else None
    wrong = [op for op in ops if got[op] != need[op] or (real is not None and real[op] != need[op])]
    facts = f"{node.describe()}, {_class_of(node, who)}"
    if bits.blocked_at is not None:
        facts = f"{bits.blocked_at.path} ({bits.blocked_at.describe()}) cannot be searched by it"
    notes = []
    if real is not None and tried is not None:
        errors = "".join(f", {op} failed with {v}" for op, v in tried.items() if isinstance(v, str))
        notes.append(
            "the real try agrees"
            if real == got and not errors
            else f"bits say {_ops(got, ops)}, the real try {_ops(real, ops)}{errors}"
        )
    acls = [n.path for n in chain if n.acl]
    if acls:
        where = ", ".join(acls)
        notes.append(f"POSIX ACL on {where}: the mode bits alone are not the whole truth")
    if target.link:
        notes.insert(0, f"a link to {target.path}")
    if not wrong:
        detail = "; ".join([f"agent: {_ops(got, ops)} ({facts})", *notes])
        return Check(name=name, ok=True, detail=detail)
    can = [op for op in wrong if not need[op]]
    cannot = [op for op in wrong if need[op]]
    what = "; ".join(
        [f"the agent can {' and '.join(can)} it"] * bool(can)
        + [f"the agent cannot {' and '.join(cannot)} it"] * bool(cannot)
    )
    detail = f"{what} ({'; '.join([facts, *notes])})"
    fix = _access_fix(target, who, node, bits, kernel_only=got == need)
    return Check(name=name, ok=False, detail=detail, fix=fix)


def _access_fix(target: Target, who: Who, node: Node, bits: Access, kernel_only: bool) -> str:
    path = shlex.quote(target.path)
    if kernel_only:  # the bits are right, the real try was not
        return (
            f"the mode bits are right but the kernel decided otherwise: look at ACLs (getfacl "
            f"{path}), mount options (read-only?) and AppArmor/SELinux"
        )
    flat = "-R " if node.is_dir else ""
    acl = f"setfacl {flat}-b {path} && " if node.acl else ""
    if target.role is Role.forbidden:
        mode = "700" if node.is_dir else "600"
        return f"{acl}chown {flat}root:root {path} && chmod {mode} {path}"
    if bits.blocked_at is not None:
        return f"chmod a+x {shlex.quote(bits.blocked_at.path)}"
    if target.role is Role.read_only:
        if node.is_dir:
            return f"{acl}chown -R root:root {path} && chmod -R go-w,a+rX {path}"
        return f"{acl}chown root:root {path} && chmod 644 {path}"
    if target.role is Role.home:
        return f"{acl}chown root:root {path} && chmod 755 {path}"
    return f"{acl}chown -R {who.name}:{who.group} {path} && chmod -R u+rwX {path}"


def judge_guard_user(euid: int, who: Who) -> Check:
    if euid != who.uid:
        return Check(name="guard user", ok=True, detail=f"uid {euid}, the agent is uid {who.uid}")
    return Check(
        name="guard user",
        ok=False,
        detail=f"the guard runs as the agent's user {who.name}: the agent could subvert it",
        fix="run guard as root or the operator (e.g. `sudo guard ...`), never as the agent",
    )
