"""core: the map of the home: what the agent may write, only read, or not touch at all.

Code defaults, extended (never narrowed) by `[access]` in `guard.toml`. Paths are home-relative
top-level names; the guard's own state lives in the git directory.
"""

from __future__ import annotations

from enum import StrEnum

# The agent's directories. The first four are served by the site and checked against the
# conventions; sandbox/ and projects/ hold code and are archived as they are.
WRITABLE = ("thoughts", "dreams", "landing-page", "about", "sandbox", "projects")
# What the agent reads and must not change (the API writes visitors/; the guard, the rest).
READ_ONLY = ("visitors", "GPT.md", "README.md", ".gitignore")
# What the agent must neither read nor write.
FORBIDDEN = ("runner", "logs", ".env", "sessions.db", "guard.toml", "quarantine", ".git")
# Files planted in the agent's directories that would change how git treats the archive.
GIT_CONTROL_FILES = (".gitignore", ".gitattributes", ".gitmodules", ".git")


class Zone(StrEnum):
    writable = "writable"
    read_only = "read-only"
    forbidden = "forbidden"
    outside = "outside"  # anything else: not part of the map (a new file at the root, say)


def zone_of(
    path: str, read_only: tuple[str, ...] = READ_ONLY, forbidden: tuple[str, ...] = FORBIDDEN
) -> Zone:
    """The zone of a home-relative path, by its first component."""
    top = path.split("/", 1)[0]
    if top in forbidden:
        return Zone.forbidden
    if top in read_only:
        return Zone.read_only
    if top in WRITABLE and "/" in path:
        return Zone.writable
    if top in WRITABLE:
        return Zone.writable  # the directory itself
    return Zone.outside
