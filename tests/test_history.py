"""guard log: sessions read from real histories, the pure parser, and both renderers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re

import pytest

from gpthome_guard import __version__
from gpthome_guard.errors import GuardError
from gpthome_guard.gitrepo import Repo
from gpthome_guard.history import KEYS, SessionRecord, parse_log, sessions
from gpthome_guard.render_log import LEGEND, log_json, log_text
from tests.conftest import GOOD_LANDING, run_guard, write
from tests.gitutil import git

LOG_A = """=== Session started: Mon Nov 23 09:00:00 UTC 2026 ===
Type: morning
{"type":"result","subtype":"success","is_error":false,"num_turns":7,"result":"Wrote about \
the sea. Then a poem.","session_id":"f9356e8d","total_cost_usd":0.4125}
=== Session ended: Mon Nov 23 09:12:34 UTC 2026 ===
"""
LOG_B = """=== Session started: Mon Nov 23 21:00:00 UTC 2026 ===
Type: evening
{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":41,\
"errors":["Reached maximum number of turns (40)"],"total_cost_usd":1.2}
=== Session ended: Mon Nov 23 21:40:00 UTC 2026 ===
"""
LOG_D = """=== Session started: Tue Nov 24 09:00:00 UTC 2026 ===
Type: morning
{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Read the \
visitors' notes and left them be.","session_id":"0b1c","total_cost_usd":0.05}
=== Session ended: Tue Nov 24 09:05:00 UTC 2026 ===
"""
UNQUOTED = "---\ndate: {day}\ntitle: Morning\n---\n\nThe sea.\n"  # fixable (Y213)
MISMATCH = '---\ndate: "2026-01-01"\ntitle: "x"\n---\n\nText.\n'  # not fixable: quarantined
NOTES = "".join(f"note {i}\n" for i in range(20))
SUBJECTS = [  # the whole history, newest first
    "guard(morning): 1 fixed",  # D: the repair of the agent's unquoted date
    "session(morning): Read the visitors' notes and left them be",
    "session(visit): 1 added",  # C: no log, nothing to repair
    "guard(evening): 1 quarantined, 1 restored",  # B
    "session(evening): 1 added, 2 changed, 1 deleted, 1 renamed",
    "pre-session: changes made outside a session (1 added)",
    "guard(morning): 1 fixed",  # A
    "session(morning): Wrote about the sea",
    "init: lay out the home",
]


def _post(home, *args):
    result = run_guard("post-session", "--home", str(home), *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result


def _pre(home, kind):
    result = run_guard("pre-session", "--home", str(home), "--type", kind)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A home with four sessions and two outside changes, built once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        # what conftest's autouse fixture does per test, for this module-wide home
        mp.setenv("HOME", str(tmp_path_factory.mktemp("user-home")))
        for key, value in (("GIT_CONFIG_GLOBAL", os.devnull), ("GIT_CONFIG_NOSYSTEM", "1"),
                           ("GIT_AUTHOR_NAME", "T"), ("GIT_AUTHOR_EMAIL", "t@x.invalid"),
                           ("GIT_COMMITTER_NAME", "T"), ("GIT_COMMITTER_EMAIL", "t@x.invalid"),
                           ("NO_COLOR", "1")):  # fmt: skip
            mp.setenv(key, value)
        mp.delenv("GPT_HOME", raising=False)
        home = tmp_path_factory.mktemp("built") / "gpt-home"
        assert run_guard("init", str(home)).returncode == 0
        # A: morning, completed; one file to fix
        write(home, "thoughts/2026-11-23-morning.md", UNQUOTED.format(day="2026-11-23"))
        write(home, "landing-page/landing.json", GOOD_LANDING)
        write(home, "sandbox/notes.txt", NOTES)
        write(home, "sandbox/scratch.py", "print(1)\n")
        write(home, "sandbox/tmp.txt", "tmp\n")
        _post(home, "--log", str(write(home, "logs/session-20261123-090000.log", LOG_A)))
        # a visitor between sessions: a pre-session commit, not a session
        write(home, "visitors/2026-11-23-1200.md", "Hello!\n")
        _pre(home, "evening")
        # B: evening, max turns; one of everything, a page to restore, a file to quarantine
        write(home, "thoughts/2026-11-23-evening.md", MISMATCH)
        write(home, "sandbox/scratch.py", "print(2)\n")
        write(home, "landing-page/landing.json", "{not json\n")
        (home / "sandbox/notes.txt").rename(home / "sandbox/notes-old.txt")
        (home / "sandbox/tmp.txt").unlink()
        _post(home, "--log", str(write(home, "logs/session-20261123-210000.log", LOG_B)))
        # C: a visit without a log; valid, so no repair commit
        write(home, "sandbox/visit.txt", "hi\n")
        _post(home, "--type", "visit")
        # D: a pre-session with nothing to commit, then one fixable entry
        _pre(home, "morning")
        write(home, "thoughts/2026-11-24-outside.md", UNQUOTED.format(day="2026-11-24"))
        _post(home, "--log", str(write(home, "logs/session-20261124-090000.log", LOG_D)))
    return home


def _history(home):
    lines = git(home, "log", "--format=%H %cI %s").splitlines()
    return [line.split(" ", 2) for line in lines]


def _expected(home):
    history = _history(home)
    assert [subject for _, _, subject in history] == SUBJECTS
    sha = [s for s, _, _ in history]
    date = [dt.datetime.fromisoformat(d) for _, d, _ in history]
    c_id = re.fullmatch(r"[0-9]{8}-[0-9]{6}", _trailer(home, sha[2], "Guard-Session"))
    assert c_id is not None
    common = {"turns": None, "cost_usd": None, "log": None, "added": 0, "changed": 0,
              "deleted": 0, "renamed": 0, "fixed": 0, "quarantined": 0, "restored": 0}  # fmt: skip
    return [
        SessionRecord(**common | {
            "id": "20261124-090000", "type": "morning", "date": date[1], "status": "completed",
            "turns": 3, "cost_usd": 0.05, "added": 1, "fixed": 1, "subject": SUBJECTS[1],
            "log": "logs/session-20261124-090000.log", "commits": (sha[0], sha[1])}),
        SessionRecord(**common | {
            "id": c_id[0], "type": "visit", "date": date[2], "status": "no_log", "added": 1,
            "subject": SUBJECTS[2], "commits": (sha[2],)}),
        SessionRecord(**common | {
            "id": "20261123-210000", "type": "evening", "date": date[4], "status": "max_turns",
            "turns": 41, "cost_usd": 1.2, "added": 1, "changed": 2, "deleted": 1, "renamed": 1,
            "quarantined": 1, "restored": 1, "subject": SUBJECTS[4],
            "log": "logs/session-20261123-210000.log", "commits": (sha[3], sha[4])}),
        SessionRecord(**common | {
            "id": "20261123-090000", "type": "morning", "date": date[7], "status": "completed",
            "turns": 7, "cost_usd": 0.4125, "added": 5, "fixed": 1, "subject": SUBJECTS[7],
            "log": "logs/session-20261123-090000.log", "commits": (sha[6], sha[7])}),
    ]  # fmt: skip


def _trailer(home, sha, key):
    return git(home, "log", "-1", f"--format=%(trailers:key={key},valueonly)", sha).strip()


def test_sessions_group_agent_and_repair_commits_newest_first(built):
    assert sessions(Repo(built), None) == _expected(built)


def test_limit_counts_sessions_not_commits(built):
    expected = _expected(built)
    repo = Repo(built)
    assert sessions(repo, 1) == expected[:1]
    assert sessions(repo, 3) == expected[:3]  # B's repair and agent commits both counted in
    assert sessions(repo, 10) == expected
    assert sessions(repo, 0) == []
    with pytest.raises(ValueError, match="limit"):
        sessions(repo, -1)


def test_text_has_a_row_per_session_and_a_calendar(built):
    records = sessions(Repo(built), None)
    lines = log_text(records, color=False).splitlines()
    when = [r.date.strftime("%Y-%m-%d %H:%M") for r in records]
    assert lines[1].startswith(
        f"{when[0]} morning completed     3 $0.05 +1 ~0 -0        1    0 Read the visitors"
    )
    assert lines[:1] + lines[2:6] == [
        "date             type    status    turns  cost changes     fixed quar subject",
        f"{when[1]} visit   no_log        -     - +1 ~0 -0        0    0 1 added",
        f"{when[2]} evening max_turns    41 $1.20 +1 ~2 -1 >1     0    1 "
        "1 added, 2 changed, 1 delet...",
        f"{when[3]} morning completed     7 $0.41 +5 ~0 -0        1    0 Wrote about the sea",
        "",
    ]
    assert lines[6] == "4 sessions, 2 not completed, $1.66 spent."
    days = sorted({r.date.date() for r in records})
    assert lines[8] == f"Sessions per day, {days[0]} to {days[-1]}:"
    assert lines[9] == "           Mo Tu We Th Fr Sa Su"
    if len(days) == 1:  # the usual case: all four committed within seconds
        monday = days[0] - dt.timedelta(days=days[0].weekday())
        assert lines[10] == f"{monday}" + "   " * days[0].weekday() + "  !"
    assert lines[-1] == LEGEND
    assert all(len(line) <= 100 for line in lines)


def test_json_is_one_document_with_every_field(built):
    records = sessions(Repo(built), None)
    data = json.loads(log_json(records))
    assert data["schema_version"] == 1
    assert data["tool"] == {"name": "guard", "version": __version__}
    assert data["command"] == "log"
    assert [s["id"] for s in data["sessions"]] == [r.id for r in records]
    first, _, evening, _ = data["sessions"]
    assert first["status"] == "completed"
    assert first["commits"] == list(records[0].commits)
    assert evening == {
        "id": "20261123-210000", "type": "evening", "date": records[2].date.isoformat(),
        "status": "max_turns", "turns": 41, "cost_usd": 1.2, "added": 1, "changed": 2,
        "deleted": 1, "renamed": 1, "fixed": 0, "quarantined": 1, "restored": 1,
        "subject": SUBJECTS[4], "log": "logs/session-20261123-210000.log",
        "commits": list(records[2].commits),
    }  # fmt: skip
    assert dt.datetime.fromisoformat(evening["date"]) == records[2].date


def test_a_home_without_commits_or_without_git(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert sessions(Repo(empty), None) == []
    assert log_text([]) == "No sessions in the history yet.\n"
    assert json.loads(log_json([]))["sessions"] == []
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GuardError, match="run `guard init"):
        sessions(Repo(plain), None)


# --- the parser, on hand-written `git log --format=FORMAT` output ---------------------------


def _commit(n, subject, date="2026-11-23T09:00:00+00:00", **trailers):
    values = [
        trailers.pop(key.removeprefix("Guard-").replace("-", "_").lower(), "") for key in KEYS
    ]
    assert not trailers, trailers
    return "\0".join([f"{n:040x}", date, *values, subject]) + "\x1e\n"


def test_parse_log_groups_by_session_and_survives_bad_trailers():
    text = "".join([
        # a repair commit with a count git joined from two trailers, and one garbage count
        _commit(9, "guard(evening): 2 fixed", session="S2", phase="repair", session_type="evening",
                fixed="2,5", quarantined="lots"),
        # pre-session and init commits, a commit by hand, an agent commit without a session
        _commit(8, "pre-session: changes", session="S2", phase="pre-session"),
        _commit(7, "fix typo by hand"),
        _commit(6, "session(x): no id", phase="agent", added="1"),
        # an agent commit from an older guard: no counts, no type; garbage numbers and date
        _commit(5, "session(evening): a\0b\x1ec", date="yesterday", session="S2", phase="agent",
                status="completed", turns="many", cost_usd="nan", added="-1"),
        # S1's repair commit and its agent commit, not adjacent, and S1 again (a rerun)
        _commit(4, "guard(morning): 1 restored", session="S1", phase="repair", restored="1",
                fixed="0", quarantined="0"),
        _commit(3, "session(morning): the sea", date="2026-11-23T10:00:00+01:00", session="S1",
                phase="agent", session_type="morning", status="max_turns", turns="41",
                cost_usd="1.2000", added="2", changed="1", deleted="0", renamed="0",
                log="logs/session-S1.log"),
        "garbage that is not a commit\x1e\n",
        _commit(2, "guard(morning): 1 fixed", session="S1", phase="repair", fixed="1"),
        _commit(1, "init: lay out the home", phase="init"),
    ])  # fmt: skip
    s2, s1 = parse_log(text)
    assert s2 == SessionRecord(
        id="S2", type="evening", date=None, status="completed", turns=None, cost_usd=None,
        added=None, changed=0, deleted=0, renamed=0, fixed=2, quarantined=None, restored=0,
        subject="session(evening): a\0b\x1ec", log=None, commits=(f"{9:040x}", f"{5:040x}"),
    )  # fmt: skip
    assert s1 == SessionRecord(
        id="S1", type="morning",
        date=dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        status="max_turns", turns=41, cost_usd=1.2, added=2, changed=1, deleted=0, renamed=0,
        fixed=1, quarantined=0, restored=1, subject="session(morning): the sea",
        log="logs/session-S1.log", commits=(f"{4:040x}", f"{3:040x}", f"{2:040x}"),
    )  # fmt: skip
    assert parse_log(text, 1) == [s2]
    assert parse_log("") == []
    assert parse_log("\x1e\n\0\0\x1e\n") == []


@pytest.mark.parametrize(
    ("raw", "turns", "cost"),
    [("7", 7, 7.0), ("07", 7, 7.0), (" 7 ", 7, 7.0), ("7,8", 7, 7.0), ("7.25", None, 7.25),
     ("", None, None), ("-7", None, None), ("1e3", None, None), ("nan", None, None),
     ("inf", None, None), ("٣", None, None), ("9999999999", None, None),
     ("seven", None, None), ("7.", None, None)],
)  # fmt: skip
def test_numbers_are_plain_decimals_or_none(raw, turns, cost):
    text = _commit(1, "s", session="S", phase="agent", turns=raw, cost_usd=raw)
    (record,) = parse_log(text)
    assert record.turns == turns
    assert record.cost_usd == cost


# --- the renderer, on hand-built records ---------------------------------------------------


def _record(day, hour, status="completed", **fields):
    base = SessionRecord(
        id=f"2026{day:04d}-{hour:02d}0000", type="morning",
        date=dt.datetime(2026, day // 100, day % 100, hour, 5, tzinfo=dt.UTC),
        status=status, turns=5, cost_usd=0.25, added=1, changed=0, deleted=0, renamed=0,
        fixed=0, quarantined=0, restored=0, subject="session(morning): Wrote a poem", log=None,
        commits=("a" * 40,),
    )  # fmt: skip
    return dataclasses.replace(base, **fields)


def test_text_table_and_calendar_exactly():
    records = [
        _record(1201, 21, "timeout", type="evening", turns=None, cost_usd=None, quarantined=2,
                subject="session(evening): " + "x" * 90),
        _record(1201, 9),
        *(_record(1125, hour) for hour in range(11, -1, -1)),  # more than nine in a day
        _record(1120, 9, None, subject=None, added=None, type=None),  # Friday
    ]  # fmt: skip
    assert log_text(records) == "\n".join([
        "date             type    status    turns  cost changes  fixed quar subject",
        "2026-12-01 21:05 evening timeout       -     - +1 ~0 -0     0    2 " + "x" * 30 + "...",
        "2026-12-01 09:05 morning completed     5 $0.25 +1 ~0 -0     0    0 Wrote a poem",
        *(f"2026-11-25 {h:02d}:05 morning completed     5 $0.25 +1 ~0 -0     0    0 Wrote a poem"
          for h in range(11, -1, -1)),
        "2026-11-20 09:05 -       -             5 $0.25 +? ~0 -0     0    0",
        "",
        "15 sessions, 2 not completed, $3.50 spent.",
        "",
        "Sessions per day, 2026-11-20 to 2026-12-01:",
        "           Mo Tu We Th Fr Sa Su",
        "2026-11-16              !  .  .",
        "2026-11-23  .  .  +  .  .  .  .",
        "2026-11-30  .  !",
        LEGEND,
        "",
    ])  # fmt: skip


def test_only_the_latest_weeks_are_drawn():
    records = [_record(1231, 9), _record(101, 9)]
    lines = log_text(records).splitlines()
    assert lines[6:9] == [
        "Sessions per day, 2026-01-01 to 2026-12-31:",
        "(27 earlier weeks not shown)",
        "           Mo Tu We Th Fr Sa Su",
    ]
    assert lines[9] == "2026-07-06  .  .  .  .  .  .  ."
    assert lines[-2] == "2026-12-28  .  .  .  1"  # a Thursday
    assert len(lines) == 9 + 26 + 1


def test_color_only_when_asked_and_history_text_is_escaped():
    records = [_record(1125, 9, "crashed", subject="\x1b[2Jsession(morning): hi", type="a\x07")]
    plain = log_text(records, color=False)
    assert "\x1b" not in plain
    assert "\\x1b[2Jsession(morning): hi" in plain
    assert "a\\x07" in plain
    colored = log_text(records, color=True)
    assert "\x1b[31mcrashed\x1b[0m" in colored
    assert "\x1b[2J" not in colored
