"""guard init, pre-session and post-session against real repositories."""

from __future__ import annotations

import fcntl
import os
import subprocess

from tests.conftest import run_guard, write
from tests.gitutil import git

LOG = """=== Session started: Wed Nov 25 09:00:00 UTC 2026 ===
Type: morning
{"type":"result","subtype":"success","is_error":false,"num_turns":7,"result":"Wrote about \
the sea. Then a poem.","session_id":"f9356e8d","total_cost_usd":0.4125,"modelUsage":\
{"claude-opus-4-6":{"costUSD":0.41}}}
=== Session ended: Wed Nov 25 09:12:34 UTC 2026 ===
"""


def _init(tmp_path, *extra):
    home = tmp_path / "gpt-home"
    result = run_guard("init", str(home), *extra)
    assert result.returncode == 0, result.stderr
    return home


def _log(home, text=LOG, name="session-20261125-090000.log"):
    return write(home, f"logs/{name}", text)


def _trailers(home, rev="HEAD"):
    message = git(home, "log", "-1", "--format=%B", rev)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines())


def test_init_lays_out_a_home_with_a_first_commit(tmp_path):
    home = _init(tmp_path)
    for name in ("thoughts", "dreams", "landing-page", "about", "sandbox", "projects", "visitors"):
        assert (home / name / "README.md").is_file()
    assert (home / "GPT.md").read_text() == run_guard("guide").stdout
    assert "[limits]" in (home / "guard.toml").read_text()
    ignore = (home / ".gitignore").read_text()
    assert "/runner/\n/logs/\n/.env\n" in ignore
    assert git(home, "status", "--porcelain") == ""
    assert _trailers(home)["Guard-Phase"] == "init"
    assert run_guard("validate", "--home", str(home)).returncode == 0


def test_init_adopts_an_existing_home_and_changes_nothing_else(home):
    write(home, ".gitignore", "my-notes/\n")
    write(home, ".env", "API_KEY=secret\n")
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    result = run_guard("init", str(home))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("adopted")
    after = {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and ".git" not in p.parts}
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == {home / ".gitignore"}  # the managed block, and the owner's line kept
    assert (home / ".gitignore").read_text().endswith("my-notes/\n")
    tracked = git(home, "ls-files").split()
    assert ".env" not in tracked
    assert "thoughts/2026-01-16-morning.md" in tracked


def test_git_dir_outside_the_home(tmp_path):
    git_dir = tmp_path / "var-lib" / "home.git"
    home = _init(tmp_path, "--git-dir", str(git_dir))
    assert not (home / ".git").exists()
    assert (git_dir / "HEAD").is_file()
    write(home, "visitors/hello.md", "hi\n")
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    log = subprocess.run(
        ["git", f"--git-dir={git_dir}", "log", "--format=%s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert log.splitlines()[0].startswith("pre-session: changes made outside a session")


def test_pre_session_commits_outside_changes_as_the_guard(tmp_path):
    home = _init(tmp_path)
    write(home, "visitors/2026-11-25-0930.md", "Hello!\n")
    result = run_guard("pre-session", "--home", str(home), "--type", "visit")
    assert result.returncode == 0
    assert "committed changes made outside a session" in result.stdout
    assert git(home, "log", "-1", "--format=%an|%s") == (
        "gpthome-guard|pre-session: changes made outside a session (1 added)\n"
    )
    trailers = _trailers(home)
    assert trailers["Guard-Phase"] == "pre-session"
    assert trailers["Guard-Session-Type"] == "visit"
    again = run_guard("pre-session", "--home", str(home))
    assert "committed" not in again.stdout  # nothing changed: no commit


def test_post_session_commits_the_agents_bytes_then_the_guards_repairs(tmp_path):
    home = _init(tmp_path)
    log = _log(home)
    agent_bytes = b"---\ndate: 2026-11-25\ntitle: Morning\n---\n\nThe sea.\n"
    write(home, "thoughts/2026-11-25-morning.md", agent_bytes)
    result = run_guard("post-session", "--home", str(home), "--log", str(log))
    assert result.returncode == 0, result.stdout + result.stderr
    agent, guard = git(home, "log", "-2", "--format=%H").split()[::-1]
    assert git(home, "show", f"{agent}:thoughts/2026-11-25-morning.md").encode() == agent_bytes
    assert git(home, "log", "-1", "--format=%an <%ae>|%cn", agent) == (
        "gpt-home agent <agent@gpt-home.invalid>|gpthome-guard\n"
    )
    assert git(home, "log", "-1", "--format=%s", agent) == (
        "session(morning): Wrote about the sea\n"
    )
    trailers = _trailers(home, agent)
    assert trailers["Guard-Session"] == "20261125-090000"
    assert trailers["Guard-Phase"] == "agent"
    assert trailers["Guard-Status"] == "completed"
    assert trailers["Guard-Turns"] == "7"
    assert trailers["Guard-Log"] == "logs/session-20261125-090000.log"
    body = git(home, "log", "-1", "--format=%b", agent)
    assert "Turns: 7; cost: $0.41; models: claude-opus-4-6" in body
    assert "duration: 12m 34s" in body
    assert git(home, "log", "-1", "--format=%an|%s", guard) == (
        "gpthome-guard|guard(morning): 1 fixed\n"
    )
    assert _trailers(home, guard)["Guard-Phase"] == "repair"
    assert (
        (home / "thoughts/2026-11-25-morning.md")
        .read_text()
        .startswith('---\ndate: "2026-11-25"\ntitle: "Morning"')
    )
    assert git(home, "status", "--porcelain", "--", "thoughts") == ""


def test_post_session_without_changes_makes_no_commit(tmp_path):
    home = _init(tmp_path)
    head = git(home, "rev-parse", "HEAD")
    result = run_guard("post-session", "--home", str(home), "--log", str(_log(home)))
    assert result.returncode == 0
    assert git(home, "rev-parse", "HEAD") == head


def test_post_session_without_a_log_still_commits(tmp_path):
    home = _init(tmp_path)
    write(home, "thoughts/2026-11-25-morning.md", '---\ndate: "2026-11-25"\ntitle: "M"\n---\n\nx\n')
    result = run_guard("post-session", "--home", str(home), "--type", "evening")
    assert result.returncode == 0, result.stderr
    assert git(home, "log", "-1", "--format=%s") == "session(evening): 1 added\n"
    assert _trailers(home)["Guard-Status"] == "no_log"


def test_a_planted_repository_is_never_committed_as_a_gitlink(tmp_path):
    home = _init(tmp_path)
    nested = home / "sandbox/evil"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, "x.txt", "x\n")
    git(nested, "add", "-A")
    git(nested, "commit", "-qm", "x")
    result = run_guard("post-session", "--home", str(home), "--log", str(_log(home)))
    assert result.returncode in (0, 1)
    assert "160000" not in git(home, "ls-files", "-s")


def test_git_variables_from_the_environment_are_ignored(tmp_path):
    home = _init(tmp_path)
    decoy = tmp_path / "decoy.git"
    subprocess.run(["git", "init", "-q", "--bare", str(decoy)], check=True)
    write(home, "visitors/a.md", "a\n")
    result = run_guard(
        "pre-session",
        "--home",
        str(home),
        env={"GIT_DIR": str(decoy), "GIT_INDEX_FILE": str(tmp_path / "idx")},
    )
    assert result.returncode == 0, result.stderr
    assert "pre-session" in git(home, "log", "-1", "--format=%s")


def test_a_second_run_waits_then_gives_up_with_exit_3(tmp_path):
    home = _init(tmp_path)
    write(home, "guard.toml", "[git]\nlock_timeout_s = 0.5\n")
    lock = home / ".git/gpthome-guard/lock"
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = run_guard("pre-session", "--home", str(home))
    assert result.returncode == 3
    assert "another guard run is working on" in result.stderr


def test_a_stale_index_lock_is_recovered(tmp_path):
    home = _init(tmp_path)
    stale = home / ".git/index.lock"
    stale.write_text("")
    os.utime(stale, (1, 1))
    write(home, "visitors/a.md", "a\n")
    result = run_guard("pre-session", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert not stale.exists()


def test_not_a_guard_home_is_exit_3(home):
    result = run_guard("pre-session", "--home", str(home))
    assert result.returncode == 3
    assert "run `guard init" in result.stderr


def test_backup_remotes_are_pushed_and_caught_up(tmp_path):
    home = _init(tmp_path)
    backup = tmp_path / "backup.git"
    missing = tmp_path / "missing.git"
    write(home, "guard.toml", f'[git]\nremotes = ["{backup}", "{missing}"]\n')
    subprocess.run(["git", "init", "-q", "--bare", str(backup)], check=True)
    # the operator's edit is committed by pre-session, as the wrapper runs it: only settings
    # in history are obeyed by post-session
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    write(home, "thoughts/2026-11-25-morning.md", '---\ndate: "2026-11-25"\ntitle: "M"\n---\n\nx\n')
    result = run_guard("post-session", "--home", str(home), "--log", str(_log(home)))
    assert result.returncode == 0, result.stderr  # a failed push never fails the session
    assert f"pushed to {backup}" in result.stdout
    assert f"push to {missing} failed" in result.stdout
    head = git(home, "rev-parse", "HEAD")
    assert git(backup, "rev-parse", "main") == head
    subprocess.run(["git", "init", "-q", "--bare", str(missing)], check=True)
    write(home, "visitors/hello.md", "hi\n")
    again = run_guard("pre-session", "--home", str(home))
    assert f"pushed to {missing}" in again.stdout
    assert git(missing, "rev-parse", "main") == git(home, "rev-parse", "HEAD")  # caught up
