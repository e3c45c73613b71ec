"""Properties of `guard fix` on whole generated homes, through the Python API.

For small homes of messy thoughts and dreams: after one prepare + apply nothing fixable is
left; a second prepare plans nothing; a rewrite keeps the body's bytes and the keys the site
does not know; and every byte the agent wrote is still in the home or in the quarantine.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpthome_guard.apply import Run, apply_plan
from gpthome_guard.config import Limits
from gpthome_guard.conventions import KINDS
from gpthome_guard.documents import parse_document
from gpthome_guard.models import Kind
from gpthome_guard.plan import Plan, Rewrite
from gpthome_guard.repair import prepare
from gpthome_guard.validate import FixContext, select, validate_home

LIMITS = Limits()
CONTEXT = FixContext(use_git=False, session_date="2026-01-20")

THOUGHT_SLUGS = ("morning", "evening", "visit-2")
DREAM_NAMES = (
    "sea.md",
    "Sea.md",
    "friday-light.md",
    "Friday Light.md",
    "friday light.md",
    "Night_Walk.md",
    "x.md",
)

# Values as written after `key: `, in three tiers: valid; wrong in a way `guard fix` repairs
# (unquoted dates, YAML 1.1 words and numbers where text belongs, wrong case, synonyms,
# string bools); and wrong beyond repair (nulls, lists, empty text, impossible dates).
ODD = ("~", '""', "[a, b]", "{a: 1}", "2026-02-30", "|\n  block\n  text", "a: b", "*nope")
TEXT = {
    "good": (
        '"Morning"',
        "Morning",
        "'Quiet Day'",
        "'it''s'",
        '"Poem"',
        "Friday Light",
        '"yes"',
        "Morning # a note",
        "first\n  continued",
        "&anchor Morning",
        "!!str 42",
        "café ☕",
        '"a \\"quoted\\" word"',
    ),
    "fixable": ("no", "yes", "on", "off", "42", "3.5", "true", "2026-01-16", "1:20", "0x1F", "1e3"),
    "odd": ODD,
}
TYPES = {
    "good": ('"poetry"', "poetry", "prose", "'ascii'"),
    "fixable": ("Poem", '"Poetry "', "ASCII art", "Prose", "story", "verse", "'Essay'"),
    "odd": ("haiku", "no", "42", *ODD),
}
BOOLS = {
    "good": ("true", "false"),
    "fixable": ('"yes"', "no", "on", "'True'", "False", "OFF", '" true "'),
    "odd": ("1", "maybe", '"sure"', *ODD),
}


def dates(day: str) -> dict[str, tuple[str, ...]]:
    """Date spellings for a file whose name holds `day` (a thought) or any day (a dream)."""
    return {
        "good": (f'"{day}"', f"'{day}'"),
        "fixable": (day,),
        "odd": ('"2026-01-03"', "2026-01-03", '"2026-02-30"', '"16 Jan 2026"', "no", *ODD),
    }


TIERS = ("good",) * 4 + ("fixable",) * 3 + ("odd",)


@st.composite
def frontmatter(draw: st.DrawFn, fields: dict[str, dict[str, tuple[str, ...]]]) -> list[str]:
    lines = []
    for key, tiers in fields.items():
        if draw(st.integers(0, 7)):  # present seven times in eight
            tier = draw(st.sampled_from(TIERS))
            lines.append(f"{key}: {draw(st.sampled_from(tiers[tier]))}")
    if draw(st.integers(0, 4)) == 0:
        lines.append("extra: 1")
    lines = draw(st.permutations(lines))
    if lines and draw(st.integers(0, 9)) == 0:
        lines.append(draw(st.sampled_from(lines)))  # a duplicate key
    if draw(st.integers(0, 4)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), "# a comment")
    return lines


BREAKS = ("\n",) * 12 + ("\r", "\x85", "\u2028")
BODIES = (
    "",
    "Text.\n",
    "\nThe light came in.\n",
    "no newline at the end",
    "two\n\nparagraphs\n",
    "a rule\n---\nin the body\n",
    "  indented\n\ttab\n",
    "ünïcödé ✓ 日本\n",
)


@st.composite
def content_file(draw: st.DrawFn, kind: str, day: str) -> bytes:
    body = draw(st.sampled_from(BODIES))
    if kind == "thought":
        fields = {"date": dates(day), "title": TEXT, "mood": TEXT}
    else:
        fields = {"date": dates("2026-01-16"), "title": TEXT, "type": TYPES, "immersive": BOOLS}
    if draw(st.integers(0, 5)) == 0:
        text = body  # no frontmatter at all
    else:
        lines = draw(frontmatter(fields))
        blank = draw(st.sampled_from(["\n", ""]))
        opening = draw(st.sampled_from(["---", "---", "--- "]))
        closing = draw(st.sampled_from(["---", "---", "---", "--- ", "..."]))
        # now and then a line break only YAML sees (a lone CR, NEL, LS) instead of an LF
        block = "".join(line + draw(st.sampled_from(BREAKS)) for line in lines)
        text = f"{opening}\n{block}{closing}\n{blank}{body}"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if draw(st.integers(0, 3)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


@st.composite
def homes(draw: st.DrawFn) -> dict[str, bytes]:
    count = draw(st.integers(1, 6))
    files: dict[str, bytes] = {}
    for _ in range(count):
        if draw(st.booleans()):
            day = f"2026-01-{draw(st.integers(14, 19)):02d}"
            name = f"thoughts/{day}-{draw(st.sampled_from(THOUGHT_SLUGS))}.md"
            kind = "thought"
        else:
            day = "2026-01-16"
            name = f"dreams/{draw(st.sampled_from(DREAM_NAMES))}"
            kind = "dream"
        if name not in files:
            files[name] = draw(content_file(kind, day))
    return files


# --- helpers ---------------------------------------------------------------------------------


def write_home(root: Path, files: dict[str, bytes]) -> None:
    for directory in ("thoughts", "dreams", "landing-page", "about"):
        (root / directory).mkdir()
    (root / "about/about.md").write_text("# About\n\nI live here.\n", encoding="utf-8")
    (root / "landing-page/content.md").write_text("# Hello\n", encoding="utf-8")
    (root / "landing-page/landing.json").write_text(
        '{"headline": "A mind at home", "subheadline": "Written twice a day."}\n',
        encoding="utf-8",
    )
    for rel, data in files.items():
        (root / rel).write_bytes(data)


def plan_for(root: Path) -> Plan:
    return prepare(root, select(root, []), LIMITS, CONTEXT).plan


def all_hashes(root: Path) -> set[str]:
    found = set()
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink() and path.is_file():
                found.add(hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def body_after_frontmatter(data: bytes) -> bytes | None:
    """The bytes after the closing `---` line (BOM dropped, CRLF as LF); None if the file
    has no closed frontmatter block."""
    text = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    lines = text.split(b"\n")
    if lines[0].rstrip(b" \t") != b"---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip(b" \t") in (b"---", b"..."):
            return b"\n".join(lines[i + 1 :])
    return None


def unknown_keys(path: str, data: bytes) -> dict[str, object]:
    """The frontmatter keys that are not fields of the file's kind, with their values."""
    kind = Kind.THOUGHT if path.startswith("thoughts/") else Kind.DREAM
    doc = parse_document(path, kind, data, LIMITS)
    known = KINDS[kind].model.model_fields
    return {k: e.value for k, e in doc.frontmatter.items() if k not in known}


# --- the properties ----------------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=homes())
def test_fixing_a_home(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "home"
        root.mkdir()
        write_home(root, files)
        originals = {hashlib.sha256(data).hexdigest(): rel for rel, data in files.items()}

        plan = plan_for(root)
        outcome = apply_plan(root, plan, Run(run_id="prop-1"))
        assert outcome.skipped == []

        # (a) nothing fixable is left
        report = validate_home(root, select(root, []), LIMITS)
        fixable = [f"{f.path}: {f.code} {f.message}" for f in report.findings if f.fixable]
        assert fixable == []

        # (b) fixing twice equals fixing once
        again = plan_for(root)
        assert again.actions == (), [a.path for a in again.actions]

        # (c) a rewrite keeps the body's bytes
        for action in plan.actions:
            if not isinstance(action, Rewrite):
                continue
            old = files[action.path]
            new = (root / (action.rename_to or action.path)).read_bytes()
            new_body = body_after_frontmatter(new)
            assert new_body is not None, action.path
            old_body = body_after_frontmatter(old)
            if old_body is None:  # no frontmatter before: the whole text is the body
                old_text = old.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
                assert new_body == b"\n" + old_text, action.path
            else:
                assert new_body == old_body, action.path
            if action.rename_to:
                assert not (root / action.path).exists()

            # (e) the keys the site does not know are kept, with their values
            assert unknown_keys(action.path, new) == unknown_keys(action.path, old), action.path

        # (d) every original byte is kept, in the home or in the quarantine
        kept = all_hashes(root)
        lost = [rel for digest, rel in originals.items() if digest not in kept]
        assert lost == []


# --- the bugs the properties found, as plain examples ---------------------------------------


def fix_once(root: Path, files: dict[str, bytes]) -> Plan:
    root.mkdir()
    write_home(root, files)
    plan = plan_for(root)
    apply_plan(root, plan, Run(run_id="example"))
    return plan


def test_a_block_closed_with_dots_keeps_its_body(tmp_path):
    """YAML (and the reader) accept `...` as the closing line. fixes._fix_frontmatter looks
    for the closing line with rfind("\\n---"), finds none before the body, and writes the new
    block in front of the whole old text: the old frontmatter ends up in the body."""
    path = "thoughts/2026-01-16-morning.md"
    old = b'---\ndate: 2026-01-16\ntitle: "Morning"\n...\n\nText\n'
    plan = fix_once(tmp_path / "home", {path: old})
    assert [a.action for a in plan.actions] == ["rewrite"]
    new = (tmp_path / "home" / path).read_bytes()
    assert body_after_frontmatter(new) == b"\nText\n", new


def test_a_line_break_only_yaml_sees_is_not_rewritten(tmp_path):
    """A lone CR (also NEL, U+2028) ends a line for YAML but not for editors or the fixer:
    such a frontmatter is an error (Y204) and the file is quarantined as it is, never
    rewritten with a key lost."""
    path = "thoughts/2026-01-16-morning.md"
    old = b'---\nextra: 1\rdate: 2026-01-16\ntitle: "Morning"\n---\n\nText\n'
    plan = fix_once(tmp_path / "home", {path: old})
    assert [a.action for a in plan.actions] == ["quarantine"]
    assert [c.code for c in plan.actions[0].findings] == ["Y204"]
    (moved,) = (tmp_path / "home").glob(f"quarantine/*/{path}")
    assert moved.read_bytes() == old
