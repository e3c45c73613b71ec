"""cli: what every command shares: the typer app, common options, error handling."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from gpthome_guard import __version__, render
from gpthome_guard.errors import ExitCode, GuardError, UsageError

app = typer.Typer(
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
    help="Keeps an AI agent's home directory valid, safe and archived.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


_state: dict[str, Any] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"guard {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    _state["debug"] = debug


HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="The agent's home. Default: $GPT_HOME, else the current directory.",
        show_default=False,
    ),
]
JobsOpt = Annotated[
    int, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 picks by the home's size.")
]
ColorOpt = Annotated[Color, typer.Option("--color", help="Colour the text output.")]


def _home(option: Path | None) -> Path:
    home = option or Path(os.environ.get("GPT_HOME") or ".")
    if not home.is_dir():
        raise UsageError(f"{home}: the home is not a directory; pass --home DIR or set GPT_HOME")
    return home


def _use_color(choice: Color, stream: Any) -> bool:
    if choice is Color.auto:
        return stream.isatty() and not os.environ.get("NO_COLOR")
    return choice is Color.always


@contextmanager
def _errors(command: str, fmt: Format = Format.text) -> Iterator[None]:
    """Map every failure to one line on stderr (or one JSON document) and an exit code."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except GuardError as exc:
        _fail(str(exc), exc.exit_code, command, fmt)
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INTERRUPTED, command, fmt)
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        hint = "" if _state["debug"] else "; rerun with --debug for the traceback"
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        _fail(
            f"internal error: {type(exc).__name__}: {first}{hint} and report it",
            ExitCode.INTERNAL,
            command,
            fmt,
        )


def _fail(message: str, code: ExitCode, command: str, fmt: Format) -> NoReturn:
    if fmt is Format.json:
        sys.stdout.write(render.error_json(message, int(code), command))
    typer.echo(f"guard {command}: {message}", err=True)
    raise typer.Exit(int(code))
