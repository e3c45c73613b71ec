"""post-session killed (SIGKILL) at every step, then run again, ends as one uninterrupted run."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import run_guard, write
from tests.gitutil import git
from tests.test_session import LOG

GOOD_LANDING = '{"headline": "A mind at home", "subheadline": "Written twice a day."}\n'
DREAM = '---\ndate: "2026-11-20"\ntitle: "D"\ntype: "prose"\n---\n\nDream.\n'


def _messy_home(root: Path) -> Path:
    home = root / "gpt-home"
    assert run_guard("init", str(home)).returncode == 0
    write(home, "landing-page/landing.json", GOOD_LANDING)
    write(home, "dreams/old.md", DREAM)
    write(home, "dreams/kept.md", DREAM)
    write(home, "thoughts/2026-11-24-evening.md", '---\ndate: "2026-11-24"\ntitle: "E"\n---\n\nx\n')
    write(home, "thoughts/2026-11-23-evening.md", '---\ndate: "2026-11-23"\ntitle: "E"\n---\n\ny\n')
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    (home / "thoughts/2026-11-23-evening.md").unlink()  # put back: the journal is append-only
    # the session's work
    write(home, "thoughts/2026-11-25-morning.md", "---\ndate: 2026-11-25\ntitle: M\n---\n\nSea.\n")
    write(home, "thoughts/2026-11-25-visit.md", '---\ndate: "2026-11-01"\ntitle: "V"\n---\n\nx\n')
    write(home, "dreams/Salt Song.md", '---\ntitle: "Salt"\ntype: poem\n---\n\nsalt\n')
    (home / "dreams/old.md").unlink()
    write(home, "landing-page/landing.json", "{broken")
    write(home, "sandbox/notes.txt", "scratch\n")
    write(home, "logs/session-20261125-090000.log", LOG)
    return home


def _post(home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    log = home / "logs/session-20261125-090000.log"
    return run_guard("post-session", "--home", str(home), "--log", str(log), env=env)


def _state(home: Path) -> dict[str, object]:
    served = {}
    for directory in ("thoughts", "dreams", "landing-page", "about", "sandbox"):
        for path in sorted((home / directory).rglob("*")):
            if path.is_file():
                served[str(path.relative_to(home))] = path.read_bytes()
    return {
        "tree": git(home, "rev-parse", "HEAD^{tree}"),
        "subjects": git(home, "log", "--format=%s|%an"),
        "kept": git(home, "log", "--format=%(trailers:key=Guard-Kept,valueonly)"),
        "status": git(home, "status", "--porcelain"),
        "served": served,
    }


def test_post_session_survives_a_kill_at_every_step(tmp_path):
    reference_home = _messy_home(tmp_path / "reference")
    pristine = tmp_path / "pristine"
    shutil.copytree(reference_home.parent, pristine, symlinks=True)
    first = _post(reference_home)
    assert first.returncode == 1, first.stdout + first.stderr  # one file quarantined
    reference = _state(reference_home)
    assert "guard(morning)" in str(reference["subjects"])

    def killed_at(step: int) -> tuple[int, str | None]:
        root = tmp_path / f"kill-{step}"
        shutil.copytree(pristine, root, symlinks=True)
        home = root / "gpt-home"
        killed = _post(home, env={"GUARD_TEST_KILL_AT_STEP": str(step)})
        if killed.returncode != -9:
            return step, "completed"
        again = _post(home)
        if again.returncode not in (0, 1):
            return step, f"rerun exited {again.returncode}: {again.stderr}"
        state = _state(home)
        for key, value in reference.items():
            if state[key] != value:
                return step, f"{key} differs: {state[key]!r:.300}"
        fsck = subprocess.run(
            ["git", "-C", str(home), "fsck", "--no-progress"],
            capture_output=True,
            text=True,
            check=False,
        )
        if fsck.returncode != 0:
            return step, f"fsck: {fsck.stdout}{fsck.stderr}"
        return step, None

    problems, covered, step = [], 0, 1
    with ThreadPoolExecutor(max_workers=2) as pool:
        while True:
            batch = list(pool.map(killed_at, range(step, step + 8)))
            done = [s for s, outcome in batch if outcome == "completed"]
            problems += [(s, o) for s, o in batch if o not in (None, "completed")]
            covered += sum(1 for _, o in batch if o != "completed")
            if done:
                break
            step += 8
    assert covered > 20, covered
    assert problems == []
