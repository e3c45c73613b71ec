"""cli: the `guard` command. Each command builds its inputs, calls one function, renders, exits."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
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
from gpthome_guard.config import DEFAULT_CONFIG, load_config
from gpthome_guard.errors import ExitCode, GuardError, UsageError
from gpthome_guard.gitrepo import Identity
from gpthome_guard.models import printable
from gpthome_guard.rules import RULES, rule
from gpthome_guard.validate import FixContext, select, validate_home

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


class _Progress:
    """A progress bar on stderr, only on a terminal and only for homes that take a moment."""

    MIN_FILES = 2000

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def start(self, total: int) -> None:
        if self.enabled and total >= self.MIN_FILES:
            self.bar = typer.progressbar(
                length=total, label="Checking", file=sys.stderr, update_min_steps=64
            )
            self.bar.__enter__()

    def step(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update_min_steps = 1  # draw the steps still pending: end at 100%
            self.bar.update(0)
            self.bar.__exit__(None, None, None)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories to check (default: the whole home).", show_default=False
        ),
    ] = None,
    home: HomeOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
    color: ColorOpt = Color.auto,
    jobs: JobsOpt = 0,
) -> None:
    """Check content files against the conventions."""
    with _errors("validate", fmt):
        root = _home(home)
        config = load_config(root)
        progress = _Progress(sys.stderr.isatty() and fmt is not Format.json)
        try:
            report = validate_home(
                root,
                select(root, [str(p) for p in paths or []]),
                config.limits,
                jobs=jobs,
                keep_files=fmt is Format.json,
                on_total=progress.start,
                progress=progress.step,
            )
        finally:
            progress.close()
        out = render.VALIDATION_RENDERERS[fmt.value](report, _use_color(color, sys.stdout))
        sys.stdout.write(out)
    raise typer.Exit(int(ExitCode.OK if report.ok else ExitCode.FINDINGS))


@app.command()
def fix(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories to fix (default: the whole home).", show_default=False
        ),
    ] = None,
    home: HomeOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    color: ColorOpt = Color.auto,
    jobs: JobsOpt = 0,
) -> None:
    """Fix what is safe, quarantine the rest, restore broken pages."""
    with _errors("fix", fmt):
        if fmt is Format.github:
            raise UsageError("--format github is for validate; use text or json")
        root = _home(home)
        config = load_config(root)
        from gpthome_guard import render_fix, repair  # imported here: startup time counts
        from gpthome_guard.apply import Run, apply_plan
        from gpthome_guard.session import locked, repo_for

        repo = repo_for(root, config)
        # one writer at a time: with a history, the home's lock (a home without one has no
        # post-session to collide with)
        guard_lock = (
            locked(repo, config.git.lock_timeout_s)
            if repo.is_repo() and not dry_run
            else contextlib.nullcontext()
        )
        with guard_lock:
            prepared = repair.prepare(
                root, select(root, [str(p) for p in paths or []]), config.limits, FixContext(), jobs
            )
            outcome = None
            if not dry_run:
                # even with nothing planned: it sweeps up what an interrupted run left
                outcome = apply_plan(root, prepared.plan, Run(run_id=_run_id("fix")))
        ok = repair.all_repaired(prepared, outcome)
        if fmt is Format.json:
            sys.stdout.write(render_fix.plan_json(prepared.plan, outcome, ok))
        else:
            sys.stdout.write(
                render_fix.plan_text(prepared.plan, outcome, _use_color(color, sys.stdout))
            )
    raise typer.Exit(int(ExitCode.OK if ok else ExitCode.FINDINGS))


def _run_id(kind: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{kind}-{now}-{os.getpid()}"


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
) -> None:
    """Lay out a home (or adopt one) with its git history."""
    with _errors("init"):
        from gpthome_guard.session import init_home

        result = init_home(home, load_config(home) if home.is_dir() else DEFAULT_CONFIG, git_dir)
        what = "adopted" if result.adopted else "laid out"
        commit = f"; first commit {result.commit[:12]}" if result.commit else ""
        typer.echo(f"{what} {home}{commit}")
        for path in result.created:
            typer.echo(f"  created {path}")


@app.command("pre-session")
def pre_session(
    home: HomeOpt = None,
    session_type: Annotated[
        SessionType, typer.Option("--type", help="The session's type.")
    ] = SessionType.morning,
) -> None:
    """Commit what changed outside a session; record the session's baseline."""
    with _errors("pre-session"):
        from gpthome_guard.session import pre_session as run_pre_session

        root = _home(home)
        result = run_pre_session(root, load_config(root), session_type.value)
        if result.commit:
            typer.echo(f"committed changes made outside a session: {result.commit[:12]}")
        typer.echo(
            f"baseline for the {session_type.value} session: {(result.head or 'no commit')[:12]}"
        )
        for line in result.pushed:
            typer.echo(f"  {line}")


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
        result = run_post_session(
            root, load_config(root), log, session_type.value if session_type else None
        )
        typer.echo(
            f"session {result.session.id} ({result.session.type}): {result.log.status.value}"
        )
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
        if result.held
        else ExitCode.OK
        if result.ok and not result.kept
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
            typer.echo(f"{verb} {printable(item.path)} from {item.source[:13]}")
        for item in result.exists:
            typer.echo(f"left {printable(item.path)}: a file is there again")
        for item, why in result.skipped:
            typer.echo(f"skipped {printable(item.path)}: {why}")
        if result.commit:
            typer.echo(f"committed {result.commit[:12]}")
        if not (result.restored or result.exists or result.skipped):
            typer.echo("nothing to restore")


quarantine_app = typer.Typer(help="List, show and release quarantined files.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    home: HomeOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    all_entries: Annotated[
        bool, typer.Option("--all", help="Also released files and the originals of fixed files.")
    ] = False,
) -> None:
    """List the files in the quarantine and why they are there."""
    with _errors("quarantine list", fmt):
        from gpthome_guard import quarantine, render_fix

        found = quarantine.entries(_home(home))
        if not all_entries:
            found = [e for e in found if e.action == "quarantined" and not e.released]
        if fmt is Format.json:
            sys.stdout.write(
                json.dumps([e.model_dump() for e in found], indent=2, ensure_ascii=False) + "\n"
            )
        else:
            sys.stdout.write(render_fix.quarantine_text(found))


@quarantine_app.command("show")
def quarantine_show(
    path: Annotated[str, typer.Argument(help="The original path, or the path in quarantine/.")],
    home: HomeOpt = None,
) -> None:
    """Show one quarantined file: where it came from, its checksum and the findings."""
    with _errors("quarantine show"):
        from gpthome_guard import quarantine, render_fix

        sys.stdout.write(render_fix.quarantine_entry_text(quarantine.find(_home(home), path)))


@quarantine_app.command("release")
def quarantine_release(
    path: Annotated[str, typer.Argument(help="The original path, or the path in quarantine/.")],
    home: HomeOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Put it back even if it is invalid.")
    ] = False,
) -> None:
    """Put a quarantined file back where it came from, once it is valid."""
    with _errors("quarantine release"):
        from gpthome_guard import quarantine

        root = _home(home)
        entry = quarantine.find(root, path)
        left = quarantine.release(root, entry, load_config(root).limits, force)
        note = f" with {len(left)} errors left (--force)" if left else ""
        typer.echo(f"released {entry.stored_as} -> {entry.path}{note}")


@app.command("rules")
def rules_command(
    code: Annotated[
        str | None, typer.Argument(help="A rule code or name to explain.", show_default=False)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """List the rules, or explain one with examples."""
    with _errors("rules", fmt):
        if code is None:
            all_rules = list(RULES.values())
            out = (
                render.rules_json(all_rules) if fmt is Format.json else render.rules_text(all_rules)
            )
        else:
            try:
                found = rule(code)
            except KeyError:
                raise UsageError(f"no rule {code!r}; `guard rules` lists them") from None
            out = render.rules_json([found]) if fmt is Format.json else render.rule_text(found)
        sys.stdout.write(out)


@app.command()
def schema(
    write: Annotated[bool, typer.Option("--write", help="Write the schemas into --dir.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the schemas in --dir are out of date.")
    ] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where the schemas live.")] = Path(
        "schemas"
    ),
) -> None:
    """Print, write or check the JSON Schemas of the conventions."""
    with _errors("schema"):
        from gpthome_guard import generate

        schemas = generate.json_schemas()
        if write:
            directory.mkdir(parents=True, exist_ok=True)
            for name, text in schemas.items():
                (directory / name).write_text(text, encoding="utf-8")
            typer.echo(f"wrote {len(schemas)} schemas to {directory}", err=True)
        elif check:
            stale = [n for n, t in schemas.items() if _read(directory / n) != t]
            if stale:
                typer.echo(
                    f"out of date in {directory}: {', '.join(stale)}; run "
                    f"`guard schema --write --dir {directory}`",
                    err=True,
                )
                raise typer.Exit(int(ExitCode.FINDINGS))
        else:
            sys.stdout.write("".join(schemas.values()))


@app.command()
def guide(
    write: Annotated[bool, typer.Option("--write", help="Write the guide to --file.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if --file is out of date.")
    ] = False,
    file: Annotated[Path, typer.Option("--file", help="Where the guide lives.")] = Path("GPT.md"),
) -> None:
    """Print, write or check GPT.md, the agent's guide."""
    with _errors("guide"):
        from gpthome_guard import generate

        text = generate.guide()
        if write:
            file.write_text(text, encoding="utf-8")
        elif check:
            if _read(file) != text:
                typer.echo(
                    f"{file} is out of date; run `guard guide --write --file {file}`", err=True
                )
                raise typer.Exit(int(ExitCode.FINDINGS))
        else:
            sys.stdout.write(text)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _wants_json(argv: list[str]) -> bool:
    return "--format=json" in argv or any(
        a == "--format" and b == "json" for a, b in itertools.pairwise(argv)
    )


def main() -> None:
    argv = sys.argv[1:]
    try:
        code = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:  # raised before a command's own handler could run
        typer.echo("guard: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except typer.TyperException as exc:  # typer's own usage errors (an unknown option, ...)
        show = getattr(exc, "show", None)
        if _wants_json(argv):  # stdout holds one JSON document, errors included
            formatter = getattr(exc, "format_message", None)
            message = formatter() if callable(formatter) else str(exc)
            command = next((a for a in argv if not a.startswith("-")), "guard")
            sys.stdout.write(render.error_json(f"usage: {message}", int(ExitCode.USAGE), command))
        if callable(show):
            show()
        sys.exit(int(getattr(exc, "exit_code", ExitCode.USAGE)))
    sys.exit(code if isinstance(code, int) else 0)
