"""core: the known values the secrets scanner searches for (layer 1, see `secrets`).

Which values: the `KEY=value` pairs of the real env files (`parse_env`, as python-dotenv
reads them) that `is_tracked` keeps (`known_from_env`), and any extra value. Each becomes
needles (`build_needles`): the value and its disguises (base64 standard and URL-safe at the
three byte alignments, hex lower and upper, URL-encoded, reversed), each with an anchor at
its rarest byte (`anchor_at`) for the scanner's trigger regex.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

MIN_VALUE_LEN = 8  # shorter known values are ignored: too many would match by chance
MAX_VALUE_LEN = 1 << 14  # a longer known value is cut: its first 16 KiB still identify it

WHITESPACE = b" \t\r\n\x0b\x0c"
MAX_GAP = 8  # whitespace bytes followed between two bytes of a known value
GAP = rb"[ \t\r\n\x0b\x0c]{0,%d}" % MAX_GAP
ANCHOR_LEN = 6
# Bytes from common to rare in notes and code; a known value is anchored at its rarest byte, so
# the trigger regex stops at few positions. Unlisted bytes are the rarest.
_COMMON = (
    b"etaoinsrhldcumfpgwybv.,kTIASC-:'\"0123456789MHWBNDPELRFGO()/_x=*#jq[]zUVYK>J<{}QXZ;!?&+|"
)
_RARITY = {byte: rank for rank, byte in enumerate(_COMMON)}


@dataclass(frozen=True, slots=True)
class KnownSecret:
    """A value to search for exactly (layer 1) and the words that name it in a hit."""

    value: bytes = field(repr=False)
    origin: str  # "the value of OPENAI_API_KEY from .env"


# ---------------------------------------------------------------- env files

_ENV_KEY = rb"[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*="
# A quoted value may span lines, but not into the next `KEY=value` line: an unclosed quote
# costs one line, and the whole parse stays linear.
_ENV_NEXT_LINE = rb"\n(?![ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*=(?!=|[ \t\r]*$))"
_ENV_ENTRY = re.compile(
    rb"^%s[ \t]*(?:'(?P<sq>(?:[^'\n]|%s)*)'|\"(?P<dq>(?:[^\"\\\n]|\\.|%s)*)\"|(?P<bare>[^\r\n]*))"
    % (_ENV_KEY, _ENV_NEXT_LINE, _ENV_NEXT_LINE),
    re.MULTILINE | re.DOTALL,
)
_ENV_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_ENV_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b'"': b'"', b"'": b"'", b"\\": b"\\"}
_INLINE_COMMENT = re.compile(rb"[ \t]+#")


def _env_entries(data: bytes) -> Iterator[tuple[str, bytes, bytes]]:
    """(key, value, value as written) for each `KEY=value` line; other lines are skipped."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    for m in _ENV_ENTRY.finditer(data):
        key = m["key"].decode("ascii")
        if m["sq"] is not None:
            yield key, m["sq"], m["sq"]
        elif m["dq"] is not None:
            value = _ENV_ESCAPE.sub(lambda e: _ENV_ESCAPES.get(e[1], e[0]), m["dq"])
            yield key, value, m["dq"]
        else:
            value = _INLINE_COMMENT.split(m["bare"], maxsplit=1)[0].strip()
            yield key, value, value


def parse_env(data: bytes) -> dict[str, bytes]:
    """A dotenv file's `KEY=value` pairs (the last one wins), as python-dotenv reads them.

    `export KEY=...`, single quotes (literal), double quotes (escapes, may span lines), bare
    values (an inline ` #` starts a comment), `#` comment lines, blank lines, CRLF and a BOM;
    any other line is skipped. Never raises.
    """
    return {key: value for key, value, _ in _env_entries(data)}


_SECRET_NAME = re.compile(
    rb"(?i)key|token|secret|pass|pwd|auth|cred|private|salt|cookie|session|signature|cert|dsn"
    rb"|webhook"
)
_BOOLEANISH = frozenset(
    b"true false yes no on off null none nil undefined enabled disabled".split()
)
NUMBERISH = re.compile(rb"[0-9.:+\-_/, ]+\Z")  # numbers, dates, times, versions, IPs
_PLAIN_URL = re.compile(rb"(?i)[a-z][a-z0-9+.\-]*://[^/?#@\s]*(?:/[^?#@\s]*)?\Z")
_PATH = re.compile(rb"(?:~|\.{1,2})?/[^\s]*\Z")
_HOST_PORT = re.compile(rb"[A-Za-z0-9.\-]+:[0-9]{1,5}\Z")
# Lowercase words and short codes: production, us-east-1, gpt-4o-mini, claude-sonnet-4-20250514
_NAME_LIKE = re.compile(
    rb"(?:[a-z]+|[0-9]+|[a-z0-9]{1,3})(?:[\-_.](?:[a-z]+|[0-9]+|[a-z0-9]{1,3}))*\Z"
)


def is_tracked(key: str, value: bytes) -> bool:
    """Whether an env file's `key=value` is searched for (layer 1). The rule:

    - never values shorter than `MIN_VALUE_LEN` bytes (whitespace aside), nor booleans and
      null words (`true`, `off`, `none` ...);
    - always any other value of a key that names a secret (contains KEY, TOKEN, SECRET, PASS,
      PWD, AUTH, CRED, PRIVATE, SALT, COOKIE, SESSION, SIGNATURE, CERT, DSN or WEBHOOK);
    - for other keys, not: numbers, dates, versions and IPs; URLs without credentials, query or
      fragment; paths; `host:port`; names made of lowercase words and short codes
      (`production`, `us-east-1`, `claude-sonnet-4-20250514`), which the agent writes anyway.
    """
    bare = value.translate(None, WHITESPACE)
    if len(bare) < MIN_VALUE_LEN or bare.lower() in _BOOLEANISH:
        return False
    if _SECRET_NAME.search(key.encode("ascii", "replace")):
        return True
    patterns = (NUMBERISH, _PLAIN_URL, _PATH, _HOST_PORT, _NAME_LIKE)
    return not any(p.match(value.strip()) for p in patterns)


def _printable_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-/]", "?", name)[:100]


def known_from_env(env_files: Mapping[str, bytes]) -> list[KnownSecret]:
    """The tracked values of env files (file name -> bytes), in file and line order."""
    known = []
    for file, data in env_files.items():
        for key, value, written in _env_entries(data):
            if is_tracked(key, value):
                origin = f"the value of {_printable_name(key)} from {_printable_name(file)}"
                known.append(KnownSecret(value, origin))
                if written != value:  # the escaped form, as it is in the file
                    known.append(KnownSecret(written, origin))
    return known


# ---------------------------------------------------------------- needles: values in disguise


@dataclass(frozen=True, slots=True)
class Needle:
    """One disguise of a known value, as the scanner searches for it."""

    flat: bytes = field(repr=False)  # the disguised value, whitespace removed
    written: bytes = field(repr=False)  # the disguised value as it is written unbroken
    kind: str
    note: str  # the disguise, "" for the value itself


def _base64_inner(value: bytes, shift: int, altchars: bytes | None) -> bytes:
    """The base64 characters that `value` alone decides when `shift` bytes precede it."""
    encoded = base64.b64encode(bytes(shift) + value, altchars)
    return encoded[-(-8 * shift // 6) : 8 * (shift + len(value)) // 6]


def _disguises(value: bytes) -> Iterator[tuple[str, bytes]]:
    yield "", value
    for note, altchars in (("base64-encoded", None), ("URL-safe base64-encoded", b"-_")):
        for shift in range(3):
            yield note, _base64_inner(value, shift, altchars)
    yield "hex-encoded", value.hex().encode()
    yield "hex-encoded", value.hex().upper().encode()
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value, safe="")):
        yield "URL-encoded", encoded.encode("ascii")
    yield "reversed", value[::-1]


def build_needles(known: Iterable[KnownSecret]) -> list[Needle]:
    """Each known value and its disguises, once each; too short and boolean values skipped."""
    needles: dict[bytes, Needle] = {}
    for secret in known:
        value = secret.value.strip(WHITESPACE)[:MAX_VALUE_LEN]
        if len(value.translate(None, WHITESPACE)) < MIN_VALUE_LEN or value in _BOOLEANISH:
            continue
        for note, disguised in _disguises(value):
            flat = disguised.translate(None, WHITESPACE)
            if len(flat) >= MIN_VALUE_LEN and flat not in needles:
                needles[flat] = Needle(flat, disguised, secret.origin, note)
    return list(needles.values())


def anchor_at(flat: bytes) -> int:
    """Where the needle's anchor starts: at its rarest byte (the earliest of equals)."""
    last = len(flat) - ANCHOR_LEN
    return max(range(last + 1), key=lambda i: (_RARITY.get(flat[i], len(_COMMON)), -i))
