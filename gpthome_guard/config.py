"""core: the guard's settings: defaults in code, overrides from `guard.toml` at the home's root."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpthome_guard.errors import ConfigError

CONFIG_NAME = "guard.toml"
_MAX_CONFIG_BYTES = 256 * 1024


class Limits(BaseModel):
    """Bounds on what one file may cost or contain."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    max_file_bytes: int = Field(1024 * 1024, ge=1, description="Largest file that is read.")
    max_frontmatter_bytes: int = Field(64 * 1024, ge=16, description="Largest frontmatter block.")
    max_yaml_nodes: int = Field(2000, ge=8, description="Most YAML nodes in one frontmatter.")
    max_yaml_depth: int = Field(
        16, ge=2, le=200, description="Deepest YAML nesting in one frontmatter."
    )
    title_max_chars: int = Field(200, ge=1, description="Longest title.")
    mood_max_chars: int = Field(64, ge=1, description="Longest mood.")
    headline_max_chars: int = Field(120, ge=1, description="Longest landing headline.")
    subheadline_max_chars: int = Field(300, ge=1, description="Longest landing subheadline.")


class GitSettings(BaseModel):
    """Where the history lives and who its commits are by."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    git_dir: str = Field(
        ".git",
        description="The git directory: relative to the home, or "
        "absolute (e.g. /var/lib/gpthome-guard/home.git, out of the agent's reach).",
    )
    agent_name: str = Field("gpt-home agent", description="Author of the agent's commits.")
    agent_email: str = Field("agent@gpt-home.invalid", description="Its e-mail.")
    guard_name: str = Field(
        "gpthome-guard", description="Committer, and author of the guard's own commits."
    )
    guard_email: str = Field("guard@gpt-home.invalid", description="Its e-mail.")
    remotes: list[str] = Field(
        default_factory=list,
        description="Backup remotes (URLs or paths) pushed to after "
        "each commit; a failed push never blocks a commit and is caught up next time.",
    )
    push_timeout_s: float = Field(60.0, gt=0, description="How long one push may take.")
    lock_timeout_s: float = Field(
        30.0,
        ge=0,
        description="How long a second run waits for "
        "the first to finish before giving up (exit 3).",
    )


class SessionSettings(BaseModel):
    """Safeguards on what a session may delete."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    journal_append_only: bool = Field(
        True, description="Put back journal entries (thoughts/) a session deleted."
    )
    max_deletions: int = Field(
        10,
        ge=0,
        description="A session deleting more files than this (or a whole directory) "
        "has all its deletions held back until `guard restore --forget`.",
    )
    max_archived_file_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1,
        description="A file larger than this is kept out of git (quarantined, mode 600).",
    )
    max_session_bytes: int = Field(
        200 * 1024 * 1024,
        ge=1,
        description="What one session may add to the archive; files beyond are quarantined.",
    )
    max_session_files: int = Field(
        50_000, ge=1, description="How many files one session may add or change."
    )
    min_free_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Free disk needed (beyond what the session wrote) before writing anything.",
    )


class AccessSettings(BaseModel):
    """The map of the home (defaults in code; these lists only add to them) and the audit."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    forbidden: list[str] = Field(
        default_factory=list,
        description="More top-level paths the agent must not touch (runner, logs, .env, "
        "sessions.db, guard.toml, quarantine and .git always are).",
    )
    read_only: list[str] = Field(
        default_factory=list,
        description="More top-level paths the agent may only read (visitors, GPT.md, "
        "README.md and .gitignore always are).",
    )
    agent_user: str = Field(
        "",
        description="The agent's Unix user, if it has its own: new files in visitors/ owned "
        "by another user are the API's, not the agent's; `guard doctor` checks this user.",
    )
    hash_max_bytes: int = Field(
        8 * 1024 * 1024, ge=0, description="Files up to this size get a SHA-256 in the baseline."
    )
    alert_log: str = Field(
        "",
        description="An absolute path to append security incidents to (default: "
        "gpthome-guard/alerts.log in the git directory).",
    )


class SecretSettings(BaseModel):
    """Where the real credentials are, so no file holding one is ever committed."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    env_files: list[str] = Field(
        default_factory=lambda: [".env", "runner/.env"],
        description="dotenv files (relative to the home, or absolute) whose values are "
        "searched for, also base64-, hex- and URL-encoded.",
    )
    environment: bool = Field(
        True,
        description="Also search for the values of the guard's own environment variables "
        "named like credentials (*KEY*, *TOKEN*, *SECRET*, *PASSWORD*).",
    )


class GuardConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    limits: Limits = Limits()
    git: GitSettings = GitSettings()
    session: SessionSettings = SessionSettings()
    access: AccessSettings = AccessSettings()
    secrets: SecretSettings = SecretSettings()


DEFAULT_CONFIG = GuardConfig()


def parse_config(text: str, source: str = CONFIG_NAME) -> GuardConfig:
    """Parse `guard.toml` text; a problem is a ConfigError naming the line to change."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}; fix the TOML syntax there") from None
    try:
        return GuardConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        where = _line_of(text, loc[-1]) if loc else None
        at = f":{where}" if where else ""
        key = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            known = ", ".join(_known_keys(loc[:-1]))
            what = f"unknown setting {key}; known here: {known}"
        else:
            what = f"{key}: {err['msg'].lower()}"
        raise ConfigError(f"{source}{at}: {what}") from None


def load_config(home: Path) -> GuardConfig:
    """Read `guard.toml` at the home's root if there is one, else the defaults."""
    path = home / CONFIG_NAME
    # Never follow a link, never block on a FIFO, never read more than a config needs.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return DEFAULT_CONFIG
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}); it must be a regular file, not a link"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path}: not a regular file; replace it with one")
        data = os.read(fd, _MAX_CONFIG_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {_MAX_CONFIG_BYTES} bytes; is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    return parse_config(text, str(path))


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[\s*)?\"?{re.escape(key)}\"?\s*[=\]]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _known_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] = GuardConfig
    for part in loc:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return sorted(model.model_fields)


def default_config_toml() -> str:
    """A `guard.toml` with every setting commented out at its default."""
    lines = ["# guard.toml: settings for gpthome_guard. Uncomment a line to change it."]
    sections: tuple[tuple[str, type[BaseModel]], ...] = (
        ("limits", Limits),
        ("git", GitSettings),
        ("session", SessionSettings),
        ("access", AccessSettings),
        ("secrets", SecretSettings),
    )
    for section, model in sections:
        lines += ["", f"[{section}]"]
        for name, info in model.model_fields.items():
            value = info.get_default(call_default_factory=True)
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            shown = shown.lower() if isinstance(value, bool) else shown
            lines.append(f"# {info.description}")
            lines.append(f"# {name} = {shown}")
    return "\n".join(lines) + "\n"
