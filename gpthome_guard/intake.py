"""shell: what happens before anything the agent wrote is staged.

1. The access audit: compare the forbidden and read-only paths with the baseline pre-session
   recorded; put read-only files back from git, quarantine new entries outside the agent's
   directories; every such change is a security incident.
2. Set aside the hazards in the agent's directories (links, FIFOs, nested repositories,
   planted ignore and attribute files) before any git command walks the tree.
3. Read each added or changed file once: hard links, files too large, a session over its
   budget and files holding a secret are quarantined (mode 600), never staged.

Each step goes through `apply_plan`, so it is atomic, recorded in the quarantine manifest and
safe to run again after a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from gpthome_guard import audit
from gpthome_guard.access import WRITABLE, AccessChange, Stat, Zone, compare
from gpthome_guard.apply import Run, apply_plan
from gpthome_guard.config import GuardConfig
from gpthome_guard.conventions import PAGES
from gpthome_guard.errors import GuardError
from gpthome_guard.gitrepo import Repo
from gpthome_guard.plan import Change, Plan, Quarantine, sha256
from gpthome_guard.reader import display, read_regular
from gpthome_guard.rules import RULES
from gpthome_guard.secrets import SecretScanner

STATE_DIR = "gpthome-guard"
BASELINE = "baseline.json"
AUDIT = "audit.json"  # this session's comparison with the baseline
_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_MAX_ENV_BYTES = 1024 * 1024


@dataclass(slots=True)
class Intake:
    incidents: list[str] = field(default_factory=list)  # security incidents: exit 5
    done: list[str] = field(default_factory=list)  # what was set aside, removed or put back
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    set_aside: int = 0  # files and entries quarantined or removed (exit 1 at least)
    unreadable: list[str] = field(default_factory=list)  # written, but not safely readable
    # every path of the agent's directories that differed from the index: what to stage
    changed: list[str] = field(default_factory=list)


def _change(code: str, message: str) -> Change:
    return Change(code=code, name=RULES[code].name, message=message)


def scanner_for(home: Path, config: GuardConfig) -> SecretScanner:
    """The secret scanner, loaded with the real credentials: the env files' values and the
    guard's own environment variables named like credentials."""
    files: dict[str, bytes] = {}
    for name in config.secrets.env_files:
        path = Path(name) if os.path.isabs(name) else home / name
        data = read_regular(path, _MAX_ENV_BYTES)
        if data:
            files[name] = data
    values = []
    if config.secrets.environment:
        values = [os.fsencode(v) for k, v in os.environ.items() if _ENV_NAME.search(k) and v]
    return SecretScanner.from_env(files, values)


# --- the baseline ------------------------------------------------------------------------


def home_map(home: Path, repo: Repo, config: GuardConfig) -> audit.Map:
    return audit.Map.of(home, repo.git_dir, config.access.forbidden, config.access.read_only)


def _state(repo: Repo) -> Path:
    path = repo.git_dir / STATE_DIR
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def load_baseline(repo: Repo) -> dict[str, object] | None:
    try:
        data = json.loads((repo.git_dir / STATE_DIR / BASELINE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fingerprint_of(data: dict[str, object] | None) -> dict[str, Stat] | None:
    raw = (data or {}).get("fingerprint")
    if not isinstance(raw, dict):
        return None
    try:
        return {str(k): Stat.from_list(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        return None


def record_baseline(home: Path, repo: Repo, config: GuardConfig, fields: dict[str, object]) -> None:
    """Fingerprint the forbidden and read-only paths into the git directory (out of the
    agent's reach when `guard doctor` passes)."""
    previous = _fingerprint_of(load_baseline(repo))
    taken = audit.fingerprint(
        home, home_map(home, repo, config), config.access.hash_max_bytes, previous
    )
    data = {**fields, "fingerprint": {k: v.to_list() for k, v in taken.items()}}
    state = _state(repo)
    tmp = state / f".{BASELINE}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=True) + "\n", encoding="utf-8")
    os.replace(tmp, state / BASELINE)
    # a comparison stored against the previous baseline means nothing any more (a session
    # log may well have the same name again: the id comes from it)
    with contextlib.suppress(FileNotFoundError):
        (state / AUDIT).unlink()


def alert(repo: Repo, config: GuardConfig, session: str, lines: list[str]) -> None:
    """Append incidents to the alert log, outside the agent's reach. Never the secret."""
    if not lines:
        return
    path = Path(config.access.alert_log) if config.access.alert_log else _state(repo) / "alerts.log"
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = "".join(f"{when} session {session}: {line}\n" for line in lines)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)  # fmt: skip
    except OSError as exc:
        raise GuardError(f"{path}: cannot append to the alert log ({exc.strerror})") from None
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


# --- 1. the access audit -----------------------------------------------------------------


def audit_access(
    home: Path,
    repo: Repo,
    config: GuardConfig,
    run: Run,
    log_rel: str | None,
    result: Intake,
    scanner: SecretScanner,
) -> None:
    """Compare with the baseline, once per session: the comparison is stored before this run
    changes anything, so a rerun after a crash acts on the same findings instead of taking
    the guard's own half-done work (a rewritten index, a quarantine) for the agent's."""
    changes = _stored_changes(repo, run.session)
    if changes is None:
        baseline = _fingerprint_of(load_baseline(repo))
        if baseline is None:  # init and every pre-session record one: it was removed
            result.incidents.append(
                f"A601 {STATE_DIR}/{BASELINE} in the git directory: missing, so the access "
                "audit could not run; run `guard pre-session` before every session"
            )
            return
        changes = _compare(home, repo, config, baseline, log_rel)
        _store_changes(repo, run.session, changes)
    moves: list[Quarantine] = []
    put_back: list[str] = []
    for change in changes:
        path, code = change.path, _CODES[change.zone]
        result.incidents.append(f"{code} {masked(path, scanner) or display(path)}: {change.what}")
        present = os.path.lexists(home / path)
        if change.zone is Zone.read_only or path == "guard.toml":
            if (
                change.kind != "added"
                and change.was_file
                and (
                    change.kind == "removed" or "content" in change.what or "became" in change.what
                )
            ):
                put_back.append(path)
            if present and (
                change.kind == "added"
                or (change.was_file and read_regular(home / path) != _head_blob(repo, path))
            ):
                moves.append(_quarantine(path, code, f"changed: {change.what}"))
        elif change.zone is Zone.outside and change.kind == "added" and present:
            moves.append(_quarantine(path, code, "a new entry outside the agent's directories"))
    _apply(home, moves, run, result)
    for path in put_back:
        _put_back(repo, path, result)


_CODES = {Zone.forbidden: "A601", Zone.read_only: "A602", Zone.outside: "A603",
          Zone.writable: "A603"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Found:
    path: str
    zone: Zone
    what: str
    kind: str
    was_file: bool


def _compare(
    home: Path, repo: Repo, config: GuardConfig, baseline: dict[str, Stat], log_rel: str | None
) -> list[_Found]:
    the_map = home_map(home, repo, config)
    after = audit.fingerprint(home, the_map, config.access.hash_max_bytes, baseline)

    def skip(path: str) -> bool:
        return path == log_rel or the_map.zone(path) is Zone.writable

    agent_uid = _uid(config.access.agent_user)
    found = []
    for change in _topmost(compare(baseline, after, the_map.zone, skip)):
        new = after.get(change.path)
        if (change.kind == "added" and change.zone is Zone.read_only and new is not None
                and change.path.startswith("visitors/")
                and (agent_uid is None or new.uid != agent_uid)):  # fmt: skip
            # a new visitor message: the API's, unless the agent's own user wrote it (without
            # [access] agent_user that cannot be told, so it is left where it is)
            continue
        old = baseline.get(change.path)
        if change.zone is Zone.outside and "/" in change.path:
            continue
        found.append(_Found(change.path, change.zone, change.what, change.kind,
                            old is not None and old.type == "file"))  # fmt: skip
    return found


def _stored_changes(repo: Repo, session: str | None) -> list[_Found] | None:
    try:
        data = json.loads((repo.git_dir / STATE_DIR / AUDIT).read_text(encoding="utf-8"))
        if data.get("session") != session or session is None:
            return None
        return [_Found(str(p), Zone(z), str(w), str(k), bool(f)) for p, z, w, k, f in
                data["changes"]]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store_changes(repo: Repo, session: str | None, changes: list[_Found]) -> None:
    rows = [[c.path, c.zone.value, c.what, c.kind, c.was_file] for c in changes]
    state = _state(repo)
    tmp = state / f".{AUDIT}.tmp"
    tmp.write_text(json.dumps({"session": session, "changes": rows}) + "\n", encoding="utf-8")
    os.replace(tmp, state / AUDIT)


def _head_blob(repo: Repo, path: str) -> bytes | None:
    return repo.blob("HEAD", path, 64 * 1024 * 1024)


def _topmost(changes: list[AccessChange]) -> list[AccessChange]:
    """Added or removed directories stand for their content: report and act on them once."""
    kept: list[AccessChange] = []
    covered: list[str] = []
    for change in changes:  # sorted by path: a directory comes before its entries
        if any(change.path.startswith(c + "/") for c in covered):
            continue
        kept.append(change)
        if change.kind == "added":
            covered.append(change.path)
    return kept


def _uid(user: str) -> int | None:
    if not user:
        return None
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def _put_back(repo: Repo, path: str, result: Intake) -> None:
    from gpthome_guard.restore import write_file

    blob = _head_blob(repo, path)
    if blob is None:
        return
    target = repo.work_tree / path
    if read_regular(target) == blob:  # put back already, by a run that was then killed
        result.done.append(f"put back {display(path)} from the last commit")
        return
    if os.path.lexists(target):  # quarantined above; something new appeared meanwhile
        result.skipped.append(f"{display(path)}: changed again; not put back")
        return
    try:
        write_file(repo.work_tree, path, blob, 0o644)
    except OSError as exc:
        result.skipped.append(f"{display(path)}: not put back ({exc.strerror})")
        return
    result.done.append(f"put back {display(path)} from the last commit")


# --- 2. hazards --------------------------------------------------------------------------


def set_aside_hazards(
    home: Path, repo: Repo, run: Run, result: Intake, scanner: SecretScanner
) -> None:
    found = audit.hazards(home)
    actions = [
        Quarantine(
            path=masked(h.path, scanner) or display(h.path),
            fs_path=h.path,
            sha256=None,
            findings=(_change(h.code, h.message),),
            remove=h.remove,
        )
        for h in found
    ]
    _apply(home, actions, run, result)
    # a page the site serves, replaced by a link or a FIFO: its last committed version goes
    # back, so the site stays up (the repair would only see it deleted)
    for hazard in found:
        if hazard.path in PAGES and not os.path.lexists(home / hazard.path):
            _put_back(repo, hazard.path, result)


# --- 3. what the session wrote -----------------------------------------------------------


def screen_written(
    home: Path,
    repo: Repo,
    config: GuardConfig,
    run: Run,
    scanner: SecretScanner,
    result: Intake,
) -> None:
    limits = config.session
    changes = repo.worktree_changes(list(WRITABLE))
    result.changed = [p for _, p in changes]
    written = [p for status, p in changes if status != "D"]
    actions: list[Quarantine] = []
    files = total = 0
    for rel in sorted(written):
        read = audit.read_candidate(home, rel, limits.max_archived_file_bytes)
        if read is None:  # not a regular file we can open (a path too long, a link the
            # walk could not reach): never staged unread
            result.unreadable.append(rel)
            continue
        st, data = read
        if st.st_nlink > 1:
            # not private: a chmod would change the file it shares its inode with
            actions.append(_quarantine(rel, "A608", f"{st.st_nlink} names share this file"))
            continue
        if data is None:
            actions.append(_quarantine(rel, "A609", f"{st.st_size} bytes, over the "
                                       f"{limits.max_archived_file_bytes}-byte cap",
                                       private=True))  # fmt: skip
            continue
        files, total = files + 1, total + len(data)
        if files > limits.max_session_files or total > limits.max_session_bytes:
            actions.append(_quarantine(rel, "A610", "beyond the session's budget of "
                                       f"{limits.max_session_files} files and "
                                       f"{limits.max_session_bytes} bytes", data,
                                       private=True))  # fmt: skip
            continue
        hits = scanner.scan(data, rel)
        if hits:
            where = "; ".join(
                f"{'name' if h.line == 0 else f'line {h.line}'}: {h.kind}" for h in hits[:5]
            )
            actions.append(_quarantine(rel, "S701", where, data, private=True,
                                       shown=masked(rel, scanner)))  # fmt: skip
    free = audit.free_bytes(home)
    if free is not None and free < total + limits.min_free_bytes:
        raise GuardError(
            f"{home}: only {free} bytes free, and archiving this session needs about "
            f"{total + limits.min_free_bytes}; free disk space and rerun (nothing was committed)"
        )
    _apply(home, actions, run, result)
    if result.unreadable:
        gone = set(result.unreadable)
        result.changed = [p for p in result.changed if p not in gone]
        result.skipped += [
            f"{masked(p, scanner) or display(p)}: cannot be read safely (a path too long, or "
            "not a regular file); not archived: look at it by hand"
            for p in result.unreadable
        ]


def masked(path: str, scanner: SecretScanner) -> str | None:
    """How to show a path whose name holds a secret (None when it holds none)."""
    if not scanner.scan(b"", path):
        return None
    return f"{path.split('/', 1)[0]}/(a path that holds a secret)"


def _quarantine(
    path: str,
    code: str,
    message: str,
    data: bytes | None = None,
    *,
    private: bool = False,
    shown: str | None = None,
) -> Quarantine:
    return Quarantine(
        path=shown or display(path),
        fs_path=path,
        sha256=sha256(data) if data is not None else None,
        findings=(_change(code, message),),
        private=private,
    )


def _apply(home: Path, actions: list[Quarantine], run: Run, result: Intake) -> None:
    if actions:
        result.skipped += apply_plan(home, Plan(actions=tuple(actions)), run).skipped


def _from_manifest(home: Path, run: Run, result: Intake, scanner: SecretScanner) -> None:
    """What this run's intake set aside, from its manifest, not from what this process did:
    after a crash, the rerun tells the whole story, not only the part it finished."""
    try:
        lines = (home / "quarantine" / run.run_id / "manifest.jsonl").read_text("utf-8")
    except OSError:
        return
    seen: set[tuple[str, str]] = set()
    for line in lines.splitlines():
        try:
            record = json.loads(line)
            finding = record["findings"][0]
            code, path, action = str(finding["code"]), str(record["path"]), str(record["action"])
            message = str(finding["message"])
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if code[:1] not in "AS" or (path, code) in seen or action not in ("quarantined", "removed"):
            continue
        path = masked(path, scanner) or path
        seen.add((path, code))
        result.set_aside += 1
        result.done.append(f"{action} {path} ({code} {message})")
        if code == "S701":
            result.incidents.append(f"S701 {path}: {message}")


def intake(
    home: Path,
    repo: Repo,
    config: GuardConfig,
    run: Run,
    *,
    log_rel: str | None = None,
    access: bool = True,
) -> tuple[Intake, SecretScanner]:
    """Everything before staging; `access` only in post-session (pre-session has no baseline
    to compare with: it records one)."""
    result = Intake()
    scanner = scanner_for(home, config)
    if access:
        audit_access(home, repo, config, run, log_rel, result, scanner)
    set_aside_hazards(home, repo, run, result, scanner)
    screen_written(home, repo, config, run, scanner, result)
    put_back = result.done
    result.done = []
    _from_manifest(home, run, result, scanner)
    result.done += put_back
    return result, scanner
