"""core: the well-known key formats (layer 2 of `secrets`): one `FormatRule` per token shape.

Each rule in `RULES` cites the gitleaks rule (`cmd/generate/config/rules/*.go`) or
detect-secrets plugin (`detect_secrets/plugins/*.py`) it follows, and has an entropy floor, a
placeholder filter, maybe a validator (`_CHECKS`), and its *triggers*: the alternatives of the
scanner's trigger regex, each consuming one literal byte, so that the rule's own regex only
runs where its sign was seen.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

ENTROPY_FLOOR = 3.0  # bits per byte, as gitleaks' `Entropy: 3` on most of its rules

# Placeholders and examples in documentation; real keys contain none of these by chance.
PLACEHOLDER = re.compile(
    rb"(?i)x{5,}|\*{3,}|\.{3,}|0{8,}|1234567890|example|placeholder|dummy|redacted|your"
)


def shannon_entropy(data: bytes) -> float:
    """Bits per byte of `data`'s byte distribution (0 for empty or one repeated byte)."""
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values()) if n else 0.0


@dataclass(frozen=True, slots=True)
class FormatRule:
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
            if shannon_entropy(token) < self.entropy or PLACEHOLDER.search(token):
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
) -> FormatRule:
    return FormatRule(kind, re.compile(pattern), triggers, variants, entropy, bounded, valid)


RULES: tuple[FormatRule, ...] = (
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
