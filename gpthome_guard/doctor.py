"""shell: `guard doctor`: is the home set up so the agent cannot reach what it must not?

Gathers the facts (modes, owners, ACLs, the agent's ids, what git says), hands them to the
verdicts in `doctor_checks` and `doctor_access`, and, as root, to the real try in `doctor_probe`.
"""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from gpthome_guard.access import FORBIDDEN, READ_ONLY, WRITABLE
from gpthome_guard.config import GuardConfig
from gpthome_guard.doctor_access import (
    ACL_XATTR,
    Node,
    Role,
    Target,
    Who,
    judge_access,
    judge_guard_user,
    parse_acl,
    reach,
)
from gpthome_guard.doctor_checks import (
    MUST_IGNORE,
    Check,
    judge_disk,
    judge_git_dir,
    judge_guide,
    judge_ignore_block,
    judge_ignored,
)
from gpthome_guard.doctor_probe import try_as
from gpthome_guard.gitrepo import Repo

FSCK_TIMEOUT_S = 60.0  # `fsck --connectivity-only` on a 50k-file home takes well under 1 s
DIRS = frozenset({"runner", "logs", "quarantine", ".git", "visitors", *WRITABLE})


def lookup_agent(name: str) -> Who:
    import grp
    import pwd

    from gpthome_guard.errors import UsageError

    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, OverflowError):
        raise UsageError(
            f"no user {name!r} on this system; pass the agent's Unix user to --agent-user"
        ) from None
    try:
        group = grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        group = str(entry.pw_gid)
    gids = frozenset(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return Who(entry.pw_name, entry.pw_uid, entry.pw_gid, gids, group)


def agent_of(home: Path, option: str | None) -> tuple[Who | None, str | None]:
    """The agent's user and how it was named: `--agent-user`, else `[access] agent_user` in
    guard.toml (a guard.toml that does not parse names no one: its own check says why)."""
    from gpthome_guard.config import CONFIG_NAME, load_config
    from gpthome_guard.errors import ConfigError, UsageError

    if option is not None:
        return lookup_agent(option), option
    try:
        name = load_config(home).access.agent_user
    except ConfigError:
        return None, None
    if not name:
        return None, None
    try:
        return lookup_agent(name), name
    except UsageError:
        where = home / CONFIG_NAME
        raise UsageError(
            f"{where}: [access] agent_user = {name!r} is no user on this system; set it to the "
            "agent's Unix user (or pass --agent-user NAME)"
        ) from None


@functools.cache
def owner_names(uid: int, gid: int) -> tuple[str, str]:
    import grp
    import pwd

    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return owner, group


def lstat_node(path: str) -> Node:
    info = os.lstat(path)
    try:
        acl = parse_acl(os.getxattr(path, ACL_XATTR, follow_symlinks=False)) or None
    except OSError:  # no ACL, or a file system without them
        acl = None
    owner, group = owner_names(info.st_uid, info.st_gid)
    return Node(path, info.st_mode, info.st_uid, info.st_gid, owner, group, acl)


def chain_of(path: str) -> list[Node] | None:
    """/ and each directory down to `path` (an absolute path without links); None if absent."""
    parts = Path(path).parts
    try:
        return [lstat_node(os.path.join(*parts[: i + 1])) for i in range(len(parts))]
    except (FileNotFoundError, NotADirectoryError):
        return None


def targets(home: Path, git_dir: Path) -> list[Target]:
    """Everything the map names, and the git directory when it lives outside the home."""

    def target(path: Path, label: str, role: Role) -> Target:
        return Target(label, os.path.realpath(path), role, path.is_symlink())

    named = [(n, Role.forbidden) for n in FORBIDDEN]
    named += [(p.name, Role.forbidden) for p in sorted(home.glob(".env.*"))]
    named += [(n, Role.read_only) for n in READ_ONLY]
    named += [(n, Role.writable) for n in WRITABLE]
    out = [target(home, "home directory", Role.home)]
    out += [target(home / n, f"{n}/" if n in DIRS else n, role) for n, role in named]
    if git_dir != home / ".git":
        out.append(target(git_dir, f"{git_dir}/", Role.forbidden))
    return out


def run_checks(home: Path, who: Who | None) -> list[Check]:
    """Every check, in the order of the checklist."""
    from gpthome_guard.generate import guide
    from gpthome_guard.reader import read_regular
    from gpthome_guard.session import IGNORE_BEGIN, IGNORE_END, IGNORED, repo_for

    home = home.resolve()
    config, setting = _config(home)
    repo = repo_for(home, config)
    has_repo = repo.is_repo()
    access, git_writable = _access(targets(home, repo.git_dir), who, str(repo.git_dir))
    ignore = read_regular(home / ".gitignore", 1 << 20)
    text = ignore.decode("utf-8", "replace") if ignore is not None else None
    checks = _git_checks(repo, home, has_repo, git_writable)
    checks.append(judge_ignore_block(text, home, IGNORE_BEGIN, IGNORE_END, IGNORED))
    checks.append(_ignored(repo) if has_repo else _no_repo("ignored paths"))
    checks.append(judge_guide(read_regular(home / "GPT.md", 4 << 20), guide(), home / "GPT.md"))
    fs = os.statvfs(home)
    checks += [setting, judge_disk(fs.f_bavail * fs.f_frsize, fs.f_blocks * fs.f_frsize, home)]
    return checks + access


def _config(home: Path) -> tuple[GuardConfig, Check]:
    from gpthome_guard.config import CONFIG_NAME, DEFAULT_CONFIG, load_config
    from gpthome_guard.errors import ConfigError

    try:
        config = load_config(home)
    except ConfigError as exc:
        where = shlex.quote(str(home / CONFIG_NAME))
        fix = f"edit {where} as the message says"
        return DEFAULT_CONFIG, Check(name="guard.toml", ok=False, detail=str(exc), fix=fix)
    exists = os.path.lexists(home / CONFIG_NAME)
    detail = "parses" if exists else "absent: the defaults apply"
    return config, Check(name="guard.toml", ok=True, detail=detail)


def _access(
    found: Sequence[Target], who: Who | None, git_dir: str
) -> tuple[list[Check], bool | None]:
    """The access checks, and whether the agent can write the git directory (None: unknown)."""
    chains: list[tuple[Target, list[Node] | None]] = []
    unseen: list[Check] = []
    for target in found:
        try:
            chains.append((target, chain_of(target.path)))
        except PermissionError:  # the guard runs as an operator who may not look there
            name = target.label if target.role is Role.home else f"{target.label} {target.role}"
            detail = f"cannot be examined as uid {os.geteuid()}: run doctor as root"
            unseen.append(Check(name=name, ok=None, detail=detail))
    if who is None:
        note = "not checked: pass --agent-user NAME (the agent's Unix user)"
        missing = [
            Check(
                name=f"{t.label} writable",
                ok=False,
                detail="missing: the agent's sessions need it",
                fix=f"mkdir -p {shlex.quote(t.path)}, then rerun with --agent-user NAME",
            )
            for t, chain in chains
            if t.role is Role.writable and chain is None
        ]
        return [Check(name="agent's access", ok=None, detail=note), *unseen, *missing], None
    tried, probe = try_as(who, [chain[-1] for _, chain in chains if chain])
    judged = [judge_access(t, who, c, (tried or {}).get(t.path)) for t, c in chains]
    git_writable = None
    chain = next((c for t, c in chains if t.path == git_dir), None)
    if chain is not None:
        tries = (tried or {}).get(git_dir, {})
        git_writable = reach(chain, who).write or tries.get("write") is True
    return [judge_guard_user(os.geteuid(), who), probe, *unseen, *judged], git_writable


def _no_repo(name: str) -> Check:
    return Check(name=name, ok=None, detail="not checked: no repository")


def _git_checks(repo: Repo, home: Path, has_repo: bool, git_writable: bool | None) -> list[Check]:
    import time

    from gpthome_guard.errors import GuardError

    if not has_repo and repo.git_dir.exists() and not os.access(repo.git_dir, os.R_OK):
        detail = f"{repo.git_dir} cannot be read as uid {os.geteuid()}: run doctor as root"
        return [Check(name="git repository", ok=None, detail=detail)] + [
            _no_repo(n) for n in ("git HEAD", "git fsck", "git dir location")
        ]
    if not has_repo:
        where = shlex.quote(str(repo.git_dir))
        return [
            Check(
                name="git repository",
                ok=False,
                detail=f"no repository at {repo.git_dir}",
                fix=f"guard init {shlex.quote(str(home))} && chmod 700 {where}",
            ),
            *map(_no_repo, ("git HEAD", "git fsck", "git dir location")),
        ]
    checks = [Check(name="git repository", ok=True, detail=str(repo.git_dir))]
    head = repo.head()
    checks.append(
        Check(name="git HEAD", ok=True, detail=head[:12])
        if head
        else Check(
            name="git HEAD",
            ok=False,
            detail="no commit yet",
            fix=f"guard init {shlex.quote(str(home))}",
        )
    )
    start = time.monotonic()
    try:
        repo.run("fsck", "--connectivity-only", "--no-progress", "--no-dangling",
                 timeout=FSCK_TIMEOUT_S)  # fmt: skip
        took = time.monotonic() - start
        checks.append(Check(name="git fsck", ok=True, detail=f"connected ({took:.1f} s)"))
    except GuardError as exc:
        where = shlex.quote(str(repo.git_dir))
        checks.append(
            Check(
                name="git fsck",
                ok=False,
                detail=str(exc),
                fix=f"git --git-dir={where} fsck --full shows what is broken; bring the objects "
                "back from a backup remote ([git] remotes in guard.toml)",
            )
        )
    checks.append(judge_git_dir(repo.git_dir, repo.work_tree, git_writable))
    return checks


def _ignored(repo: Repo) -> Check:
    paths = b"".join(p.encode() + b"\0" for p in MUST_IGNORE)
    # check-ignore refuses literal pathspecs (`fatal: pathspec magic not supported`); these
    # names are ours, not the agent's
    literal = {"GIT_LITERAL_PATHSPECS": "0"}
    out = repo.run(
        "check-ignore", "--stdin", "-z", "-v", "-n", stdin=paths, env=literal, check=False
    )
    fields = [f.decode("utf-8", "replace") for f in out.split(b"\0")]
    records = {fields[i + 3]: (fields[i], fields[i + 2]) for i in range(0, len(fields) - 3, 4)}
    names = [p.rstrip("/") for p in MUST_IGNORE]
    listed = repo.run("ls-files", "-z", "--", *names, check=False).split(b"\0")
    return judge_ignored(records, [f.decode("utf-8", "replace") for f in listed if f])
