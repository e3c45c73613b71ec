"""core: the values that cross module boundaries (findings, per-file results, reports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def printable(text: str) -> str:
    """`text` with control, bidi and line-separator characters escaped, safe for a terminal."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) > 0xFF else f"\\x{ord(m[0]):02x}", text
    )


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Kind(StrEnum):
    """What a path in the home holds, as far as the conventions are concerned."""

    THOUGHT = "thought"
    DREAM = "dream"
    LANDING = "landing"
    LANDING_CONTENT = "landing-content"
    ABOUT = "about"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one file: where, which rule, and what to do about it.

    A slotted dataclass rather than a pydantic model: a home can hold many thousands of
    findings, and a model instance costs ~1.3 KB against ~0.3 KB here (the peak memory of
    `guard validate` must not grow with the home). Pydantic still validates and dumps it as
    a field of the report models.
    """

    path: str
    code: str
    name: str
    severity: Severity
    message: str
    line: int | None = None
    field: str | None = None
    fixable: bool = False

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.code, self.field or "")


class FileResult(BaseModel):
    """The outcome of checking one directory entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    kind: Kind
    findings: tuple[Finding, ...] = ()

    @property
    def status(self) -> str:
        if any(f.severity is Severity.ERROR for f in self.findings):
            return "error"
        return "warning" if self.findings else "ok"


class Counts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    files: int = 0
    files_with_errors: int = 0
    files_with_warnings: int = 0
    errors: int = 0
    warnings: int = 0
    fixable: int = 0


class ValidationReport(BaseModel):
    """What `guard validate` found. `files` lists every file checked only when asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: str
    counts: Counts
    findings: tuple[Finding, ...]
    files: tuple[FileResult, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.counts.errors == 0
