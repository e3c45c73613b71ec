"""guard fix end to end: atomic rewrites, quarantine, last good pages, races and links."""

from __future__ import annotations

import hashlib
import json
import os

from gpthome_guard.apply import Run, apply_plan
from gpthome_guard.config import Limits
from gpthome_guard.repair import prepare
from gpthome_guard.validate import FixContext, select
from tests.conftest import GOOD_LANDING, run_guard, write
from tests.gitutil import commit_all, init

UNQUOTED = '---\ndate: 2026-01-17\ntitle: "Evening"\n---\n\nDusk.\n'
MISMATCH = '---\ndate: "2026-01-01"\ntitle: "x"\n---\n\nText.\n'


def _prepare(home):
    return prepare(home, select(home, []), Limits(), FixContext(use_git=True))


def _manifest(home):
    (manifest,) = home.glob("quarantine/*/manifest.jsonl")
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def test_fix_rewrites_and_keeps_the_original(home):
    path = write(home, "thoughts/2026-01-17-evening.md", UNQUOTED)
    os.chmod(path, 0o640)
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text() == '---\ndate: "2026-01-17"\ntitle: "Evening"\n---\n\nDusk.\n'
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    (original,) = home.glob("quarantine/*/originals/thoughts/2026-01-17-evening.md")
    assert original.read_text() == UNQUOTED
    (entry,) = _manifest(home)
    assert entry["action"] == "fixed"
    assert entry["sha256"] == hashlib.sha256(UNQUOTED.encode()).hexdigest()
    assert run_guard("validate", "--home", str(home)).returncode == 0


def test_unfixable_file_is_quarantined_with_a_manifest(home):
    write(home, "thoughts/2026-01-16-evening.md", MISMATCH)
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 1
    assert not (home / "thoughts/2026-01-16-evening.md").exists()
    (moved,) = home.glob("quarantine/*/thoughts/2026-01-16-evening.md")
    assert moved.read_text() == MISMATCH
    (entry,) = _manifest(home)
    assert entry["path"] == "thoughts/2026-01-16-evening.md"
    assert entry["size"] == len(MISMATCH)
    assert entry["sha256"] == hashlib.sha256(moved.read_bytes()).hexdigest()
    assert [f["code"] for f in entry["findings"]] == ["C304"]
    assert entry["stored_as"] == str(moved.relative_to(home))


def test_a_symlink_is_moved_itself_never_its_target(home):
    secret = write(home, "runner/.env", "API_KEY=x\n")
    (home / "thoughts/2026-01-18-link.md").symlink_to("../runner/.env")
    assert run_guard("fix", "--home", str(home)).returncode == 1
    (run,) = (home / "quarantine").iterdir()
    moved = run / "thoughts/2026-01-18-link.md"  # dangling from there: glob would skip it
    assert moved.is_symlink()
    assert os.readlink(moved) == "../runner/.env"
    assert secret.read_text() == "API_KEY=x\n"


def test_a_link_at_the_rename_target_is_never_written_through(home, tmp_path):
    outside = tmp_path / "outside.md"
    (home / "dreams/sea.md").symlink_to(outside)
    bad = '---\ndate: "2026-01-16"\ntitle: "Sea"\ntype: "Poem"\n---\n\nwaves\n'
    write(home, "dreams/Sea.md", bad)
    run_guard("fix", "--home", str(home))
    assert not outside.exists()
    assert (home / "quarantine").is_dir()
    assert not (home / "dreams/Sea.md").exists()  # its proper name is taken: quarantined
    (moved,) = home.glob("quarantine/*/dreams/Sea.md")
    assert moved.read_text() == bad


def test_a_file_changed_after_reading_is_left_alone(home):
    path = write(home, "thoughts/2026-01-17-evening.md", UNQUOTED)
    prepared = _prepare(home)
    path.write_text(UNQUOTED + "more\n")
    outcome = apply_plan(home, prepared.plan, Run("r1"))
    assert outcome.done == []
    assert outcome.skipped == [
        "thoughts/2026-01-17-evening.md: changed since it was read; left as it is"
    ]
    assert path.read_text() == UNQUOTED + "more\n"


def test_a_file_swapped_for_a_link_after_reading_is_left_alone(home, tmp_path):
    path = write(home, "thoughts/2026-01-17-evening.md", UNQUOTED)
    prepared = _prepare(home)
    target = write(tmp_path, "target.md", UNQUOTED)
    path.unlink()
    path.symlink_to(target)
    outcome = apply_plan(home, prepared.plan, Run("r1"))
    assert outcome.skipped
    assert target.read_text() == UNQUOTED
    assert path.is_symlink()


def test_applying_a_plan_twice_is_safe(home):
    write(home, "thoughts/2026-01-17-evening.md", UNQUOTED)
    write(home, "thoughts/2026-01-16-evening.md", MISMATCH)
    prepared = _prepare(home)
    first = apply_plan(home, prepared.plan, Run("r1"))
    assert len(first.done) == 2
    second = apply_plan(home, prepared.plan, Run("r2"))
    assert second.done == []
    assert len(second.skipped) == 2


def test_broken_page_is_restored_from_the_newest_valid_version(home):
    init(home)
    commit_all(home, "first")
    newer = '{"headline": "Newer", "subheadline": "Still valid."}\n'
    write(home, "landing-page/landing.json", newer)
    good = commit_all(home, "second")
    write(home, "landing-page/landing.json", '{"headline": ""}\n')
    commit_all(home, "broken, committed")
    write(home, "landing-page/landing.json", "{not json")
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 1
    assert f"restored landing-page/landing.json from {good[:12]}" in result.stdout
    assert (home / "landing-page/landing.json").read_text() == newer
    (kept,) = home.glob("quarantine/*/landing-page/landing.json")
    assert kept.read_text() == "{not json"


def test_page_without_a_valid_version_is_left_and_reported(home):
    init(home)
    write(home, "about/about.md", "")
    commit_all(home, "empty about")
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 1
    assert "left about/about.md: C312" in result.stdout
    assert "no valid version of this page in history" in result.stdout
    assert (home / "about/about.md").read_text() == ""


def test_page_outside_git_is_left_and_reported(home):
    write(home, "landing-page/landing.json", "[]")
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 1
    assert "left landing-page/landing.json: J402" in result.stdout
    assert (home / "landing-page/landing.json").read_text() == "[]"
    assert GOOD_LANDING not in result.stdout


def test_fix_json_plan_is_data(home):
    write(home, "thoughts/2026-01-17-evening.md", UNQUOTED)
    result = run_guard("fix", "--home", str(home), "--dry-run", "--format", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    assert data["applied"] is None
    (action,) = data["actions"]
    assert action["action"] == "rewrite"
    assert action["path"] == "thoughts/2026-01-17-evening.md"
    assert [c["code"] for c in action["changes"]] == ["Y213"]
    assert action["diff"].startswith("--- a/thoughts/2026-01-17-evening.md\n")
    assert (home / "thoughts/2026-01-17-evening.md").read_text() == UNQUOTED
