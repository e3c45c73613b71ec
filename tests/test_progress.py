"""The progress bar: on a terminal for homes that take a moment, never when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.conftest import GOOD_THOUGHT, run_guard, write


def _big_home(home, count=2100):
    for n in range(count):
        write(home, f"thoughts/2026-01-16-visit-{n}.md", GOOD_THOUGHT)


def _stderr_on_a_terminal(*args):
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "gpthome_guard", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "TERM": "xterm"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout, _ = process.communicate(timeout=60)
    os.close(leader)
    return process.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal(home):
    _big_home(home)
    code, stdout, stderr = _stderr_on_a_terminal("validate", "--home", str(home))
    assert "Checking" in stderr
    assert "100%" in stderr
    assert "Checking" not in stdout
    assert stdout.endswith("all good.\n")
    assert code == 0


def test_no_progress_bar_when_piped(home):
    _big_home(home)
    result = run_guard("validate", "--home", str(home))
    assert result.stderr == ""


def test_no_progress_bar_for_a_small_home(home):
    code, _, stderr = _stderr_on_a_terminal("validate", "--home", str(home))
    assert code == 0
    assert stderr == ""
