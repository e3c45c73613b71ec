"""The floor for `guard validate`: the least any validator must do.

    python bench/floor.py HOME

Walks `thoughts/` and `dreams/`, reads every file, splits off the `---` frontmatter block and
parses it with PyYAML's C safe loader; nothing more. No validator can be much faster than this
in Python, so `bench/run.py` reports guard's wall time as a multiple of this script's.
"""

from __future__ import annotations

import os
import sys

import yaml

DIRECTORIES = ("thoughts", "dreams")


def frontmatter(text: str) -> str | None:
    """The block between the opening `---` line and the next `---` line, if there is one."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    return None if end < 0 else text[4 : end + 1]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} HOME", file=sys.stderr)
        return 2
    files = unreadable = 0
    for directory in DIRECTORIES:
        with os.scandir(os.path.join(argv[1], directory)) as entries:
            for entry in entries:
                with open(entry.path, "rb") as f:
                    data = f.read()
                files += 1
                block = frontmatter(data.decode("utf-8", "replace"))
                if block is None:
                    unreadable += 1
                    continue
                try:
                    yaml.load(block, Loader=yaml.CSafeLoader)
                except yaml.YAMLError:
                    unreadable += 1
    print(f"{files} files read, {unreadable} without a frontmatter that parses")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
