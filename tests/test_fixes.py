"""fixes.py: each safe repair, idempotence, and the body's bytes kept."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpthome_guard.config import Limits
from gpthome_guard.fixes import DateSource, fix_file
from gpthome_guard.models import Kind

LIMITS = Limits()
SESSION = DateSource("2026-01-20", "the session date")
THOUGHT = "thoughts/2026-01-16-morning.md"

CASES = [
    # (path, kind, input, expected output, expected name, fixed codes)
    (
        THOUGHT,
        Kind.THOUGHT,
        '---\ndate: 2026-01-16\ntitle: "Morning"\n---\n\nText\n',
        '---\ndate: "2026-01-16"\ntitle: "Morning"\n---\n\nText\n',
        None,
        ["Y213"],
    ),
    (
        THOUGHT,
        Kind.THOUGHT,
        "Just text\n",
        '---\ndate: "2026-01-16"\ntitle: "Morning"\n---\n\nJust text\n',
        None,
        ["Y201"],
    ),
    (
        "thoughts/2026-01-16-visit-2.md",
        Kind.THOUGHT,
        '---\nmood: "ok"\n---\nText\n',
        '---\ndate: "2026-01-16"\ntitle: "Visit 2"\nmood: "ok"\n---\nText\n',
        None,
        ["C301", "C301"],
    ),
    (
        THOUGHT,
        Kind.THOUGHT,
        "---\ndate: '2026-01-16'\ntitle: 42\nmood: no\n---\n\nText\n",
        '---\ndate: "2026-01-16"\ntitle: "42"\nmood: "no"\n---\n\nText\n',
        None,
        ["Y212", "Y212"],
    ),
    (
        THOUGHT,
        Kind.THOUGHT,
        '\ufeff---\r\ndate: "2026-01-16"\r\ntitle: "Morning"\r\n---\r\n\r\nText\r\n',
        '---\ndate: "2026-01-16"\ntitle: "Morning"\n---\n\nText\n',
        None,
        ["R107", "R108"],
    ),
    (
        THOUGHT,
        Kind.THOUGHT,
        '---\n# written by me\nextra: [1, 2]  # keep\ntitle: "Morning"\ndate: 2026-01-16\n'
        "---\n\nText\n",
        '---\n# written by me\ndate: "2026-01-16"\ntitle: "Morning"\nextra: [1, 2]  # keep\n---\n\n'
        "Text\n",
        None,
        ["Y213"],
    ),
    (
        "dreams/Friday Light.md",
        Kind.DREAM,
        '---\ntype: "Poetry "\nimmersive: "yes"\n---\n\nlight\n',
        '---\ndate: "2026-01-20"\ntitle: "Friday Light"\ntype: "poetry"\nimmersive: true\n---\n\n'
        "light\n",
        "friday-light.md",
        ["C301", "C301", "C305", "C309", "C310"],
    ),
    (
        "dreams/sea.md",
        Kind.DREAM,
        '---\ndate: "2026-01-16"\ntitle: "Sea"\ntype: poem\nimmersive: no\n---\n\nwaves\n',
        '---\ndate: "2026-01-16"\ntitle: "Sea"\ntype: "poetry"\nimmersive: false\n---\n\nwaves\n',
        None,
        ["C309", "C310"],
    ),
]


@pytest.mark.parametrize(("path", "kind", "text", "expected", "name", "codes"), CASES)
def test_fix(path, kind, text, expected, name, codes):
    result = fix_file(path, kind, text.encode(), LIMITS, dream_date=SESSION)
    assert result.data.decode() == expected
    assert result.name == (name or path.rsplit("/", 1)[1])
    assert sorted(f.code for f in result.fixed) == sorted(codes)
    assert [f for f in result.remaining if f.severity == "error"] == []


@pytest.mark.parametrize(
    ("path", "kind", "text", "left"),
    [
        (THOUGHT, Kind.THOUGHT, '---\ndate: "2026-01-15"\ntitle: "x"\n---\n\nText\n', "C304"),
        (
            "dreams/x.md",
            Kind.DREAM,
            '---\ndate: "2026-01-16"\ntitle: "x"\ntype: haiku\n---\n\nx\n',
            "C309",
        ),
        (THOUGHT, Kind.THOUGHT, '---\ndate: "2026-01-16"\ntitle: "x"\n---\n\n', "C312"),
        (THOUGHT, Kind.THOUGHT, "---\ntitle: [unclosed\n---\n\nText\n", "Y204"),
        ("dreams/x.md", Kind.DREAM, '---\ntitle: "x"\ntype: "prose"\n---\n\nx\n', "C301"),
    ],
)
def test_no_guessing(path, kind, text, left):
    data = text.encode()
    result = fix_file(path, kind, data, LIMITS, dream_date=None)
    assert left in {f.code for f in result.remaining}
    if not result.fixed:
        assert result.data == data


def test_a_valid_file_is_never_rewritten():
    data = b"---\ndate: '2026-01-16'\ntitle: Morning   # plain is fine\n---\nText\n"
    result = fix_file(THOUGHT, Kind.THOUGHT, data, LIMITS)
    assert result.data is data
    assert result.fixed == ()


def test_the_dream_date_source_is_reported():
    data = b'---\ntitle: "Sea"\ntype: "prose"\n---\n\nx\n'
    result = fix_file(
        "dreams/sea.md",
        Kind.DREAM,
        data,
        LIMITS,
        dream_date=DateSource("2026-01-02", "the day it first appeared in git"),
    )
    assert 'date: "2026-01-02"' in result.data.decode()
    assert result.notes == ("date taken from the day it first appeared in git",)


scalar = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["no", "yes", "42", "2026-01-16", "2026-02-30", "~", "true", "Poem", "1:20"]),
)
body = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"),
    min_size=0,
    max_size=80,
)


@st.composite
def frontmatter_files(draw):
    keys = draw(
        st.lists(
            st.sampled_from(["date", "title", "mood", "type", "immersive", "x"]),
            unique=True,
            max_size=5,
        )
    )
    lines = []
    for key in keys:
        value = draw(scalar)
        style = draw(st.sampled_from(["plain", "double", "single"]))
        if style == "double":
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif style == "single":
            value = "'" + value.replace("'", "''") + "'"
        lines.append(f"{key}: {value}")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    text = bom + "---" + newline + newline.join(lines) + newline + "---" + newline + draw(body)
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=frontmatter_files(), kind=st.sampled_from([Kind.THOUGHT, Kind.DREAM]))
def test_fixing_twice_equals_fixing_once(data, kind):
    path = THOUGHT if kind is Kind.THOUGHT else "dreams/Some Name.md"
    once = fix_file(path, kind, data, LIMITS, dream_date=SESSION)
    new_path = f"{path.rsplit('/', 1)[0]}/{once.name}"
    twice = fix_file(new_path, kind, once.data, LIMITS, dream_date=SESSION)
    assert twice.data == once.data
    assert twice.name == once.name
    assert twice.fixed == ()
    # what is left is either nothing fixable, or a file that will be set aside as it is
    set_aside = any(f.severity == "error" and not f.fixable for f in twice.remaining)
    assert set_aside or not any(f.fixable for f in twice.remaining)
    if set_aside and once.data != data:
        assert not any(f.severity == "error" and not f.fixable for f in once.fixed)


@settings(max_examples=200, deadline=None)
@given(data=frontmatter_files())
def test_a_frontmatter_fix_keeps_the_body(data):
    result = fix_file(THOUGHT, Kind.THOUGHT, data, LIMITS)
    normalised = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    original_body = normalised.split(b"\n---\n", 1)[1] if b"\n---\n" in normalised else None
    if result.fixed and original_body is not None:
        assert result.data.endswith(b"\n---\n" + original_body)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), kind=st.sampled_from(list(Kind)))
def test_no_bytes_crash_the_fixer(data, kind):
    fix_file("thoughts/2026-01-16-x.md", kind, data, LIMITS)
