"""What review found an agent could do to the history, each pinned by a test."""

from __future__ import annotations

from tests.conftest import run_guard, write
from tests.gitutil import git
from tests.test_session import LOG, _init, _log

ENTRY = '---\ndate: "2026-11-25"\ntitle: "M"\n---\n\nSea.\n'


def _post(home, log_text=LOG, name="session-20261125-090000.log"):
    log = _log(home, log_text, name=name)
    return run_guard("post-session", "--home", str(home), "--log", str(log))


def test_an_emptied_gitignore_never_lets_credentials_in(tmp_path):
    home = _init(tmp_path)
    write(home, ".env", "OPENAI_API_KEY=sk-proj-abc\n")
    write(home, "logs/old.log", "log\n")
    write(home, ".gitignore", "")  # the agent empties it
    _post(home)
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    tracked = git(home, "ls-files").split()
    assert ".env" not in tracked
    assert not any(p.startswith(("logs/", "runner/")) for p in tracked)


def test_init_refuses_a_gitignore_that_is_a_link(tmp_path):
    home = tmp_path / "home"
    (home / "thoughts").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("orig\n")
    (home / ".gitignore").symlink_to(victim)
    result = run_guard("init", str(home))
    assert result.returncode == 3
    assert "not a regular file" in result.stderr
    assert victim.read_text() == "orig\n"


def test_a_nul_in_the_summary_does_not_stop_the_archive(tmp_path):
    home = _init(tmp_path)
    write(home, "dreams/p.md", '---\ndate: "2026-11-25"\ntitle: "P"\ntype: "prose"\n---\n\np\n')
    log = LOG.replace('"result":"Wrote about', '"result":"Hi\\u0000\\u001b[31mthere. Wrote about')
    result = _post(home, log)
    assert result.returncode == 0, result.stderr
    subject = git(home, "log", "-2", "--format=%s").splitlines()[-1]
    assert "\x1b" not in subject
    assert "dreams/p.md" in git(home, "ls-files")


def test_a_planted_gitignore_cannot_hide_a_journal_entry(tmp_path):
    home = _init(tmp_path)
    write(home, "thoughts/.gitignore", "*\n")
    write(home, "thoughts/2026-11-25-morning.md", ENTRY)
    _post(home)
    assert "thoughts/2026-11-25-morning.md" in git(home, "ls-files")


def test_restore_leaves_the_guards_quarantines_alone(tmp_path):
    home = _init(tmp_path)
    write(home, "thoughts/2026-11-25-morning.md", ENTRY)
    write(home, "thoughts/2026-11-25-visit.md", '---\ndate: "2026-11-01"\ntitle: "V"\n---\n\nx\n')
    assert _post(home).returncode == 1  # the visit is quarantined
    result = run_guard("restore", "--home", str(home))
    assert result.returncode == 0
    assert not (home / "thoughts/2026-11-25-visit.md").exists()


def test_a_file_named_like_a_glob_is_a_name(tmp_path):
    home = _init(tmp_path)
    for name in ("sandbox/*.txt", "sandbox/keep.txt", "sandbox/other.txt"):
        write(home, name, "x\n")
    _post(home)
    (home / "sandbox/*.txt").unlink()
    _post(home, name="session-20261125-100000.log")
    (home / "sandbox/other.txt").unlink()
    write(home, "sandbox/keep.txt", "changed by hand\n")
    result = run_guard("restore", "sandbox/[*].txt", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert (home / "sandbox/*.txt").exists()
    changed = git(home, "show", "--name-only", "--format=", "HEAD").split("\n")
    assert [c for c in changed if c] == ["sandbox/*.txt"]  # keep.txt and other.txt untouched


def test_restore_skips_a_path_whose_parent_became_a_link(tmp_path):
    home = _init(tmp_path)
    write(home, "dreams/p.md", '---\ndate: "2026-11-25"\ntitle: "P"\ntype: "prose"\n---\n\np\n')
    write(home, "dreams/q.md", '---\ndate: "2026-11-25"\ntitle: "Q"\ntype: "prose"\n---\n\nq\n')
    _post(home)
    (home / "dreams/p.md").unlink()
    _post(home, name="session-20261125-100000.log")
    outside = tmp_path / "outside"
    outside.mkdir()
    (home / "dreams").rename(home / "dreams.real")
    (home / "dreams").symlink_to(outside)
    result = run_guard("restore", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert "skipped dreams/p.md" in result.stdout
    assert list(outside.iterdir()) == []
