"""cli: `guard demo`: a sample home and one messy session through the real wake wrapper."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gpthome_guard.cli_base import _errors, app


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Where to build the sample home: a new or empty directory (default: a new "
            "temporary one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a sample home, run one messy session through wake.sh, show what the guard did."""
    with _errors("demo"):
        from gpthome_guard import demo as demos

        def out(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        demos.run(directory, out)
