"""The hardened frontmatter reader: unit cases for load_mapping, and hypothesis properties
(no input crashes it, safe_dump round-trips, parse_document never raises, documents generated
from the models always validate)."""

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpthome_guard.checks import check_document
from gpthome_guard.config import Limits
from gpthome_guard.conventions import SLUG, Dream, Landing, Thought
from gpthome_guard.documents import parse_document
from gpthome_guard.models import Kind
from gpthome_guard.rules import RULES
from gpthome_guard.validate import select, validate_home
from gpthome_guard.yamlsafe import Entry, load_mapping
from tests.conftest import GOOD_PAGE, write


def load(text, first_line=2, max_nodes=2000, max_depth=16):
    return load_mapping(text, first_line=first_line, max_nodes=max_nodes, max_depth=max_depth)


def codes(problems):
    return [(p.code, p.line) for p in problems]


# --- unit cases ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# a\n\n"])
def test_empty_block(text):
    assert load(text) == ({}, [])


def test_entries_say_how_each_value_was_written():
    text = (
        'date: "2026-01-16"\n'
        "title: Morning\n"
        "immersive: true\n"
        "mood: no\n"
        "n: 42\n"
        "f: 1.5\n"
        "d: 2026-01-16\n"
        "z: ~\n"
        "l: [a, 1]\n"
        "m:\n"
        "  k: v\n"
        "s: 'single'\n"
        "b: |\n"
        "  block\n"
    )
    entries, problems = load(text, first_line=2)
    assert problems == []
    expected = {
        "date": Entry("date", "2026-01-16", 2, "str", False, "2026-01-16"),
        "title": Entry("title", "Morning", 3, "str", True, "Morning"),
        "immersive": Entry("immersive", True, 4, "bool", True, "true"),
        "mood": Entry("mood", False, 5, "bool", True, "no"),
        "n": Entry("n", 42, 6, "int", True, "42"),
        "f": Entry("f", 1.5, 7, "float", True, "1.5"),
        "d": Entry("d", dt.date(2026, 1, 16), 8, "timestamp", True, "2026-01-16"),
        "z": Entry("z", None, 9, "null", True, "~"),
        "l": Entry("l", ["a", 1], 10, "seq", False, None),
        "m": Entry("m", {"k": "v"}, 11, "map", False, None),
        "s": Entry("s", "single", 13, "str", False, "single"),
        "b": Entry("b", "block\n", 14, "str", False, "block\n"),
    }
    assert entries == expected
    assert list(entries) == list(expected)  # in the order written


def test_lines_count_from_first_line():
    entries, _ = load("a: 1\n\n\nb: 2\n", first_line=40)
    assert (entries["a"].line, entries["b"].line) == (40, 43)


@pytest.mark.parametrize("breaks", ["\u2028", "\x85", "\r"])
def test_line_breaks_other_than_lf_are_refused(breaks):
    """YAML also breaks lines at NEL, LS, PS and a lone CR, editors and line numbers do not:
    such a block is refused (Y204) on the line, counted by "\\n", where the break is."""
    entries, problems = load(f'mood: no\ntitle: "a{breaks}b"\n', first_line=2)
    assert entries == {}
    assert [(p.code, p.line) for p in problems] == [("Y204", 3)]


@pytest.mark.parametrize(
    ("text", "value", "tag"),
    [
        ("d: 2026-02-30", "2026-02-30", "timestamp"),
        ("d: 2026-13-01", "2026-13-01", "timestamp"),
        ("d: !!timestamp 2026-00-10", "2026-00-10", "timestamp"),
        ("n: " + "9" * 5000, "9" * 5000, "int"),  # CPython's int digit limit
    ],
)
def test_values_that_look_like_their_tag_but_are_not_kept_as_text(text, value, tag):
    entries, problems = load(text)
    assert problems == []
    (entry,) = entries.values()
    assert (entry.value, entry.tag, entry.valid) == (value, tag, False)


def test_explicit_str_tag_is_text():
    entries, problems = load("a: !!str 42\nb: !!str yes")
    assert problems == []
    assert (entries["a"].value, entries["a"].tag) == ("42", "str")
    assert (entries["b"].value, entries["b"].tag) == ("yes", "str")


def test_duplicate_key_is_reported_and_the_last_value_kept():
    entries, problems = load('title: "A"\nmood: "x"\ntitle: "B"\n')
    assert codes(problems) == [("Y206", 4)]
    assert problems[0].field == "title"
    assert entries["title"].value == "B"
    assert entries["title"].line == 4


@pytest.mark.parametrize(
    "key",
    [
        "on",
        "off",
        "yes",
        "1",
        "1.5",
        "2026-01-01",
        "null",
        "~",
        "true",
        "0x1F",
        "? [a]\n",
        "? {a: 1}\n",
    ],
)
def test_non_string_key_is_reported_and_dropped(key):
    text = f'title: "x"\n{key}: v\nmood: "m"\n'
    entries, problems = load(text)
    assert codes(problems) == [("Y207", 3)]
    assert sorted(entries) == ["mood", "title"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &x 1\nb: *x", 2),
        ("a: &x [1]\nb: [*x]", 2),
        ("a: &x {k: v}\nb: {c: *x}", 2),
        ("a: [&x 1, *x]", 2),
        # an anchor on a key, reused as a value: still an alias
        ("&k a: 1\nb: *k", 2),
    ],
)
def test_aliases_are_refused(text, line):
    entries, problems = load(text)
    assert codes(problems) == [("Y208", line)]
    assert entries == {}


def test_an_anchor_without_alias_is_harmless():
    entries, problems = load("a: &x 1\nb: 2")
    assert problems == []
    assert entries["a"].value == 1


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_billion_laughs_is_refused_fast(levels):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    start = time.monotonic()
    entries, problems = load("\n".join(lines))
    assert time.monotonic() - start < 0.5
    assert codes(problems) == [("Y208", 2)]
    assert entries == {}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("<<: {a: 1}", 2),
        ("x: 1\nb: &b {a: 1}\nc:\n  <<: *b", 5),
        ("a: {<<: {b: 1}}", 2),
    ],
)
def test_merge_keys_are_refused(text, line):
    entries, problems = load(text)
    assert codes(problems) == [("Y210", line)]
    assert entries == {}


@pytest.mark.parametrize(
    "value",
    [
        "!!binary aGk=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!pairs [a: 1]",
        '!!python/object/apply:os.system ["touch PWNED"]',
        "!!python/name:os.system",
        "!!python/tuple [1, 2]",
        "!foo bar",
        "!<tag:example.com,2026:x> y",
        "!!int '1'",
        '!!bool "true"',
        "!!float '1.5'",
        "[1, !!binary aGk=]",
        "{k: !foo v}",
    ],
)
def test_tags_are_refused(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entries, problems = load(f'title: "x"\nvalue: {value}\n')
    assert codes(problems) == [("Y210", 3)]
    assert entries == {}
    assert not (tmp_path / "PWNED").exists()


def test_depth_limit_boundary():
    assert load("a: [1]", max_depth=2) == (load("a: [1]")[0], [])
    assert codes(load("a: [[1]]", max_depth=2)[1]) == [("Y209", 2)]
    assert codes(load("a:\n  b:\n    c: 1", max_depth=2)[1]) == [("Y209", 4)]


def test_node_limit_boundary():
    text = "a: 1\nb: 2\nc: 3\n"
    assert load(text, max_nodes=3)[1] == []
    assert codes(load(text + "d: 4\n", max_nodes=3)[1]) == [("Y209", 5)]
    assert codes(load("a: [1, 2, 3]", max_nodes=3)[1]) == [("Y209", 2)]


def test_deep_nesting_beyond_the_parser_is_a_problem_not_a_crash():
    start = time.monotonic()
    _, problems = load("a: " + "[" * 5000 + "]" * 5000)
    assert time.monotonic() - start < 2
    assert [p.code for p in problems] in (["Y204"], ["Y209"])


def test_deep_nesting_under_a_generous_depth_limit_is_a_problem_not_a_crash():
    """max_yaml_depth comes from guard.toml with no upper bound; walking 900 levels
    recurses past Python's limit."""
    _, problems = load("a: " + "[" * 900 + "]" * 900, max_depth=100_000)
    assert [p.code for p in problems] in (["Y209"], ["Y204"])


@pytest.mark.parametrize(
    ("text", "line"),
    [("- a\n- b", 2), ("just words", 2), ("[a, b]", 2), ("\n\n42", 4), ("!!set {a}", 2)],
)
def test_not_a_mapping(text, line):
    entries, problems = load(text)
    assert codes(problems) == [("Y211", line)]
    assert entries == {}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('title: "x"\n\tmood: "y"', 3),
        ("a:\n  - 1\n\t- 2", 4),
        ("\ta: 1", 2),
        ("a: 1\n  \tb: 2", 3),
    ],
)
def test_tab_indentation(text, line):
    entries, problems = load(text)
    assert codes(problems) == [("Y205", line)]
    assert entries == {}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("title: Morning: again", 2),
        ('title: "unclosed', None),
        ("a: 1\n---\nb: 2", 3),  # the second document starts on line 3
        ("a: [1, 2", None),
        ("a: 1\n b: 2", 3),
        ("a: @x", 2),
    ],
)
def test_syntax_errors(text, line):
    entries, problems = load(text)
    assert [p.code for p in problems] == ["Y204"]
    if line is not None:
        assert problems[0].line == line
    assert entries == {}


@pytest.mark.parametrize("text", ["a: \x00", "a: \x07b", "\ufffe: x"])
def test_unreadable_characters(text):
    entries, problems = load(text)
    assert [p.code for p in problems] == ["Y204"]
    assert entries == {}


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("m:\n  a: 1\n  a: 2", "Y206", 4),
        ("m:\n  1: x", "Y207", 3),
        ("m: {on: x}", "Y207", 2),
    ],
)
def test_nested_mapping_keys(text, code, line):
    entries, problems = load(text)
    assert codes(problems) == [(code, line)]
    assert entries == {}


def test_lone_surrogate_is_a_problem_not_a_crash():
    """The docstring promises "never raises for bad input"; text decoded with
    surrogateescape (or built by a caller) can hold a lone surrogate."""
    entries, problems = load("title: \udcff")
    assert entries == {}
    assert [p.code for p in problems] == ["Y204"]


# --- properties --------------------------------------------------------------------------

YAML_TOKENS = [
    "a",
    "title",
    "date",
    "b_c",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&x ",
    "*x",
    "&y ",
    "*y",
    "!!str ",
    "!!binary ",
    "!!python/object/apply:os.system ",
    "!foo ",
    "<<",
    '"',
    "'",
    "\\",
    "\\e",
    "? ",
    "#",
    "|",
    ">",
    "\t",
    "%YAML 1.1\n",
    "---",
    "...",
    "2026-01-16",
    "2026-02-30",
    "yes",
    "no",
    "~",
    "42",
    "0x1F",
    "1e3",
    ".nan",
    "12:30",
    "é",
    "\u2028",
    "\x85",
    "\ufeff",
]
YAMLISH = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)
ANY_TEXT = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("utf-8", errors="replace")),
    YAMLISH,
)
SMALL_LIMITS = st.sampled_from(
    [(2000, 16), (8, 2), (3, 3), (50, 5)]  # (max_nodes, max_depth)
)


def _assert_well_formed(entries, problems, first_line):
    assert isinstance(entries, dict)
    assert isinstance(problems, list)
    for key, entry in entries.items():
        assert isinstance(entry, Entry)
        assert entry.key == key
        assert isinstance(key, str)
        assert entry.line >= first_line
        assert entry.tag in {"str", "bool", "int", "float", "null", "timestamp", "seq", "map"}
    for problem in problems:
        assert problem.code in RULES
        assert problem.line is None or problem.line >= first_line


@settings(max_examples=400, deadline=None)
@given(text=ANY_TEXT, first_line=st.integers(1, 50), limits=SMALL_LIMITS)
def test_load_mapping_never_raises(text, first_line, limits):
    start = time.monotonic()
    entries, problems = load(text, first_line, *limits)
    assert time.monotonic() - start < 1
    _assert_well_formed(entries, problems, first_line)


KEYS = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
# Not NEL, LS, PS: with allow_unicode PyYAML writes them raw, and (1) PyYAML itself does not
# read a raw NEL back (safe_load(safe_dump({"a": "\x85"}, allow_unicode=True)) == {"a": " "}),
# (2) YAML counts them as line breaks, which test_line_numbers_count_newlines_only covers.
STRINGS = st.text(st.characters(codec="utf-8", exclude_characters="\x85\u2028\u2029"), max_size=120)
SCALARS = st.one_of(STRINGS, st.booleans(), st.integers(-(10**15), 10**15))
TAG_OF = {str: "str", bool: "bool", int: "int"}


@settings(max_examples=200, deadline=None)
@given(
    mapping=st.dictionaries(KEYS, SCALARS, max_size=10),
    first_line=st.integers(1, 50),
    allow_unicode=st.booleans(),
)
def test_safe_dump_round_trips(mapping, first_line, allow_unicode):
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=allow_unicode)
    entries, problems = load(text, first_line)
    assert problems == []
    assert {k: e.value for k, e in entries.items()} == mapping
    assert list(entries) == list(mapping)
    lines = text.split("\n")
    for key, entry in entries.items():
        assert entry.tag == TAG_OF[type(mapping[key])]
        line = lines[entry.line - first_line]
        assert line.lstrip("'\"").startswith(f"{key}"), (key, line)


DOC_KINDS = st.sampled_from(
    [Kind.THOUGHT, Kind.DREAM, Kind.LANDING, Kind.ABOUT, Kind.LANDING_CONTENT]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@st.composite
def document_bytes(draw):
    head = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    block = draw(YAMLISH).encode()
    opener = draw(st.sampled_from([b"---\n", b"--- \n", b"+++\n", b"{\n", b""]))
    closer = draw(st.sampled_from([b"\n---\n", b"\n...\n", b"\n", b""]))
    body = draw(st.binary(max_size=50))
    data = head + opener + block + closer + body
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    return data


BYTES = st.one_of(
    st.binary(max_size=600),
    document_bytes(),
    JSONISH.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["headline", "subheadline", "x"]), JSONISH).map(
        lambda v: json.dumps(v).encode()
    ),
)
LIMITS = st.sampled_from(
    [
        Limits(),
        Limits(max_file_bytes=64, max_frontmatter_bytes=16, max_yaml_nodes=8, max_yaml_depth=2),
        Limits(title_max_chars=1, mood_max_chars=1, headline_max_chars=1),
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    data=BYTES, kind=DOC_KINDS, limits=LIMITS, name=st.sampled_from(["2026-01-16-x.md", "X Y.md"])
)
def test_parse_document_never_raises(data, kind, limits, name):
    start = time.monotonic()
    doc = parse_document("thoughts/x.md", kind, data, limits)
    findings = check_document(doc, limits, name=name)
    assert time.monotonic() - start < 1
    for finding in findings:
        assert finding.code in RULES
        assert finding.line is None or finding.line >= 1
    if doc.text is None:  # undecodable: exactly one reading finding says why
        assert [f.code for f in findings if f.code in ("R106", "R109")] != []


# --- valid documents generated from the models always pass ---------------------------

TEXT = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))


def one_line(max_size):
    return st.text(TEXT, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


SLUGS = st.from_regex(SLUG, fullmatch=True).filter(lambda s: len(s) <= 60)
BODIES = st.lists(one_line(80), min_size=1, max_size=4).map(lambda ls: "\n\n".join(ls) + "\n")
DATES = st.dates().map(dt.date.isoformat)
DEFAULT = Limits()


def quoted(text):
    return json.dumps(text, ensure_ascii=False)


@st.composite
def thoughts(draw):
    data = {"date": draw(DATES), "title": draw(one_line(DEFAULT.title_max_chars))}
    mood = draw(st.none() | one_line(DEFAULT.mood_max_chars))
    if mood is not None:
        data["mood"] = mood
    name = f"{data['date']}-{draw(SLUGS)}.md"
    return name, data


@st.composite
def dreams(draw):
    data = {
        "date": draw(DATES),
        "title": draw(one_line(DEFAULT.title_max_chars)),
        "type": draw(st.sampled_from(["poetry", "ascii", "prose"])),
    }
    immersive = draw(st.none() | st.booleans())
    if immersive is not None:
        data["immersive"] = immersive
    return f"{draw(SLUGS)}.md", data


def render(data, order):
    lines = []
    for key in order:
        value = data[key]
        shown = str(value).lower() if isinstance(value, bool) else quoted(value)
        lines.append(f"{key}: {shown}")
    return lines


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    thought=thoughts(),
    dream=dreams(),
    landing=st.tuples(
        one_line(DEFAULT.headline_max_chars), one_line(DEFAULT.subheadline_max_chars)
    ),
    bodies=st.tuples(BODIES, BODIES),
    shuffle=st.randoms(use_true_random=False),
)
def test_valid_documents_from_the_models_pass(tmp_path, thought, dream, landing, bodies, shuffle):
    (t_name, t_data), (d_name, d_data) = thought, dream
    # the generator is right by the models' own account
    Thought.model_validate(t_data)
    Dream.model_validate(d_data)
    headline, subheadline = landing
    Landing.model_validate({"headline": headline, "subheadline": subheadline})

    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "home"
    t_keys, d_keys = list(t_data), list(d_data)
    shuffle.shuffle(t_keys)
    shuffle.shuffle(d_keys)
    t_text = "---\n" + "\n".join(render(t_data, t_keys)) + "\n---\n\n" + bodies[0]
    d_text = "---\n" + "\n".join(render(d_data, d_keys)) + "\n---\n\n" + bodies[1]
    write(root, f"thoughts/{t_name}", t_text)
    write(root, f"dreams/{d_name}", d_text)
    write(
        root,
        "landing-page/landing.json",
        json.dumps({"headline": headline, "subheadline": subheadline}, ensure_ascii=False),
    )
    write(root, "landing-page/content.md", GOOD_PAGE)
    write(root, "about/about.md", GOOD_PAGE)

    report = validate_home(root, select(root, []), DEFAULT)
    assert report.findings == (), [(f.path, f.code, f.message) for f in report.findings]
    assert report.counts.files == 5
