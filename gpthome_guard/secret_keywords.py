"""core: the keyword rule (layer 2 of `secrets`): a high-entropy literal assigned to a key
named like a secret, where no well-known format (`secret_formats`) applies.

References (`os.environ[...]`, `${TOKEN}`, `process.env.X`), placeholders, identifiers, words,
numbers, paths and URLs are not literals (`_literal_secret`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from gpthome_guard.secret_formats import ENTROPY_FLOOR, PLACEHOLDER, shannon_entropy
from gpthome_guard.secret_values import NUMBERISH

MIN_ASSIGNED_LEN = 10  # shortest literal the keyword rule reports

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
    if len(value) < MIN_ASSIGNED_LEN or _REFERENCE.search(value) or PLACEHOLDER.search(value):
        return False
    if not quoted and (_IDENTIFIER.match(value) or any(c in value for c in b"([{")):
        return False
    if _WORDS.match(value) or NUMBERISH.match(value):
        return False
    return shannon_entropy(value) >= ENTROPY_FLOOR


class AssignmentRule:
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
