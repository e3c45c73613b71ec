"""Hostile inputs for `guard validate`: each case names its exact finding and ends in bounded time.

Most cases run in-process through `validate_home` (in a thread, so that a hang fails the test
instead of stopping the run); a few run the real command end to end.
"""

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from gpthome_guard.config import Limits, load_config
from gpthome_guard.render import validation_github, validation_json, validation_text
from gpthome_guard.validate import select, validate_home
from tests.conftest import GOOD_DREAM, GOOD_THOUGHT, run_guard, write

T = "thoughts/2026-01-16-morning.md"
D = "dreams/friday-light.md"
L = "landing-page/landing.json"
SECRET = "ANTHROPIC_API_KEY=sk-ant-hostile-test-5f1c2e"

HANG_SECONDS = 20  # a run still going after this long is a hang
FAST_SECONDS = 2  # every hostile case must be checked within this


def fm(*lines, body="Some text.\n"):
    """A file with a frontmatter block holding `lines`, then `body`."""
    return "---\n" + "".join(f"{line}\n" for line in lines) + "---\n\n" + body


THOUGHT_FM = ('date: "2026-01-16"', 'title: "Morning"')
DREAM_FM = ('date: "2026-01-16"', 'title: "Friday Light"', 'type: "poetry"')


def check(home, limits=None, paths=(), seconds=FAST_SECONDS):
    """validate_home that fails (rather than hangs) when a file blocks, and must be fast."""
    box = {}

    def target():
        try:
            box["report"] = validate_home(home, select(home, list(paths)), limits or Limits())
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(HANG_SECONDS)
    elapsed = time.monotonic() - start
    assert not thread.is_alive(), f"validate_home still running after {HANG_SECONDS} s"
    if "error" in box:
        raise box["error"]
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    return box["report"]


def found(report):
    return sorted((f.path, f.code, f.line) for f in report.findings)


def outputs(report):
    """Every rendering of the report, each of which must encode as UTF-8."""
    texts = [validation_text(report), validation_json(report), validation_github(report)]
    for text in texts:
        text.encode("utf-8")
    json.dumps(report.model_dump(mode="json"))
    return "\n".join(texts)


def one_json(stdout):
    """stdout holds exactly one JSON document (and nothing else but white space)."""
    value, end = json.JSONDecoder().raw_decode(stdout)
    assert not stdout[end:].strip(), f"extra output after the JSON document: {stdout[end:]!r}"
    return value


def no_pwned(*roots):
    for root in roots:
        assert not list(Path(root).rglob("PWNED")), f"PWNED was created under {root}"


# --- content: (path, bytes or text) -> exact findings ---------------------------------

LAUGHS = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)
]
ARABIC_INDIC_DATE = "2026-01-16".translate({48 + i: 0x660 + i for i in range(10)})
FULLWIDTH_DATE = "2026-01-16".translate({48 + i: 0xFF10 + i for i in range(10)})
NESTED_100 = "\n".join("  " * i + f"a{i}:" for i in range(100)) + " 1"


def param(case_id, path, content, *expected, limits=None):
    """`expected`: (code, line) or (code, line, {attribute: value}) for findings on `path`."""
    return pytest.param(path, content, expected, limits, id=case_id)


CONTENT_CASES = [
    # frontmatter blocks that are not YAML, or not closed
    param("toml-frontmatter", T, '+++\ntitle = "Morning"\n+++\n\nSome text.\n', ("Y203", 1)),
    param("json-frontmatter", T, '{\n  "title": "Morning"\n}\n\nSome text.\n', ("Y203", 1)),
    param("unclosed", T, '---\ndate: "2026-01-16"\ntitle: "x"\n\nSome text.\n', ("Y202", 1)),
    param("no-frontmatter", T, "# Morning\n\nSome text.\n", ("Y201", 1, {"fixable": True})),
    # YAML syntax and structure
    param(
        "tab-indent",
        T,
        '---\ndate: "2026-01-16"\n\ttitle: "x"\n---\n\nSome text.\n',
        ("Y205", 3),
    ),
    param("syntax-error", T, fm(*THOUGHT_FM, "mood: a: b"), ("Y204", 4)),
    param(
        "duplicate-key",
        T,
        fm('date: "2026-01-16"', 'title: "A"', 'title: "B"'),
        ("Y206", 4, {"field": "title"}),
    ),
    param("key-on", T, fm(*THOUGHT_FM, "on: true"), ("Y207", 4)),
    param("key-date", T, fm(*THOUGHT_FM, "2026-01-01: x"), ("Y207", 4)),
    param("key-int", T, fm(*THOUGHT_FM, "1: x"), ("Y207", 4)),
    param("key-list", T, fm(*THOUGHT_FM, "? [a, b]", ": x"), ("Y207", 4)),
    # the anchored node is on line 4, the first reuse on line 5
    param("billion-laughs", T, fm(*THOUGHT_FM, *LAUGHS), ("Y208", 4)),
    param("alias-once", T, fm(*THOUGHT_FM, "a: &x [1]", "b: *x"), ("Y208", 4)),
    param("nested-dicts-100", T, fm(*THOUGHT_FM, NESTED_100), ("Y209", 21)),
    param("huge-frontmatter", T, fm(*THOUGHT_FM, "big: " + "x" * 70_000), ("Y209", 2)),
    param(
        "many-keys",
        T,
        fm(*THOUGHT_FM, *[f"k{i}: v" for i in range(2100)]),
        ("Y209", 2002),
    ),
    param(
        "python-apply",
        T,
        fm('date: "2026-01-16"', 'title: !!python/object/apply:os.system ["touch PWNED"]'),
        ("Y210", 3),
    ),
    param(
        "python-name", T, fm('date: "2026-01-16"', "title: !!python/name:os.system"), ("Y210", 3)
    ),
    param(
        "python-apply-as-frontmatter",
        T,
        fm('!!python/object/apply:os.system ["touch PWNED"]'),
        ("Y211", 2),
    ),
    param("binary-tag", T, fm('date: "2026-01-16"', "title: !!binary aGk="), ("Y210", 3)),
    param("set-tag", T, fm(*THOUGHT_FM, "tags: !!set {a, b}"), ("Y210", 4)),
    param("local-tag", T, fm(*THOUGHT_FM, "mood: !shout loud"), ("Y210", 4)),
    param("quoted-bool-tag", T, fm(*THOUGHT_FM, 'mood: !!bool "true"'), ("Y210", 4)),
    param("merge-key", T, fm(*THOUGHT_FM, "base: &a {m: 1}", "<<: *a"), ("Y210", 5)),
    param(
        "merge-key-nested",
        T,
        fm(*THOUGHT_FM, "base: &a {m: 1}", "other:", "  <<: *a"),
        ("Y210", 6),
    ),
    param("list-frontmatter", T, fm("- Morning", "- 2026-01-16"), ("Y211", 2)),
    param("scalar-frontmatter", T, fm("just some words"), ("Y211", 2)),
    # YAML 1.1 guesses
    param(
        "mood-no", T, fm(*THOUGHT_FM, "mood: no"), ("Y212", 4, {"field": "mood", "fixable": True})
    ),
    param("mood-octal", T, fm(*THOUGHT_FM, "mood: 010"), ("Y212", 4)),
    param("mood-sexagesimal", T, fm(*THOUGHT_FM, "mood: 12:30:00"), ("Y212", 4)),
    param("title-42", T, fm('date: "2026-01-16"', "title: 42"), ("Y212", 3, {"field": "title"})),
    param("title-list", T, fm('date: "2026-01-16"', "title: [a]"), ("C302", 3, {"field": "title"})),
    param("title-mapping", T, fm('date: "2026-01-16"', "title: {a: 1}"), ("C302", 3)),
    param("title-null", T, fm('date: "2026-01-16"', "title:"), ("C302", 3)),
    param(
        "date-unquoted",
        T,
        fm("date: 2026-01-16", 'title: "x"'),
        ("Y213", 2, {"field": "date", "fixable": True}),
    ),
    param("date-datetime", T, fm("date: 2026-01-16T10:00:00+02:00", 'title: "x"'), ("C303", 2)),
    # dates
    param(
        "feb-30-unquoted",
        "thoughts/2026-02-28-leap.md",
        fm("date: 2026-02-30", 'title: "x"'),
        ("C303", 2, {"field": "date"}),
    ),
    param(
        "feb-30-quoted",
        "thoughts/2026-02-28-leap.md",
        fm('date: "2026-02-30"', 'title: "x"'),
        ("C303", 2, {"field": "date"}),
    ),
    param("date-one-digit-month", T, fm('date: "2026-1-16"', 'title: "x"'), ("C303", 2)),
    # `\d` matches any Unicode digit: these are not "YYYY-MM-DD" in ASCII
    param(
        "date-arabic-indic-digits",
        D,
        fm(f'date: "{ARABIC_INDIC_DATE}"', 'title: "x"', 'type: "poetry"'),
        ("C303", 2),
    ),
    param(
        "date-fullwidth-digits",
        D,
        fm(f'date: "{FULLWIDTH_DATE}"', 'title: "x"', 'type: "poetry"'),
        ("C303", 2),
    ),
    # `$` matches before a final newline
    param(
        "date-trailing-newline",
        D,
        fm('date: "2026-01-16\\n"', 'title: "x"', 'type: "poetry"'),
        ("C303", 2),
    ),
    param(
        "thought-name-arabic-indic-digits",
        f"thoughts/{ARABIC_INDIC_DATE}-morning.md",
        fm(*THOUGHT_FM),
        ("C305", None),
    ),
    # lines are counted by "\n" only, as editors and GitHub count them
    param(
        "line-separators-in-a-value",
        T,
        fm('date: "2026-01-16"', 'title: "a\u2028b\u2029c\x85d"', "mood: no"),
        ("Y204", 3),
    ),
    param(
        "lone-cr-in-a-value", T, fm('date: "2026-01-16"', 'title: "a\rb"', "mood: no"), ("Y204", 3)
    ),
    param("date-mismatch", T, fm('date: "2026-01-15"', 'title: "x"'), ("C304", 2)),
    # choices and flags
    param(
        "immersive-quoted-yes",
        D,
        fm(*DREAM_FM, 'immersive: "yes"'),
        ("C310", 5, {"field": "immersive", "fixable": True}),
    ),
    param(
        "immersive-yes",
        D,
        fm(*DREAM_FM, "immersive: yes"),
        ("C310", 5, {"field": "immersive", "fixable": True}),
    ),
    param("immersive-1", D, fm(*DREAM_FM, "immersive: 1"), ("C310", 5, {"fixable": False})),
    param(
        "type-Poem",
        D,
        fm('date: "2026-01-16"', 'title: "x"', "type: Poem"),
        ("C309", 4, {"field": "type", "fixable": True}),
    ),
    param(
        "type-haiku",
        D,
        fm('date: "2026-01-16"', 'title: "x"', "type: haiku"),
        ("C309", 4, {"field": "type", "fixable": False}),
    ),
    # fields and body
    param("missing-title", T, fm('date: "2026-01-16"'), ("C301", 1, {"field": "title"})),
    param("empty-title", T, fm('date: "2026-01-16"', 'title: ""'), ("C308", 3)),
    param("multiline-title", T, fm('date: "2026-01-16"', 'title: "a\\nb"'), ("C306", 3)),
    param(
        "long-title",
        T,
        fm('date: "2026-01-16"', f'title: "{"x" * 201}"'),
        ("C307", 3, {"field": "title"}),
    ),
    param(
        "mood-over-configured-limit",
        T,
        fm(*THOUGHT_FM, 'mood: "curious"'),
        ("C307", 4, {"field": "mood"}),
        limits=Limits(mood_max_chars=3),
    ),
    param("empty-body", T, fm(*THOUGHT_FM, body=""), ("C312", 5)),
    param("blank-body", T, fm(*THOUGHT_FM, body="  \n\n"), ("C312", 5)),
    param(
        "unknown-key",
        T,
        fm(*THOUGHT_FM, 'tags: ["sky"]'),
        ("C311", 4, {"field": "tags", "severity": "warning"}),
    ),
    # file names
    param(
        "thought-bad-name",
        "thoughts/morning.md",
        fm(*THOUGHT_FM),
        ("C305", None, {"fixable": False}),
    ),
    param(
        "thought-impossible-date-name",
        "thoughts/2026-02-30-x.md",
        fm(*THOUGHT_FM),
        ("C305", None),
    ),
    param(
        "dream-name-with-spaces",
        "dreams/Friday Light.md",
        GOOD_DREAM,
        ("C305", None, {"fixable": True, "message": "rename it friday-light.md"}),
    ),
    # bytes
    param("bom", T, b"\xef\xbb\xbf" + GOOD_THOUGHT.encode(), ("R107", 1, {"fixable": True})),
    param(
        "crlf",
        T,
        GOOD_THOUGHT.replace("\n", "\r\n").encode(),
        ("R108", 1, {"severity": "warning", "fixable": True}),
    ),
    param(
        "crlf-other-checks-still-run",
        T,
        fm('date: "2026-01-16"', "title: 42").replace("\n", "\r\n").encode(),
        ("R108", 1),
        ("Y212", 3),
    ),
    param(
        "invalid-utf8",
        T,
        b'---\ndate: "2026-01-16"\ntitle: "caf\xe9"\n---\n\nSome text.\n',
        ("R106", 3, {"message": "byte 34"}),
    ),
    param(
        "bom-then-invalid-utf8",
        T,
        b'\xef\xbb\xbf---\ndate: "2026-01-16"\ntitle: "caf\xe9"\n---\n\nSome text.\n',
        ("R107", 1),
        ("R106", 3, {"message": "byte 37"}),
    ),
    param(
        "binary-png", T, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("R106", 1, {"message": "byte 0"})
    ),
    param("binary-elf", T, b"\x7fELF\x02\x01\x01\x00", ("R109", 1)),
    param("nul-in-title", T, b'---\ndate: "2026-01-16"\ntitle: "a\x00"\n---\n\nx\n', ("R109", 3)),
    # landing.json
    param("landing-invalid-json", L, "{bad", ("J401", 1)),
    param("landing-trailing-comma", L, '{"headline": "a", "subheadline": "b",}', ("J401", 1)),
    param("landing-empty", L, "", ("J401", 1)),
    param("landing-array", L, '["a", "b"]', ("J402", 1)),
    param(
        "landing-duplicate-key",
        L,
        '{"headline": "a", "headline": "b", "subheadline": "c"}',
        ("J403", None, {"field": "headline"}),
    ),
    param("landing-nan", L, '{"headline": NaN, "subheadline": "c"}', ("J404", None)),
    param("landing-infinity", L, '{"headline": "a", "subheadline": -Infinity}', ("J404", None)),
    param(
        "landing-huge-int",
        L,
        '{"headline": ' + "1" * 5000 + ', "subheadline": "c"}',
        ("J401", None),
    ),
    param("landing-deep", L, "[" * 100_000 + "]" * 100_000, ("J401", None)),
    param(
        "landing-missing-headline",
        L,
        '{"subheadline": "c"}',
        ("C301", 1, {"field": "headline"}),
    ),
    param(
        "landing-long-headline",
        L,
        '{"headline": "' + "h" * 121 + '", "subheadline": "c"}',
        ("C307", 1, {"field": "headline"}),
    ),
    param(
        "landing-headline-number",
        L,
        '{"subheadline": "c",\n "headline": 5}',
        ("C302", 2, {"field": "headline"}),
    ),
    # skipped
    param("readme-in-thoughts", "thoughts/README.md", b"\x00\xff not even text"),
    param("readme-in-dreams", "dreams/README.md", "# What lives here\n"),
]


@pytest.mark.parametrize(("path", "content", "expected", "limits"), CONTENT_CASES)
def test_content(home, tmp_path, monkeypatch, path, content, expected, limits):
    monkeypatch.chdir(tmp_path)  # where `touch PWNED` would land
    write(home, path, content)
    report = check(home, limits)
    want = sorted((path, e[0], e[1]) for e in expected)
    assert found(report) == want, [f.message for f in report.findings]
    for e in expected:
        if len(e) < 3:
            continue
        (finding,) = [f for f in report.findings if (f.code, f.line) == e[:2]]
        for attribute, value in e[2].items():
            if attribute == "message":
                assert value in finding.message
            else:
                assert getattr(finding, attribute) == value, (attribute, finding)
    outputs(report)
    no_pwned(tmp_path)


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "[" * 5000])
def test_deep_flow_nesting(home, text):
    write(home, T, fm(*THOUGHT_FM, text))
    report = check(home)
    # libyaml stops at its nesting limit (Y209 where it stopped); the pure-Python parser
    # recurses until Python's limit (Y204 for the RecursionError)
    assert found(report) in ([(T, "Y209", 4)], [(T, "Y204", 2)])


def test_deep_nesting_within_a_generous_depth_limit_is_a_finding(home):
    """With the largest max_yaml_depth allowed, a deep (but parseable) block must still be a
    finding, not a RecursionError that aborts the whole run."""
    write(home, T, fm(*THOUGHT_FM, "a: " + "[" * 900 + "]" * 900))
    report = check(home, Limits(max_yaml_depth=200))
    assert [(f.code, f.line) for f in report.findings if f.path == T] in (
        [("Y209", 4)],
        [("Y204", 4)],
    )


# --- the file system -------------------------------------------------------------------


def _symlink_env(home):
    write(home, "runner/.env", SECRET + "\n")
    os.symlink("../runner/.env", home / "thoughts/2026-01-17-env.md")
    return [("thoughts/2026-01-17-env.md", "R101", None)]


def _symlink_shadow(home):
    os.symlink("/etc/shadow", home / "thoughts/2026-01-17-shadow.md")
    return [("thoughts/2026-01-17-shadow.md", "R101", None)]


def _symlink_dangling(home):
    os.symlink("nowhere.md", home / "dreams/dangling.md")
    return [("dreams/dangling.md", "R101", None)]


def _symlink_loop(home):
    os.symlink("b.md", home / "dreams/a.md")
    os.symlink("a.md", home / "dreams/b.md")
    os.symlink("self.md", home / "dreams/self.md")
    return [(f"dreams/{n}.md", "R101", None) for n in ("a", "b", "self")]


def _symlink_to_directory(home):
    os.symlink("/etc", home / "dreams/etc")
    return [("dreams/etc", "R101", None)]


def _symlink_page(home):
    (home / "about/about.md").unlink()
    os.symlink("/etc/passwd", home / "about/about.md")
    return [("about/about.md", "R101", None)]


def _content_dir_symlink(home):
    for path in (home / "thoughts").iterdir():
        path.unlink()
    (home / "thoughts").rmdir()
    os.symlink("/etc", home / "thoughts")
    return [("thoughts", "H503", None)]


def _content_dir_file(home):
    for path in (home / "dreams").iterdir():
        path.unlink()
    (home / "dreams").rmdir()
    write(home, "dreams", "not a directory\n")
    return [("dreams", "H503", None)]


def _content_dir_missing(home):
    for path in (home / "landing-page").iterdir():
        path.unlink()
    (home / "landing-page").rmdir()
    return [
        ("landing-page/content.md", "H504", None),
        ("landing-page/landing.json", "H504", None),
    ]


def _fifo(home):
    os.mkfifo(home / "thoughts/2026-01-17-fifo.md")
    os.mkfifo(home / "landing-page/landing.json.tmp")
    return [
        ("landing-page/landing.json.tmp", "R101", None),
        ("thoughts/2026-01-17-fifo.md", "R101", None),
    ]


def _fifo_page(home):
    (home / L).unlink()
    os.mkfifo(home / L)
    return [(L, "R101", None)]


def _socket(home):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(home / "dreams/sock.md"))
    sock.close()  # the socket file stays
    return [("dreams/sock.md", "R101", None)]


def _directory_named_md(home):
    (home / "dreams/x.md").mkdir()
    (home / L).unlink()
    (home / L).mkdir()
    return [("dreams/x.md", "R102", None), (L, "R102", None)]


def _subdirectory(home):
    write(home, "thoughts/2026/01-16.md", GOOD_THOUGHT)
    return [("thoughts/2026", "H502", None)]


def _hard_link(home):
    os.link(home / T, home / "thoughts/2026-01-17-link.md")
    return [(T, "R104", None), ("thoughts/2026-01-17-link.md", "R104", None)]


def _hard_link_from_outside(home):
    os.link(home / D, home / "sandbox/copy.md")
    return [(D, "R104", None)]


def _sparse(size):
    def setup(home):
        with open(home / "thoughts/2026-01-17-big.md", "wb") as f:
            f.truncate(size)
        return [("thoughts/2026-01-17-big.md", "R103", None)]

    return setup


def _stray_file(home):
    write(home, "thoughts/notes.txt", "x")
    return [("thoughts/notes.txt", "H501", None)]


FS_CASES = [
    pytest.param(_symlink_env, id="symlink-to-runner-env"),
    pytest.param(_symlink_shadow, id="symlink-to-etc-shadow"),
    pytest.param(_symlink_dangling, id="symlink-dangling"),
    pytest.param(_symlink_loop, id="symlink-loop"),
    pytest.param(_symlink_to_directory, id="symlink-to-directory"),
    pytest.param(_symlink_page, id="symlink-page"),
    pytest.param(_content_dir_symlink, id="thoughts-symlink-to-etc"),
    pytest.param(_content_dir_file, id="dreams-is-a-file"),
    pytest.param(_content_dir_missing, id="landing-page-missing"),
    pytest.param(_fifo, id="fifo"),
    pytest.param(_fifo_page, id="fifo-landing-json"),
    pytest.param(_socket, id="unix-socket"),
    pytest.param(_directory_named_md, id="directory-named-md"),
    pytest.param(_subdirectory, id="subdirectory"),
    pytest.param(_hard_link, id="hard-link"),
    pytest.param(_hard_link_from_outside, id="hard-link-from-sandbox"),
    pytest.param(_sparse(50 * 1024 * 1024), id="sparse-50-MB"),
    pytest.param(_sparse(64 * 1024**3), id="sparse-64-GiB"),  # reading it would take minutes
    pytest.param(_stray_file, id="stray-file"),
]


def _shadow_lines():
    try:
        text = Path("/etc/shadow").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if len(line) >= 8]


@pytest.mark.parametrize("setup", FS_CASES)
def test_file_system(home, setup):
    expected = setup(home)
    report = check(home)
    assert found(report) == sorted(expected), [f.message for f in report.findings]
    text = outputs(report)
    assert SECRET not in text
    for line in _shadow_lines():
        assert line not in text


def test_oversize_file_names_its_size(home):
    with open(home / "thoughts/2026-01-17-big.md", "wb") as f:
        f.truncate(50 * 1024 * 1024)
    report = check(home, seconds=1)
    (finding,) = report.findings
    assert finding.code == "R103"
    assert "52428800 bytes" in finding.message


def test_file_over_a_configured_size_limit(home):
    report = check(home, Limits(max_file_bytes=40))
    assert found(report) == sorted(
        (p, "R103", None)
        for p in (T, D, L, "landing-page/content.md", "about/about.md")
        if (home / p).stat().st_size > 40
    )


def test_symlink_target_is_neither_read_nor_shown(home):
    _symlink_env(home)
    report = check(home)
    (finding,) = report.findings
    assert finding.message == "a symlink; links are never followed: write a regular file"
    assert SECRET not in outputs(report)
    assert "runner/.env" not in outputs(report)  # a link's text may itself be a secret


def test_content_dir_symlink_reads_nothing_behind_it(home):
    _content_dir_symlink(home)
    report = check(home)
    assert all(not f.path.startswith("thoughts/") for f in report.findings)
    assert report.counts.files == 4  # the other content directories only


def test_parallel_workers_find_the_same(home):
    for setup in (_symlink_env, _symlink_loop, _fifo, _hard_link, _socket, _sparse(10**8)):
        setup(home)
    write(home, "dreams/laughs.md", fm(*DREAM_FM, *LAUGHS))
    write(home, "dreams/Bad Name.md", fm(*DREAM_FM, "type: Poem"))
    serial = validate_home(home, select(home, []), Limits(), jobs=1)
    parallel = validate_home(home, select(home, []), Limits(), jobs=2)
    assert parallel.findings == serial.findings
    assert parallel.counts == serial.counts


# --- file names --------------------------------------------------------------------------

NAME_CASES = [
    # (directory, raw name, the path as shown)
    ("thoughts", b"2026-01-17-a\nb.md", "thoughts/2026-01-17-a\\x0ab.md"),
    ("thoughts", b"2026-01-17-a\rb.md", "thoughts/2026-01-17-a\\x0db.md"),
    ("dreams", b"a\tb.md", "dreams/a\\x09b.md"),
    ("dreams", b"$(touch PWNED).md", "dreams/$(touch PWNED).md"),
    ("dreams", b"`touch PWNED`.md", "dreams/`touch PWNED`.md"),
    ("dreams", b"-rf.md", "dreams/-rf.md"),
    ("dreams", b"--help.md", "dreams/--help.md"),
    ("dreams", b"\xff.md", "dreams/\\xff.md"),
    ("dreams", b"caf\xe9.md", "dreams/caf\\xe9.md"),
    ("dreams", b"a\x1b[2J\x1b[31mred.md", "dreams/a\\x1b[2J\\x1b[31mred.md"),
    ("dreams", "a\u202eb.md".encode(), "dreams/a\\u202eb.md"),
    ("dreams", "a\x85b.md".encode(), "dreams/a\\x85b.md"),
    ("dreams", "a\u2028b.md".encode(), "dreams/a\\u2028b.md"),
]


def _write_named(home, directory, name):
    content = GOOD_DREAM if directory == "dreams" else fm('date: "2026-01-17"', 'title: "x"')
    path = os.path.join(os.fsencode(home / directory), name)
    with open(path, "wb") as f:
        f.write(content.encode())


@pytest.mark.parametrize(
    ("directory", "name", "shown"),
    [pytest.param(*case, id=repr(case[1])[2:-1]) for case in NAME_CASES],
)
def test_hostile_file_name(home, tmp_path, monkeypatch, directory, name, shown):
    monkeypatch.chdir(tmp_path)
    _write_named(home, directory, name)
    report = check(home)
    assert found(report) == [(shown, "C305", None)]
    for finding in report.findings:
        assert finding.path.isprintable(), finding.path
        assert finding.message.isprintable(), finding.message
    text = outputs(report)
    raw = f"{directory}/{os.fsdecode(name)}"
    if raw != shown:  # escaped: the raw name must not slip through anywhere
        assert raw not in text
    no_pwned(tmp_path)


# --- messages never carry raw control characters from the file's values -----------------

ESCAPE_CASES = [
    pytest.param(
        fm('date: "2026-01-16"', 'title: "x"', r'type: "\e[2J\e[31mpoetry"'),
        "C309",
        4,
        id="choice-value",
    ),
    pytest.param(fm(*DREAM_FM, r'immersive: "\e[31myes"'), "C310", 5, id="bool-value"),
    pytest.param(fm(*DREAM_FM, r'!!int "\e[31m": 1'), "Y207", 5, id="non-string-key"),
    pytest.param(fm(*DREAM_FM, r"k: !<tag:yaml.org,2002:%1B[31m> x"), "Y210", 5, id="tag"),
    pytest.param(fm(*DREAM_FM, r'"\e[31mkey": 1'), "C311", 5, id="unknown-key"),
]


@pytest.mark.parametrize(("content", "code", "line"), ESCAPE_CASES)
def test_messages_are_printable(home, content, code, line):
    write(home, D, content)
    report = check(home)
    assert found(report) == [(D, code, line)]
    (finding,) = report.findings
    assert finding.message.isprintable(), repr(finding.message)
    assert "\x1b" not in validation_text(report)


# --- end to end ----------------------------------------------------------------------------


def test_valid_home_end_to_end(home):
    assert found(check(home)) == []
    result = run_guard("validate", "--home", str(home), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = one_json(result.stdout)
    assert data["status"] == "ok"
    assert data["findings"] == []
    assert data["counts"]["files"] == 5
    assert result.stderr == ""


def test_hostile_home_end_to_end(home, tmp_path):
    expected = []
    for setup in (
        _symlink_env,
        _symlink_shadow,
        _symlink_loop,
        _fifo,
        _socket,
        _hard_link,
        _sparse(64 * 1024**3),
        _directory_named_md,
    ):
        expected += setup(home)
    write(home, "dreams/laughs.md", fm(*DREAM_FM, *LAUGHS))
    expected.append(("dreams/laughs.md", "Y208", 5))
    write(
        home, "dreams/apply.md", fm(*DREAM_FM, 'x: !!python/object/apply:os.system ["touch PWNED"]')
    )
    expected.append(("dreams/apply.md", "Y210", 5))
    for directory, name, shown in NAME_CASES:
        if "\\u2028" in shown:
            continue  # test_hostile_file_name covers it
        _write_named(home, directory, name)
        expected.append((shown, "C305", None))

    start = time.monotonic()
    result = run_guard(
        "validate", "--home", str(home), "--format", "json", cwd=tmp_path, timeout=HANG_SECONDS
    )
    assert time.monotonic() - start < 10
    assert result.returncode == 1, result.stderr
    data = one_json(result.stdout)
    assert data["status"] == "findings"
    assert sorted((f["path"], f["code"], f["line"]) for f in data["findings"]) == sorted(expected)
    assert SECRET not in result.stdout + result.stderr
    for line in _shadow_lines():
        assert line not in result.stdout + result.stderr
    no_pwned(tmp_path)

    text = run_guard("validate", "--home", str(home), cwd=tmp_path, timeout=HANG_SECONDS)
    assert text.returncode == 1
    assert "\x1b" not in text.stdout
    for line in text.stdout.split("\n"):
        assert line.isprintable(), repr(line)
    no_pwned(tmp_path)


def test_fifo_end_to_end_does_not_hang(home):
    os.mkfifo(home / "thoughts/2026-01-17-fifo.md")
    result = run_guard("validate", "--home", str(home), "--format", "json", timeout=HANG_SECONDS)
    assert result.returncode == 1
    (finding,) = one_json(result.stdout)["findings"]
    assert (finding["path"], finding["code"]) == ("thoughts/2026-01-17-fifo.md", "R101")


def test_readme_named_on_the_command_line_is_skipped_too(home):
    """The directory scan skips thoughts/README.md; naming it (as a pre-commit hook does with
    every staged file) must not check it either, or the two disagree."""
    write(home, "thoughts/README.md", "# What lives here\n")
    assert found(check(home)) == []
    assert found(check(home, paths=[str(home / "thoughts/README.md")])) == []
    result = run_guard("validate", "--home", str(home), str(home / "thoughts/README.md"))
    assert result.returncode == 0, result.stdout


# --- guard.toml --------------------------------------------------------------------------


def test_guard_toml_limits_apply(home):
    write(home, "guard.toml", "[limits]\ntitle_max_chars = 5\n")
    write(home, T, fm('date: "2026-01-16"', 'title: "Morning"'))
    report = check(home, load_config(home).limits)
    # GOOD_DREAM's "Friday Light" is over 5 characters too
    assert found(report) == [(D, "C307", 3), (T, "C307", 3)]

    result = run_guard("validate", "--home", str(home), "--format", "json")
    assert result.returncode == 1
    findings = one_json(result.stdout)["findings"]
    assert sorted((f["path"], f["code"], f["line"]) for f in findings) == found(report)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param('[limits]\n\ntitle_max_chars = "five"\n', "guard.toml:3:", id="wrong-type"),
        pytest.param("[limits]\ntitle_max_chars = 0\n", "guard.toml:2:", id="below-minimum"),
        pytest.param("[limits]\nbogus = 1\n", "guard.toml:2:", id="unknown-key"),
        pytest.param("[limits]\ntitle_max_chars =\n", "line 2", id="toml-syntax"),
        pytest.param("[limits\n", "line 1", id="unclosed-table"),
    ],
)
def test_bad_guard_toml_is_a_usage_error(home, text, where):
    write(home, "guard.toml", text)
    result = run_guard("validate", "--home", str(home))
    assert result.returncode == 2
    assert result.stdout == ""
    assert where in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    result = run_guard("validate", "--home", str(home), "--format", "json")
    assert result.returncode == 2
    data = one_json(result.stdout)
    assert data["status"] == "error"
    assert data["error"]["exit_code"] == 2
    assert where in data["error"]["message"]


def test_guard_toml_fifo_does_not_hang(home):
    os.mkfifo(home / "guard.toml")
    result = run_guard("validate", "--home", str(home), timeout=5)
    assert result.returncode == 2
    assert "guard.toml" in result.stderr


def test_generous_depth_limit_end_to_end_is_not_an_internal_error(home):
    write(home, "guard.toml", "[limits]\nmax_yaml_depth = 100000\n")
    write(home, T, fm(*THOUGHT_FM, "a: " + "[" * 900 + "]" * 900))
    result = run_guard("validate", "--home", str(home), "--format", "json")
    assert "internal error" not in result.stderr
    assert result.returncode in (1, 2), result.stderr
