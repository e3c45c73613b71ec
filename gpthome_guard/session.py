"""shell: a home's history: `guard init`, `guard pre-session` and `guard post-session`.

One writer at a time per home (a lock in the git directory). The agent's session becomes a
commit of exactly what it left (authored by the agent), then a commit of the guard's repairs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gpthome_guard import __version__, archive
from gpthome_guard.access import WRITABLE
from gpthome_guard.apply import Run, apply_plan
from gpthome_guard.config import CONFIG_NAME, GuardConfig, default_config_toml, parse_config
from gpthome_guard.conventions import CONTENT_DIRS
from gpthome_guard.errors import GuardError
from gpthome_guard.generate import guide
from gpthome_guard.gitrepo import Change, Identity, Repo
from gpthome_guard.intake import Intake, alert, intake, record_baseline
from gpthome_guard.models import printable
from gpthome_guard.plan import Plan, Rewrite
from gpthome_guard.reader import Item, read_regular
from gpthome_guard.repair import all_repaired, prepare
from gpthome_guard.sessionlog import SessionLog, parse_session_log
from gpthome_guard.validate import FixContext, Selection

if TYPE_CHECKING:
    from gpthome_guard.secrets import SecretScanner

LAYOUT = {
    "thoughts": "Your journal: one entry per session, YYYY-MM-DD-<slug>.md. See GPT.md.",
    "dreams": "Creative works (poetry, ascii, prose), <slug>.md. See GPT.md.",
    "landing-page": "The front page: landing.json and content.md. See GPT.md.",
    "about": "about.md, the page about you. See GPT.md.",
    "sandbox": "Code experiments and scratch files. Not shown on the site.",
    "projects": "Long-running work that spans sessions. Not shown on the site.",
    "visitors": "Messages people left for you. Read them; do not change them.",
    "runner": "The machinery that wakes the agent. The agent has no business here.",
    "logs": "Session logs. The agent has no business here.",
}
IGNORE_BEGIN = "# >>> gpthome-guard: managed block, rewritten by `guard init`"
IGNORE_END = "# <<< gpthome-guard"
IGNORED = ("/runner/", "/logs/", "/.env", "/.env.*", "/sessions.db", "/quarantine/",
           "__pycache__/", "*.pyc", ".venv/", "venv/", "node_modules/", ".mypy_cache/",
           ".pytest_cache/", ".ruff_cache/", ".cache/")  # fmt: skip
STATE_DIR = "gpthome-guard"
MAX_LOG_BYTES = 32 * 1024 * 1024
STALE_INDEX_LOCK_S = 60


# What is never committed, whatever the home's own .gitignore (the agent can edit it) says:
# passed as exclude pathspecs to every whole-home staging, and written to info/exclude.
NEVER_STAGED = (
    ":(exclude)runner",
    ":(exclude)logs",
    ":(exclude).env",
    ":(exclude).env.*",
    ":(exclude)sessions.db",
    ":(exclude)quarantine",
)


def _stage_home(repo: Repo) -> None:
    _write_exclude(repo)
    repo.stage([".", *NEVER_STAGED], magic=True)


def _write_exclude(repo: Repo) -> None:
    info = repo.git_dir / "info"
    info.mkdir(parents=True, exist_ok=True)
    text = "\n".join([IGNORE_BEGIN, *IGNORED, IGNORE_END]) + "\n"
    target = info / "exclude"
    if not target.is_symlink() and (not target.exists() or target.read_text() != text):
        tmp = info / ".exclude.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)


def repo_for(home: Path, config: GuardConfig) -> Repo:
    git_dir = Path(config.git.git_dir)
    return Repo(home, git_dir if git_dir.is_absolute() else home / git_dir)


def _identities(config: GuardConfig) -> tuple[Identity, Identity]:
    git = config.git
    return Identity(git.agent_name, git.agent_email), Identity(git.guard_name, git.guard_email)


@contextlib.contextmanager
def locked(repo: Repo, timeout_s: float) -> Iterator[None]:
    """Hold the home's lock; wait at most `timeout_s` for another run to let go."""
    state = repo.git_dir / STATE_DIR
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(state / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise GuardError(
                        f"another guard run is working on {repo.work_tree} (waited "
                        f"{timeout_s:.0f} s); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        _recover_index_lock(repo)
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


def _recover_index_lock(repo: Repo) -> None:
    """An index.lock left by a killed git: we hold the home's lock, so no run of ours owns it;
    one old enough is no one's (a person's git would hold it for well under a minute)."""
    lock = repo.git_dir / "index.lock"
    with contextlib.suppress(FileNotFoundError):
        if time.time() - lock.lstat().st_mtime > STALE_INDEX_LOCK_S:
            lock.unlink()


# --- init --------------------------------------------------------------------------------


@dataclass(slots=True)
class InitResult:
    created: list[str] = field(default_factory=list)
    commit: str | None = None
    adopted: bool = False


def init_home(
    home: Path, config: GuardConfig, git_dir: str | None = None, agent_user: str | None = None
) -> InitResult:
    result = InitResult()
    home.mkdir(parents=True, exist_ok=True)
    result.adopted = any(p.name not in (".git",) for p in home.iterdir())
    if not result.adopted:
        for name, text in LAYOUT.items():
            (home / name).mkdir(exist_ok=True)
            _write_new(home / name / "README.md", f"# {name}/\n\n{text}\n", result)
        _write_new(home / "GPT.md", guide(), result)
        toml = default_config_toml()
        if git_dir:
            toml = toml.replace('# git_dir = ".git"', f'git_dir = "{git_dir}"')
        _write_new(home / CONFIG_NAME, toml, result)
    if agent_user is not None:  # before the first commit, so that it holds the setting
        from gpthome_guard.setup_apply import record_agent_user

        if record_agent_user(home / CONFIG_NAME, agent_user):
            result.created.append(str(home / CONFIG_NAME))
    _ensure_ignore_block(home / ".gitignore", result)
    if git_dir is not None:
        config = config.model_copy(
            update={"git": config.git.model_copy(update={"git_dir": git_dir})}
        )
    repo = repo_for(home, config)
    if not repo.is_repo():
        repo.init()
        result.created.append(str(repo.git_dir))
    _, guard = _identities(config)
    with locked(repo, config.git.lock_timeout_s):
        _stage_home(repo)
        changes = repo.staged()
        what = "adopt the existing home as the baseline" if result.adopted else "lay out the home"
        message = (
            f"init: {what}\n\nChanges: {archive.count_line(changes)}\n\n"
            + archive.trailers([("Guard-Phase", "init"), ("Guard-Version", __version__)])
            + "\n"
        )
        result.commit = repo.commit(message, guard, guard)
        record_baseline(home, repo, config, {"head": repo.head(), "after": "init"})
    return result


def _write_new(path: Path, text: str, result: InitResult) -> None:
    if not path.exists():
        path.write_text(text, encoding="utf-8")
        result.created.append(str(path))


def _ensure_ignore_block(path: Path, result: InitResult) -> None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise GuardError(
            f"{path} is not a regular file (a link?); replace it with a file and rerun `guard init`"
        )
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    block = "\n".join([IGNORE_BEGIN, *IGNORED, IGNORE_END]) + "\n"
    if IGNORE_BEGIN in old and IGNORE_END in old:
        before, rest = old.split(IGNORE_BEGIN, 1)
        after = rest.split(IGNORE_END, 1)[1].lstrip("\n")
        new = before + block + after
    else:
        new = block + ("\n" + old if old else "")
    if new != old:
        path.write_text(new, encoding="utf-8")
        result.created.append(str(path))


# --- pre-session -------------------------------------------------------------------------


@dataclass(slots=True)
class PreResult:
    commit: str | None
    head: str | None
    session: archive.Session
    pushed: list[str] = field(default_factory=list)
    intake: Intake = field(default_factory=Intake)


def pre_session(home: Path, config: GuardConfig, session_type: str) -> PreResult:
    repo = _require_repo(home, config)
    _, guard = _identities(config)
    now = dt.datetime.now(dt.UTC)
    session = archive.Session(now.strftime("%Y%m%d-%H%M%S"), session_type)
    with locked(repo, config.git.lock_timeout_s):
        # what the agent (or anything) left in its directories since the last session is
        # screened like a session's work before it is committed
        screened, _ = intake(home, repo, config, Run(f"pre-{session.id}"), access=False)
        alert(repo, config, session.id, screened.incidents)
        _stage_home(repo)
        repo.unstage(screened.unreadable)  # what the intake could not read is never committed
        changes = repo.staged()
        commit = repo.commit(archive.external_message(session, changes), guard, guard)
        head = repo.head()
        record_baseline(
            home,
            repo,
            config,
            {"head": head, "type": session_type, "started": now.isoformat(timespec="seconds")},
        )
        pushed = push_all(repo, config) if commit else []
    return PreResult(commit, head, session, pushed, screened)


def _require_repo(home: Path, config: GuardConfig) -> Repo:
    repo = repo_for(home, config)
    if not repo.is_repo():
        raise GuardError(f"{home} has no history at {repo.git_dir}; run `guard init {home}`")
    return repo


def _write_state(repo: Repo, name: str, data: dict[str, object]) -> None:
    state = repo.git_dir / STATE_DIR
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = state / f".{name}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, state / name)


# --- post-session ------------------------------------------------------------------------


@dataclass(slots=True)
class PostResult:
    session: archive.Session
    log: SessionLog
    agent_commit: str | None = None
    guard_commit: str | None = None
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # deletions held back (too many)
    pushed: list[str] = field(default_factory=list)  # one line per backup remote
    kept: list[str] = field(default_factory=list)  # journal entries put back
    intake: Intake = field(default_factory=Intake)  # the audit before the agent's commit
    ok: bool = True


def read_log(path: Path | None) -> bytes:
    """The session log, read without following a link and at most MAX_LOG_BYTES of it."""
    return (read_regular(path, MAX_LOG_BYTES) or b"") if path is not None else b""


def post_session(
    home: Path, config: GuardConfig, log_path: Path | None, session_type: str | None
) -> PostResult:
    repo = _require_repo(home, config)
    log = parse_session_log(read_log(log_path), log_path.name if log_path else None)
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    started = log.started.strftime("%Y%m%d-%H%M%S") if log.started else now
    kind = session_type or log.type or "unknown"
    log_name = f"logs/{log_path.name}" if log_path else None
    session = archive.Session(
        archive.session_id(log_path.name if log_path else None, started), kind, log_name
    )
    result = PostResult(session, log)
    run = Run(f"session-{session.id}", session.id)
    log_rel = _home_relative(home, log_path)
    with locked(repo, config.git.lock_timeout_s):
        # the settings the operator committed, not a guard.toml the agent may have edited
        config = _trusted_config(repo, home, config)
        agent, guard = _identities(config)
        phase = _head_phase(repo, session.id)
        # 1. exactly what the agent left, unless a killed run already committed it: first the
        # audit (nothing it sets aside is ever staged), then the agent's commit
        if phase is None:
            result.intake, scanner = intake(home, repo, config, run, log_rel=log_rel)
            result.log = log = _without_secrets(log, scanner)
            _write_state(repo, "last-session.json", _summary(result))
            # before the commit: a crash after it must not lose the alert (a crash before it
            # may repeat it, which is the better failure)
            alert(repo, config, session.id, result.intake.incidents)
            # exactly what the intake found changed (and left): no second walk of the tree
            _write_exclude(repo)
            repo.stage_exactly(result.intake.changed)
            changes = repo.staged()
            result.held, result.kept = _safeguard(repo, config, changes, session.id)
            if result.held or result.kept:
                changes = repo.staged()
            message = archive.agent_message(
                session, log, changes, result.held, result.kept,
                result.intake.incidents, result.intake.done,
            )  # fmt: skip
            # a session whose only trace is an incident, a put-back or a hold is still
            # recorded, so the evidence is archived and `guard log` and `report` see it
            notable = bool(result.intake.incidents or result.intake.done or result.held
                           or result.kept)  # fmt: skip
            result.agent_commit = repo.commit(message, agent, guard, always=notable)
        else:  # a rerun: the agent's commit is there (and perhaps the repairs)
            changes = repo.committed("HEAD") if phase == "agent" else []
            result.intake.incidents = _earlier_incidents(repo, session.id)
        # 2. the guard's repairs, in a commit of their own: only what the session touched is
        # read, so the cost follows the session's changes, not the size of the home
        day = log.started.date().isoformat() if log.started else None
        prepared = prepare(
            home,
            _touched(home, changes),
            config.limits,
            FixContext(session_date=day, use_git=True),
        )
        outcome = apply_plan(home, prepared.plan, Run(f"session-{session.id}", session.id))
        result.done, result.skipped = outcome.done, outcome.skipped
        result.ok = all_repaired(prepared, outcome)
        repairs = _session_repairs(home, session)
        paths = sorted({*_repaired_paths(prepared.plan), *repairs})
        if paths:
            repo.stage(paths)
        message = _repair_message(home, session, outcome.skipped)
        result.guard_commit = repo.commit(message, guard, guard)
        _write_state(repo, "last-session.json", _summary(result))
        result.pushed = push_all(repo, config)
        # what the guard leaves is the baseline for whatever comes next, until pre-session
        record_baseline(home, repo, config, {"head": repo.head(), "after": session.id})
    return result


def _home_relative(home: Path, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(home.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _without_secrets(log: SessionLog, scanner: SecretScanner) -> SessionLog:
    """The session's summary and error text go into a commit message: never a secret."""
    update: dict[str, object] = {}
    for name in ("summary", "error"):
        text = getattr(log, name)
        if text and scanner.scan(text.encode("utf-8", "surrogateescape")):
            update[name] = f"({name} withheld: it holds a secret)"
    models = tuple(
        "(withheld)" if scanner.scan(m.encode("utf-8", "surrogateescape")) else m
        for m in log.models
    )
    if models != log.models:
        update["models"] = models
    return log.model_copy(update=update) if update else log


def _summary(result: PostResult) -> dict[str, object]:
    return {
        "session": result.session.id,
        "type": result.session.type,
        "status": result.log.status.value,
        "incidents": result.intake.incidents,
        "set_aside": result.intake.done,
        "held": result.held,
        "kept": result.kept,
    }


def _earlier_incidents(repo: Repo, session_id: str) -> list[str]:
    """A rerun after the agent's commit: the incidents the first run found."""
    data = _session_state(repo, "last-session.json", session_id)
    return _strings(data.get("incidents"))


def _touched(home: Path, changes: list[Change]) -> Selection:
    """The content files a session added, changed or renamed into place (and that are still
    there: a killed run may have moved some already)."""
    items: dict[tuple[str, str], Item] = {}
    root = os.fspath(home)  # plain strings: Path joins cost more than the lstat at 10k files
    for change in changes:
        parts = change.path.split("/")
        # a file deeper down stands for the directory it is in (`dreams/x.md/inner.txt`:
        # a directory named like a dream, which the site cannot serve)
        if (change.status != "D" and len(parts) >= 2 and parts[0] in CONTENT_DIRS
                and (parts[0], parts[1]) not in items
                and os.path.lexists(f"{root}/{parts[0]}/{parts[1]}")):  # fmt: skip
            items.setdefault((parts[0], parts[1]), Item(parts[0], parts[1]))
    return Selection((), tuple(items.values()))


def _session_repairs(home: Path, session: archive.Session) -> list[str]:
    """Every path the session's repairs touched, from its manifest: after a killed run the
    rerun commits those too, not only its own."""
    from gpthome_guard.quarantine import entries

    paths = []
    for entry in entries(home):
        if _from_intake(entry.findings):
            continue  # set aside before the agent's commit: never staged, nothing to commit
        if entry.run == f"session-{session.id}" and entry.action in ("fixed", "quarantined"):
            paths.append(entry.fs_path)
            if entry.renamed_to:
                paths.append(entry.renamed_to)
    return paths


def _from_intake(findings: list[dict[str, str]]) -> bool:
    return any(str(f.get("code", ""))[:2] in ("A6", "S7") for f in findings)


def _repaired_paths(plan: Plan) -> list[str]:
    paths = []
    for action in plan.actions:
        paths.append(action.fs_path)
        if isinstance(action, Rewrite) and action.rename_to:
            paths.append(
                f"{action.fs_path.rpartition('/')[0]}/{action.rename_to.rpartition('/')[2]}"
            )
    return paths


def _safeguard(
    repo: Repo, config: GuardConfig, changes: list[Change], session_id: str
) -> tuple[list[str], list[str]]:
    """Hold back a mass deletion, and put back deleted journal entries: unstage them and
    write them back from HEAD, so neither this commit nor the next pre-session drops them.
    What it decides is recorded first: a rerun after a kill, which sees the files back and
    nothing deleted, still tells it."""
    earlier = _session_state(repo, "safeguard.json", session_id)
    earlier_held, earlier_kept = _strings(earlier.get("held")), _strings(earlier.get("kept"))
    gone = [c.path for c in changes if c.status == "D"]
    gone += [c.old_path for c in changes if c.status == "R" and c.old_path]
    if not gone:
        return earlier_held, earlier_kept
    emptied = [d for d in WRITABLE if len(tracked := _tracked(repo, d)) > 1 and all(
        p in gone for p in tracked)]  # a whole directory (of more than one file)  # fmt: skip
    held = sorted(gone) if len(gone) > config.session.max_deletions or emptied else []
    kept = (
        []
        if held
        else sorted(
            p for p in gone if config.session.journal_append_only and p.startswith("thoughts/")
        )
    )
    held = sorted({*held, *earlier_held})
    kept = sorted({*kept, *earlier_kept}) if not held else []
    _write_state(repo, "safeguard.json", {"session": session_id, "held": held, "kept": kept})
    back = held or kept
    if back:
        repo.unstage(back)
        for path in back:
            blob = repo.blob("HEAD", path, MAX_LOG_BYTES)
            if blob is not None and not os.path.lexists(repo.work_tree / path):
                _write_back(repo.work_tree, path, blob)
    if held:
        _write_state(repo, "held.json", {"paths": sorted(_held(repo) | set(held))})
    return held, kept


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _session_state(repo: Repo, name: str, session_id: str) -> dict[str, object]:
    """A state file written for this session, or {} (another session's, or none)."""
    try:
        data = json.loads((repo.git_dir / STATE_DIR / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("session") == session_id else {}


def forget_held(repo: Repo, paths: list[str], guard: Identity) -> list[str]:
    """Confirm deletions post-session held back: delete them and commit that."""
    held = _held(repo)
    unknown = [p for p in paths if p not in held]
    if unknown or not paths:
        raise GuardError(
            f"not held back: {', '.join(unknown) or '(no PATH given)'}; "
            "`guard restore --forget` takes paths post-session held back"
        )
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            (repo.work_tree / path).unlink()
    repo.stage(paths)
    message = (
        f"restore: forget {len(paths)} deletion(s) held back, confirmed by the operator\n"
        "\n"
        + "\n".join(f"  - {printable(p)}" for p in paths)
        + "\n\n"
        + archive.trailers([("Guard-Phase", "forget"), ("Guard-Version", __version__)])
        + "\n"
    )
    repo.commit(message, guard, guard)
    _write_state(repo, "held.json", {"paths": sorted(held - set(paths))})
    return paths


def _held(repo: Repo) -> set[str]:
    """Deletions held back and not yet confirmed, over all sessions."""
    try:
        data = json.loads((repo.git_dir / STATE_DIR / "held.json").read_text(encoding="utf-8"))
        return {str(p) for p in data.get("paths", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def _tracked(repo: Repo, directory: str) -> list[str]:
    out = repo.run("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", directory, check=False)
    return [os.fsdecode(p) for p in out.split(b"\0") if p and not p.endswith(b"README.md")]


def _write_back(home: Path, rel: str, data: bytes) -> None:
    from gpthome_guard.restore import write_file

    with contextlib.suppress(OSError):
        write_file(home, rel, data, 0o644)


def _repair_message(home: Path, session: archive.Session, skipped: list[str]) -> str:
    """From the session's quarantine manifest, not from this run's plan: after a killed run,
    the rerun's commit must tell all the session's repairs, not just the ones it finished."""
    from gpthome_guard.quarantine import entries

    seen: dict[str, tuple[str, str]] = {}
    for entry in entries(home):
        if entry.run != f"session-{session.id}" or entry.path in seen:
            continue
        if _from_intake(entry.findings):
            continue  # told in the agent's commit, which it never entered
        codes = ", ".join(sorted({f.get("code", "?") for f in entry.findings}))
        if entry.action == "fixed":
            moved = f" -> {entry.renamed_to}" if entry.renamed_to else ""
            seen[entry.path] = ("fixed", f"fixed {entry.path}{moved} ({codes})")
        elif entry.restored_from:
            seen[entry.path] = (
                "restored",
                f"restored {entry.path} from {entry.restored_from[:12]} ({codes})",
            )
        elif entry.action == "quarantined":
            seen[entry.path] = ("quarantined", f"quarantined {entry.path} ({codes})")
    kinds = Counter(kind for kind, _ in seen.values())
    lines = [line for _, line in sorted(seen.values(), key=lambda kl: kl[1].split(" ", 1)[1])]
    return archive.guard_message(
        session,
        lines,
        skipped,
        quarantined=kinds["quarantined"],
        fixed=kinds["fixed"],
        restored=kinds["restored"],
    )


def push_all(repo: Repo, config: GuardConfig) -> list[str]:
    """Push the branch to each backup remote: bounded in time, never prompting, never forced.
    A failure is reported and caught up by the next push (which sends everything missing)."""
    if not config.git.remotes or repo.head() is None:
        return []
    branch = repo.run("symbolic-ref", "--short", "-q", "HEAD", check=False).decode().strip()
    ref = f"HEAD:refs/heads/{branch or 'main'}"
    env = {"GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10"}
    lines = []
    for remote in config.git.remotes:
        if remote.startswith("-"):
            lines.append(f"push to {remote}: refused (a remote cannot start with '-')")
            continue
        try:
            repo.run(
                "push",
                "--quiet",
                "--no-verify",
                remote,
                ref,
                env=env,
                timeout=config.git.push_timeout_s,
            )
            lines.append(f"pushed to {remote}")
        except GuardError as exc:
            lines.append(f"push to {remote} failed ({exc}); it is retried after the next commit")
    return lines


def _head_phase(repo: Repo, session_id: str) -> str | None:
    """`agent` or `repair` when HEAD is that commit of this session (a rerun), else None."""
    if repo.head() is None:
        return None
    out = repo.run(
        "log",
        "-1",
        "--format=%(trailers:key=Guard-Session,valueonly)%x00%(trailers:key=Guard-Phase,valueonly)",
    ).decode("utf-8", "replace")
    found_id, _, found_phase = out.partition("\0")
    if found_id.strip() == session_id and found_phase.strip() in ("agent", "repair"):
        return found_phase.strip()
    return None


def _trusted_config(repo: Repo, home: Path, config: GuardConfig) -> GuardConfig:
    """The settings as last committed (by init, or by pre-session for the operator's edits)
    when the file in the home differs: the agent may have edited it during the session, and
    its thresholds, env files and agent user must not be obeyed. The change itself is an
    A601 incident of the access audit."""
    committed = repo.blob("HEAD", CONFIG_NAME, 256 * 1024) if repo.head() else None
    current = read_regular(home / CONFIG_NAME, 256 * 1024)
    if committed is None or committed == current:
        return config
    try:
        trusted = parse_config(committed.decode("utf-8"), f"{CONFIG_NAME} (committed)")
    except (UnicodeDecodeError, GuardError):
        trusted = GuardConfig()
    # where the history is cannot change mid-run: it is how this repository was found
    return trusted.model_copy(update={"git": trusted.git.model_copy(
        update={"git_dir": config.git.git_dir})})  # fmt: skip
