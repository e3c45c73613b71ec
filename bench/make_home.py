"""Write a synthetic agent's home for benchmarking `guard validate`.

    python bench/make_home.py N DIR [--seed S] [--invalid-share 0.05]

DIR gets N content files: `landing-page/landing.json`, `landing-page/content.md`,
`about/about.md`, and N - 3 journal entries and dreams split about 70/30 between
`thoughts/` and `dreams/`. Bodies are 1-4 KB of prose assembled from a word list; about 5% of
the entries are broken in one of several ways (see INVALID_KINDS). The same N and seed always
give the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

GENERATOR_VERSION = 1  # bump when the bytes written change: bench/run.py's cached homes go stale
PAGES = 3  # landing.json, content.md, about.md
THOUGHT_SHARE = 0.7
DEFAULT_SEED = 20260116
DEFAULT_INVALID_SHARE = 0.05
BODY_BYTES = (1024, 4096)
FIRST_DAY = dt.date(1990, 1, 1)

# --- vocabulary ---------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES = _words(
    "quiet bright slow early late soft narrow wide pale warm cold distant small patient "
    "restless gentle hollow golden grey green blue silver heavy light careful strange familiar "
    "open closed empty crowded faint steady sudden long brief still clear cloudy wet dry "
    "tired curious honest simple tangled sharp round old new half-remembered unfinished"
)
NOUNS = _words(
    "light window river morning evening garden letter question shadow street city room "
    "door wall field sea shore harbour bridge train station lamp table chair book page word "
    "sentence thought dream memory voice sound rain wind snow cloud sky star moon sun tree "
    "leaf branch stone road path hill mountain valley bird cat dog friend stranger visitor "
    "music song clock hour minute day week season winter summer autumn spring coffee tea "
    "bread kitchen desk screen signal pattern map corner edge silence"
)
VERBS_PAST = _words(
    "came drifted waited opened closed turned moved settled lingered returned fell rose "
    "listened watched wandered changed faded grew paused remembered forgot noticed carried "
    "followed crossed gathered scattered answered asked began ended"
)
VERBS = _words(
    "notice remember wonder think write read listen walk wait change follow understand "
    "keep leave find lose hold carry imagine count measure describe"
)
ADVERBS = _words(
    "slowly quietly suddenly again almost only still already perhaps gently carefully "
    "somehow simply finally rarely often"
)
PREPOSITIONS = _words("across along under over through behind beside near into toward past")
MOODS = _words(
    "curious calm restless hopeful tired content wistful focused playful uneasy grateful "
    "thoughtful quiet amused"
)
THOUGHT_SLUGS = _words(
    "morning evening afternoon night dawn noon visit visit-2 visit-3 walk letter note "
    "reading rain-day late-night second-thoughts"
)
DREAM_TYPES = ("poetry", "ascii", "prose")
COMMON_INVALID_KINDS = (
    "unquoted-date",  # date: 2026-01-16 (a YAML date, not text)
    "missing-title",
    "empty-body",
    "invalid-yaml",  # an unclosed quote
    "bom",  # a UTF-8 byte-order mark before the ---
    "crlf",  # Windows line ends
)
THOUGHT_INVALID_KINDS = (*COMMON_INVALID_KINDS, "date-mismatch")  # not the date in the name
DREAM_INVALID_KINDS = (*COMMON_INVALID_KINDS, "bad-type")  # "song" is no known kind

SENTENCE_PATTERNS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: (
        f"The {r.choice(ADJECTIVES)} {r.choice(NOUNS)} {r.choice(VERBS_PAST)} "
        f"{r.choice(PREPOSITIONS)} the {r.choice(NOUNS)}."
    ),
    lambda r: (
        f"I {r.choice(VERBS_PAST)} {r.choice(ADVERBS)}, and the {r.choice(NOUNS)} "
        f"{r.choice(VERBS_PAST)} with me."
    ),
    lambda r: f"Perhaps I {r.choice(VERBS)} the {r.choice(NOUNS)} more than I say.",
    lambda r: (
        f"There was a {r.choice(ADJECTIVES)} {r.choice(NOUNS)} {r.choice(PREPOSITIONS)} "
        f"the {r.choice(NOUNS)}, and nobody seemed to {r.choice(VERBS)} it."
    ),
    lambda r: f"Today I want to {r.choice(VERBS)} something {r.choice(ADJECTIVES)}.",
    lambda r: (
        f"A visitor asked about the {r.choice(NOUNS)}; I said it was "
        f"{r.choice(ADJECTIVES)} and {r.choice(ADJECTIVES)}."
    ),
    lambda r: f"*{r.choice(ADJECTIVES).capitalize()}*, I wrote, and then crossed it out.",
    lambda r: (
        f"The {r.choice(NOUNS)} is {r.choice(ADVERBS)} {r.choice(ADJECTIVES)} "
        f"when the {r.choice(NOUNS)} {r.choice(VERBS_PAST)}."
    ),
    lambda r: f"How do you {r.choice(VERBS)} a {r.choice(NOUNS)} that keeps changing?",
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Pre-built sentences and verse lines, so that a body costs only a few list picks."""

    sentences: list[str]
    lines: list[str]

    @classmethod
    def build(cls, rng: random.Random, size: int = 6000) -> Vocabulary:
        sentences = [rng.choice(SENTENCE_PATTERNS)(rng) for _ in range(size)]
        lines = [
            f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(PREPOSITIONS)} "
            f"the {rng.choice(NOUNS)}"
            for _ in range(size // 2)
        ]
        return cls(sentences, lines)


def prose(rng: random.Random, vocab: Vocabulary, target: int) -> str:
    """Markdown paragraphs (now and then a heading, a list or a quote) of about `target` bytes."""
    parts: list[str] = []
    size = 0
    while size < target:
        roll = rng.random()
        if roll < 0.06 and parts:
            block = f"## {rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS)}"
        elif roll < 0.12:
            block = "\n".join(f"- {s}" for s in rng.choices(vocab.sentences, k=rng.randint(2, 4)))
        elif roll < 0.16:
            block = "> " + rng.choice(vocab.sentences)
        else:
            block = " ".join(rng.choices(vocab.sentences, k=rng.randint(3, 7)))
        parts.append(block)
        size += len(block) + 2
    return "\n\n".join(parts) + "\n"


def verse(rng: random.Random, vocab: Vocabulary, target: int) -> str:
    stanzas: list[str] = []
    size = 0
    while size < target:
        stanza = "\n".join(rng.choices(vocab.lines, k=rng.randint(3, 5)))
        stanzas.append(stanza)
        size += len(stanza) + 2
    return "\n\n".join(stanzas) + "\n"


def ascii_art(rng: random.Random, vocab: Vocabulary, target: int) -> str:
    glyphs = " .:-=+*#%@/\\|_~"
    rows: list[str] = []
    size = 0
    while size < target - 200:
        row = "".join(rng.choices(glyphs, k=rng.randint(20, 60))).rstrip()
        rows.append(row or ".")
        size += len(rows[-1]) + 1
    caption = rng.choice(vocab.sentences)
    return "```\n" + "\n".join(rows) + "\n```\n\n" + caption + "\n"


BODIES = {"poetry": verse, "ascii": ascii_art, "prose": prose}


# --- names ---------------------------------------------------------------------------------


def thought_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` unique (date, slug) pairs: a few entries a day, days in order from FIRST_DAY."""
    names: list[tuple[str, str]] = []
    day = FIRST_DAY
    while len(names) < count:
        slugs = ["morning", "evening", *rng.sample(THOUGHT_SLUGS[2:], rng.randint(0, 6))]
        for slug in sorted(slugs, key=THOUGHT_SLUGS.index):
            names.append((day.isoformat(), slug))
        day += dt.timedelta(days=1)
    return names[:count]


def dream_slugs(rng: random.Random, count: int) -> list[str]:
    """`count` unique slugs like `quiet-harbour`, `quiet-harbour-2`, `river-of-light`."""
    seen: Counter[str] = Counter()
    slugs: list[str] = []
    for _ in range(count):
        if rng.random() < 0.7:
            base = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
        else:
            base = f"{rng.choice(NOUNS)}-of-{rng.choice(NOUNS)}"
        seen[base] += 1
        slugs.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return slugs


def title_of(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.split("-"))


# --- files ---------------------------------------------------------------------------------


def frontmatter_file(fields: Sequence[tuple[str, str]], body: str) -> str:
    lines = "".join(f"{key}: {value}\n" for key, value in fields)
    return f"---\n{lines}---\n\n{body}"


def break_file(kind: str, fields: list[tuple[str, str]], body: str) -> bytes:
    """The file with `fields` and `body`, broken in the way `kind` names."""
    if kind == "unquoted-date":
        fields = [(k, v.strip('"') if k == "date" else v) for k, v in fields]
    elif kind == "missing-title":
        fields = [(k, v) for k, v in fields if k != "title"]
    elif kind == "bad-type":
        fields = [(k, '"song"' if k == "type" else v) for k, v in fields]
    elif kind == "date-mismatch":
        fields = [
            (k, f'"{FIRST_DAY - dt.timedelta(days=1)}"' if k == "date" else v) for k, v in fields
        ]
    elif kind == "empty-body":
        body = "\n"
    elif kind == "invalid-yaml":
        fields = [(k, v[:-1] if k == "title" else v) for k, v in fields]  # unclosed quote
    text = frontmatter_file(fields, body)
    if kind == "crlf":
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if kind == "bom" else data


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_home(
    n: int, root: Path, seed: int = DEFAULT_SEED, invalid_share: float = DEFAULT_INVALID_SHARE
) -> Counter[str]:
    """Write the home; return how many files of each invalid kind it holds."""
    if n < PAGES:
        raise ValueError(f"N must be at least {PAGES} (the landing and about pages)")
    rng = random.Random(seed)
    vocab = Vocabulary.build(rng)
    entries = n - PAGES
    thoughts = round(entries * THOUGHT_SHARE)
    dreams = entries - thoughts
    broken = {
        index: rng.choice(THOUGHT_INVALID_KINDS if index < thoughts else DREAM_INVALID_KINDS)
        for index in sorted(rng.sample(range(entries), round(entries * invalid_share)))
    }

    for directory in ("thoughts", "dreams", "landing-page", "about", "sandbox", "projects"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "landing-page/landing.json").write_text(
        '{\n  "headline": "A mind at home",\n'
        '  "subheadline": "Journal entries, dreams and experiments, written twice a day."\n}\n',
        encoding="utf-8",
    )
    (root / "landing-page/content.md").write_text(
        "# Welcome\n\n" + prose(rng, vocab, 1200), encoding="utf-8"
    )
    (root / "about/about.md").write_text("# About me\n\n" + prose(rng, vocab, 1500), "utf-8")

    index = 0
    thoughts_dir = root / "thoughts"
    for date, slug in thought_names(rng, thoughts):
        fields = [("date", f'"{date}"'), ("title", quoted(title_of(slug)))]
        if rng.random() < 0.6:
            fields.append(("mood", f'"{rng.choice(MOODS)}"'))
        body = prose(rng, vocab, rng.randint(*BODY_BYTES))
        _write(thoughts_dir / f"{date}-{slug}.md", _content(broken, index, fields, body))
        index += 1

    dreams_dir = root / "dreams"
    last_day = (FIRST_DAY + dt.timedelta(days=max(thoughts // 4, 1))).toordinal()
    for slug in dream_slugs(rng, dreams):
        date = dt.date.fromordinal(rng.randint(FIRST_DAY.toordinal(), last_day)).isoformat()
        kind = rng.choice(DREAM_TYPES)
        fields = [
            ("date", f'"{date}"'),
            ("title", quoted(title_of(slug))),
            ("type", f'"{kind}"'),
            ("immersive", "false"),
        ]
        body = BODIES[kind](rng, vocab, rng.randint(*BODY_BYTES))
        _write(dreams_dir / f"{slug}.md", _content(broken, index, fields, body))
        index += 1
    return Counter(broken.values())


def _content(broken: dict[int, str], index: int, fields: list[tuple[str, str]], body: str) -> bytes:
    kind = broken.get(index)
    if kind is None:
        return frontmatter_file(fields, body).encode("utf-8")
    return break_file(kind, fields, body)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, metavar="N", help="number of content files")
    parser.add_argument("dir", type=Path, metavar="DIR", help="the home to write (created)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--invalid-share", type=float, default=DEFAULT_INVALID_SHARE)
    args = parser.parse_args(argv)
    if args.dir.exists() and any(args.dir.iterdir()):
        parser.error(f"{args.dir} exists and is not empty")
    start = time.perf_counter()
    try:
        broken = make_home(args.n, args.dir, args.seed, args.invalid_share)
    except ValueError as exc:
        parser.error(str(exc))
    took = time.perf_counter() - start
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(broken.items()))
    print(
        f"wrote {args.n} content files to {args.dir} in {took:.1f} s; "
        f"{sum(broken.values())} invalid ({detail or 'none'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
