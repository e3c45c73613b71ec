"""cli: `guard report` (a session's outcome), `guard prompt` (the agent's prompts) and
`guard hooks-path` (where the installed wake wrapper is)."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from gpthome_guard.cli_base import Format, HomeOpt, _errors, _home, app
from gpthome_guard.cli_history import SessionType
from gpthome_guard.config import load_config
from gpthome_guard.errors import GuardError, UsageError
from gpthome_guard.gitrepo import Repo

WAKE_SCRIPT = "wake.sh"


@app.command()
def report(
    home: HomeOpt = None,
    last: Annotated[
        bool, typer.Option("--last", help="The most recent session (the default).")
    ] = False,
    session: Annotated[
        str | None, typer.Option("--session", help="This session instead.", show_default=False)
    ] = None,
    for_agent: Annotated[
        bool, typer.Option("--for-agent", help="Plain text for the agent's next prompt.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """What the previous session did and what the guard fixed, set aside or held back."""
    with _errors("report", fmt):
        from gpthome_guard import report as reporting
        from gpthome_guard.session import repo_for

        if fmt is Format.github or (last and session):
            raise UsageError("use --format text or json, and --last or --session, not both")
        root = _home(home)
        found = reporting.gather(root, repo_for(root, load_config(root)), session)
        if for_agent and fmt is Format.text:
            sys.stdout.write(reporting.for_agent(found))
        else:
            sys.stdout.write(reporting.RENDERERS[fmt.value](found))


@app.command()
def prompt(
    home: HomeOpt = None,
    session_type: Annotated[
        SessionType, typer.Option("--type", help="The session's type.")
    ] = SessionType.morning,
    visitor_message: Annotated[
        str | None,
        typer.Option(
            "--visitor-message", help="A message given with this wake (data).", show_default=False
        ),
    ] = None,
    system: Annotated[
        bool, typer.Option("--system", help="Print the standing orders (system prompt) instead.")
    ] = False,
) -> None:
    """Print the prompt of a session: date, visitors, files, journal, the guard's report."""
    with _errors("prompt"):
        from gpthome_guard import prompt as prompts
        from gpthome_guard import report as reporting
        from gpthome_guard.session import repo_for

        root = _home(home)
        if system:
            sys.stdout.write(prompts.system_prompt(str(root.absolute())))
            raise typer.Exit(0)
        repo = repo_for(root, load_config(root))
        try:
            last = reporting.for_agent(reporting.gather(root, repo))
            history: Repo | None = repo
        except GuardError as exc:  # no history yet, a damaged one: the session goes on
            last, history = f"The guard has no report on your previous session ({exc}).\n", None
        inputs = prompts.gather(
            root, history, session_type.value, visitor_message, last, prompts.now_local()
        )
        sys.stdout.write(prompts.render(inputs, str(root.absolute())))


@app.command("hooks-path")
def hooks_path() -> None:
    """Print the path of the installed wake wrapper (wake.sh), for cron or systemd."""
    with _errors("hooks-path"):
        sys.stdout.write(f"{wake_script()}\n")


def wake_script() -> Path:
    """wake.sh as installed with the package (hooks/wake.sh in a clone links to it)."""
    path = Path(str(resources.files("gpthome_guard") / "data" / WAKE_SCRIPT))
    if not path.is_file():
        raise GuardError(f"{path} is missing; reinstall gpthome-guard (pip install .)")
    return path
