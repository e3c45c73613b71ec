"""Benchmark: `guard fix` against `guard validate` on a home where every file is valid.

The issue's target: with nothing to repair, `guard fix` costs at most 1.1x `guard validate`
(nothing is rewritten, and preparing fixes costs nothing for files without findings).

    python bench/fix.py [--size 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from make_home import DEFAULT_SEED, make_home
from run import Command, Runs, guard_argv, log, spawn, wait_for_quiet

BENCH = Path(__file__).resolve().parent
TARGET = 1.1


def valid_home(size: int, homes: Path) -> Path:
    home = homes / f"home-{size}-valid-seed{DEFAULT_SEED}"
    if not home.is_dir():
        homes.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{home.name}-", dir=homes))
        try:
            make_home(size, partial, DEFAULT_SEED, invalid_share=0.0)
            partial.rename(home)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return home


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--homes", type=Path, default=BENCH / "homes")
    parser.add_argument("--patience", type=float, default=60)
    args = parser.parse_args(argv)
    home = valid_home(args.size, args.homes)
    guard = guard_argv()
    commands = [
        Command("guard validate", (*guard, "validate", "--home", str(home)), frozenset({0})),
        Command("guard fix", (*guard, "fix", "--home", str(home)), frozenset({0})),
    ]
    results = [Runs(c.name, list(c.argv)) for c in commands]
    for cmd in commands:  # warm-up, untimed
        spawn(cmd, os.devnull)
    for _ in range(args.repeat):
        for cmd, runs in zip(commands, results, strict=True):
            wait_for_quiet(args.patience)
            run = spawn(cmd, os.devnull)
            runs.wall_s.append(run.wall_s)
            runs.max_rss_kb.append(run.max_rss_kb)
    if any(home.glob("quarantine")):
        log("guard fix wrote a quarantine into a valid home: that is a bug")
        return 1
    validate, fix = results
    ratio = fix.best_s / validate.best_s
    print(
        f"| files | guard validate s | guard fix s | fix / validate | RSS validate MB | "
        f"RSS fix MB |\n|---:|---:|---:|---:|---:|---:|\n| {args.size:,} | "
        f"{validate.best_s:.2f} | {fix.best_s:.2f} | {ratio:.2f} | {validate.rss_mb:.1f} | "
        f"{fix.rss_mb:.1f} |"
    )
    print(
        f"- guard fix / guard validate on {args.size:,} valid files: {ratio:.3f} "
        f"(target <= {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}"
    )
    print(f"- measured {time.strftime('%Y-%m-%d')} with {sys.executable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
