"""cli: `guard doctor`: is the home set up so the agent cannot reach what it must not?"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gpthome_guard.cli_base import Color, ColorOpt, Format, HomeOpt, _errors, _home, _use_color, app
from gpthome_guard.errors import ExitCode, GuardError, UsageError


@app.command()
def doctor(
    home: HomeOpt = None,
    agent_user: Annotated[
        str | None,
        typer.Option(
            "--agent-user",
            help="The agent's Unix user (name or uid): check what it can read and write. "
            "Default: [access] agent_user in guard.toml.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    color: ColorOpt = Color.auto,
) -> None:
    """Check the home's set-up: git, .gitignore, GPT.md, disk, and what the agent can reach."""
    with _errors("doctor", fmt):
        if fmt is Format.github:
            raise UsageError("--format github is for validate; use text or json")
        # imported here: startup time counts
        from gpthome_guard import doctor as checking
        from gpthome_guard.doctor_checks import render_json, render_text

        if agent_user is not None:  # an unknown user is a usage error, home or not
            checking.lookup_agent(agent_user)
        try:
            root = _home(home)
        except UsageError as exc:  # no home is not a usage error: exit 3
            raise GuardError(f"{exc}, or lay one out with `guard init DIR`") from None
        who, named = checking.agent_of(root, agent_user)
        checks = checking.run_checks(root, who)
        if fmt is Format.json:
            sys.stdout.write(render_json(checks, root.resolve(), named))
        else:
            sys.stdout.write(render_text(checks, _use_color(color, sys.stdout)))
    failed = any(check.ok is False for check in checks)
    raise typer.Exit(int(ExitCode.FINDINGS if failed else ExitCode.OK))
