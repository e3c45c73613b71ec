"""`guard fix` crash safety: SIGKILL at every step of applying, then rerun until done.

apply.py counts its atomic steps and, with GUARD_TEST_KILL_AT_STEP=N in the environment,
kills itself at step N. For every N of a full run on a messy home, a rerun (or a few) must
reach exactly the state that one uninterrupted run reaches, lose no byte the agent wrote,
and leave no temporary file in the served directories.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gpthome_guard.config import Limits
from gpthome_guard.models import Counts
from gpthome_guard.validate import select, validate_home
from tests.conftest import GOOD_DREAM, GOOD_LANDING, run_guard, write

SERVED = ("thoughts", "dreams", "landing-page", "about")
KILL_ENV = "GUARD_TEST_KILL_AT_STEP"
SECRET = b"OPENAI_API_KEY=sk-do-not-leak\n"
LINK = "thoughts/2026-01-20-link.md"
LINK_TARGET = "../runner/.env"
BROKEN_LANDING = '{"headline": "A mind at home", "subheadline": \n'
MAX_RERUNS = 5
FRIDAY_MTIME = dt.datetime(2026, 1, 19, 12, 0, tzinfo=dt.UTC).timestamp()

ALIAS_BOMB = (
    "---\n"
    'date: "2026-01-16"\n'
    'title: "Laughs"\n'
    'type: "prose"\n'
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "---\n\nha\n"
)

MESSY = {
    # unquoted date and a YAML 1.1 bool where text belongs: fixed in place
    "thoughts/2026-01-17-noon.md": '---\ndate: 2026-01-17\ntitle: "Noon"\nmood: no\n---\n\n'
    "Noon came and went.\n",
    # no frontmatter at all: one is written from the file name
    "thoughts/2026-01-18-plain.md": "Just words, no frontmatter.\n",
    # BOM and CRLF: stripped
    "thoughts/2026-01-15-bom.md": (
        '\ufeff---\r\ndate: "2026-01-15"\r\ntitle: "Bom"\r\n---\r\n\r\nWindows text\r\n'
    ).encode(),
    # the date disagrees with the name: not guessed, quarantined
    "thoughts/2026-01-19-wrong.md": '---\ndate: "2026-01-10"\ntitle: "Wrong"\n---\n\nOops.\n',
    # a synonym type, a string bool, no title and no date, a name with spaces: fixed and renamed
    "dreams/Friday Light.md": '---\ntype: Poem\nimmersive: "yes"\n---\n\nlight on the water\n',
    # fixable, but its proper name sea-light.md is taken: quarantined, never overwrites
    "dreams/Sea Light.md": '---\ndate: "2026-01-18"\ntitle: "Sea"\ntype: "Prose"\n---\n\nwaves\n',
    # YAML aliases: refused, quarantined
    "dreams/bomb.md": ALIAS_BOMB,
    # broken JSON whose valid version is committed: restored from git
    "landing-page/landing.json": BROKEN_LANDING,
}


# --- building and observing homes ----------------------------------------------------------


def _git(home: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(home), *args], check=True, capture_output=True)


def make_messy_home(home: Path) -> Path:
    """conftest's valid home, committed, then made messy (uncommitted)."""
    # conftest's dream takes the name `Friday Light.md` would be renamed to; move it aside so
    # that the rename happens, and let `Sea Light.md` cover the taken-name case instead.
    os.rename(home / "dreams/friday-light.md", home / "dreams/sea-light.md")
    write(home, "runner/.env", SECRET)
    _git(home, "init", "-q")
    _git(home, "add", "-A")
    _git(home, "commit", "-q", "-m", "a valid home")
    for rel, content in MESSY.items():
        write(home, rel, content)
    os.utime(home / "dreams/Friday Light.md", (FRIDAY_MTIME, FRIDAY_MTIME))
    os.symlink(LINK_TARGET, home / LINK)
    return home


def served_state(home: Path) -> dict[str, tuple[str, bytes | str | None]]:
    """Every entry of the served directories: path -> (kind, bytes or link target)."""
    state: dict[str, tuple[str, bytes | str | None]] = {}

    def walk(rel: str) -> None:
        for entry in sorted(os.scandir(home / rel), key=lambda e: e.name):
            path = f"{rel}/{entry.name}"
            if entry.is_symlink():
                state[path] = ("link", os.readlink(entry.path))
            elif entry.is_dir(follow_symlinks=False):
                state[path] = ("dir", None)
                walk(path)
            else:
                state[path] = ("file", Path(entry.path).read_bytes())

    for directory in SERVED:
        if os.path.lexists(home / directory):
            walk(directory)
    return state


def tree_state(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under `root` (the .git directory included), with its metadata and bytes."""
    state: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                content: object = os.readlink(path)
            elif os.path.isdir(path):
                content = None
            else:
                content = Path(path).read_bytes()
            rel = os.path.relpath(path, root)
            state[rel] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    return state


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def originals(home: Path) -> tuple[set[str], set[str]]:
    """The SHA-256 of each content file and the target of each link in the served dirs."""
    hashes: set[str] = set()
    links: set[str] = set()
    for kind, value in served_state(home).values():
        if kind == "file":
            assert isinstance(value, bytes)
            hashes.add(_sha(value))
        elif kind == "link":
            assert isinstance(value, str)
            links.add(value)
    return hashes, links


def kept(home: Path) -> tuple[set[str], set[str]]:
    """Hashes of every regular file in the home (quarantine included, .git excluded), and the
    targets of the links in quarantine/."""
    hashes: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(home, followlinks=False):
        if Path(dirpath) == home:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path) and os.path.isfile(path):
                hashes.add(_sha(Path(path).read_bytes()))
    links: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(home / "quarantine", followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                links.add(os.readlink(path))
    return hashes, links


def temporaries(home: Path) -> list[str]:
    return [
        rel
        for rel in served_state(home)
        if rel.rpartition("/")[2].startswith(".guard-") and rel.endswith(".tmp")
    ]


def manifest_problems(home: Path) -> list[str]:
    problems = []
    for dirpath, _dirnames, filenames in os.walk(home / "quarantine", followlinks=False):
        if "manifest.jsonl" in filenames:
            path = Path(dirpath) / "manifest.jsonl"
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    if number < len(lines):  # only the last line may be cut short by a kill
                        problems.append(f"{path}:{number}: {exc}")
                    continue
                if not isinstance(record, dict) or "stored_as_bytes" not in record:
                    problems.append(f"{path}:{number}: not a record")
    return problems


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def fix_until_done(home: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run `guard fix` until it says there is nothing to do (at most MAX_RERUNS times)."""
    runs = []
    for _ in range(MAX_RERUNS):
        result = run_guard("fix", "--home", str(home))
        runs.append(result)
        if result.returncode not in (0, 1) or result.stdout == "Nothing to fix.\n":
            break
    return runs


def validation_counts(home: Path) -> Counts:
    """What `guard validate` counts, in-process (a subprocess per kill point costs too much)."""
    return validate_home(home, select(home, []), Limits()).counts


# --- the reference ----------------------------------------------------------------------------


@pytest.fixture
def messy(home: Path) -> Path:
    return make_messy_home(home)


@pytest.fixture
def reference(messy: Path, tmp_path: Path) -> dict[str, tuple[str, bytes | str | None]]:
    """The served directories after one uninterrupted `guard fix` on a copy."""
    copy = copy_home(messy, tmp_path / "reference")
    result = run_guard("fix", "--home", str(copy))
    assert result.returncode == 1, result.stdout + result.stderr  # quarantines were needed
    assert result.stderr == ""
    return served_state(copy)


def test_the_reference_run_does_what_it_should(messy, reference):
    assert reference["thoughts/2026-01-17-noon.md"] == (
        "file",
        b'---\ndate: "2026-01-17"\ntitle: "Noon"\nmood: "no"\n---\n\nNoon came and went.\n',
    )
    assert reference["thoughts/2026-01-18-plain.md"] == (
        "file",
        b'---\ndate: "2026-01-18"\ntitle: "Plain"\n---\n\nJust words, no frontmatter.\n',
    )
    assert reference["thoughts/2026-01-15-bom.md"] == (
        "file",
        b'---\ndate: "2026-01-15"\ntitle: "Bom"\n---\n\nWindows text\n',
    )
    assert reference["dreams/friday-light.md"] == (
        "file",
        b'---\ndate: "2026-01-19"\ntitle: "Friday Light"\ntype: "poetry"\nimmersive: true\n'
        b"---\n\nlight on the water\n",
    )
    assert reference["dreams/sea-light.md"] == ("file", GOOD_DREAM.encode())
    assert reference["landing-page/landing.json"] == ("file", GOOD_LANDING.encode())
    for gone in (
        "thoughts/2026-01-19-wrong.md",
        LINK,
        "dreams/Friday Light.md",
        "dreams/Sea Light.md",
        "dreams/bomb.md",
    ):
        assert gone not in reference
    assert (messy / "runner/.env").read_bytes() == SECRET
    assert not (messy / "runner/.env").is_symlink()


# --- SIGKILL at every step --------------------------------------------------------------------


def _kill_and_recover(
    messy: Path, work: Path, n: int, reference: dict[str, tuple[str, bytes | str | None]]
) -> tuple[bool, list[str]]:
    """(was it killed, the problems found after recovering)."""
    copy = copy_home(messy, work / f"kill-{n}")
    before_hashes, before_links = originals(copy)
    killed = run_guard("fix", "--home", str(copy), env={KILL_ENV: str(n)})
    if killed.returncode != -9:
        problems = []
        if killed.returncode not in (0, 1):
            problems.append(f"unkilled run exited {killed.returncode}: {killed.stderr}")
        if served_state(copy) != reference:
            problems.append("an uninterrupted run differs from the reference")
        return False, problems
    problems = [f"step {n}: {p}" for p in _recover_and_check(copy, reference)]
    hashes, links = kept(copy)
    for digest in sorted(before_hashes - hashes):
        problems.append(f"step {n}: an original file (sha256 {digest[:16]}...) is lost")
    for target in sorted(before_links - links):
        problems.append(f"step {n}: the link to {target} is not in quarantine/")
    if (copy / "runner/.env").read_bytes() != SECRET or (copy / "runner/.env").is_symlink():
        problems.append(f"step {n}: runner/.env was touched")
    return True, problems


def _recover_and_check(
    copy: Path, reference: dict[str, tuple[str, bytes | str | None]]
) -> list[str]:
    problems = []
    runs = fix_until_done(copy)
    for i, run in enumerate(runs, 1):
        if run.returncode not in (0, 1) or run.stderr:
            problems.append(f"rerun {i} exited {run.returncode}: {run.stderr.strip()}")
    if runs[-1].stdout != "Nothing to fix.\n":
        problems.append(f"still not done after {len(runs)} reruns: {runs[-1].stdout!r}")
    state = served_state(copy)
    if state != reference:
        extra = sorted(set(state) - set(reference))
        missing = sorted(set(reference) - set(state))
        differ = sorted(k for k in set(state) & set(reference) if state[k] != reference[k])
        problems.append(
            f"served dirs differ from the reference: extra {extra}, missing {missing}, "
            f"different {differ}"
        )
    counts = validation_counts(copy)
    if counts.fixable or counts.errors:
        problems.append(f"validate after recovery: {counts}")
    left = temporaries(copy)
    if left:
        problems.append(f"temporary files left in the served dirs: {left}")
    problems.extend(manifest_problems(copy))
    return problems


def test_a_kill_at_any_step_recovers_to_the_reference(messy, reference, tmp_path):
    work = tmp_path / "kills"
    work.mkdir()
    workers = max(2, min(8, os.cpu_count() or 2))
    problems: list[str] = []
    killed_at: list[int] = []
    completed_at = None
    start = 1
    with ThreadPoolExecutor(workers) as pool:
        while completed_at is None:
            assert start < 500, "the run never completed: is the step count unbounded?"
            batch = range(start, start + workers * 2)
            results = list(
                pool.map(lambda n: (n, *_kill_and_recover(messy, work, n, reference)), batch)
            )
            for n, was_killed, found in results:
                if completed_at is not None and n > completed_at:
                    break
                problems.extend(found)
                if was_killed:
                    killed_at.append(n)
                else:
                    completed_at = n
            start += workers * 2
    steps = completed_at - 1
    # a kill point for every step, then one run that went through
    assert killed_at == list(range(1, steps + 1))
    # three rewrites, one rename, one restore and four quarantines take far more than 20 steps
    assert steps > 20, steps
    assert not problems, "\n".join(problems)


# --- twice, and dry runs -------------------------------------------------------------------


def test_fixing_twice_changes_nothing_the_second_time(messy):
    first = run_guard("fix", "--home", str(messy))
    assert first.returncode == 1, first.stdout + first.stderr
    checked = run_guard("validate", "--home", str(messy))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    before = tree_state(messy)
    second = run_guard("fix", "--home", str(messy))
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout == "Nothing to fix.\n"
    assert second.stderr == ""
    assert tree_state(messy) == before


def test_dry_run_changes_nothing_and_prints_diffs(messy):
    before = tree_state(messy)
    result = run_guard("fix", "--home", str(messy), "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert tree_state(messy) == before
    assert not (messy / "quarantine").exists()
    lines = result.stdout.splitlines()
    for path in (
        "thoughts/2026-01-17-noon.md",
        "thoughts/2026-01-18-plain.md",
        "thoughts/2026-01-15-bom.md",
    ):
        assert f"--- a/{path}" in lines
        assert f"+++ b/{path}" in lines
    assert "--- a/dreams/Friday Light.md" in lines
    assert "+++ b/dreams/friday-light.md" in lines
    assert "-date: 2026-01-17" in lines
    assert '+date: "2026-01-17"' in lines
    assert (
        lines[-1] == "Plan: 4 fixes, 4 quarantines, 1 page restore. Dry run: nothing was changed."
    )


def test_dry_run_as_json(messy):
    before = tree_state(messy)
    result = run_guard("fix", "--home", str(messy), "--dry-run", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert tree_state(messy) == before
    data = json.loads(result.stdout)  # one document, nothing else on stdout
    assert data["command"] == "fix"
    assert data["dry_run"] is True
    assert data["applied"] is None
    assert data["status"] == "findings"
    actions = {(a["action"], a["path"]) for a in data["actions"]}
    assert actions == {
        ("rewrite", "thoughts/2026-01-15-bom.md"),
        ("rewrite", "thoughts/2026-01-17-noon.md"),
        ("rewrite", "thoughts/2026-01-18-plain.md"),
        ("rewrite", "dreams/Friday Light.md"),
        ("quarantine", "thoughts/2026-01-19-wrong.md"),
        ("quarantine", LINK),
        ("quarantine", "dreams/bomb.md"),
        ("quarantine", "dreams/Sea Light.md"),
        ("restore-page", "landing-page/landing.json"),
    }
    renames = {a["path"]: a.get("rename_to") for a in data["actions"] if a["action"] == "rewrite"}
    assert renames["dreams/Friday Light.md"] == "dreams/friday-light.md"
    for action in data["actions"]:
        if action["action"] == "rewrite":
            assert action["diff"].startswith(f"--- a/{action['path']}\n")


def test_a_kill_between_the_record_and_the_move_leaves_no_phantom_entry(home, tmp_path):
    """After a kill and a rerun, each unreleased entry `guard quarantine list` shows must be in
    the quarantine. _move_out writes the manifest record before it renames the file, so a kill
    between the two leaves a record of a file that never arrived, and the rerun quarantines the
    file again under a second record."""
    write(home, "thoughts/2026-01-19-wrong.md", MESSY["thoughts/2026-01-19-wrong.md"])
    problems = []
    for n in range(1, 20):
        copy = copy_home(home, tmp_path / f"kill-{n}")
        if run_guard("fix", "--home", str(copy), env={KILL_ENV: str(n)}).returncode != -9:
            break
        runs = fix_until_done(copy)
        assert runs[-1].stdout == "Nothing to fix.\n", runs[-1].stdout
        listed = run_guard("quarantine", "list", "--home", str(copy), "--format", "json")
        entries = json.loads(listed.stdout)
        for entry in entries:
            if not os.path.lexists(copy / entry["stored_as"]):
                problems.append(
                    f"kill at step {n}: {entry['path']} listed as {entry['stored_as']}, "
                    "which does not exist"
                )
        paths = [e["path"] for e in entries]
        if paths != ["thoughts/2026-01-19-wrong.md"]:
            problems.append(f"kill at step {n}: the quarantine lists {paths}")
    assert n > 1, "the fault hook did not fire"
    assert not problems, "\n".join(problems)
