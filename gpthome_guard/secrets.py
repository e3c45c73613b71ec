"""core: find credentials in bytes (a file's content and its name) before git archives them.

Two layers; a hit says where and what (`SecretHit`), never the secret or any part of it.

1. Known values. The guard can read the real env files, so it looks for each value exactly,
   and for cheap disguises: base64 (standard and URL-safe, at the three byte alignments a
   value can have inside a longer stream), hex (lower, upper), URL-encoded (`quote`,
   `quote_plus`), reversed; each of these also split by whitespace or newlines, because the
   search runs on the data with all whitespace removed. This finds shape-less secrets (a
   database password) that no pattern knows. Which values are searched: see `is_tracked`.
2. Formats. `_RULES`: well-known token shapes, each citing the gitleaks rule
   (`cmd/generate/config/rules/*.go`) or detect-secrets plugin it follows, with an entropy
   floor and a placeholder filter; plus `_ASSIGN`: a high-entropy literal assigned to a key
   named like a secret (`password = "..."`, `token: ...`, `"api_key": "..."`, `SECRET=...`,
   `:password => '...'`, `Authorization: Bearer ...`). References (`os.environ[...]`,
   `${TOKEN}`, `process.env.X`), placeholders (`your-key-here`, `xxxx`, `sk-...`), words,
   numbers, paths and URLs are not hits. Base64 images (`data:image/png;base64,...`) are
   scanned like all text: a `.env` value hidden in one is found by layer 1, and the format
   rules need delimiters (`.`, `_`, a keyword and `=`) that a base64 stream lacks.

Speed (the scanner runs over every changed file before each commit): the constructor
compiles one *trigger* regex; every alternative in it starts with one literal byte and
consumes only that byte (the rest is lookahead/lookbehind), so re scans with its first-byte
bitmap and each position is tried. It holds, for each needle (a disguised known value), a
6-byte anchor that starts at the needle's rarest byte, and for each rule a cheap sign of it
(`-` after `sk-` and before `ant-`, `_` after `ghp`, `=` after a key ending in `word`...).
`scan` removes whitespace (`bytes.translate`), runs the trigger once, verifies needles at the
anchors it found (`startswith`), and runs only the rules whose sign occurred over the
original bytes. `bench/secrets.py`: 10k files of 2 KB with 10 known values, ~0.15 s.

Library decision: our own table, no new dependency. detect-secrets 1.5.0 (measured in a scratch
venv: `python bench/secrets.py --detect-secrets`) has no Anthropic plugin, no known-value
search (so none of the disguised forms), its keyword plugin flags `password = "changeme"`,
it pulls in requests and PyYAML, and it is two orders of magnitude slower (its per-line
plugin loop; figures in the bench output and the report). gitleaks is a Go binary, not a
library; its rules are the source of most patterns here. Aho-Corasick packages (ahocorasick-rs,
pyahocorasick) would replace the needle anchors, but the trigger regex is fast enough
without a compiled dependency.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from types import MappingProxyType
from typing import Protocol
from urllib.parse import quote, quote_plus

MIN_VALUE_LEN = 8  # shorter known values are ignored: too many would match by chance
MAX_VALUE_LEN = 1 << 14  # a longer known value is cut: its first 16 KiB still identify it
MIN_ASSIGNED_LEN = 10  # shortest literal the keyword rule (layer 2) reports
ENTROPY_FLOOR = 3.0  # bits per byte, as gitleaks' `Entropy: 3` on most of its rules

_WHITESPACE = b" \t\r\n\x0b\x0c"
_WHITESPACE_SPLIT = re.compile(rb"([ \t\r\n\x0b\x0c]+)")
_ANCHOR_LEN = 6
# Bytes from common to rare in notes and code once whitespace is gone; a needle is anchored at
# its rarest byte, so the trigger regex stops at few positions. Unlisted bytes are rarest.
_COMMON = (
    b"etaoinsrhldcumfpgwybv.,kTIASC-:'\"0123456789MHWBNDPELRFGO()/_x=*#jq[]zUVYK>J<{}QXZ;!?&+|"
)
_RARITY = {byte: rank for rank, byte in enumerate(_COMMON)}


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret in a file: line (1-based; 0 = in the file's name), column (1-based), kind.

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

_ENV_ENTRY = re.compile(
    rb"""^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*
    (?:'(?P<sq>[^']*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<bare>[^\r\n]*))""",
    re.MULTILINE | re.VERBOSE | re.DOTALL,
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
        if len(value.translate(None, _WHITESPACE)) < MIN_VALUE_LEN:
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
        """(offset, kind) of each match in `data`; `signs`: the whitespace-free bytes just
        before each place where one of `triggers` held."""
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
        except (ValueError, binascii.Error):
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
        rb"xox(?P<v>[baprose])-(?P<t>(?:\d{1,14}-)*[A-Za-z0-9]{8,}(?:-[A-Za-z0-9]+)*)"
        rb"(?<=[%s]{25})" % _T,
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
# The last letters of such keys, what may close a key (`"password":`, `['token'] =`), and
# the trigger's sign of one: a lookbehind (fixed width: tails grouped by length) that holds
# right after `=`/`:` in the data with whitespace removed (`PASSWORD=`, `"api_key":`).
_KEY_TAILS = tuple(b"pwd key word wort sswd pass rase cret oken auth tial ials reds zation".split())
_KEY_CLOSERS = (b"", b"[\"'`\\]]", b"[\"']\\]")


def _key_signs(op: bytes) -> bytes:
    by_width: dict[int, list[bytes]] = {}
    for tail in _KEY_TAILS:
        by_width.setdefault(len(tail), []).append(tail)
    return b"|".join(
        rb"(?<=(?i:%s)%s%s)" % (b"|".join(tails), closer, op)
        for tails in by_width.values()
        for closer in _KEY_CLOSERS
    )


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
_WORDS = re.compile(rb"[A-Za-z][a-z]*(?:[\-_.][A-Za-z][a-z]*)*[.,!?;:]?\Z")  # prose
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
    if _WORDS.match(value) or _NUMBERISH.match(value) or _PLAIN_URL.match(value):
        return False
    return shannon_entropy(value) >= ENTROPY_FLOOR


class _AssignmentRule:
    """A high-entropy literal assigned to a key named like a secret (gitleaks generic.go,
    detect-secrets keyword.py): `password = "..."`, `token: ...`, `"apiKey": "..."`,
    `export SECRET=...`, `:password => '...'`, `Authorization: Bearer ...`."""

    triggers = (b"=(?:%s)" % _key_signs(b"="), b":(?:%s)" % _key_signs(b":"))

    def find(self, data: bytes, signs: Sequence[bytes] = ()) -> Iterator[tuple[int, str]]:
        keys = {sign.lower().rstrip(b"\"'`]") for sign in signs}
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
        rules: list[_Rule] = [*_RULES, _AssignmentRule()]
        self._rules = rules
        self._needles = _needles(known)
        self._anchors: dict[bytes, list[tuple[int, _Needle]]] = {}
        by_byte: dict[int, list[bytes]] = {}
        self._rule_of: dict[str, int] = {}
        for r, rule in enumerate(rules):
            for t, trigger in enumerate(rule.triggers):
                name = f"r{r}_{t}"
                self._rule_of[name] = r
                by_byte.setdefault(trigger[0], []).append(
                    b"(?P<%s>%s)" % (name.encode(), trigger[1:])
                )
        lookaheads: dict[int, set[bytes]] = {}
        for needle in self._needles:
            at = _anchor_at(needle.flat)
            anchor = needle.flat[at : at + _ANCHOR_LEN]
            self._anchors.setdefault(anchor, []).append((at, needle))
            lookaheads.setdefault(anchor[0], set()).add(re.escape(anchor[1:]))
        for byte, rests in lookaheads.items():
            by_byte.setdefault(byte, []).append(b"(?=%s)" % b"|".join(sorted(rests)))
        self._trigger = re.compile(
            b"|".join(
                re.escape(bytes([byte])) + b"(?:%s)" % b"|".join(alternatives)
                for byte, alternatives in by_byte.items()
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
        seen: set[tuple[int, str]] = set()
        unique = []
        for hit in sorted(hits, key=lambda h: (h.line, h.column, h.kind)):
            if (hit.line, hit.kind) not in seen:
                seen.add((hit.line, hit.kind))
                unique.append(hit)
        return unique

    def _find(self, data: bytes) -> list[tuple[int, str]]:
        """(offset, kind) of each secret in `data`."""
        flat = data.translate(None, _WHITESPACE)
        signs: dict[int, list[bytes]] = {}  # rule index -> bytes before its trigger
        found: list[tuple[int, _Needle]] = []
        for m in self._trigger.finditer(flat):
            at = m.start()
            if m.lastgroup is not None:
                signs.setdefault(self._rule_of[m.lastgroup], []).append(flat[max(0, at - 8) : at])
            for offset, needle in self._anchors.get(flat[at : at + _ANCHOR_LEN], ()):
                if at >= offset and flat.startswith(needle.flat, at - offset):
                    found.append((at - offset, needle))
        shapes: list[tuple[int, str]] = []
        assigned: list[tuple[int, str]] = []
        for r, before in signs.items():
            rule = self._rules[r]
            (shapes if isinstance(rule, _FormatRule) else assigned).extend(rule.find(data, before))
        # `token = ghp_...` is a GitHub token, not also a token assignment
        taken = {at for at, _ in shapes}
        hits = shapes + [hit for hit in assigned if hit[0] not in taken]
        if found:
            hits += _place_needles(data, found)
        return hits


def _place_needles(data: bytes, found: list[tuple[int, _Needle]]) -> list[tuple[int, str]]:
    """Map needles found in the whitespace-free data back to offsets in `data`."""
    parts = _WHITESPACE_SPLIT.split(data)  # text, whitespace, text, ..., text
    starts = list(accumulate(map(len, parts[0::2])))  # where each whitespace run is in flat
    skipped = list(accumulate(map(len, parts[1::2])))  # whitespace up to and with that run

    def original(flat_at: int) -> int:
        runs = bisect_right(starts, flat_at)
        return flat_at + (skipped[runs - 1] if runs else 0)

    hits = []
    for flat_at, needle in found:
        start = original(flat_at)
        end = original(flat_at + len(needle.flat) - 1) + 1
        notes = [needle.note] if needle.note else []
        if data[start:end] != needle.written:
            notes.append("split by whitespace")
        hits.append((start, f"{needle.kind} ({', '.join(notes)})" if notes else needle.kind))
    return hits


def _line_column(data: bytes, at: int) -> tuple[int, int]:
    return data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
