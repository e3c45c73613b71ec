"""guard quarantine list / show / release."""

from __future__ import annotations

from tests.conftest import GOOD_THOUGHT, run_guard, write

MISMATCH = '---\ndate: "2026-01-01"\ntitle: "x"\n---\n\nText.\n'
NAME = "thoughts/2026-01-16-evening.md"


def _quarantined(home):
    write(home, NAME, MISMATCH)
    assert run_guard("fix", "--home", str(home)).returncode == 1
    (moved,) = home.glob(f"quarantine/*/{NAME}")
    return moved


def test_list_and_show(home):
    moved = _quarantined(home)
    listed = run_guard("quarantine", "list", "--home", str(home))
    assert listed.returncode == 0
    assert NAME in listed.stdout
    assert "C304" in listed.stdout
    assert listed.stdout.endswith("1 file in the quarantine.\n")
    shown = run_guard("quarantine", "show", NAME, "--home", str(home))
    assert shown.returncode == 0
    assert f"stored as: {moved.relative_to(home)}" in shown.stdout
    assert "C304 date-mismatch" in shown.stdout


def test_release_refuses_an_invalid_file(home):
    moved = _quarantined(home)
    result = run_guard("quarantine", "release", NAME, "--home", str(home))
    assert result.returncode == 3
    assert "C304" in result.stderr
    assert moved.exists()
    assert not (home / NAME).exists()


def test_release_after_a_human_fixed_it(home):
    moved = _quarantined(home)
    moved.write_text(MISMATCH.replace("2026-01-01", "2026-01-16"))
    result = run_guard("quarantine", "release", NAME, "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert (home / NAME).read_text().startswith('---\ndate: "2026-01-16"')
    assert not moved.exists()
    assert run_guard("quarantine", "list", "--home", str(home)).stdout == (
        "The quarantine is empty.\n"
    )
    assert run_guard("validate", "--home", str(home)).returncode == 0


def test_release_never_overwrites(home):
    moved = _quarantined(home)
    moved.write_text(MISMATCH.replace("2026-01-01", "2026-01-16"))
    write(home, NAME, GOOD_THOUGHT)
    result = run_guard("quarantine", "release", NAME, "--home", str(home), "--force")
    assert result.returncode == 3
    assert "never overwrites" in result.stderr
    assert (home / NAME).read_text() == GOOD_THOUGHT


def test_release_force_puts_back_an_invalid_file(home):
    _quarantined(home)
    result = run_guard("quarantine", "release", NAME, "--home", str(home), "--force")
    assert result.returncode == 0
    assert (home / NAME).read_text() == MISMATCH


def test_unknown_path_is_usage_error(home):
    result = run_guard("quarantine", "show", "thoughts/nope.md", "--home", str(home))
    assert result.returncode == 2
    assert "nothing in the quarantine" in result.stderr
