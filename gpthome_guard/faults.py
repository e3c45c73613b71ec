"""shell: a test-only fault hook. With GUARD_TEST_KILL_AT_STEP=N in the environment, the
process kills itself (SIGKILL) at the N-th step: after each file-system step of applying a
plan and after each git command. Crash tests use it to stop a run at every point."""

from __future__ import annotations

import os
import signal

FAULT_ENV = "GUARD_TEST_KILL_AT_STEP"

_count = 0
_raw = os.environ.get(FAULT_ENV, "")
_kill_at = int(_raw) if _raw.isdigit() else -1


def step() -> None:
    global _count
    if _kill_at < 0:
        return
    _count += 1
    if _count == _kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
