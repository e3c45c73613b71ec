"""A dream's missing date: the session date, else the day it first appeared in git, else mtime."""

from __future__ import annotations

import os

from gpthome_guard.config import Limits
from gpthome_guard.repair import prepare
from gpthome_guard.validate import FixContext, select
from tests.conftest import write
from tests.gitutil import git

NO_DATE = '---\ntitle: "Sea"\ntype: "prose"\n---\n\nwaves\n'


def _rewrite(home, context):
    plan = prepare(home, select(home, []), Limits(), context).plan
    (action,) = plan.actions
    return action


def test_session_date_first(home):
    write(home, "dreams/sea.md", NO_DATE)
    action = _rewrite(home, FixContext(session_date="2026-02-01"))
    assert 'date: "2026-02-01"' in action.new_text
    assert action.notes == ("date taken from the session date",)


def test_then_the_day_it_first_appeared_in_git(home, monkeypatch):
    git(home, "init", "-q")
    write(home, "dreams/sea.md", NO_DATE)
    git(home, "add", "-A")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-05T10:00:00+00:00")
    git(home, "commit", "-q", "-m", "sea")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    action = _rewrite(home, FixContext())
    assert 'date: "2026-01-05"' in action.new_text
    assert action.notes == ("date taken from the day it first appeared in git",)


def test_else_its_modification_time(home):
    path = write(home, "dreams/sea.md", NO_DATE)
    stamp = 1767225600  # 2026-01-01T00:00:00Z
    os.utime(path, (stamp, stamp))
    action = _rewrite(home, FixContext())
    assert 'date: "2026-01-01"' in action.new_text
    assert action.notes == ("date taken from its modification time",)
