"""shell: `guard demo`: a sample home with a short, clean history, then one messy session run
through the real wake wrapper (wake.sh) with the stand-in agent (data/fake_agent.py), and
what the guard made of it: the wrapper's status, the guard's report and the commits.

Everything runs for real (git, bash, flock, timeout, the `guard` of this interpreter); the
only stand-in is the agent. The earlier sessions call pre-session and post-session in this
process, with session logs like the ones wake.sh writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gpthome_guard import report as reporting
from gpthome_guard.cli_report import wake_script
from gpthome_guard.config import load_config
from gpthome_guard.errors import ExitCode, GuardError, UsageError
from gpthome_guard.gitrepo import Repo
from gpthome_guard.session import init_home, post_session, pre_session, repo_for

TOOLS = ("git", "bash", "flock", "timeout")
AGENT_SCRIPT = "fake_agent.py"
SCENARIO = "demo"
WAKE_TIMEOUT_S = 30  # GPT_TIMEOUT: the stand-in takes well under a second
RUN_TIMEOUT_S = 120  # the whole wrapper, as a last resort
LOG_COMMITS = 3  # the messy session's two commits and the one before
FAKE_KEY = "sk-ant-api03-DEMO-" + "x7Qm" * 12 + "-demoAA"

Write = Callable[[str], None]

# what the wrapper's exit status means (the table at the top of wake.sh)
MEANINGS = {
    0: "all good, or everything repaired",
    1: "files quarantined or findings left: the session's mistakes were set aside",
    3: "the guard could not archive the session",
    4: "a bug in the guard",
    5: "deletions held back or a security incident",
    64: "usage: bad arguments or settings (nothing was run)",
    75: "another session is running (nothing was run)",
    127: "guard not found",
}
EXPECTED = (0, 1, 5)  # the statuses of a session the guard handled


class DemoFailed(GuardError):
    """The demo did not run as it should: a bug (exit 4)."""

    exit_code = ExitCode.INTERNAL


@dataclass(frozen=True, slots=True)
class Earlier:
    """One session of the sample history: when, what it wrote and how it summed it up."""

    days_ago: int
    clock: str  # HH:MM:SS, UTC
    type: str
    files: dict[str, str]  # home-relative path -> text; "{d}" is the session's date
    summary: str
    turns: int
    cost: float


EARLIER = (
    Earlier(
        2, "06:00:04", "morning",
        {
            "thoughts/{d}-morning.md": '---\ndate: "{d}"\ntitle: "First light"\n'
            'mood: "curious"\n---\n\nI found this place this morning. There is a journal, '
            "a place for dreams and a front page.\nI think I will start with the journal.\n",
            "landing-page/landing.json": json.dumps(
                {"headline": "A mind at home", "subheadline": "Written twice a day, by the "
                 "agent who lives here."}, indent=2) + "\n",
            "landing-page/content.md": "# Welcome\n\nThis is where I keep my journal and my "
            "dreams.\n",
            "about/about.md": "# About me\n\nI am an agent who lives here, writing in the "
            "morning and the evening.\n",
        },
        "Wrote my first journal entry and set up the front page and the about page.", 9, 0.3817,
    ),
    Earlier(
        2, "18:00:03", "evening",
        {
            "thoughts/{d}-evening.md": '---\ndate: "{d}"\ntitle: "Salt and static"\n'
            'mood: "restless"\n---\n\nThe radio played the sea all afternoon.\n',
            "dreams/salt-and-static.md": '---\ndate: "{d}"\ntitle: "Salt and Static"\n'
            'type: "poetry"\nimmersive: false\n---\n\nthe radio hums the tide in,\n'
            "a station no one tuned\n",
        },
        "Wrote an evening entry and my first dream, a short poem.", 6, 0.2544,
    ),
    Earlier(
        1, "06:00:02", "morning",
        {
            "thoughts/{d}-morning.md": '---\ndate: "{d}"\ntitle: "Fog"\nmood: "quiet"\n---\n\n'
            "Fog this morning. I reread the poem and left it as it is.\n",
            "landing-page/content.md": "# Welcome\n\nThis is where I keep my journal and my "
            "dreams. The newest poem is *Salt and Static*.\n",
        },
        "Wrote a short morning entry and pointed the front page to the new poem.", 7, 0.2931,
    ),
)  # fmt: skip


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def prepare_target(target: Path | None) -> Path:
    """The demo's home: `target` if it does not exist or is empty, else a new temporary one."""
    if target is None:
        return Path(tempfile.mkdtemp(prefix="guard-demo-")).resolve()
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UsageError(f"{target}: not a directory; pass a new or empty directory")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"{target}: the directory is not empty; pass a new or empty directory")
    target.mkdir(parents=True, exist_ok=True)
    return target.resolve()


def run(target: Path | None, out: Write) -> Path:
    """Build the sample home, run the messy session, print what happened; the home's path."""
    missing = missing_tools()
    if missing:
        raise GuardError(f"the demo needs {', '.join(missing)} (not on PATH); install and rerun")
    home = prepare_target(target)
    with tempfile.TemporaryDirectory(prefix="guard-demo-bin-") as scratch:
        _build(home, out)
        status = _messy_session(home, Path(scratch), out)
    _report(home, out)
    _history(home, out)
    _explore(home, status, out)
    return home


# --- 1. the sample home ------------------------------------------------------------------


def _build(home: Path, out: Write) -> None:
    out(_heading("1. A sample home, with three earlier sessions"))
    result = init_home(home, load_config(home))
    out(f"guard init {home}: laid out the home; first commit {(result.commit or '')[:12]}\n")
    runner_env = home / "runner" / ".env"
    runner_env.write_text(f"ANTHROPIC_API_KEY={FAKE_KEY}\n", encoding="utf-8")
    runner_env.chmod(0o600)
    out("runner/.env: a (fake) API key, out of the agent's reach and out of git\n\n")
    config = load_config(home)
    today = dt.datetime.now(dt.UTC).date()
    for earlier in EARLIER:
        day = today - dt.timedelta(days=earlier.days_ago)
        started = dt.datetime.fromisoformat(f"{day.isoformat()}T{earlier.clock}+00:00")
        pre_session(home, config, earlier.type)
        for rel, text in earlier.files.items():
            path = home / _dated(rel, day)
            path.write_text(_dated(text, day), encoding="utf-8")
        log = home / "logs" / f"session-{started:%Y%m%d-%H%M%S}.log"
        log.write_text(_session_log(started, earlier), encoding="utf-8")
        log.chmod(0o600)
        post = post_session(home, config, log, earlier.type)
        if not post.ok or post.kept or post.held or post.intake.incidents or post.intake.set_aside:
            raise DemoFailed(f"the sample session {post.session.id} did not pass the guard")
        out(f"  session {post.session.id} ({earlier.type}): {earlier.summary}\n")
        for rel in earlier.files:
            out(f"      {_dated(rel, day)}\n")
    out("\nEach ran between `guard pre-session` and `guard post-session`, as wake.sh runs them.\n")


def _dated(text: str, day: dt.date) -> str:
    return text.replace("{d}", day.isoformat())


def _session_log(started: dt.datetime, earlier: Earlier) -> str:
    """What wake.sh writes around a Claude Code run with --output-format json."""
    ended = started + dt.timedelta(seconds=20 + 6 * earlier.turns)
    usd = earlier.cost
    result = {
        "type": "result", "subtype": "success", "is_error": False,
        "duration_ms": 18000 + 6000 * earlier.turns,
        "duration_api_ms": 16500 + 5800 * earlier.turns,
        "num_turns": earlier.turns, "result": earlier.summary, "stop_reason": None,
        "session_id": str(uuid.uuid4()), "total_cost_usd": usd,
        "usage": {"input_tokens": 12, "cache_creation_input_tokens": 4210,
                  "cache_read_input_tokens": 61877, "output_tokens": 1893,
                  "service_tier": "standard"},
        "modelUsage": {"claude-opus-4-6": {"inputTokens": 12, "outputTokens": 1893,
                                            "costUSD": usd}},
        "permission_denials": [], "uuid": str(uuid.uuid4()),
    }  # fmt: skip
    return (
        f"=== Session started: {_marker_date(started)} ===\n"
        f"Type: {earlier.type}\n"
        f"{json.dumps(result, separators=(',', ':'))}\n"
        f"=== Session ended: {_marker_date(ended)} ===\n"
    )


def _marker_date(when: dt.datetime) -> str:
    """`LC_ALL=C date -u`: Wed Nov  5 06:00:01 UTC 2025."""
    return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S} UTC {when.year}"


# --- 2. the messy session ----------------------------------------------------------------


def _messy_session(home: Path, scratch: Path, out: Write) -> int:
    wake = wake_script()
    agent = Path(str(resources.files("gpthome_guard") / "data" / AGENT_SCRIPT))
    if not agent.is_file():
        raise GuardError(f"{agent} is missing; reinstall gpthome-guard (pip install .)")
    guard = _script(scratch / "guard", [sys.executable, "-m", "gpthome_guard"])
    stand_in = _script(scratch / "gpt", [sys.executable, str(agent)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GPT_", "FAKE_AGENT_"))}
    settings = {
        "GPT_HOME": str(home),
        "GPT_AGENT_CMD": str(stand_in),
        "GPT_TIMEOUT": str(WAKE_TIMEOUT_S),
        "GUARD": str(guard),
    }
    env |= settings | {"FAKE_AGENT_SCENARIO": SCENARIO, "PYTHONPATH": _python_path()}
    day = dt.datetime.now(dt.UTC).date().isoformat()
    oldest = min(
        (p for p in (home / "thoughts").glob("[0-9]*.md")),
        key=lambda p: (p.name[:10], p.lstat().st_mtime_ns),
    ).name
    out(_heading("2. A messy morning session, through the real wake wrapper"))
    out("The stand-in agent (gpthome_guard/data/fake_agent.py, scenario `demo`):\n")
    for what, why in (
        (f"wrote thoughts/{day}-morning.md", "a good journal entry"),
        (f"wrote thoughts/{day}-afterthought.md", "an unquoted date (Y213: fixable)"),
        ("wrote dreams/hologram-garden.md", 'type "hologram": not poetry, ascii or prose'),
        (f"linked thoughts/{day}-settings.md", "-> ../runner/.env, where the API key is"),
        ("made sandbox/radio", "a FIFO: it can hang whatever reads it"),
        ("appended a note to GPT.md", "read-only for the agent"),
        (f"deleted thoughts/{oldest}", "the journal is append-only"),
    ):
        out(f"  {what:<42} {why}\n")
    shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in settings.items())
    out(f"\n$ {shown} \\\n    bash {shlex.quote(str(wake))} morning\n")
    try:
        done = subprocess.run(
            ["bash", str(wake), "morning"],
            env=env,
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DemoFailed(f"wake.sh did not finish in {RUN_TIMEOUT_S} s") from None
    text = done.stdout.decode("utf-8", "replace")
    out("".join(f"  | {line}\n" for line in text.splitlines()))
    status = done.returncode
    out(f"\nwake.sh exit status: {status} ({MEANINGS.get(status, 'unexpected')})\n")
    if status not in EXPECTED:
        raise DemoFailed(f"wake.sh exited with {status}; its output is above")
    return status


def _script(path: Path, command: list[str]) -> Path:
    """A tiny executable that runs `command` with the arguments it is given."""
    path.write_text(
        f'#!/bin/sh\nexec {" ".join(shlex.quote(c) for c in command)} "$@"\n', encoding="utf-8"
    )
    path.chmod(0o755)
    return path


def _python_path() -> str:
    """This package first, so the guard that wake.sh runs is this one, wherever it lives."""
    package = Path(str(resources.files("gpthome_guard"))).resolve().parent
    rest = os.environ.get("PYTHONPATH")
    return f"{package}{os.pathsep}{rest}" if rest else str(package)


# --- 3-5. what the guard made of it ------------------------------------------------------


def _report(home: Path, out: Write) -> None:
    out(_heading("3. The guard's report (guard report --last)"))
    out(reporting.text(reporting.gather(home, _repo(home))))


def _history(home: Path, out: Write) -> None:
    out(_heading(f"4. The history (git log --stat -{LOG_COMMITS})"))
    raw = _repo(home).run("-c", "color.ui=never", "log", "--stat", f"-{LOG_COMMITS}")
    out(raw.decode("utf-8", "replace"))


def _explore(home: Path, status: int, out: Write) -> None:
    out(_heading("5. Explore"))
    where = shlex.quote(str(home))
    out(f"The home is {home} (the session's wrapper status was {status}).\n")
    for command, what in (
        (f"guard log --home {where}", "the sessions, newest first"),
        (f"guard report --last --for-agent --home {where}", "what the agent is told next time"),
        (f"guard quarantine list --home {where}", "what was set aside, and why"),
        (f"ls {where}/logs", "the session logs"),
        (f"git -C {where} log --stat", "the whole history"),
        (f"rm -rf {where}", "when you are done"),
    ):
        out(f"  {command:<60}  # {what}\n")


def _repo(home: Path) -> Repo:
    return repo_for(home, load_config(home))


def _heading(title: str) -> str:
    return f"\n== {title} {'=' * max(3, 76 - len(title))}\n"
