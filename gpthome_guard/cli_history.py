"""cli: the history commands: `guard init`, `pre-session`, `post-session`, `log`, `restore`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gpthome_guard.cli_base import (
    Color,
    ColorOpt,
    Format,
    HomeOpt,
    _errors,
    _home,
    _use_color,
    app,
)
from gpthome_guard.config import DEFAULT_CONFIG, load_config
from gpthome_guard.errors import ConfigError, ExitCode, GuardError
from gpthome_guard.gitrepo import Identity
from gpthome_guard.models import printable

if TYPE_CHECKING:
    from gpthome_guard.intake import Intake


class SessionType(StrEnum):
    morning = "morning"
    evening = "evening"
    visit = "visit"


@app.command()
def init(
    home: Annotated[Path, typer.Argument(help="The home to lay out or adopt.")] = Path("/gpt-home"),
    git_dir: Annotated[
        str | None,
        typer.Option(
            "--git-dir",
            help="Keep the git directory here (e.g. under /var/lib).",
            show_default=False,
        ),
    ] = None,
    agent_user: Annotated[
        str | None,
        typer.Option(
            "--agent-user",
            help="The agent's Unix user: give it its directories, lock it out of the rest, "
            "record it in guard.toml (needs root).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Lay out a home (or adopt one) with its git history."""
    with _errors("init"):
        from gpthome_guard import setup, setup_apply
        from gpthome_guard.session import init_home

        who = setup_apply.prepare(home, agent_user) if agent_user is not None else None
        config = load_config(home) if home.is_dir() else DEFAULT_CONFIG
        result = init_home(home, config, git_dir, who.name if who else None)
        what = "adopted" if result.adopted else "laid out"
        commit = f"; first commit {result.commit[:12]}" if result.commit else ""
        typer.echo(f"{what} {home}{commit}")
        for path in result.created:
            typer.echo(f"  created {path}")
        if who is not None:
            git = setup_apply.git_dir_of(home, config, git_dir)
            changes = setup_apply.set_up(home, git, who, config)
            typer.echo(f"set up for the agent's user {who.name} (agent_user in guard.toml):")
            for line in setup.summarize(changes) or ["nothing to change"]:
                typer.echo(f"  {line}")


@app.command("pre-session")
def pre_session(
    home: HomeOpt = None,
    session_type: Annotated[
        SessionType, typer.Option("--type", help="The session's type.")
    ] = SessionType.morning,
) -> None:
    """Commit outside changes; record the session's baseline."""
    with _errors("pre-session"):
        from gpthome_guard.session import pre_session as run_pre_session

        root = _home(home)
        result = run_pre_session(root, load_config(root), session_type.value)
        _echo_intake(result.intake)
        if result.commit:
            typer.echo(f"committed changes made outside a session: {result.commit[:12]}")
        typer.echo(
            f"baseline for the {session_type.value} session: {(result.head or 'no commit')[:12]}"
        )
        for line in result.pushed:
            typer.echo(f"  {line}")
    if result.intake.incidents:
        raise typer.Exit(int(ExitCode.SECURITY))


def _echo_intake(intake: Intake) -> None:
    """What the audit did before the commit; incidents on stderr (cron mails stderr)."""
    for note in intake.notes:
        typer.echo(f"  note: {note}")
    for line in intake.done:
        typer.echo(f"  {line}")
    for line in intake.skipped:
        typer.echo(f"  skipped {line}")
    for line in intake.incidents:
        typer.echo(f"security incident: {line}", err=True)


@app.command("post-session")
def post_session(
    log: Annotated[
        Path | None, typer.Option("--log", help="The session's log file.", show_default=False)
    ] = None,
    home: HomeOpt = None,
    session_type: Annotated[
        SessionType | None,
        typer.Option(
            "--type", help="The session's type (default: the log's Type: line).", show_default=False
        ),
    ] = None,
) -> None:
    """Check, repair and commit what the session left."""
    with _errors("post-session"):
        from gpthome_guard.session import post_session as run_post_session

        root = _home(home)
        try:
            config = load_config(root)
        except ConfigError as exc:
            # the agent may have broken it on purpose to stop the audit: the settings last
            # committed are used instead (post-session reads them from git), and the change
            # is an incident of the audit
            typer.echo(f"warning: {exc}; using the settings last committed", err=True)
            config = DEFAULT_CONFIG
        result = run_post_session(root, config, log, session_type.value if session_type else None)
        typer.echo(
            f"session {result.session.id} ({result.session.type}): {result.log.status.value}"
        )
        _echo_intake(result.intake)
        for label, sha in (
            ("agent's commit", result.agent_commit),
            ("guard's commit", result.guard_commit),
        ):
            if sha:
                typer.echo(f"{label}: {sha[:12]}")
        for line in result.done:
            typer.echo(f"  {line}")
        for line in result.skipped:
            typer.echo(f"  skipped {line}")
        for line in result.pushed:
            typer.echo(f"  {line}")
        for path in result.kept:
            typer.echo(f"  put back {printable(path)}: journal entries are append-only")
        if result.held:
            typer.echo(
                f"  held back {len(result.held)} deletions (more than [session] "
                "max_deletions, or a whole directory); the files are still in the home and "
                "in history. To confirm them: guard restore --forget PATH...",
                err=True,
            )
    code = (
        ExitCode.SECURITY
        if result.held or result.intake.incidents
        else ExitCode.OK
        if result.ok
        and not result.kept
        and not result.intake.set_aside
        and not result.intake.unreadable
        else ExitCode.FINDINGS
    )
    raise typer.Exit(int(code))


@app.command("log")
def log_command(
    home: HomeOpt = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=0, help="Show at most N sessions.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    color: ColorOpt = Color.auto,
) -> None:
    """The sessions in history, newest first, with a calendar."""
    with _errors("log", fmt):
        from gpthome_guard import history, render_log
        from gpthome_guard.session import repo_for

        root = _home(home)
        records = history.sessions(repo_for(root, load_config(root)), limit)
        if fmt is Format.json:
            sys.stdout.write(render_log.log_json(records))
        else:
            sys.stdout.write(render_log.log_text(records, _use_color(color, sys.stdout)))


@app.command()
def restore(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Paths or globs to bring back (default: what the last session deleted).",
            show_default=False,
        ),
    ] = None,
    home: HomeOpt = None,
    session: Annotated[
        str | None, typer.Option("--session", help="What this session deleted.", show_default=False)
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="What was deleted since DATE.", show_default=False)
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="Show what could be restored.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Change nothing.")] = False,
    forget: Annotated[
        bool,
        typer.Option(
            "--forget", help="Confirm deletions held back by post-session: delete PATHs for good."
        ),
    ] = False,
) -> None:
    """Bring back deleted files from history, as a commit of its own."""
    with _errors("restore"):
        from gpthome_guard import restore as restoring
        from gpthome_guard.session import forget_held, locked, repo_for

        root = _home(home)
        config = load_config(root)
        repo = repo_for(root, config)
        if not repo.is_repo():
            raise GuardError(f"{root} has no history; run `guard init {root}`")
        guard_id = Identity(config.git.guard_name, config.git.guard_email)
        with locked(repo, config.git.lock_timeout_s):
            if forget:
                gone = forget_held(repo, paths or [], guard_id)
                typer.echo(f"deleted for good: {len(gone)} file(s)")
                raise typer.Exit(0)
            if not paths and session is None and since is None:
                session = restoring.last_session(repo)
            found = restoring.find_deletions(
                repo, session=session, since=since, paths=list(paths or [])
            )
            if list_only:
                for item in found:
                    where = (
                        f"{item.commit[:12]} (session {item.session or '-'}, {item.when})"
                        if item.commit
                        else "not yet committed"
                    )
                    typer.echo(f"{printable(item.path)}  deleted in {where}")
                typer.echo(f"{len(found)} file(s) can be restored")
                raise typer.Exit(0)
            result = restoring.restore(
                repo, found, guard_id, dry_run=dry_run, reason="Brought back with `guard restore`."
            )
        verb = "would restore" if dry_run else "restored"
        for item in result.restored:
            typer.echo(f"{verb} {printable(item.path)} from {item.shown_source}")
        for item in result.exists:
            typer.echo(f"left {printable(item.path)}: a file is there again")
        for item, why in result.skipped:
            typer.echo(f"skipped {printable(item.path)}: {why}")
        if result.commit:
            typer.echo(f"committed {result.commit[:12]}")
        if not (result.restored or result.exists or result.skipped):
            typer.echo("nothing to restore")
