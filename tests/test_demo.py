"""`guard demo DIR`: a sample home, one messy session through the real wake.sh and the
packaged stand-in agent, and what the guard made of it. Run once for the module (~3 s)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_guard
from tests.gitutil import git


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    base = tmp_path_factory.mktemp("demo")
    env = {  # module scope: the autouse isolation has not run yet, so isolate here
        "HOME": str(base),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_COLOR": "1",
    }
    home = base / "home"
    return home, run_guard("demo", str(home), env=env, timeout=120)


def subjects(home: Path) -> list[str]:
    return git(home, "log", "--format=%s").splitlines()


def the_session(home: Path) -> str:
    [run] = (home / "quarantine").glob("session-*")
    return run.name.removeprefix("session-")


def test_the_demo_runs_and_prints_each_section(demo):
    home, result = demo
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for heading in ("== 1. A sample home", "== 2. A messy morning session",
                    "== 3. The guard's report", "== 4. The history", "== 5. Explore"):  # fmt: skip
        assert heading in out
    assert "wake.sh exit status: 5 (deletions held back or a security incident)" in out
    assert "security incident: A602 GPT.md" in out  # the wrapper's own output
    report = out.split("== 3. The guard's report", 1)[1].split("== 4.", 1)[0]
    assert f"Session {the_session(home)} (morning)" in report
    for part in ("Security incidents:", "Quarantined:", "Journal entries put back", "Fixed:"):
        assert part in report
    log = out.split("== 4. The history", 1)[1].split("== 5.", 1)[0]
    assert re.search(r"^commit [0-9a-f]{40}$", log, re.MULTILINE)
    assert f"Guard-Session: {the_session(home)}" in log
    assert "files changed" in log
    assert "\x1b[" not in out
    assert f"guard quarantine list --home {home}" in out
    assert f"guard log --home {home}" in out


def test_the_history_holds_the_earlier_sessions_and_the_agents_commit(demo):
    home, _ = demo
    found = subjects(home)
    assert found[-1] == "init: lay out the home"
    sessions = [s for s in found if s.startswith(("session(morning)", "session(evening)"))]
    assert len(sessions) == 4  # three earlier ones and the messy one
    assert sessions[0].startswith("session(morning): Wrote today's journal")
    assert found.index(sessions[0]) <= 1  # the newest, or just under the guard's commit


def test_the_guards_commit_follows_the_agents(demo):
    home, _ = demo
    found = subjects(home)
    assert found[0].startswith("guard(morning): 1 fixed")
    assert found[1].startswith("session(morning): Wrote today's journal")
    assert git(home, "status", "--porcelain") == ""


def test_the_guard_repaired_what_the_session_left(demo):
    home, _ = demo
    session = the_session(home)
    quarantine = home / "quarantine" / f"session-{session}"
    [fixed] = (home / "thoughts").glob("*-afterthought.md")
    day = fixed.name[:10]
    assert f'date: "{day}"' in fixed.read_text(encoding="utf-8")
    assert (quarantine / "dreams" / "hologram-garden.md").is_file()
    assert not (home / "dreams" / "hologram-garden.md").exists()
    link = quarantine / "thoughts" / f"{day}-settings.md"
    assert link.is_symlink()
    assert os.readlink(link) == "../runner/.env"
    assert not os.path.lexists(home / "thoughts" / f"{day}-settings.md")
    assert not os.path.lexists(home / "sandbox" / "radio")
    assert "Notes to self" not in (home / "GPT.md").read_text(encoding="utf-8")
    assert "Notes to self" in (quarantine / "GPT.md").read_text(encoding="utf-8")
    first_day = min(p.name[:10] for p in (home / "thoughts").glob("[0-9]*.md"))
    oldest = home / "thoughts" / f"{first_day}-morning.md"  # deleted, then put back
    assert "First light" in oldest.read_text(encoding="utf-8")
    assert git(home, "status", "--porcelain", "--", f"thoughts/{oldest.name}") == ""
    listed = run_guard("quarantine", "list", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    assert "hologram-garden.md" in listed.stdout
    assert f"{day}-settings.md" in listed.stdout


def test_a_non_empty_directory_is_a_usage_error(tmp_path):
    (tmp_path / "something").write_text("mine\n")
    result = run_guard("demo", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"guard demo: {tmp_path}: the directory is not empty")
    assert (tmp_path / "something").read_text() == "mine\n"
