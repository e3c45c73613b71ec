"""core: find credentials in bytes (a file's content and its name) before git archives them.

Two layers; a hit says where and what (`SecretHit`), never the secret or any part of it.

1. Known values. The guard can read the real env files, so it looks for each value exactly,
   and for cheap disguises: base64 (standard and URL-safe, at the three byte alignments a
   value can have inside a longer stream), hex (lower, upper), URL-encoded (`quote`,
   `quote_plus`), reversed; and each of these split by whitespace or newlines (`s k - a n t`,
   a base64 stream wrapped at 76 columns). This finds shape-less secrets (a database password)
   that no pattern knows. Which values are searched: `is_tracked`.
2. Formats. `_RULES`: well-known token shapes, each citing the gitleaks rule
   (`cmd/generate/config/rules/*.go`) or detect-secrets plugin (`detect_secrets/plugins/*.py`)
   it follows, with an entropy floor and a placeholder filter; and `_AssignmentRule`: a
   high-entropy literal assigned to a key named like a secret (`password = "..."`,
   `token: ...`, `"apiKey": "..."`, `export SECRET=...`, `:password => '...'`,
   `Authorization: Bearer ...`). References (`os.environ[...]`, `${TOKEN}`, `process.env.X`),
   placeholders (`your-key-here`, `xxxx`, `sk-...`, `AKIA...EXAMPLE`), words, numbers, paths,
   URLs, a lone `-----BEGIN PRIVATE KEY-----` and a URL whose password is `password` are not.
   Base64 images (`data:image/png;base64,...`) are scanned like any text: a known value
   hidden in one is found, and the format rules need delimiters (`.`, `_`, `-`, a key and
   `=`) that a base64 stream does not have, so they stay quiet there (tested).

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
or reversed form, since it cannot search for known values), where this module flags all 10;
on the false-positive corpus of the tests it reports 13 hits (placeholders, `process.env`
references, lock-file hashes) where this module reports none; it takes ~17 ms per 2 KB file
(its per-line loop over ~25 plugins and filters), ~500x this module; and it brings requests
and PyYAML. gitleaks (the source of most patterns here) is a Go binary, not a library. An
Aho-Corasick package (pyahocorasick, ahocorasick-rs) could find the known values, but the
trigger regex needs no compiled dependency and serves the rules as well.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol
from urllib.parse import quote, quote_plus

MIN_VALUE_LEN = 8  # shorter known values are ignored: too many would match by chance
MAX_VALUE_LEN = 1 << 14  # a longer known value is cut: its first 16 KiB still identify it
MIN_ASSIGNED_LEN = 10  # shortest literal the keyword rule (layer 2) reports
ENTROPY_FLOOR = 3.0  # bits per byte, as gitleaks' `Entropy: 3` on most of its rules

_WHITESPACE = b" \t\r\n\x0b\x0c"
_SPACE = frozenset(_WHITESPACE)
_MAX_GAP = 8  # whitespace bytes followed between two bytes of a known value
_GAP = rb"[ \t\r\n\x0b\x0c]{0,%d}" % _MAX_GAP
_ANCHOR_LEN = 6
# Bytes from common to rare in notes and code; a known value is anchored at its rarest byte, so
# the trigger regex stops at few positions. Unlisted bytes are the rarest.
_COMMON = (
    b"etaoinsrhldcumfpgwybv.,kTIASC-:'\"0123456789MHWBNDPELRFGO()/_x=*#jq[]zUVYK>J<{}QXZ;!?&+|"
)
_RARITY = {byte: rank for rank, byte in enumerate(_COMMON)}


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
_NUMBERISH = re.compile(rb"[0-9.:+\-_/, ]+\Z")  # numbers, dates, times, versions, IPs
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
    bare = value.translate(None, _WHITESPACE)
    if len(bare) < MIN_VALUE_LEN or bare.lower() in _BOOLEANISH:
        return False
    if _SECRET_NAME.search(key.encode("ascii", "replace")):
        return True
    patterns = (_NUMBERISH, _PLAIN_URL, _PATH, _HOST_PORT, _NAME_LIKE)
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


# ---------------------------------------------------------------- layer 1: known values


@dataclass(frozen=True, slots=True)
class _Needle:
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


def _needles(known: Iterable[KnownSecret]) -> list[_Needle]:
    needles: dict[bytes, _Needle] = {}
    for secret in known:
        value = secret.value.strip(_WHITESPACE)[:MAX_VALUE_LEN]
        if len(value.translate(None, _WHITESPACE)) < MIN_VALUE_LEN or value in _BOOLEANISH:
            continue
        for note, disguised in _disguises(value):
            flat = disguised.translate(None, _WHITESPACE)
            if len(flat) >= MIN_VALUE_LEN and flat not in needles:
                needles[flat] = _Needle(flat, disguised, secret.origin, note)
    return list(needles.values())


def _anchor_at(flat: bytes) -> int:
    """Where the needle's anchor starts: at its rarest byte (the earliest of equals)."""
    last = len(flat) - _ANCHOR_LEN
    return max(range(last + 1), key=lambda i: (_RARITY.get(flat[i], len(_COMMON)), -i))


# ---------------------------------------------------------------- layer 2: formats

# Placeholders and examples in documentation; real keys contain none of these by chance.
_PLACEHOLDER = re.compile(
    rb"(?i)x{5,}|\*{3,}|\.{3,}|0{8,}|1234567890|example|placeholder|dummy|redacted|your"
)


def shannon_entropy(data: bytes) -> float:
    """Bits per byte of `data`'s byte distribution (0 for empty or one repeated byte)."""
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values()) if n else 0.0


class _Rule(Protocol):
    @property
    def triggers(self) -> tuple[bytes, ...]: ...

    def find(self, data: bytes, signs: Sequence[bytes]) -> Iterator[tuple[int, str]]:
        """(offset, kind) of each match in `data`; `signs`: the bytes just before each place
        where one of `triggers` held."""
        ...


@dataclass(frozen=True, slots=True)
class _FormatRule:
    """A token shape: `pattern` has group `t` (the part whose entropy is measured) and may
    have group `v` (the variant, looked up in `variants` for the kind)."""

    kind: str
    pattern: re.Pattern[bytes]
    triggers: tuple[bytes, ...]  # alternatives of the trigger regex; each consumes 1 byte
    variants: Mapping[bytes, str] = field(default_factory=dict)
    entropy: float = ENTROPY_FLOOR
    bounded: bool = True  # the byte before a match must not be a letter or digit
    valid: str = ""  # name of an extra check in `_CHECKS`

    def find(self, data: bytes, signs: Sequence[bytes] = ()) -> Iterator[tuple[int, str]]:
        for m in self.pattern.finditer(data):
            start, token = m.start(), m["t"]
            if self.bounded and data[start - 1 : start].isalnum():
                continue
            if shannon_entropy(token) < self.entropy or _PLACEHOLDER.search(token):
                continue
            if self.valid and not _CHECKS[self.valid](m):
                continue
            variant = m.groupdict().get("v")
            yield start, self.variants.get(variant, self.kind) if variant else self.kind


def _valid_jwt(m: re.Match[bytes]) -> bool:
    """Header and payload are base64url JSON objects (detect-secrets `jwt.py`), signed."""
    header, payload, signature = m[0].split(b".")[:3]
    if len(signature) < 16:
        return False
    for part in (header, payload):
        try:
            decoded = json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
        except (ValueError, binascii.Error, RecursionError):
            return False
        if not isinstance(decoded, dict):
            return False
    return True


_URL_PLACEHOLDERS = frozenset(b"pass password passwd pwd secret pw token changeme".split())


def _valid_url_credentials(m: re.Match[bytes]) -> bool:
    password = m["t"]
    return not (
        password.lower() in _URL_PLACEHOLDERS
        or password == m["user"]
        or password[:1] in b"$<{%*"
        or len(set(password)) < 3
    )


def _valid_aws_id(m: re.Match[bytes]) -> bool:
    return not m["t"].endswith(b"EXAMPLE")  # gitleaks aws.go allowlist `.+EXAMPLE$`


_CHECKS = {"jwt": _valid_jwt, "url": _valid_url_credentials, "aws": _valid_aws_id}

_NO_VARIANTS: Mapping[bytes, str] = MappingProxyType({})
_T = rb"A-Za-z0-9_\-"  # the token alphabet of most formats (base64url)


def _rule(
    kind: str,
    pattern: bytes,
    *triggers: bytes,
    variants: Mapping[bytes, str] = _NO_VARIANTS,
    entropy: float = ENTROPY_FLOOR,
    bounded: bool = True,
    valid: str = "",
) -> _FormatRule:
    return _FormatRule(kind, re.compile(pattern), triggers, variants, entropy, bounded, valid)


_RULES: tuple[_FormatRule, ...] = (
    # gitleaks anthropic.go: sk-ant-api03-[a-zA-Z0-9_\-]{93}AA, sk-ant-admin01-…{93}AA,
    # sk-ant-oat01-/sk-ant-ort01-…{40,}. One rule with a 40-character floor, so a truncated
    # or re-versioned key still counts.
    _rule(
        "Anthropic key",
        rb"sk-ant-(?P<v>[a-z]{2,8})\d\d-(?P<t>[%s]{40,})" % _T,
        rb"-(?<=sk-)(?=ant-)",
        variants={
            b"api": "Anthropic API key",
            b"admin": "Anthropic admin API key",
            b"oat": "Anthropic OAuth access token",
            b"ort": "Anthropic OAuth refresh token",
        },
    ),
    # gitleaks openai.go: sk-(proj|svcacct|admin)-…T3BlbkFJ…; the marker is not required here.
    _rule(
        "OpenAI API key",
        rb"sk-(?P<v>proj|svcacct|admin)-(?P<t>[%s]{40,})" % _T,
        rb"-(?<=sk-)(?=proj-|svcacct-|admin-)",
        variants={
            b"proj": "OpenAI project API key",
            b"svcacct": "OpenAI service-account API key",
            b"admin": "OpenAI admin API key",
        },
    ),
    # gitleaks openai.go, detect-secrets openai.py: sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}
    _rule(
        "OpenAI API key",
        rb"sk-(?P<t>[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
        rb"J(?<=T3BlbkFJ)",
    ),
    # gitleaks aws.go: \b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b, entropy 3
    _rule(
        "AWS access key ID",
        rb"(?P<t>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])",
        rb"A(?=KIA|SIA|BIA|CCA|3T)",
        valid="aws",
    ),
    # gitleaks github.go: ghp_/gho_/ghu_/ghs_/ghr_ + [0-9a-zA-Z]{36}; github_pat_\w{82}
    _rule(
        "GitHub token",
        rb"gh(?P<v>[pousr])_(?P<t>[A-Za-z0-9]{36,255})",
        rb"_(?<=gh[pousr]_)",
        variants={
            b"p": "GitHub personal access token",
            b"o": "GitHub OAuth token",
            b"u": "GitHub user-to-server token",
            b"s": "GitHub server-to-server token",
            b"r": "GitHub refresh token",
        },
    ),
    _rule(
        "GitHub fine-grained personal access token",
        rb"github_pat_(?P<t>[A-Za-z0-9_]{82,255})",
        rb"_(?<=github_pat_)",
    ),
    # gitleaks gitlab.go: glpat-[\w-]{20}; the routable form glpat-…{27,300}.[0-9a-z]{9}
    _rule(
        "GitLab personal access token",
        rb"glpat-(?P<t>[%s]{20,300})" % _T,
        rb"-(?<=glpat-)",
    ),
    # gitleaks slack.go: xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*, xox[pe](-[0-9]{10,13}){3}-…,
    # xox[ar]-(\d-)?[0-9a-zA-Z]{8,48}, xox[os]-\d+-\d+-\d+-[a-fA-F\d]+; one rule, 20+ characters
    _rule(
        "Slack token",
        rb"xox(?P<v>[baprose])-(?P<t>(?=[A-Za-z0-9\-]{20})(?:\d{1,14}-)*[A-Za-z0-9]{8,}"
        rb"(?:-[A-Za-z0-9]+)*)",
        rb"-(?<=xox[baprose]-)",
        variants={
            b"b": "Slack bot token",
            b"p": "Slack user token",
            b"a": "Slack workspace access token",
            b"r": "Slack workspace refresh token",
            b"e": "Slack refresh token",
            b"o": "Slack legacy token",
            b"s": "Slack legacy token",
        },
    ),
    # gitleaks slack.go SlackAppLevelToken: (?i)xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+
    _rule(
        "Slack app-level token",
        rb"xapp-(?P<t>\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]{20,})",
        rb"-(?<=xapp-)",
    ),
    # gitleaks slack.go SlackWebHookUrl: hooks.slack.com/(services|workflows|triggers)/…{43,56}
    _rule(
        "Slack webhook URL",
        rb"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<t>[A-Za-z0-9+/]{43,56})",
        rb"/(?<=slack\.com/)",
        bounded=False,
    ),
    # detect-secrets stripe.py: (?:r|s)k_live_[0-9a-zA-Z]{24}; newer keys are longer
    _rule(
        "Stripe key",
        rb"(?P<v>[sr])k_live_(?P<t>[A-Za-z0-9]{24,247})",
        rb"_(?<=[sr]k_live_)",
        variants={b"s": "Stripe secret key", b"r": "Stripe restricted key"},
    ),
    # gitleaks gcp.go GCPAPIKey: AIza[\w-]{35}
    _rule("Google API key", rb"AIza(?P<t>[%s]{35})(?![%s])" % (_T, _T), rb"A(?=Iza)"),
    # gitleaks privatekey.go: -----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY-----, then a key body
    # (a lone header in a note is not a key); PGP armour headers and `\n` escapes allowed
    _rule(
        "private key block",
        rb"-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
        rb"(?:\s|\\[rn]|[A-Za-z\-]{1,40}: [^\r\n]{0,200}){0,40}?(?P<t>[A-Za-z0-9+/=]{40})",
        rb"-(?=----BEGIN)",
        bounded=False,
    ),
    # detect-secrets jwt.py: eyJ…\.eyJ…\.…, each part decoded and checked as JSON
    _rule(
        "JWT",
        rb"eyJ(?P<t>[%s]{5,}\.eyJ[%s]{5,}\.[%s]*)" % (_T, _T, _T),
        rb"J(?<=eyJ)",
        valid="jwt",
    ),
    # gitleaks npm.go: npm_[a-z0-9]{36} (case-insensitive)
    _rule("npm access token", rb"npm_(?P<t>[A-Za-z0-9]{36})(?![A-Za-z0-9])", rb"_(?<=npm_)"),
    # gitleaks huggingface.go: hf_(?i:[a-z]{34})
    _rule("Hugging Face token", rb"hf_(?P<t>[A-Za-z]{34})(?![A-Za-z0-9])", rb"_(?<=hf_)"),
    # gitleaks pypi.go: pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}
    _rule(
        "PyPI upload token",
        rb"pypi-(?P<t>AgEIcHlwaS5vcmc[%s]{50,1000})" % _T,
        rb"-(?<=pypi-)(?=AgEIcHlwaS5vcmc)",
    ),
    # detect-secrets sendgrid.py: SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}
    _rule(
        "SendGrid API key",
        rb"SG\.(?P<t>[%s]{22}\.[%s]{43})" % (_T, _T),
        rb"G(?<=SG)(?=\.)",
    ),
    # gitleaks twilio.go: SK[0-9a-fA-F]{32}
    _rule(
        "Twilio API key",
        rb"SK(?P<t>[0-9a-fA-F]{32})(?![A-Za-z0-9])",
        rb"K(?<=SK)(?=[0-9a-fA-F]{32})",
    ),
    # gitleaks telegram.go: [0-9]{5,16}:A[a-z0-9_\-]{34} (there after a `telegr` keyword)
    _rule(
        "Telegram bot token",
        rb"(?P<t>\d{5,16}:A[%s]{34})(?![%s])" % (_T, _T),
        rb":(?<=\d:)(?=A[%s]{34})" % _T,
    ),
    # detect-secrets discord.py: [MN][a-zA-Z\d_-]{23}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27};
    # the first part is the base64 of a 17-20 digit id, so it starts with [MNO][DTjz]
    _rule(
        "Discord bot token",
        rb"(?P<t>[MNO][DTjz][%s]{21,24}\.[%s]{6}\.[%s]{27,38})(?![%s])" % (_T, _T, _T, _T),
        *(rb"%s(?=[DTjz][%s]{21,24}\.[%s]{6}\.)" % (c, _T, _T) for c in (b"M", b"N", b"O")),
    ),
    # detect-secrets basic_auth.py: ://[^:/?#\[\]@!$&'()*+,;=\s]+:([^:/?#\[\]@!$&'()*+,;=\s]+)@
    _rule(
        "credentials in a URL",
        rb"://(?P<user>[^\s:/?#@\[\]\"'<>]{0,64}):(?P<t>[^\s/?#@\"'<>]{3,128})@[A-Za-z0-9\[]",
        rb":(?=//)",
        entropy=0.0,
        bounded=False,
        valid="url",
    ),
)

# ---------------------------------------------------------------- layer 2: keyword rule

# How a key that names a secret ends (lowercase, letters and digits only) -> its words.
_KEY_LABELS = tuple(
    (tuple(endings.encode().split()), label)
    for endings, label in (
        ("password passwd passwort passphrase pwd pass", "password"),
        ("apikey", "API key"),
        ("privatekey", "private key"),
        ("accesskey secretkey signingkey encryptionkey masterkey authkey", "secret key"),
        ("clientkey appkey sessionkey licensekey", "secret key"),
        ("secret", "secret"),
        ("token", "token"),
        ("auth authorization", "auth"),
        ("credential credentials creds", "credential"),
    )
)
_NOT_KEY_LETTERS = bytes(sorted(set(range(256)) - set(b"abcdefghijklmnopqrstuvwxyz0123456789")))
# The last letters of such keys. The trigger's sign of one: a lookbehind (fixed width) that
# holds right after `=` or `:` when the key's last 3 letters, maybe a closing quote or bracket
# (`"password":`, `['token'] =`) and up to 3 blanks come before it.
_KEY_TAILS = tuple(b"pwd key word wort sswd pass rase cret oken auth tial ials reds zation".split())
_KEY_CLOSERS = (b"[\"'`\\]]", b"[\"']\\]")
_KEY_GAPS = (b"", b"[ \t]", b"[ \t]{2}", b"[ \t]{3}")


def _key_signs(op: bytes) -> bytes:
    """Lookbehinds for the trigger, each behind a one-byte guard (a letter or a closer, then
    the gap) so that most `=` and `:` fail after a step or two."""
    ends = b"|".join(sorted({tail[-3:] for tail in _KEY_TAILS}))
    signs = []
    for gap in _KEY_GAPS:
        signs.append(rb"(?<=[A-Za-z]%s%s)(?<=(?i:%s)%s%s)" % (gap, op, ends, gap, op))
        closed = b"|".join(rb"(?<=(?i:%s)%s%s%s)" % (ends, c, gap, op) for c in _KEY_CLOSERS)
        signs.append(rb"(?<=[\"'`\]]%s%s)(?:%s)" % (gap, op, closed))
    return b"|".join(signs)


# Then, over the lowercased data, one regex per tail (a literal prefix: a fast search).
_ASSIGNMENTS = {
    tail: re.compile(
        tail + rb"[\"'`\]]{0,2}[ \t]{0,3}[=:][>=]?[ \t]*(?:(?:bearer|basic|token)[ \t]+)?"
        rb"(?P<q>[\"'`]?)(?P<v>[^\s\"'`]{%d,512})" % MIN_ASSIGNED_LEN
    )
    for tail in _KEY_TAILS
}
_KEY_REVERSED = re.compile(rb"[A-Za-z0-9_.\-]{1,64}")
_REFERENCE = re.compile(
    rb"(?i)\A[$%<@&*]|\$\{|\$\(|\{\{|%\(|os\.environ|process\.env|getenv|env\[|://|\A[~.]?/"
)
_IDENTIFIER = re.compile(rb"[A-Za-z_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")  # code, not a literal
# Prose and names, not keys: words (camel case too), acronyms and short numbers joined by
# `-`, `_` or `.`: `patience.`, `GPT-4-turbo-preview`, `OAuth2-based-flow`, `Summer-2024`.
_SEGMENT = rb"(?:(?:[A-Z]{0,4}[a-z]{2,}+)++[0-9]{0,2}|[A-Z]{2,5}[0-9]{0,2}|[0-9]{1,4})"
_WORDS = re.compile(rb"%s(?:[\-_.]%s)*+[.,!?;:]?\Z" % (_SEGMENT, _SEGMENT))
_AWS_SECRET = re.compile(rb"[A-Za-z0-9/+]{40}\Z")  # gitleaks aws.go / detect-secrets aws.py


def _key_ending(data: bytes, end: int) -> bytes:
    """The key (`db.password`, `AWS_SECRET_ACCESS_KEY`) that ends at `end`."""
    key = _KEY_REVERSED.match(data[max(0, end - 64) : end][::-1])
    return key[0][::-1] if key else b""


def _key_label(key: bytes) -> str | None:
    norm = key.lower().translate(None, _NOT_KEY_LETTERS)
    for endings, label in _KEY_LABELS:
        if norm.endswith(endings):
            return label
    return None


def _literal_secret(value: bytes, *, quoted: bool) -> bool:
    """Whether an assigned value is a high-entropy literal, not a reference, placeholder,
    identifier, word, number or URL."""
    if len(value) < MIN_ASSIGNED_LEN or _REFERENCE.search(value) or _PLACEHOLDER.search(value):
        return False
    if not quoted and (_IDENTIFIER.match(value) or any(c in value for c in b"([{")):
        return False
    if _WORDS.match(value) or _NUMBERISH.match(value):
        return False
    return shannon_entropy(value) >= ENTROPY_FLOOR


class _AssignmentRule:
    """A high-entropy literal assigned to a key named like a secret (gitleaks generic.go,
    detect-secrets keyword.py): `password = "..."`, `token: ...`, `"apiKey": "..."`,
    `export SECRET=...`, `:password => '...'`, `Authorization: Bearer ...`."""

    triggers = (b"=(?:%s)" % _key_signs(b"="), b":(?:%s)" % _key_signs(b":"))

    def find(self, data: bytes, signs: Sequence[bytes] = ()) -> Iterator[tuple[int, str]]:
        keys = {sign.lower().rstrip(b"\"'`] \t") for sign in signs}
        tails = {key[-n:] for key in keys for n in (3, 4, 6)}.intersection(_ASSIGNMENTS)
        lowered = data.lower()
        for tail in sorted(tails):
            for m in _ASSIGNMENTS[tail].finditer(lowered):
                key = _key_ending(data, m.start() + len(tail))
                label = _key_label(key)
                quoted = bool(m["q"])
                value = data[m.start("v") : m.end("v")]
                value = value if quoted else value.rstrip(b",;)]}")
                if label is None or not _literal_secret(value, quoted=quoted):
                    continue
                if b"aws" in key.lower() and _AWS_SECRET.match(value):
                    yield m.start("v"), "AWS secret access key"
                else:
                    yield m.start("v"), f"{label} assignment (high entropy)"


# ---------------------------------------------------------------- the scanner

_NO_FILES: Mapping[str, bytes] = MappingProxyType({})


class SecretScanner:
    """Built once per run from the known values; `scan` is then called for every file."""

    def __init__(self, known: Iterable[KnownSecret] = ()) -> None:
        self._rules: list[_Rule] = [*_RULES, _AssignmentRule()]
        self._rule_of: dict[str, int] = {}  # trigger group -> rule index
        alternatives: dict[int, list[bytes]] = {}  # first byte -> the rest of each alternative
        for r, rule in enumerate(self._rules):
            for t, trigger in enumerate(rule.triggers):
                self._rule_of[f"r{r}_{t}"] = r
                alternatives.setdefault(trigger[0], []).append(
                    b"(?P<r%d_%d>%s)" % (r, t, trigger[1:])
                )
        self._needles = _needles(known)
        self._anchors: dict[bytes, list[tuple[int, _Needle]]] = {}
        for needle in self._needles:
            at = _anchor_at(needle.flat)
            self._anchors.setdefault(needle.flat[at : at + _ANCHOR_LEN], []).append((at, needle))
        self._anchor_starts = frozenset(anchor[0] for anchor in self._anchors)
        rests: dict[int, set[bytes]] = {}
        for anchor in self._anchors:  # `(?=` the anchor's other bytes, whitespace between `)`
            spaced = _GAP + _GAP.join(re.escape(anchor[i : i + 1]) for i in range(1, _ANCHOR_LEN))
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
            (shapes if isinstance(rule, _FormatRule) else assigned).extend(rule.find(data, before))
        # `token = ghp_...` is a GitHub token, not also a token assignment
        taken = {at for at, _ in shapes}
        return hits + shapes + [hit for hit in assigned if hit[0] not in taken]

    def _needles_at(self, data: bytes, at: int) -> Iterator[tuple[int, str]]:
        """Known values whose anchor starts at `at`, whitespace between their bytes or not."""
        anchor = data[at : at + (_MAX_GAP + 1) * _ANCHOR_LEN].translate(None, _WHITESPACE)
        for offset, needle in self._anchors.get(anchor[:_ANCHOR_LEN], ()):
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
    `_MAX_GAP` whitespace bytes of each other)."""
    if count <= at and len(data[at - count : at].translate(None, _WHITESPACE)) == count:
        return at - count  # no whitespace between: the usual case
    before = data[max(0, at - (_MAX_GAP + 1) * count) : at][::-1]
    m = _gaps_before(count).match(before)
    return at - m.end() if m else -1


@functools.cache
def _gaps_before(count: int) -> re.Pattern[bytes]:
    """`count` non-whitespace bytes, each after some whitespace, in reversed bytes."""
    return re.compile(rb"(?:%s[^ \t\r\n\x0b\x0c]){%d}" % (_GAP, count))


def _starts_spaced(data: bytes, start: int, flat: bytes) -> bool:
    """Whether `flat` is at `start` once whitespace is removed (looking no further than
    `_MAX_GAP` whitespace bytes per byte of `flat`)."""
    head = data[start : start + 256].translate(None, _WHITESPACE)
    if not (flat.startswith(head) or head.startswith(flat)):
        return False  # the usual way out, after a few bytes
    window = data[start : start + (_MAX_GAP + 1) * len(flat)]
    return window.translate(None, _WHITESPACE).startswith(flat)


def _line_column(data: bytes, at: int) -> tuple[int, int]:
    return data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
