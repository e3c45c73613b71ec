"""core: the exit codes and the exceptions that carry them (see the README's table)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CANNOT = 3
    INTERNAL = 4
    SECURITY = 5
    INTERRUPTED = 130


class GuardError(Exception):
    """A known failure: the message says what went wrong and what to do next."""

    exit_code: ExitCode = ExitCode.CANNOT


class UsageError(GuardError):
    """Bad arguments or configuration (exit 2)."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A `guard.toml` that cannot be used; the message names the file and line."""
