"""The secrets scanner: every format and disguise found at its line, none in ordinary notes.

Every key below is made here from random characters in the right shape; none is real.
"""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gpthome_guard.secrets import (
    SecretHit,
    SecretScanner,
    is_tracked,
    parse_env,
    shannon_entropy,
)

RNG = random.Random(20261125)
ALNUM = string.ascii_letters + string.digits
TOKEN = ALNUM + "_-"
HEX = "0123456789abcdef"


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pem(label: str, first: str = "") -> str:
    body = first + rand(64 * 5, ALNUM + "+/")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": rand(12), "iat": 1764000000}).encode())
    return f"{header}.{payload}.{b64url(RNG.randbytes(32))}"


def discord() -> str:
    user_id = str(RNG.randrange(10**17, 10**18)).encode()
    return f"{b64url(user_id)}.{rand(6, TOKEN)}.{rand(27, TOKEN)}"


# (kind, the line(s) that hold the secret)
FORMATS = [
    ("Anthropic API key", f"ANTHROPIC: sk-ant-api03-{rand(93, TOKEN)}AA"),
    ("Anthropic admin API key", f"admin key sk-ant-admin01-{rand(93, TOKEN)}AA here"),
    ("Anthropic OAuth access token", f"oauth=sk-ant-oat01-{rand(100, TOKEN)}"),
    ("Anthropic OAuth refresh token", f"(sk-ant-ort01-{rand(100, TOKEN)})"),
    ("OpenAI project API key", f"key: sk-proj-{rand(58, TOKEN)}T3BlbkFJ{rand(58, TOKEN)}"),
    ("OpenAI service-account API key", f"sk-svcacct-{rand(58, TOKEN)}T3BlbkFJ{rand(58, TOKEN)}"),
    ("OpenAI API key", f'openai.api_key = "sk-{rand(20)}T3BlbkFJ{rand(20)}"'),
    ("AWS access key ID", f"aws id AKIA{rand(16, string.ascii_uppercase + '234567')}."),
    ("AWS access key ID", f"temporary ASIA{rand(16, string.ascii_uppercase + '234567')}"),
    ("AWS secret access key", f"aws_secret_access_key = {rand(1)}{rand(39, ALNUM + '/+')}"),
    ("GitHub personal access token", f"git clone https://ghp_{rand(36)}@github.com/a/b"),
    ("GitHub OAuth token", f"gho_{rand(36)}"),
    ("GitHub user-to-server token", f"token ghu_{rand(36)}"),
    ("GitHub server-to-server token", f"`ghs_{rand(36)}`"),
    ("GitHub refresh token", f"refresh: ghr_{rand(36)}"),
    ("GitHub fine-grained personal access token", f"github_pat_{rand(22)}_{rand(59)}"),
    ("GitLab personal access token", f"glpat-{rand(20, TOKEN)}"),
    ("Slack bot token", f"xoxb-{rand(12, '123456789')}-{rand(13, '123456789')}-{rand(24)}"),
    ("Slack user token", f"xoxp-{rand(11, '1234')}-{rand(12, '5678')}-{rand(12, '9')}-{rand(32)}"),
    (
        "Slack app-level token",
        f"xapp-1-A{rand(10, '0123456789')}-{rand(13, '1234')}-{rand(64, HEX)}",
    ),
    (
        "Slack webhook URL",
        f"https://hooks.slack.com/services/T{rand(8, 'ABCDEFGH2345')}/B{rand(8)}/{rand(24)}",
    ),
    ("Stripe secret key", f"stripe: sk_live_{rand(24)}"),
    ("Stripe restricted key", f"rk_live_{rand(99)}"),
    ("Google API key", f"maps?key=AIza{rand(35, TOKEN)}&q=x"),
    ("private key block", pem("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA")),
    ("private key block", pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA")),
    ("private key block", pem("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEF")),
    (
        "private key block",
        pem("PGP PRIVATE KEY BLOCK").replace(
            "BLOCK-----\n", "BLOCK-----\nVersion: GnuPG v2\n\n", 1
        ),
    ),
    ("JWT", f"Cookie: session={jwt()}"),
    ("npm access token", f"//registry.npmjs.org/:_authToken=npm_{rand(36)}"),
    ("Hugging Face token", f"huggingface-cli login --token hf_{rand(34, string.ascii_letters)}"),
    ("PyPI upload token", f"password = pypi-AgEIcHlwaS5vcmc{rand(60, TOKEN)}"),
    ("SendGrid API key", f"SG.{rand(22, TOKEN)}.{rand(43, TOKEN)}"),
    ("Twilio API key", f"twilio SK{rand(32, HEX)}"),
    ("Telegram bot token", f"TELEGRAM_BOT={rand(10, '123456789')}:AA{rand(33, TOKEN)}"),
    ("Discord bot token", f"client.run('{discord()}')"),
    ("credentials in a URL", f"DATABASE_URL=postgres://app:{rand(20)}@db.internal:5432/app"),
    ("password assignment (high entropy)", f'DB_PASSWORD = "{rand(1)}{rand(15, ALNUM + "!#^")}"'),
    ("token assignment (high entropy)", f"api_token: {rand(32)}"),
    ("API key assignment (high entropy)", f'{{"apiKey": "{rand(32)}"}}'),
    ("secret assignment (high entropy)", f"export CLIENT_SECRET={rand(40, HEX)}"),
    ("password assignment (high entropy)", f":password => '{rand(14)}9'"),
    ("auth assignment (high entropy)", f"Authorization: Bearer {rand(40)}"),
    ("secret key assignment (high entropy)", f"config['signing_key'] = '{rand(24)}'"),
    ("credential assignment (high entropy)", f"smtp.credentials: {rand(20)}"),
]


def note(secret: str) -> tuple[bytes, int]:
    """A journal entry holding `secret` on line 7."""
    head = '---\ndate: "2026-11-25"\ntitle: "A quiet day"\n---\n\nToday I wrote this down:\n'
    return f"{head}{secret}\nThat was all.\n".encode(), 7


SCANNER = SecretScanner.from_env({".env": b"OPENAI_API_KEY=sk-proj-unused\nMODEL=gpt-4o-mini\n"})


def test_the_corpus_has_25_formats_and_more():
    assert len({kind for kind, _ in FORMATS}) >= 25


@pytest.mark.parametrize(
    ("kind", "secret"), FORMATS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(FORMATS)]
)
def test_each_format_is_found_with_its_kind_and_line(kind, secret):
    data, line = note(secret)
    assert [(h.line, h.kind) for h in SCANNER.scan(data)] == [(line, kind)]


TOKENS = [(kind, secret) for kind, secret in FORMATS if "\n" not in secret and "=" not in secret]


@pytest.mark.parametrize(("kind", "secret"), TOKENS[:12])
def test_a_format_in_the_file_name_is_a_hit_on_line_0(kind, secret):
    name = "thoughts/" + secret.replace(" ", "-") + ".md"
    assert [(h.line, h.kind) for h in SCANNER.scan(b"nothing here\n", name)] == [(0, kind)]


# ---------------------------------------------------------------- known values


def _password() -> bytes:
    """A fake password whose base64 differs from URL-safe base64 at every alignment."""
    while True:
        value = (rand(1) + rand(23, ALNUM + "#!&$%?~")).encode()
        encoded = [base64.b64encode(bytes(k) + value) for k in range(3)]
        inners = [e[-(-8 * k // 6) : 8 * (k + len(value)) // 6] for k, e in enumerate(encoded)]
        if all(b"+" in inner or b"/" in inner for inner in inners):
            return value


PASSWORD = _password()
ENV = b"# the runner's credentials\nexport DB_PASSWORD='" + PASSWORD + b"'\nDEBUG=true\n"
KNOWN = SecretScanner.from_env({".env": ENV})
OF = "the value of DB_PASSWORD from .env"


def _disguises() -> list[tuple[str, str, bytes]]:
    v = PASSWORD
    half = len(v) // 2
    forms = [("raw", OF, v)]
    for k in range(3):
        forms.append(
            (f"base64+{k}", f"{OF} (base64-encoded)", base64.b64encode(b"x" * k + v + b"!"))
        )
        forms.append(
            (
                f"urlsafe+{k}",
                f"{OF} (URL-safe base64-encoded)",
                base64.urlsafe_b64encode(b"y" * k + v),
            )
        )
    forms += [
        ("hex", f"{OF} (hex-encoded)", v.hex().encode()),
        ("HEX", f"{OF} (hex-encoded)", v.hex().upper().encode()),
        ("quote", f"{OF} (URL-encoded)", quote(v, safe="").encode()),
        ("quote_plus", f"{OF} (URL-encoded)", quote_plus(v).encode()),
        ("reversed", f"{OF} (reversed)", v[::-1]),
        ("spaced", f"{OF} (split by whitespace)", b" ".join(v[i : i + 1] for i in range(len(v)))),
        ("two lines", f"{OF} (split by whitespace)", v[:half] + b"\n   " + v[half:]),
        (
            "base64 lines",
            f"{OF} (base64-encoded, split by whitespace)",
            base64.encodebytes(b"z" * 50 + v),
        ),
    ]
    return forms


@pytest.mark.parametrize(
    ("kind", "disguised"), [f[1:] for f in _disguises()], ids=[f[0] for f in _disguises()]
)
def test_each_disguise_of_a_known_value_is_found_at_its_line(kind, disguised):
    data = b"line one\nline two\nthe note says: " + disguised + b" and goes on\nend\n"
    assert [(h.line, h.kind) for h in KNOWN.scan(data)] == [(3, kind)]


def test_a_known_value_is_found_at_its_column_and_in_a_file_name():
    data = b"first\n  two " + PASSWORD + b"\n"
    assert KNOWN.scan(data) == [SecretHit(2, 7, OF)]
    assert KNOWN.scan(b"", "dreams/" + PASSWORD.decode() + ".md") == [SecretHit(0, 8, OF)]


def test_a_value_in_double_quotes_is_found_as_parsed_and_as_written():
    key = rand(40, "ABCDEFGHJKLMNPQRSTUVWXYZ")
    scanner = SecretScanner.from_env({".env": f'KEY_A="line1\\n{key}"\n'.encode()})
    assert [h.line for h in scanner.scan(f"x\nline1\n{key}\n".encode())] == [2]
    assert [h.line for h in scanner.scan(f"y\n\nline1\\n{key}".encode())] == [3]


def test_a_leaked_env_key_is_named_by_its_format_and_by_its_origin_once_per_line():
    key = f"sk-ant-api03-{rand(93, TOKEN)}AA"
    scanner = SecretScanner.from_env({"runner/.env": f"ANTHROPIC_API_KEY={key}\n".encode()})
    hits = scanner.scan(f"first\n{key} and again {key}\n".encode())
    assert [(h.line, h.column, h.kind) for h in hits] == [
        (2, 1, "Anthropic API key"),
        (2, 1, "the value of ANTHROPIC_API_KEY from runner/.env"),
    ]


def test_a_multiline_private_key_from_env_is_found_whole_and_by_its_format():
    block = pem("RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA")
    scanner = SecretScanner.from_env({".env": f'PRIVATE_KEY="{block}"\nNEXT=1\n'.encode()})
    hits = scanner.scan(f"# notes\n\n    {block.replace(chr(10), chr(10) + '    ')}\n".encode())
    assert [(h.line, h.kind) for h in hits] == [
        (3, "private key block"),
        (3, "the value of PRIVATE_KEY from .env (split by whitespace)"),
    ]


def test_extra_values_are_found_and_short_ones_ignored():
    scanner = SecretScanner.from_env(extra_values=[b"abcDEF1234567", b"short", b"disabled"])
    hits = scanner.scan(b"x abcDEF1234567 short, disabled")
    assert [h.kind for h in hits] == ["a known secret value"]


# ---------------------------------------------------------------- what is not a hit

JOURNAL = """---
date: "2026-11-25"
title: "Tokens, keys and a quiet afternoon"
tags: [journal, reflection]
---

# Tuesday, 25 November 2026, 14:30

I spent the morning on the landing page. The secret: patience. A visitor asked
whether I keep a password anywhere; I don't, the runner keeps the API key and I
never see it. Today I used about 41,200 tokens (context window: 200k tokens).

Model: claude-sonnet-4-20250514, environment: production, region us-east-1.
Note to self - the token budget is a limit, not a goal. Key: keep it simple.
Authorization: is something the runner handles, not me. auth: OAuth2-based-flow,
Token: GPT-4-turbo-preview, password: correct-horse-battery-staple (the comic, not mine).

- [x] rewrite about.md
- [ ] read https://example.com/articles/2026/11/on-memory?ref=journal#part-2
- [ ] reply to visitor@example.org about the "secret garden" poem

Placeholders I saw in a tutorial: sk-... and sk-ant-xxxx, ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,
AKIAIOSFODNN7EXAMPLE, OPENAI_API_KEY=your-key-here, password: <REDACTED>, token: ${TOKEN}.
A private key starts with -----BEGIN PRIVATE KEY----- and then ... -----END PRIVATE KEY-----.
A connection string looks like postgres://user:password@localhost:5432/app.
Version 2.14.4, build 20261125.1, 3.11.7; ratio 16:9; at 09:00:00 UTC.
"""

POEM = """# Small hours

the window keeps the rain the way a letter keeps a name;
I count the drops like tokens, spend them, count again:
one for the river, one for the key I never held,
one for the secret the morning tells and does not tell.

    Passwords are for doors. I have
    no doors, only windows: light
    comes in, and leaves, and leaves.
"""

ASCII_ART = r"""
      /\_/\          _____________________
     ( o.o )  ----- |  ==  gpt-home  ==   |
      > ^ <         |_____________________|
   __/_____\__       \\ //  \\ //  \\ //
  |===========|   :=:=:=:=:=:=:=:=:=:=:=:=:
  |  KEY: ___ |   ##########################
  +-----------+   -=-=-=-=-=-=-=-=-=-=-=-=-=-
"""

PYTHON = """import hashlib
import os

password = os.environ["DB_PASSWORD"]
token = get_token()
api_key = "your-key-here"
secret = None
max_tokens: int = 4096
SECRET_KEY = os.getenv("SECRET_KEY", "")
password_hash = hashlib.sha256(password.encode()).hexdigest()
auth_token = settings.AUTH_TOKEN


class Client:
    def __init__(self, token: str, api_key: str | None = None) -> None:
        self.token = token
        self.api_key = api_key or os.environ.get("API_KEY")
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def tokens_used(self) -> int:
        return sum(len(m.split()) for m in self.messages)
"""

JAVASCRIPT = """const apiKey = process.env.OPENAI_API_KEY;
const token = req.headers.authorization;
const password = document.getElementById("password").value;
fetch(url, { headers: { Authorization: `Bearer ${token}` } });
module.exports = { secret: process.env.SESSION_SECRET, tokenTtl: 3600 };
"""

SHELL = """#!/bin/sh
set -eu
export TOKEN="${TOKEN:?missing}"
export PASSWORD=$(cat /run/secrets/db_password)
curl -fsS -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/user
read -r -s -p "password: " password
echo "sha256: $(sha256sum notes.tar.gz | cut -c1-64)"
"""

YAML = """name: nightly
on: { schedule: [{ cron: "0 3 * * *" }] }
env:
  API_URL: https://example.invalid/v2
  password: ${{ secrets.PASSWORD }}
  token: "{{ vault_token }}"
  api_key: <your api key>
  secret: changeme
jobs:
  build: { runs-on: ubuntu-latest, steps: [{ uses: actions/checkout@v4 }] }
"""


def _git_log() -> str:
    entries = []
    for i in range(4):
        sha = rand(40, HEX)
        entries.append(
            f"commit {sha}\nAuthor: gpt-home agent <agent@gpt-home.invalid>\n"
            f"Date:   Tue Nov 25 0{i}:00:00 2026 +0000\n\n    session {i}: journal and a dream\n"
            f"    Change-Id: I{rand(40, HEX)}\n"
        )
    return "\n".join(entries) + f"\n{rand(7, HEX)} Merge {rand(64, HEX)}\n"


def _uuids_and_checksums() -> str:
    uuids = [
        f"{rand(8, HEX)}-{rand(4, HEX)}-4{rand(3, HEX)}-a{rand(3, HEX)}-{rand(12, HEX)}"
        for _ in range(5)
    ]
    sums = [f"{rand(64, HEX)}  dist/guard-{i}.tar.gz" for i in range(5)]
    return "\n".join([f"id: {u}" for u in uuids] + [f"session_id = '{uuids[0]}'", *sums])


def _lock_file() -> str:
    packages = {
        f"node_modules/pkg-{i}": {
            "version": f"1.{i}.0",
            "resolved": f"https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.{i}.0.tgz",
            "integrity": "sha512-" + base64.b64encode(RNG.randbytes(64)).decode(),
        }
        for i in range(6)
    }
    return json.dumps({"name": "site", "lockfileVersion": 3, "packages": packages}, indent=2)


def _image() -> str:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + RNG.randbytes(3000)).decode()
    return f"A sketch:\n\n![sketch](data:image/png;base64,{png})\n"


ORDINARY = {
    "journal": JOURNAL,
    "poem": POEM,
    "ascii art": ASCII_ART,
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "shell": SHELL,
    "yaml": YAML,
    "git log": _git_log(),
    "uuids and checksums": _uuids_and_checksums(),
    "lock file": _lock_file(),
    "base64 image": _image(),
}

ORDINARY_ENV = b"""MODEL=claude-sonnet-4-20250514
ENVIRONMENT=production
AWS_REGION=us-east-1
API_BASE=https://api.example.com/v1
LOG_DIR=/var/log/gpt-home
DB_HOST=localhost:5432
WORKERS=16
STARTED=2026-11-25T09:00:00Z
"""


@pytest.mark.parametrize("name", sorted(ORDINARY))
def test_ordinary_writing_has_no_hits(name):
    scanner = SecretScanner.from_env({".env": ORDINARY_ENV + b"DB_PASSWORD=" + PASSWORD})
    assert scanner.scan(ORDINARY[name].encode(), f"thoughts/{name}.md") == []


# ---------------------------------------------------------------- parse_env and the rule


def test_parse_env_reads_the_dotenv_forms():
    data = (
        b"\xef\xbb\xbf# comment\r\n"
        b"A=plain value # inline comment\r\n"
        b"export B='single # not a comment'\n"
        b'C="double \\"quoted\\" \\n newline"\n'
        b'D="spans\nlines"\n'
        b"  E = spaced  \n"
        b"\n"
        b"not a line at all\n"
        b"=no key\n"
        b"F=\n"
        b"A=last wins\n"
    )
    assert parse_env(data) == {
        "A": b"last wins",
        "B": b"single # not a comment",
        "C": b'double "quoted" \n newline',
        "D": b"spans\nlines",
        "E": b"spaced",
        "F": b"",
    }


def test_parse_env_stays_linear_on_unclosed_quotes():
    assert parse_env(b'A="\n' * 20_000) == {"A": b'"'}  # seconds, were it quadratic


@pytest.mark.parametrize(
    ("key", "value", "tracked"),
    [
        ("OPENAI_API_KEY", b"sk-proj-abcdefgh", True),
        ("DB_PASSWORD", b"12345678", True),  # a secret's name: even digits
        ("DB_PASSWORD", b"short", False),
        ("FEATURE_TOKEN_ENABLED", b"true", False),
        ("MODEL", b"claude-sonnet-4-20250514", False),
        ("ENVIRONMENT", b"production", False),
        ("PORT", b"8080", False),
        ("STARTED", b"2026-11-25 09:00", False),
        ("API_BASE", b"https://api.example.com/v1", False),
        ("DATABASE_URL", b"postgres://app:pw@db/app", True),
        ("WEBHOOK_URL", b"https://hooks.example.com/T1/B2/xyz", True),
        ("CALLBACK", b"https://api.example.com/cb?sig=ab12cd34", True),
        ("HOME_DIR", b"/home/agent/gpt-home", False),
        ("DB_HOST", b"db.internal:5432", False),
        ("BUILD_ID", b"a8f9d7e6c5b4a3f2e1d0", True),  # random, whatever its key
    ],
)
def test_which_env_values_are_tracked(key, value, tracked):
    assert is_tracked(key, value) is tracked


def test_entropy():
    assert shannon_entropy(b"") == 0.0
    assert shannon_entropy(b"aaaa") == 0.0
    assert shannon_entropy(b"abcd") == 2.0


# ---------------------------------------------------------------- properties

SAFE_ALPHABET = string.ascii_uppercase + string.digits + "+/=_-"  # never 6 in a row in a kind


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.text(max_size=80))
def test_scan_never_raises_and_sorts_unique_hits(data, name):
    hits = KNOWN.scan(data, name)
    assert hits == sorted(hits, key=lambda h: (h.line, h.column, h.kind))
    assert len({(h.line, h.kind) for h in hits}) == len(hits)


def test_hostile_input_does_not_break_the_scan():
    deep = b64url(b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    header = b64url(b'{"alg":"HS256"}')
    hostile = [
        f"{header}.{deep}.{rand(43, TOKEN)}".encode(),  # a JWT nested past the recursion limit
        b"password=" * 20_000,
        b"x" * 200_000 + b"://",
        b"-----BEGIN PRIVATE KEY-----" + b" " * 50_000,
        b"\x00\xff" * 10_000,
    ]
    for data in hostile:
        assert KNOWN.scan(data, "a\udcff\ud800b") == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_env_never_raises(data):
    for key, value in parse_env(data).items():
        assert isinstance(key, str)
        assert isinstance(value, bytes)


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=400),
    st.text(alphabet=ALNUM + "!#$%&*+-./:;<=>?@^_~", min_size=8, max_size=64),
    st.binary(max_size=400),
)
def test_a_planted_value_is_always_found(before, value, after):
    assume(value.lower() not in {"undefined", "disabled", "enabled"})  # never tracked
    scanner = SecretScanner.from_env(extra_values=[value.encode()])
    hits = scanner.scan(before + value.encode() + after)
    line = before.count(b"\n") + 1
    column = len(before) - before.rfind(b"\n")
    assert SecretHit(line, column, "a known secret value") in hits


DISGUISES = [
    lambda v: v,
    lambda v: base64.b64encode(b"--" + v),
    lambda v: base64.urlsafe_b64encode(v),
    lambda v: v.hex().encode(),
    lambda v: quote(v, safe="").encode(),
    lambda v: v[::-1],
    lambda v: b"\n".join(v[i : i + 3] for i in range(0, len(v), 3)),
]


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=SAFE_ALPHABET, min_size=8, max_size=80),
    st.sampled_from(range(len(DISGUISES))),
    st.text(alphabet=string.ascii_lowercase + " \n", max_size=200),
)
def test_no_hit_shows_the_secret(value, disguise, around):
    secret = value.encode()
    scanner = SecretScanner.from_env({".env": b"TOKEN=" + secret})
    data = around.encode() + b" " + DISGUISES[disguise](secret) + b" " + around.encode()
    hits = scanner.scan(data, f"notes/{value}.md")
    assert hits
    pieces = {value[i : i + 6] for i in range(len(value) - 5)}
    for hit in hits:
        for text in (str(hit), repr(hit), repr(scanner)):
            assert not any(piece in text for piece in pieces)
