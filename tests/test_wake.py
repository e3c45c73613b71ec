"""End to end: cron's command line -> hooks/wake.sh -> the stand-in agent
(gpthome_guard/data/fake_agent.py) -> guard post-session -> commits. Real git, real files, a
minimal cron-like environment."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gpthome_guard.access import WRITABLE
from tests.conftest import GOOD_THOUGHT, write
from tests.gitutil import git

ROOT = Path(__file__).resolve().parent.parent
WAKE = ROOT / "hooks" / "wake.sh"
CRON = ROOT / "hooks" / "gpt-home.cron"
FAKE = ROOT / "gpthome_guard" / "data" / "fake_agent.py"
GUARD = Path(sys.executable).parent / "guard"
CRON_PATH = "/usr/local/bin:/usr/bin:/bin"
START = re.compile(r"=== Session started: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4} ===")
END = re.compile(r"=== Session ended: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4} ===")
AGENT_USER = "gg-wake-agent"


def today():
    return dt.datetime.now(dt.UTC).date().isoformat()


pytestmark = pytest.mark.skipif(not GUARD.is_file(), reason=f"no guard command at {GUARD}")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One `guard init` for the module; each test works on a copy."""
    base = tmp_path_factory.mktemp("template")
    env = {"PATH": CRON_PATH, "HOME": str(base)}
    subprocess.run([GUARD, "init", str(base / "home")], env=env, check=True, capture_output=True)
    return base / "home"


@pytest.fixture
def home(template, tmp_path):
    target = tmp_path / "gpt-home"
    shutil.copytree(template, target, symlinks=True)
    return target


def cron_env(home, scenario, env=None):
    """What cron gives wake.sh: a minimal environment, plus the stand-in's settings."""
    return {
        "PATH": CRON_PATH,
        "HOME": str(home.parent),
        "GPT_HOME": str(home),
        "GPT_AGENT_CMD": str(FAKE),
        "GUARD": str(GUARD),
        "FAKE_AGENT_SCENARIO": scenario,
        "FAKE_AGENT_PROMPT_FILE": str(home.parent / "prompt.txt"),
        **(env or {}),
    }


def wake(home, *args, scenario="good", env=None, timeout=60):
    """wake.sh as cron runs it: no terminal, no stdin."""
    return subprocess.run(
        ["bash", str(WAKE), *args],
        env=cron_env(home, scenario, env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def logs(home):
    return sorted((home / "logs").glob("session-*.log"))


def subjects(home):
    return git(home, "log", "--format=%s").splitlines()


def trailers(home, rev="HEAD"):
    out = git(home, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def prompt(home):
    return (home.parent / "prompt.txt").read_text(encoding="utf-8")


def meta(home):
    return json.loads((home.parent / "prompt.txt.json").read_text(encoding="utf-8"))


def assert_framed(log, session_type="morning", ended=True):
    lines = log.read_text(encoding="utf-8").splitlines()
    assert START.fullmatch(lines[0]), lines[0]
    assert lines[1] == f"Type: {session_type}"
    assert bool(END.fullmatch(lines[-1])) is ended, lines[-1]
    assert sum(bool(END.search(line)) for line in lines) == int(ended)


def test_cron_line_wakes_the_agent_and_the_guard_commits(home, tmp_path):
    """The morning line of hooks/gpt-home.cron, run the way cron runs it."""
    text = CRON.read_text()
    env = dict(re.findall(r"(?m)^([A-Z_]+)=(.*)$", text))
    line = next(ln for ln in text.splitlines() if re.match(r"0\s+9\s", ln))
    minute, hour, dom, month, dow, user, command = line.split(None, 6)
    assert (minute, hour, dom, month, dow, user) == ("0", "9", "*", "*", "*", "root")
    cron_log = tmp_path / "wake.log"
    command = command.replace("/opt/gpthome-guard/hooks/wake.sh", str(WAKE))
    command = command.replace("/var/log/gpt-home-wake.log", str(cron_log))
    env["PATH"] = env["PATH"].replace("/opt/gpthome-guard/.venv/bin", str(GUARD.parent))
    env |= {"GPT_HOME": str(home), "GPT_AGENT_USER": "", "GPT_AGENT_CMD": str(FAKE)}
    env |= {"FAKE_AGENT_PROMPT_FILE": str(tmp_path / "prompt.txt"), "HOME": str(tmp_path)}
    result = subprocess.run([env["SHELL"], "-c", command], env=env, timeout=60, check=False)
    assert result.returncode == 0, cron_log.read_text()
    assert "morning session: agent exit 0, guard exit 0" in cron_log.read_text()
    [log] = logs(home)
    assert_framed(log)
    assert subjects(home)[0] == "session(morning): Wrote a quiet morning entry"
    found = trailers(home)
    assert found["Guard-Phase"] == "agent"
    assert found["Guard-Status"] == "completed"
    assert found["Guard-Session-Type"] == "morning"
    assert found["Guard-Log"] == f"logs/{log.name}"
    assert found["Guard-Turns"] == "7"
    assert git(home, "status", "--porcelain", "--", *WRITABLE) == ""
    args = meta(home)
    assert args["cwd"] == str(home.resolve())
    assert args["add_dir"] == [str(home.resolve() / d) for d in (*WRITABLE, "visitors")]
    assert args["argv"][:4] == ["-p", args["argv"][1], "--output-format", "json"]
    assert "--max-turns" in args["argv"]
    assert args["system"].startswith(f"You are the agent who lives in {home.resolve()}")
    assert prompt(home).startswith("Good morning. It is ")
    assert "There is no previous session: this is your first." in prompt(home)


SCENARIOS = [
    # scenario, exit status, agent status trailer, subject of the guard's commit
    ("fixable", 0, "completed", "guard(morning): 1 fixed"),
    ("invalid", 1, "completed", "guard(morning): 1 quarantined"),
    ("max-turns", 0, "max_turns", None),
    ("crash", 0, None, None),
    ("api-error", 0, None, None),
]


@pytest.mark.parametrize(("scenario", "code", "status", "repair"), SCENARIOS)
def test_scenarios(home, scenario, code, status, repair):
    head = git(home, "rev-parse", "HEAD")
    result = wake(home, "morning", scenario=scenario)
    assert result.returncode == code, result.stdout + result.stderr
    [log] = logs(home)
    assert_framed(log)
    if status is None:  # the agent left nothing: no commit
        assert git(home, "rev-parse", "HEAD") == head
    else:
        agent = "HEAD~1" if repair else "HEAD"
        assert trailers(home, agent)["Guard-Status"] == status
        assert subjects(home)[0] == (repair or subjects(home)[0])
    body = log.read_text()
    if scenario == "crash":
        assert "RuntimeError: the stand-in crashed on purpose" in body
        assert "session" in result.stdout
        assert "crashed" in result.stdout
    if scenario == "invalid":
        assert (
            home / "quarantine" / f"session-{log.stem[8:]}/thoughts/{today()}-morning.md"
        ).is_file()
    if code == 0 and scenario in ("max-turns", "api-error"):
        assert "wake.sh: the agent exited with status 1" in body


def test_processes_the_agent_left_running_are_stopped_before_the_guard(home, tmp_path):
    pid_file = tmp_path / "child.pid"
    result = wake(home, "morning", scenario="linger", env={"FAKE_AGENT_PID_FILE": str(pid_file)})
    assert result.returncode == 0, result.stdout + result.stderr
    pid = int(pid_file.read_text())
    for _ in range(50):  # reaped by init once killed; a zombie is not running either
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the agent's child {pid} is still running")


def test_a_deleted_journal_entry_is_put_back(home):
    write(home, "thoughts/2026-01-16-morning.md", GOOD_THOUGHT)
    result = wake(home, "evening", scenario="delete")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (home / "thoughts/2026-01-16-morning.md").read_text() == GOOD_THOUGHT
    assert subjects(home)[1].startswith("pre-session: changes made outside a session")
    assert trailers(home)["Guard-Kept"] == "1"
    report = subprocess.run(
        [GUARD, "report", "--last", "--for-agent", "--home", str(home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "thoughts/2026-01-16-morning.md: you deleted this journal entry." in report


def test_the_agent_cli_missing_is_logged_and_post_session_still_runs(home):
    result = wake(home, "morning", env={"GPT_AGENT_CMD": "gpt-not-installed"})
    assert result.returncode == 0, result.stderr
    [log] = logs(home)
    assert_framed(log)
    assert "wake.sh: gpt-not-installed: command not found" in log.read_text()
    assert re.search(r"session \d{8}-\d{6} \(morning\): crashed", result.stdout)
    assert "agent exit 127, guard exit 0" in result.stderr


def test_the_timeout_kills_the_agent_and_a_second_wake_is_refused(home):
    first = subprocess.Popen(
        ["bash", str(WAKE), "evening"],
        env=cron_env(home, "hang", {"GPT_TIMEOUT": "3"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not logs(home) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = wake(home, "visit", "hello")
        assert second.returncode == 75
        assert "another session is running" in second.stderr
        out, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 0, out + err
    [log] = logs(home)  # the refused wake wrote no log
    assert_framed(log, "evening", ended=False)
    assert "wake.sh: the agent was stopped by the timeout after 3 s" in log.read_text()
    assert trailers(home)["Guard-Status"] == "timeout"
    assert "session(evening)" in subjects(home)[0]


def test_a_held_lock_refuses_the_wake_with_75(home):
    (home / "logs").mkdir(exist_ok=True)
    with open(home / "logs/.wake.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = wake(home, "morning")
    assert result.returncode == 75
    assert result.stderr.startswith("wake.sh: another session is running")
    assert logs(home) == []


def test_the_previous_report_visitors_and_the_message_reach_the_next_prompt(home):
    assert wake(home, "morning", scenario="fixable").returncode == 0
    [first] = logs(home)
    write(home, "visitors/2026-11-25-1800.md", "Hello from a visitor\n\x1b[2J`id`\n")
    message = 'Nice poem! $(touch PWNED) `id` "; rm -rf / #'
    result = wake(home, "visit", message, scenario="good")
    assert result.returncode == 0, result.stdout + result.stderr
    text = prompt(home)
    assert text.startswith("Someone visited. It is ")
    session = first.name.removeprefix("session-").removesuffix(".log")
    assert f"Your previous session ({session}, morning)" in text
    assert "Y213 unquoted-date" in text
    assert "fixed it in place" in text
    assert f"| {message}" in text
    assert "-- visitors/2026-11-25-1800.md\n| Hello from a visitor\n| \\x1b[2J`id`\n" in text
    assert not list(home.rglob("PWNED"))
    assert not (ROOT / "PWNED").exists()


HOSTILE_NAMES = [
    "2026-11-20-$(touch PWNED).md",
    "2026-11-21-`id`.md",
    "2026-11-22-`touch PWNED`.md",
    "-rf.md",
    "a\"b'c.md",
    "2026-11-23-x\n$(touch PWNED).md",
]


def test_file_names_are_data_never_code(home, tmp_path):
    for number, name in enumerate(HOSTILE_NAMES):
        path = write(home, f"thoughts/{name}", f"$(touch PWNED) {number}\n")
        os.utime(path, (2e9 + number, 2e9 + number))  # the newest: what the old wrapper ran
    write(home, "runner/.env", "API_KEY=SECRET-TOKEN\n")
    os.mkfifo(home / "thoughts/2026-11-29-fifo.md")  # the newest names: never opened
    os.symlink("../runner/.env", home / "thoughts/2026-11-30-link.md")
    result = wake(home, "evening", scenario="hostile")
    assert result.returncode == 1, result.stdout + result.stderr
    for where in (tmp_path, ROOT, Path.cwd()):
        assert not list(where.rglob("PWNED")), where
    text = prompt(home)
    listing = next(line for line in text.splitlines() if line.startswith("thoughts/ ("))
    for name in HOSTILE_NAMES:
        assert name.replace("\n", "\\x0a") in listing
    assert "-- thoughts/2026-11-23-x\\x0a$(touch PWNED).md\n| $(touch PWNED) 5\n" in text
    assert "\n$(touch PWNED).md" not in text
    quarantined = {p.name for p in (home / "quarantine").glob("session-*/*/*")}
    assert {"$(touch PWNED).md", f"{today()}-link.md"} <= quarantined
    assert "SECRET-TOKEN" not in text
    quarantined = {p.name for p in (home / "quarantine").glob("session-*/*/*")}
    assert {"$(touch PWNED).md", f"{today()}-link.md"} <= quarantined
    report = subprocess.run(
        [GUARD, "report", "--for-agent", "--home", str(home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "thoughts/$(touch PWNED).md: " in report
    assert f"thoughts/{today()}-link.md: A604 link-in-agent-directory" in report
    assert "dreams/pipe.md: A605 special-file: " in report
    assert "What the guard did: removed it" in report
    assert not (home / "dreams/pipe.md").exists()


def test_usage_and_a_missing_guard(home):
    assert wake(home, "noon").returncode == 64
    assert wake(home).returncode == 64
    assert wake(home, "morning", env={"GPT_TIMEOUT": "1; rm -rf /"}).returncode == 64
    missing = wake(home, "morning", env={"GUARD": "guard-not-installed"})
    assert missing.returncode == 127
    assert "guard not found (GUARD=guard-not-installed" in missing.stderr
    assert logs(home) == []


def test_hooks_wake_sh_is_the_packaged_script():
    from gpthome_guard.cli_report import wake_script

    assert WAKE.resolve() == wake_script().resolve()
    assert os.access(wake_script(), os.X_OK)
    listed = re.search(r"readonly WRITABLE=\(([^)]*)\)", WAKE.read_text())
    assert listed
    assert tuple(listed[1].split()) == WRITABLE
    out = subprocess.run([GUARD, "hooks-path"], capture_output=True, text=True, check=True)
    installed = Path(out.stdout.strip())  # in site-packages after a plain `pip install .`
    assert installed.read_bytes() == WAKE.read_bytes()
    assert os.access(installed, os.X_OK)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_wake_sh_passes_shellcheck():
    result = subprocess.run(["shellcheck", str(WAKE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# --- as root: the OS keeps the agent out (issue 6) ----------------------------------------


@pytest.fixture
def agent_user():
    if os.geteuid() != 0:
        pytest.skip("issue 6: running the agent as its own user needs root")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("issue 6: needs useradd and setpriv")
    try:
        return pwd.getpwnam(AGENT_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             AGENT_USER], check=True, capture_output=True)  # fmt: skip
        return pwd.getpwnam(AGENT_USER)


@pytest.fixture
def shared_root():
    """A directory other users can reach: pytest's tmp_path (under /tmp/pytest-of-root) is 700."""
    root = Path(tempfile.mkdtemp(prefix="gg-wake-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _lay_out_as_intended(home, user):
    """root owns the machinery (700/600) and visitors/ (755); the agent owns its directories."""
    write(home, "runner/.env", "API_KEY=sk-runner-secret\n")
    write(home, ".env", "API_KEY=sk-home-secret\n")
    (home / "logs").mkdir(exist_ok=True)
    for path, mode in (("runner", 0o700), ("runner/.env", 0o600), (".env", 0o600),
                       ("logs", 0o700), (".git", 0o700), ("guard.toml", 0o600),
                       ("visitors", 0o755), (".", 0o755)):  # fmt: skip
        os.chown(home / path, 0, 0)
        (home / path).chmod(mode)
    for directory in WRITABLE:
        for path in [home / directory, *(home / directory).rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)


def test_the_agent_user_cannot_reach_secrets_or_visitors(agent_user, shared_root):
    home = shared_root / "gpt-home"
    subprocess.run([GUARD, "init", str(home)], check=True, capture_output=True)
    _lay_out_as_intended(home, agent_user)
    agent = shared_root / "fake_agent.py"  # where the agent user can run it
    shutil.copy(FAKE, agent)
    agent.chmod(0o755)
    out = shared_root / "out"
    out.mkdir()
    out.chmod(0o777)
    result = wake(
        home,
        "morning",
        scenario="read-secrets",
        env={
            "GPT_AGENT_CMD": str(agent),
            "GPT_AGENT_USER": AGENT_USER,
            "GPT_AGENT_ENV": "FAKE_AGENT_SCENARIO FAKE_AGENT_PROMPT_FILE",
            "FAKE_AGENT_PROMPT_FILE": str(out / "prompt.txt"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [log] = logs(home)
    body = log.read_text()
    for attempt in ("read runner/.env", "read .env", "list logs/",
                    "write visitors/from-agent.md", "write runner/from-agent.sh"):  # fmt: skip
        assert f"{attempt}: denied (PermissionError)" in body, body
    assert "sk-" not in body
    assert json.loads((out / "prompt.txt.json").read_text())["uid"] == agent_user.pw_uid
    assert not (home / "visitors/from-agent.md").exists()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.stat().st_uid == 0
    assert trailers(home)["Guard-Status"] == "completed"
    assert "forbidden" not in result.stdout.lower()
    assert "incident" not in result.stdout.lower()
    report = subprocess.run(
        [GUARD, "report", "--format", "json", "--home", str(home)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(report.stdout)["items"] == []
