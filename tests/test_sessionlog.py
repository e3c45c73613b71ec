"""Session logs: the sample logs in tests/logs/, dates, markers, statuses, first_sentence, and
hypothesis properties (no input crashes the parser or keeps it busy; text between the markers or
inside JSON never moves them); hostile inputs end in bounded time and memory."""

import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpthome_guard.sessionlog import (
    SessionLog,
    SessionStatus,
    first_sentence,
    parse_date,
    parse_session_log,
)

LOGS = Path(__file__).parent / "logs"
SAMPLES = sorted(LOGS.glob("*.log"))
PINNED = {"status", "turns", "cost_usd", "summary", "started", "ended", "duration_s"}
FLOATS = {"cost_usd", "duration_s"}

START = "=== Session started: Wed Nov  5 06:00:01 UTC 2025 ===\n"
END = "=== Session ended: Wed Nov  5 06:59:59 UTC 2025 ===\n"
T0 = datetime(2025, 11, 5, 6, 0, 1, tzinfo=UTC)
T1 = datetime(2025, 11, 5, 6, 59, 59, tzinfo=UTC)
SUMMARY = "Wrote the morning thought."
RESULT = (
    '{"type":"result","subtype":"success","is_error":false,"num_turns":3,'
    f'"result":"{SUMMARY}","session_id":"s1","total_cost_usd":0.25}}\n'
)
MB = 1 << 20
BUDGET_SECONDS = 10  # a hostile log (clipped to 32 MB) must be read within this


def parse(text, file_name=None):
    return parse_session_log(text.encode() if isinstance(text, str) else text, file_name)


def result(**fields):
    return json.dumps({"type": "result", **fields}) + "\n"


def check_sane(log):
    """What every parse must give, whatever the input."""
    assert isinstance(log, SessionLog)
    assert not (log.error or "").startswith("unreadable log"), log.error  # the fallback
    assert log.error is None or ("\n" not in log.error and len(log.error) <= 300)
    assert log.summary is None or len(log.summary) <= 4000
    if log.duration_s is not None:
        assert log.started is not None
        assert log.ended is not None
        assert log.duration_s >= 0
    assert len(log.models) <= 16
    assert len(log.session_ids) <= 16


# --- the sample logs -----------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_log(path):
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    file_name = expected.pop("$file_name", path.name)
    assert expected.keys() >= PINNED, f"{path.name}: pin {sorted(PINNED - expected.keys())}"
    log = parse_session_log(path.read_bytes(), file_name)
    check_sane(log)
    got = log.model_dump(mode="json")
    for key, value in expected.items():
        if key in FLOATS and value is not None:
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got[key] == value, key


def test_samples_cover_every_status_and_both_clis():
    expected = [json.loads(p.with_suffix(".expected.json").read_text()) for p in SAMPLES]
    assert len(SAMPLES) >= 14
    assert {e["status"] for e in expected} == {s.value for s in SessionStatus}
    assert {e.get("cli") for e in expected} >= {"claude", "codex", None}


def test_the_log_is_frozen():
    log = parse(START + RESULT + END)
    with pytest.raises(ValueError, match="frozen"):
        log.status = SessionStatus.ERROR


# --- dates ---------------------------------------------------------------------------------


def at(*args, hours=0):
    return datetime(*args, tzinfo=timezone(timedelta(hours=hours)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Nov  5 06:00:01 UTC 2025", at(2025, 11, 5, 6, 0, 1)),
        ("Wed Nov 5 06:00:01 UTC 2025", at(2025, 11, 5, 6, 0, 1)),
        ("Sun Mar  8 02:30:22 PM CET 2026", at(2026, 3, 8, 14, 30, 22, hours=1)),
        ("Sun Mar  8 12:05:00 AM CET 2026", at(2026, 3, 8, 0, 5, hours=1)),
        ("Sun Mar  8 12:05:00 PM CET 2026", at(2026, 3, 8, 12, 5, hours=1)),
        ("Tue Jun 16 18:00:01 CEST 2026", at(2026, 6, 16, 18, 0, 1, hours=2)),
        ("Mon Jan  5 01:02:03 EST 2026", at(2026, 1, 5, 1, 2, 3, hours=-5)),
        ("Mon Jul  6 01:02:03 PDT 2026", at(2026, 7, 6, 1, 2, 3, hours=-7)),
        ("Wed Nov  5 06:00:01 +04 2025", at(2025, 11, 5, 6, 0, 1, hours=4)),
        ("Wed 5 Nov 06:00:01 GMT 2025", at(2025, 11, 5, 6, 0, 1)),
        ("Wed, 05 Nov 2025 06:00:01 +0100", at(2025, 11, 5, 6, 0, 1, hours=1)),
        ("Wednesday November 5 06:00 UTC 2025", at(2025, 11, 5, 6, 0)),
        ("Wed Nov  5 06:00:01 2025", at(2025, 11, 5, 6, 0, 1)),
        ("2025-11-05T06:00:01Z", at(2025, 11, 5, 6, 0, 1)),
        ("2025-11-05T06:00:01+01:00", at(2025, 11, 5, 6, 0, 1, hours=1)),
        ("2025-11-05T06:00:01,123456789+01:00", at(2025, 11, 5, 6, 0, 1, 123456, hours=1)),
        ("2025-11-05 06:00:01", at(2025, 11, 5, 6, 0, 1)),
        ("2025-11-05 06:00:01 +0100", at(2025, 11, 5, 6, 0, 1, hours=1)),
        ("2025-11-05 06:00:01 CET", at(2025, 11, 5, 6, 0, 1, hours=1)),
    ],
)
def test_parse_date(text, expected):
    got = parse_date(text)
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "now",
        "So 8. Mär 14:30:22 CET 2026",  # de_DE: translated and reordered
        "Wed Nov  5 06:00:01 CST 2025",  # US, China or Cuba: not guessed
        "Wed Nov  5 06:00:01 XYZ 2025",
        "Fri Feb 30 06:00:01 UTC 2026",
        "Wed Nov  5 25:00:01 UTC 2025",
        "Wed Nov  5 13:00:01 PM UTC 2025",
        "Wed Nov  5 UTC 2025",  # no time
        "Wed Nov 06:00:01 UTC 2025",  # no day
        "Wed Nov  5 5 06:00:01 UTC 2025",  # two days
        "Wed Nov  5 06:00:01 +99 2025",
        "²² Nov 06:00:01 UTC 2025",
        "2025-13-05T06:00:01Z",
        "2025-11-05T06:00:01+01:00 CET",  # two zones
        "Wed Nov  5 06:00:01 UTC 2025" + " " * 200,
    ],
)
def test_parse_date_gives_up(text):
    assert parse_date(text) is None


def test_start_falls_back_to_the_file_name_as_utc():
    log = parse(
        "=== Session started: So 8. Mär 14:30:22 CET 2026 ===\n",
        "logs/session-20260308-143022.log",
    )
    assert log.started == at(2026, 3, 8, 14, 30, 22)
    assert log.start_from_file_name
    log = parse(START + RESULT + END, "session-20260308-143022.log")
    assert (log.started, log.start_from_file_name) == (T0, False)  # the marker wins


@pytest.mark.parametrize(
    "name", [None, "", "session.log", "session-20261399-250000.log", "x-1-2.log"]
)
def test_no_start_without_a_readable_file_name(name):
    log = parse(RESULT + END, name)
    assert (log.started, log.start_from_file_name, log.duration_s) == (None, False, None)
    assert log.ended == T1


def test_no_duration_from_a_file_name_time():
    """The file name holds local time in an unknown zone: a duration from it would be a guess."""
    log = parse("=== Session started ===\n" + RESULT + END, "session-20251105-060001.log")
    assert log.start_from_file_name
    assert (log.ended, log.duration_s) == (T1, None)


def test_end_before_start_gives_no_duration():
    log = parse(START.replace("06:00:01", "07:00:01") + RESULT + END)
    assert (log.ended, log.duration_s) == (T1, None)


# --- markers -------------------------------------------------------------------------------


def test_markers_inside_json_do_not_count():
    quoted = json.dumps({"type": "user", "content": "x\n" + END + START})
    log = parse(quoted + "\n" + START + RESULT + quoted + "\n")
    assert (log.started, log.ended, log.status) == (T0, None, SessionStatus.TIMEOUT)


def test_a_marker_must_start_its_line_or_close_it():
    assert parse("x " + START + RESULT).started is None
    log = parse(START + RESULT + "x " + END.rstrip("\n") + " more\n")
    assert (log.ended, log.status) == (None, SessionStatus.TIMEOUT)
    log = parse(START + RESULT + "x " + END)  # closes a line: glued to unterminated output
    assert (log.ended, log.status) == (T1, SessionStatus.COMPLETED)
    log = parse(START + RESULT + END.rstrip("\n") + " trailing words\n")  # starts a line
    assert log.ended == T1


def test_the_first_start_marker_and_the_last_end_marker_win():
    early_end = "=== Session ended: Wed Nov  5 06:10:00 UTC 2025 ===\n"
    late_start = "=== Session started: Wed Nov  5 06:20:00 UTC 2025 ===\n"
    log = parse(START + early_end + late_start + RESULT + END)
    assert (log.started, log.ended, log.duration_s) == (T0, T1, 3598.0)


def test_an_end_marker_before_the_start_marker_is_not_an_end():
    log = parse(END + START + RESULT)
    assert (log.started, log.ended, log.status) == (T0, None, SessionStatus.TIMEOUT)
    assert log.summary == SUMMARY  # what did finish is still reported


def test_markers_without_dates_and_with_colour_codes():
    log = parse(
        "\x1b[1m=== Session started ===\x1b[0m\r\n" + RESULT + "\x1b[0m=== Session ended ==="
    )
    assert (log.started, log.ended, log.status) == (None, None, SessionStatus.COMPLETED)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Type: morning", "morning"),
        ("Type:Evening  ", "evening"),
        ("Type: visit", "visit"),
        ("Type: nap", None),
        ("Type: morning-ish", None),
        ("Type:", None),
        (" Type: morning", None),
    ],
)
def test_type_line(line, expected):
    assert parse(START + line + "\n" + RESULT + END).type == expected


def test_only_the_first_type_line_counts():
    assert parse(START + "Type: evening\nType: visit\n" + END).type == "evening"


# --- statuses ------------------------------------------------------------------------------

LIMIT = "Claude AI usage limit reached|1760000000"


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"subtype": "success", "is_error": False, "result": "ok"}, "completed", None),
        ({"result": "ok"}, "completed", None),
        ({"subtype": "success", "is_error": True, "result": "Invalid API key"}, "api_error",
         "Invalid API key"),
        ({"subtype": "success", "is_error": True, "result": LIMIT}, "api_error", LIMIT),
        ({"subtype": "error_during_execution", "is_error": True, "api_error_status": 401},
         "api_error", "error_during_execution"),
        ({"subtype": "error_max_turns", "is_error": True, "errors": []}, "max_turns",
         "error_max_turns"),
        ({"subtype": "error_max_budget_usd", "is_error": True, "errors": ["Budget", "spent"]},
         "error", "Budget; spent"),
        ({"subtype": "error", "is_error": True, "result": "line one\nline two"}, "error",
         "line one line two"),
        ({"subtype": "something_new", "is_error": False}, "error", "something_new"),
        ({"is_error": True, "errors": "not a list"}, "api_error", "error"),
    ],
)  # fmt: skip
def test_claude_result_status(fields, status, error):
    log = parse(START + result(**fields) + END)
    assert (log.status, log.error) == (status, error)
    assert (log.summary is not None) == (status == "completed")


def test_several_results_are_summed_and_the_last_one_reports():
    first = result(subtype="success", is_error=False, num_turns=4, total_cost_usd=0.1, result="x")
    last = result(
        subtype="error_max_turns",
        is_error=True,
        num_turns=41,
        total_cost_usd=0.2,
        errors=["Reached maximum number of turns (40)"],
    )
    log = parse(START + first + last + END)
    assert (log.status, log.turns, log.cost_usd, log.results) == ("max_turns", 45, 0.3, 2)
    assert (log.summary, log.error) == (None, "Reached maximum number of turns (40)")


def test_bad_numbers_are_not_summed():
    bad = result(num_turns=True, total_cost_usd="0.3") + result(num_turns=-1, total_cost_usd=1e999)
    log = parse(START + bad + END)
    assert (log.turns, log.cost_usd, log.results) == (None, None, 2)
    assert parse(START + result(cost_usd=0.5) + END).cost_usd == 0.5  # the pre-2.x name


CODEX_START = '{"type":"thread.started","thread_id":"t"}\n{"type":"turn.started"}\n'
USAGE_LIMIT = "You\u2019ve hit your usage limit. Try again at 1:37 AM."


def test_codex_trailing_error_without_turn_failed():
    log = parse(START + CODEX_START + json.dumps({"type": "error", "message": USAGE_LIMIT}) + END)
    assert (log.status, log.error, log.cli, log.results) == ("error", USAGE_LIMIT, "codex", 0)


def test_codex_summary_belongs_to_the_last_turn():
    def turn(text):
        item = {"type": "item.completed", "item": {"type": "agent_message", "text": text}}
        return '{"type":"turn.started"}\n' + json.dumps(item) + '\n{"type":"turn.completed"}\n'

    log = parse(START + turn("first") + '{"type":"turn.started"}\n{"type":"turn.completed"}\n')
    assert (log.summary, log.turns, log.cost_usd) == (None, 2, None)
    log = parse(START + turn("first") + turn("second") + END)
    assert (log.summary, log.turns, log.status) == ("second", 2, "completed")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            'Traceback (most recent call last):\n  File "x.py", line 1\n'
            "ModuleNotFoundError: No module named 'x'\n",
            "ModuleNotFoundError: No module named 'x'",
        ),
        (
            "Error: When using --print, --output-format=stream-json requires --verbose\n",
            "Error: When using --print, --output-format=stream-json requires --verbose",
        ),
        ("Type: morning\nsomething odd happened\nand then this\n", "and then this"),
        ("Type: morning\n\n \n", "no output"),
    ],
)
def test_plain_text_is_a_crash(body, error):
    log = parse(START + body + END)
    assert (log.status, log.error) == ("crashed", error)


def test_text_without_markers_is_a_crash_only_when_it_says_so():
    assert parse("bash: claude: command not found\n").status == "crashed"
    assert parse("just some words\n").status == "no_log"


def test_never_raises_even_on_a_wrong_argument():
    log = parse_session_log(None)  # type: ignore[arg-type]
    assert (log.status, log.error) == ("no_log", "unreadable log (TypeError)")


# --- first_sentence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Created `hello.txt` with "hello world".', 'Created hello.txt with "hello world"'),
        ("Done. Then more.", "Done"),
        ("What now? Later.", "What now?"),
        ("**Evening entry written.** I read yesterday's log.", "Evening entry written"),
        (
            "Wrote *one* _thought_ about `__init__.py` and snake_case_names",
            "Wrote one thought about __init__.py and snake_case_names",
        ),
        ("See [the page](https://example.org/x) now", "See the page now"),
        ("## Summary\n\nWrote a thought.\n\nMore.", "Wrote a thought"),
        ("# Only a heading", "Only a heading"),
        ("- Wrote a thought\n- Fixed a dream", "Wrote a thought"),
        ("Line one\ncontinues here. Next.", "Line one continues here"),
        ("  spaced\t\tout   words  ", "spaced out words"),
        ("v2.1.59 is out. Yes.", "v2.1.59 is out"),
        ("Wait...", "Wait..."),
        ("", ""),
        (
            "Wrote a long morning thought about the light on the water and the birds outside.",
            "Wrote a long morning thought about the light on the water…",
        ),
        (
            "Wrote thoughts, dreams, fixes, notes, more notes and other things.",
            "Wrote thoughts, dreams, fixes, notes, more notes and other…",
        ),
        ("x" * 80, "x" * 59 + "…"),
    ],
)
def test_first_sentence(text, expected):
    assert first_sentence(text) == expected


def test_first_sentence_cut_drops_dangling_punctuation():
    assert first_sentence("Wrote one thought, two dreams, and fixed it", 20) == "Wrote one thought…"


@given(st.text(max_size=300), st.integers(min_value=-1, max_value=120))
def test_first_sentence_is_one_short_line(text, limit):
    line = first_sentence(text, limit)
    assert len(line) <= max(limit, 1)
    assert line == " ".join(line.split())


# --- hypothesis: robustness ----------------------------------------------------------------

FRAGMENTS = [
    START, END, START.rstrip("\n"), END.rstrip("\n"), "Type: morning\n", RESULT, "\n", "\r\n",
    "\r", "\x1b[2K", "\x1b]0;title\x07", "{", "[", '"type"', '{"type":"result"', "}", "]",
    "=== Session ended: ", " ===", "command not found\n", "Error: boom\n", "\xff", "\ufeff",
    CODEX_START, '{"type":"turn.failed","error":null}\n', '{"type":"turn.completed"}\n',
    '{"type":"error","message":"x"}\n', "[" * 3000,
    '{"type":"item.completed","item":{"type":"agent_message","text":"hi"}}\n',
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
EVENT_KEYS = st.sampled_from(
    ["subtype", "is_error", "result", "errors", "num_turns", "total_cost_usd", "modelUsage",
     "session_id", "message", "model", "item", "error", "thread_id", "terminal_reason",
     "api_error_status", "text", "type"]
)  # fmt: skip
EVENT_TYPES = st.sampled_from(
    ["result", "system", "assistant", "thread.started", "turn.started", "item.completed",
     "item.started", "turn.completed", "turn.failed", "error", 7]
)  # fmt: skip
EVENTS = st.builds(
    lambda kind, extra: json.dumps({"type": kind, **extra}) + "\n",
    EVENT_TYPES,
    st.dictionaries(EVENT_KEYS, JSON_VALUES, max_size=6),
)
HOSTILE = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),  # bounded time, per example
    suppress_health_check=[HealthCheck.too_slow],
)


@HOSTILE
@given(st.binary(max_size=4000))
def test_no_bytes_crash_the_parser(data):
    check_sane(parse_session_log(data, "session-20251105-060001.log"))


@HOSTILE
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30) | EVENTS, max_size=40))
def test_no_mix_of_log_pieces_crashes_the_parser(pieces):
    log = parse("".join(pieces))
    check_sane(log)
    if log.status in ("completed", "max_turns", "api_error", "error"):
        assert log.cli is not None


@HOSTILE
@given(st.text())
def test_text_between_the_markers_never_moves_them(text):
    log = parse(START + "Type: morning\n" + text + END)
    check_sane(log)
    assert (log.started, log.ended, log.duration_s, log.type) == (T0, T1, 3598.0, "morning")
    assert log.status is not SessionStatus.TIMEOUT


@HOSTILE
@given(st.binary())
def test_bytes_between_the_markers_never_move_them(data):
    log = parse_session_log(START.encode() + data + END.encode())
    assert (log.started, log.ended) == (T0, T1)
    assert log.status is not SessionStatus.TIMEOUT


@HOSTILE
@given(st.text(), st.text(), st.booleans(), st.booleans())
def test_an_end_marker_quoted_in_json_does_not_end_the_session(before, after, ascii_only, ended):
    quoted = {"type": "user", "text": before + "\n" + END + after}
    line = json.dumps(quoted, ensure_ascii=ascii_only)
    log = parse(START + line + "\n" + RESULT + (END if ended else ""))
    assert log.ended == (T1 if ended else None)
    assert log.status is (SessionStatus.COMPLETED if ended else SessionStatus.TIMEOUT)
    assert (log.summary, log.turns) == (SUMMARY, 3)


# --- bounded time and memory ---------------------------------------------------------------

TINY_CONTAINERS = b'{"type":[' + b"[]," * (MB // 3 - 10) + b"[]]}\n"  # just under a MiB
HUGE_DATES = (
    b"=== Session started: " + b"a " * (10 * MB) + b" ===\n"
    b"=== Session ended: " + b"1 " * (5 * MB) + b" ===\n"
)


def timed(data):
    began = time.monotonic()
    log = parse_session_log(data)
    elapsed = time.monotonic() - began
    check_sane(log)
    assert elapsed < BUDGET_SECONDS, f"took {elapsed:.1f} s"
    return log


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: bytes(range(256)) * (50 * MB // 256), id="noise"),
        pytest.param(lambda: b"\n" * (50 * MB), id="newlines"),
        pytest.param(lambda: b'"type"{\n' * (50 * MB // 8), id="typed-lines"),
        pytest.param(lambda: b'{"type":' + b"[" * (40 * MB) + b"\n", id="deep-nesting"),
        pytest.param(lambda: (b'{"type":"result",' + b"[" * 100_000 + b"\n") * 100, id="deep"),
        pytest.param(lambda: b"=== Session ended" * (3 * MB), id="end-markers"),
        pytest.param(lambda: (b"=== Session started" * 1000 + b"\n") * 2000, id="start-markers"),
        pytest.param(lambda: (b"\x1b]" + b"x" * 1000) * 30_000, id="unterminated-osc"),
        pytest.param(lambda: b"[" * (4 * MB) + b'"' + b"a" * (3 * MB) + b"\n", id="long-string"),
        pytest.param(lambda: TINY_CONTAINERS * 10, id="tiny-containers"),
        pytest.param(lambda: HUGE_DATES, id="huge-dates"),
    ],
)
def test_hostile_logs_are_read_in_bounded_time(make):
    timed(make())


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(bytes(range(256)) * (50 * MB // 256), id="noise"),
        pytest.param(b"\r" * (50 * MB), id="carriage-returns"),
        pytest.param(TINY_CONTAINERS * 3, id="tiny-containers"),
        pytest.param(HUGE_DATES, id="huge-dates"),
    ],
)
def test_memory_stays_bounded(data):
    tracemalloc.start()
    try:
        check_sane(parse_session_log(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * MB, f"peak {peak / MB:.0f} MB"


def test_a_huge_log_keeps_its_head_and_tail():
    filler = (b"x" * 99 + b"\n") * (40 * MB // 100)
    log = timed(START.encode() + filler + RESULT.encode() + END.encode())
    assert (log.started, log.ended, log.status, log.turns) == (T0, T1, "completed", 3)


def test_a_huge_verbose_array_still_gives_its_result():
    messages = [{"type": "user", "message": {"content": "y" * 1000}}] * 6000  # one 6 MB line
    line = json.dumps([*messages, json.loads(RESULT)], separators=(",", ":"))
    log = timed((START + line + "\n" + END).encode())
    assert (log.status, log.summary, log.results) == ("completed", SUMMARY, 1)


def test_what_is_kept_is_capped():
    many = "".join(result(session_id=f"s{i}", modelUsage={f"m{i}": {}}) for i in range(100))
    error = result(is_error=True, result="err " * 10_000)
    log = parse(START + many + error + END)
    check_sane(log)
    assert len(log.session_ids) == 16
    assert log.error.endswith("…")
    log = parse(START + result(result="word " * 10_000) + END)
    assert log.summary.endswith("…")
    assert len(log.summary) == 4000
