"""guard restore, and the deletion safeguards of post-session."""

from __future__ import annotations

import os
import pwd

import pytest

from tests.conftest import run_guard, write
from tests.gitutil import git
from tests.test_session import _init, _log, _trailers

THOUGHT = '---\ndate: "2026-11-2{n}"\ntitle: "T{n}"\n---\n\nEntry {n}.\n'
DREAM = '---\ndate: "2026-11-20"\ntitle: "D{n}"\ntype: "prose"\n---\n\nDream {n}.\n'


def _session(home, name="session-20261125-090000.log"):
    return run_guard("post-session", "--home", str(home), "--log", str(_log(home, name=name)))


def _home_with_dreams(tmp_path, count=3):
    home = _init(tmp_path)
    for n in range(count):
        write(home, f"dreams/d{n}.md", DREAM.format(n=n))
    write(home, "thoughts/2026-11-21-morning.md", THOUGHT.format(n=1))
    write(home, "thoughts/2026-11-22-morning.md", THOUGHT.format(n=2))
    assert _session(home, "session-20261124-090000.log").returncode == 0
    return home


def test_restore_brings_back_what_the_last_session_deleted(tmp_path):
    home = _home_with_dreams(tmp_path)
    (home / "dreams/d1.md").unlink()
    assert _session(home).returncode == 0
    assert not (home / "dreams/d1.md").exists()
    listed = run_guard("restore", "--list", "--home", str(home))
    assert "dreams/d1.md  deleted in" in listed.stdout
    assert "session 20261125-090000" in listed.stdout
    dry = run_guard("restore", "--dry-run", "--home", str(home))
    assert "would restore dreams/d1.md" in dry.stdout
    assert not (home / "dreams/d1.md").exists()
    result = run_guard("restore", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert (home / "dreams/d1.md").read_text() == DREAM.format(n=1)
    trailers = _trailers(home)
    assert trailers["Guard-Phase"] == "restore"
    assert trailers["Guard-Session"] == "20261125-090000"
    assert git(home, "status", "--porcelain") == ""


def test_restore_never_overwrites_and_takes_paths_and_globs(tmp_path):
    home = _home_with_dreams(tmp_path)
    (home / "dreams/d0.md").unlink()
    (home / "dreams/d2.md").unlink()
    assert _session(home).returncode == 0
    write(home, "dreams/d0.md", DREAM.format(n=9))
    result = run_guard("restore", "dreams/d*.md", "--home", str(home))
    assert "left dreams/d0.md: a file is there again" in result.stdout
    assert "restored dreams/d2.md" in result.stdout
    assert (home / "dreams/d0.md").read_text() == DREAM.format(n=9)


def test_deletions_not_yet_committed_come_back_from_head(tmp_path):
    home = _home_with_dreams(tmp_path)
    (home / "dreams/d2.md").unlink()
    result = run_guard("restore", "dreams/d2.md", "--home", str(home))
    assert result.returncode == 0
    assert "from HEAD" in result.stdout
    assert (home / "dreams/d2.md").exists()


def test_journal_entries_are_append_only(tmp_path):
    home = _home_with_dreams(tmp_path)
    (home / "thoughts/2026-11-21-morning.md").unlink()
    write(home, "thoughts/2026-11-25-morning.md", THOUGHT.format(n=5))
    result = _session(home)
    assert result.returncode == 1
    assert "put back thoughts/2026-11-21-morning.md" in result.stdout
    assert (home / "thoughts/2026-11-21-morning.md").read_text() == THOUGHT.format(n=1)
    assert "thoughts/2026-11-21-morning.md" in git(home, "ls-files")
    assert _trailers(home, "HEAD")["Guard-Kept"] == "1"


def test_a_mass_deletion_is_held_back_until_confirmed(tmp_path):
    home = _home_with_dreams(tmp_path, count=12)
    for n in range(12):
        (home / f"dreams/d{n}.md").unlink()
    write(home, "dreams/new.md", DREAM.format(n=99))
    result = _session(home)
    assert result.returncode == 5
    assert "held back 12 deletions" in result.stderr
    assert all((home / f"dreams/d{n}.md").exists() for n in range(12))
    assert "dreams/new.md" in git(home, "ls-files")  # the rest is committed
    assert "dreams/d3.md" in git(home, "ls-files")
    pre = run_guard("pre-session", "--home", str(home))
    assert "committed" not in pre.stdout  # the next pre-session does not drop them either
    refused = run_guard("restore", "--forget", "dreams/new.md", "--home", str(home))
    assert refused.returncode == 3
    confirmed = run_guard("restore", "--forget", "dreams/d3.md", "--home", str(home))
    assert confirmed.returncode == 0, confirmed.stderr
    assert not (home / "dreams/d3.md").exists()
    assert "dreams/d3.md" not in git(home, "ls-files")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away (issue 5)")
def test_a_written_back_file_belongs_to_its_directorys_owner(tmp_path):
    from gpthome_guard.restore import write_file

    nobody = pwd.getpwnam("nobody")
    (tmp_path / "thoughts").mkdir()
    os.chown(tmp_path / "thoughts", nobody.pw_uid, nobody.pw_gid)
    write_file(tmp_path, "thoughts/back.md", b"x" * 300_000, 0o644)
    st = os.stat(tmp_path / "thoughts" / "back.md")
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert (tmp_path / "thoughts" / "back.md").read_bytes() == b"x" * 300_000
