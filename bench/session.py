"""Benchmark: the cost of `guard post-session` against plain git, and of `guard log`.

The issue's targets: on a 50k-file home, a session that changed 10 files costs at most 3x
plain `git add -A && git commit` of the same change; a session that added 10k files at most
1.5x; and the cost of `guard log` over 1,000 sessions (against plain `git log`).

    python bench/session.py [--size 50000] [--repeat 3]

Each round makes the change, times one command, then puts the repository back (plain git,
untimed), so the guard and git always archive the same change of the same home.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from make_home import DEFAULT_SEED, make_home
from run import Command, Runs, guard_argv, log, spawn, wait_for_quiet

BENCH = Path(__file__).resolve().parent
LOG = """=== Session started: Wed Nov 25 09:00:00 UTC 2026 ===
Type: morning
{{"type":"result","subtype":"success","is_error":false,"num_turns":5,"result":"Session {n}.",\
"session_id":"s{n}","total_cost_usd":0.1}}
=== Session ended: Wed Nov 25 09:10:00 UTC 2026 ===
"""
ENTRY = '---\ndate: "2026-11-25"\ntitle: "Bench {n}"\n---\n\nA line of text, number {n}.\n'
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]


def git(home: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, "-C", str(home), *args], check=True, capture_output=True, text=True
    ).stdout


def guarded_home(size: int, homes: Path) -> Path:
    """A valid home of `size` files under guard (cached), at its baseline commit."""
    home = homes / f"session-{size}-seed{DEFAULT_SEED}" / "gpt-home"
    if not (home / ".git").is_dir():
        shutil.rmtree(home.parent, ignore_errors=True)
        home.parent.mkdir(parents=True)
        make_home(size, home, DEFAULT_SEED, invalid_share=0.0)
        subprocess.run([*guard_argv(), "init", str(home)], check=True, capture_output=True)
        git(home, "tag", "-f", "baseline")
    return home


def reset(home: Path) -> None:
    git(home, "reset", "-q", "--hard", "baseline")
    git(home, "clean", "-qfdx", "--", "thoughts", "logs", "quarantine")


def change_10(home: Path) -> None:
    names = sorted(os.listdir(home / "thoughts"))[:10]
    for name in names:
        with open(home / "thoughts" / name, "a", encoding="utf-8") as handle:
            handle.write("\nOne more line.\n")


def add_10k(home: Path) -> None:
    for n in range(10_000):
        (home / "thoughts" / f"2026-11-25-bench-{n}.md").write_text(ENTRY.format(n=n))


def timed(
    name: str, home: Path, make: Callable[[Path], None], argv: Sequence[str], repeat: int
) -> Runs:
    runs = Runs(name, list(argv))
    for _ in range(repeat):
        reset(home)
        (home / "logs").mkdir(exist_ok=True)
        if name == "guard":  # untimed, as in real use: the wrapper runs it before the agent
            subprocess.run([*guard_argv(), "pre-session", "--home", str(home)], check=True,
                           capture_output=True)  # fmt: skip
        make(home)
        (home / "logs").mkdir(exist_ok=True)
        (home / "logs/session-20261125-090000.log").write_text(LOG.format(n=0))
        wait_for_quiet(30)
        run = spawn(Command(name, tuple(argv), frozenset({0})), os.devnull)
        runs.wall_s.append(run.wall_s)
        runs.max_rss_kb.append(run.max_rss_kb)
    reset(home)
    return runs


def log_history(sessions: int, into: Path) -> Path:
    home = into / "gpt-home"
    subprocess.run([*guard_argv(), "init", str(home)], check=True, capture_output=True)
    for n in range(sessions):
        (home / "thoughts" / f"2026-11-25-s{n}.md").write_text(ENTRY.format(n=n))
        path = home / "logs" / f"session-20261125-{n:06d}.log"
        path.write_text(LOG.format(n=n))
        subprocess.run(
            [*guard_argv(), "post-session", "--home", str(home), "--log", str(path)],
            check=True,
            capture_output=True,
        )
    return home


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--homes", type=Path, default=BENCH / "homes")
    args = parser.parse_args(argv)
    home = guarded_home(args.size, args.homes)
    post = [
        *guard_argv(),
        "post-session",
        "--home",
        str(home),
        "--log",
        str(home / "logs/session-20261125-090000.log"),
    ]
    # gc.auto=0 as the guard runs git: else 10k new objects make plain git gc, unlike ours
    plain = [
        "/bin/sh",
        "-c",
        f'cd "{home}" && git add -A && '
        "git -c gc.auto=0 -c user.name=b -c user.email=b@b.invalid commit -qm session",
    ]
    print(
        f"| change on a {args.size:,}-file home | plain git s | guard post-session s | ratio "
        "| target | RSS MB |\n|---|---:|---:|---:|---:|---:|"
    )
    for label, make, target in (
        ("10 files changed", change_10, 3.0),
        ("10,000 files added", add_10k, 1.5),
    ):
        log(f"timing: {label}")
        base = timed("git", home, make, plain, args.repeat)
        guard = timed("guard", home, make, post, args.repeat)
        ratio = guard.best_s / base.best_s
        print(
            f"| {label} | {base.best_s:.2f} | {guard.best_s:.2f} | {ratio:.2f} | <= {target} "
            f"| {guard.rss_mb:.1f} |"
        )
    if not args.sessions:  # --sessions 0: only the post-session figures
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-log-") as scratch:
        log(f"building a history of {args.sessions} sessions (slow, untimed)")
        history = log_history(args.sessions, Path(scratch))
        git_path = shutil.which("git") or "/usr/bin/git"
        gl = timed_plain([git_path, "-C", str(history), "log", "--format=%H %s %b"], args.repeat)
        ours = timed_plain([*guard_argv(), "log", "--home", str(history)], args.repeat)
        print(
            f"\n| `guard log` over {args.sessions:,} sessions | plain `git log` s | guard log s "
            f"| ratio |\n|---|---:|---:|---:|\n| | {gl.best_s:.3f} | {ours.best_s:.3f} | "
            f"{ours.best_s / gl.best_s:.1f} |"
        )
    return 0


def timed_plain(argv: Sequence[str], repeat: int) -> Runs:
    runs = Runs(argv[0], list(argv))
    spawn(Command("warm-up", tuple(argv), frozenset({0})), os.devnull)
    for _ in range(repeat):
        run = spawn(Command("x", tuple(argv), frozenset({0})), os.devnull)
        runs.wall_s.append(run.wall_s)
        runs.max_rss_kb.append(run.max_rss_kb)
    return runs


if __name__ == "__main__":
    sys.exit(main())
