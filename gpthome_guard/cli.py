"""cli: the `guard` command. Each command builds its inputs, calls one function, renders, exits."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gpthome_guard import render
from gpthome_guard.cli_base import (
    Color,
    ColorOpt,
    Format,
    HomeOpt,
    JobsOpt,
    _errors,
    _home,
    _use_color,
    app,
)
from gpthome_guard.config import load_config
from gpthome_guard.errors import ExitCode, UsageError
from gpthome_guard.rules import RULES, rule
from gpthome_guard.validate import FixContext, select, validate_home


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
    staged: Annotated[
        bool,
        typer.Option(
            "--staged", help="Check what git's index holds (the next commit), not the files."
        ),
    ] = False,
) -> None:
    """Check content files against the conventions."""
    with _errors("validate", fmt):
        root = _home(home)
        config = load_config(root)
        progress = _Progress(sys.stderr.isatty() and fmt is not Format.json and not staged)
        try:
            if staged:  # a git hook's GIT_INDEX_FILE names the index being committed
                from gpthome_guard.staged import validate_staged

                report = validate_staged(
                    root,
                    config,
                    [str(p) for p in paths or []],
                    index=os.environ.get("GIT_INDEX_FILE"),
                    keep_files=fmt is Format.json,
                )
            else:
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


# the other command modules register their commands on app when imported
from gpthome_guard import cli_demo, cli_doctor, cli_history, cli_report  # noqa: E402, F401


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
