"""core: find credentials in bytes (a file's content and its name) before git archives them.

Two layers; a hit says where and what (`SecretHit`), never the secret or any part of it.

1. Known values. The guard can read the real env files, so it looks for each value exactly,
   and for cheap disguises: base64 (standard and URL-safe, at the three byte alignments a
   value can have inside a longer stream), hex (lower, upper), URL-encoded (`quote`,
   `quote_plus`), reversed; and each of these split by whitespace or newlines (`s k - a n t`,
   a base64 stream wrapped at 76 columns). This finds shape-less secrets (a database password)
   that no pattern knows. Which values are searched: `is_tracked`. Dotenv parsing, the
   tracked values and their disguises (needles): `secret_values`.
2. Formats. `secret_formats.RULES`: well-known token shapes, each citing the gitleaks rule
   (`cmd/generate/config/rules/*.go`) or detect-secrets plugin (`detect_secrets/plugins/*.py`)
   it follows, with an entropy floor and a placeholder filter; and
   `secret_keywords.AssignmentRule`: a high-entropy literal assigned to a key named like a
   secret (`password = "..."`, `token: ...`, `"apiKey": "..."`, `export SECRET=...`,
   `:password => '...'`, `Authorization: Bearer ...`). References (`os.environ[...]`,
   `${TOKEN}`, `process.env.X`), placeholders (`your-key-here`, `xxxx`, `sk-...`,
   `AKIA...EXAMPLE`), words, numbers, paths, URLs, a lone `-----BEGIN PRIVATE KEY-----` and a
   URL whose password is `password` are not. Base64 images (`data:image/png;base64,...`) are
   scanned like any text: a known value hidden in one is found, and the format rules need
   delimiters (`.`, `_`, `-`, a key and `=`) that a base64 stream does not have, so they stay
   quiet there (tested).

Speed: the scanner runs over every added or changed file before each commit, so the
constructor compiles one *trigger* regex and `scan` runs it once over the bytes. Each
alternative starts with one literal byte and consumes only that byte (the rest is lookahead
and lookbehind), so `re` skips along with its first-byte bitmap and tries every position. The
alternatives are a sign of each rule (`-` after `sk-` and before `ant-`; `_` after `ghp`;
`=` or `:` after a key ending in `word`, `oken`, `key`...) and, for each disguised known value,
6 of its bytes starting at its rarest one (whitespace allowed between them). Known values are
then checked where their anchor was seen (`startswith`, or the same on the bytes with
whitespace removed), and only the rules whose sign was seen run their own regex.
`python bench/secrets.py`: 10k notes of 2 KB (21 MB) and a .env of 10 values in 0.19 s on
this 2-core machine (reading the files: 0.11 s).

Library decision: our own table, no new dependency. detect-secrets 1.5.0 (in a scratch venv;
`python bench/secrets.py --detect-secrets /path/to/venv/bin/python`) flags 4 of the 10 leaked
forms of the reference note (OpenAI project and legacy keys, AWS key ID, GitHub token; not the
Anthropic key, which it has no plugin for, nor the AWS secret or any encoded, split, spaced
or reversed form, since it cannot search for known values), where this scanner flags all
10; on the false-positive corpus of the tests it reports 13 hits (placeholders,
`process.env` references, lock-file hashes) where this scanner reports none; it takes ~17 ms
per 2 KB file (its per-line loop over ~25 plugins and filters), ~500x this scanner; and it
brings requests and PyYAML. gitleaks (the source of most patterns here) is a Go binary, not
a library. An Aho-Corasick package (pyahocorasick, ahocorasick-rs) could find the known
values, but the trigger regex needs no compiled dependency and serves the rules as well.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from gpthome_guard.secret_formats import ENTROPY_FLOOR, RULES, FormatRule, shannon_entropy
from gpthome_guard.secret_keywords import MIN_ASSIGNED_LEN, AssignmentRule
from gpthome_guard.secret_values import (
    ANCHOR_LEN,
    GAP,
    MAX_GAP,
    MAX_VALUE_LEN,
    MIN_VALUE_LEN,
    WHITESPACE,
    KnownSecret,
    Needle,
    anchor_at,
    build_needles,
    is_tracked,
    known_from_env,
    parse_env,
)

__all__ = [
    "ENTROPY_FLOOR",
    "MAX_VALUE_LEN",
    "MIN_ASSIGNED_LEN",
    "MIN_VALUE_LEN",
    "KnownSecret",
    "SecretHit",
    "SecretScanner",
    "is_tracked",
    "known_from_env",
    "parse_env",
    "shannon_entropy",
]


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret in a file: line (1-based; 0 = in the file's name), column (1-based, in bytes
    from the line's start or the name's), kind.

    Safe to print and to put in a commit message: `kind` names what was found
    ("Anthropic API key", "the value of OPENAI_API_KEY from .env (base64-encoded)"),
    never any byte of it.
    """

    line: int
    column: int
    kind: str

    def __str__(self) -> str:
        where = "file name" if self.line == 0 else f"line {self.line}"
        return f"{where}, column {self.column}: {self.kind}"


# ---------------------------------------------------------------- the scanner


class _Rule(Protocol):
    """What the scanner needs of a rule (`secret_formats.FormatRule`, `AssignmentRule`)."""

    @property
    def triggers(self) -> tuple[bytes, ...]: ...

    def find(self, data: bytes, signs: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        """(offset, kind) of each match in `data`; `signs`: the bytes just before each place
        where one of `triggers` held."""
        ...


_NO_FILES: Mapping[str, bytes] = MappingProxyType({})


class SecretScanner:
    """Built once per run from the known values; `scan` is then called for every file."""

    def __init__(self, known: Iterable[KnownSecret] = ()) -> None:
        self._rules: list[_Rule] = [*RULES, AssignmentRule()]
        self._rule_of: dict[str, int] = {}  # trigger group -> rule index
        alternatives: dict[int, list[bytes]] = {}  # first byte -> the rest of each alternative
        for r, rule in enumerate(self._rules):
            for t, trigger in enumerate(rule.triggers):
                self._rule_of[f"r{r}_{t}"] = r
                alternatives.setdefault(trigger[0], []).append(
                    b"(?P<r%d_%d>%s)" % (r, t, trigger[1:])
                )
        self._needles = build_needles(known)
        self._anchors: dict[bytes, list[tuple[int, Needle]]] = {}
        for needle in self._needles:
            at = anchor_at(needle.flat)
            self._anchors.setdefault(needle.flat[at : at + ANCHOR_LEN], []).append((at, needle))
        self._anchor_starts = frozenset(anchor[0] for anchor in self._anchors)
        rests: dict[int, set[bytes]] = {}
        for anchor in self._anchors:  # `(?=` the anchor's other bytes, whitespace between `)`
            spaced = GAP + GAP.join(re.escape(anchor[i : i + 1]) for i in range(1, ANCHOR_LEN))
            rests.setdefault(anchor[0], set()).add(spaced)
        for byte, rest in rests.items():
            alternatives.setdefault(byte, []).append(b"(?=%s)" % b"|".join(sorted(rest)))
        self._trigger = re.compile(
            b"|".join(
                re.escape(bytes([byte])) + b"(?:%s)" % b"|".join(rest)
                for byte, rest in alternatives.items()
            )
        )

    @classmethod
    def from_env(
        cls, env_files: Mapping[str, bytes] = _NO_FILES, extra_values: Sequence[bytes] = ()
    ) -> SecretScanner:
        """A scanner for the tracked values of `env_files` (name -> bytes, e.g. `.env`) and
        for `extra_values` (any value of `MIN_VALUE_LEN` bytes or more)."""
        extra = [KnownSecret(value, "a known secret value") for value in extra_values]
        return cls([*known_from_env(env_files), *extra])

    def __repr__(self) -> str:
        return f"SecretScanner({len(self._needles)} needles, {len(self._rules)} rules)"

    def scan(self, data: bytes, name: str = "") -> list[SecretHit]:
        """Secrets in `data` and in the file `name`, sorted by (line, column), one hit per
        (line, kind)."""
        hits = [SecretHit(*_line_column(data, at), kind) for at, kind in self._find(data)]
        if name:
            try:
                encoded = name.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                encoded = name.encode("utf-8", "surrogatepass")
            hits += [SecretHit(0, at + 1, kind) for at, kind in self._find(encoded)]
        if len(hits) < 2:
            return hits
        seen: set[tuple[int, str]] = set()
        unique = []
        for hit in sorted(hits, key=lambda h: (h.line, h.column, h.kind)):
            if (hit.line, hit.kind) not in seen:
                seen.add((hit.line, hit.kind))
                unique.append(hit)
        return unique

    def _find(self, data: bytes) -> list[tuple[int, str]]:
        """(offset, kind) of each secret in `data`."""
        signs: dict[int, list[bytes]] = {}  # rule index -> the bytes before each trigger
        hits: list[tuple[int, str]] = []
        for m in self._trigger.finditer(data):
            at = m.start()
            if m.lastgroup is not None:
                signs.setdefault(self._rule_of[m.lastgroup], []).append(data[max(0, at - 12) : at])
            if data[at] in self._anchor_starts:
                hits += self._needles_at(data, at)
        shapes: list[tuple[int, str]] = []
        assigned: list[tuple[int, str]] = []
        for r, before in signs.items():
            rule = self._rules[r]
            (shapes if isinstance(rule, FormatRule) else assigned).extend(rule.find(data, before))
        # `token = ghp_...` is a GitHub token, not also a token assignment
        taken = {at for at, _ in shapes}
        return hits + shapes + [hit for hit in assigned if hit[0] not in taken]

    def _needles_at(self, data: bytes, at: int) -> Iterator[tuple[int, str]]:
        """Known values whose anchor starts at `at`, whitespace between their bytes or not."""
        anchor = data[at : at + (MAX_GAP + 1) * ANCHOR_LEN].translate(None, WHITESPACE)
        for offset, needle in self._anchors.get(anchor[:ANCHOR_LEN], ()):
            start = _back(data, at, offset)
            if start < 0:
                continue
            if data.startswith(needle.written, start):
                yield start, needle.kind + (f" ({needle.note})" if needle.note else "")
            elif _starts_spaced(data, start, needle.flat):
                notes = ", ".join(filter(None, (needle.note, "split by whitespace")))
                yield start, f"{needle.kind} ({notes})"


def _back(data: bytes, at: int, count: int) -> int:
    """Where the byte `count` non-whitespace bytes before `at` is, or -1 (none within
    `MAX_GAP` whitespace bytes of each other)."""
    if count <= at and len(data[at - count : at].translate(None, WHITESPACE)) == count:
        return at - count  # no whitespace between: the usual case
    before = data[max(0, at - (MAX_GAP + 1) * count) : at][::-1]
    m = _gaps_before(count).match(before)
    return at - m.end() if m else -1


@functools.cache
def _gaps_before(count: int) -> re.Pattern[bytes]:
    """`count` non-whitespace bytes, each after some whitespace, in reversed bytes."""
    return re.compile(rb"(?:%s[^ \t\r\n\x0b\x0c]){%d}" % (GAP, count))


def _starts_spaced(data: bytes, start: int, flat: bytes) -> bool:
    """Whether `flat` is at `start` once whitespace is removed (looking no further than
    `MAX_GAP` whitespace bytes per byte of `flat`)."""
    head = data[start : start + 256].translate(None, WHITESPACE)
    if not (flat.startswith(head) or head.startswith(flat)):
        return False  # the usual way out, after a few bytes
    window = data[start : start + (MAX_GAP + 1) * len(flat)]
    return window.translate(None, WHITESPACE).startswith(flat)


def _line_column(data: bytes, at: int) -> tuple[int, int]:
    return data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
