"""Edge cases of guard fix and the quarantine found in review, each pinned by a test."""

from __future__ import annotations

import json
import os
import time

from tests.conftest import run_guard, write

BAD_TYPE = b'---\ndate: "2026-01-16"\ntitle: "x"\ntype: "oops"\n---\n\nhi\n'
UNQUOTED = '---\ndate: 2026-01-16\ntitle: "x"\n---\n\nhi\n'


def _records(home):
    return [
        json.loads(line)
        for manifest in home.glob("quarantine/*/manifest.jsonl")
        for line in manifest.read_text().splitlines()
    ]


def test_a_non_utf8_name_is_quarantined_and_released_by_its_bytes(home):
    raw = os.fsencode(str(home / "dreams")) + b"/bad\xff.md"
    with open(raw, "wb") as handle:
        handle.write(BAD_TYPE)
    write(home, "thoughts/2026-01-16-ok.md", UNQUOTED)
    result = run_guard("fix", "--home", str(home))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "dreams/bad\\xff.md" in result.stdout
    assert (home / "thoughts/2026-01-16-ok.md").read_text().startswith('---\ndate: "2026-01-16"')
    (record,) = [r for r in _records(home) if r["action"] == "quarantined"]
    assert record["path"] == "dreams/bad\\xff.md"
    assert bytes.fromhex(record["path_bytes"]) == b"dreams/bad\xff.md"
    stored = home / os.fsdecode(bytes.fromhex(record["stored_as_bytes"]))
    stored.write_bytes(BAD_TYPE.replace(b"oops", b"prose"))
    released = run_guard(
        "quarantine", "release", "dreams/bad\\xff.md", "--home", str(home), "--force"
    )
    assert released.returncode == 0, released.stderr
    assert os.path.exists(raw)


def test_flow_style_and_duplicate_keys_are_never_rewritten(home):
    cases = {
        "thoughts/2026-01-17-a.md": '---\n{mood: "x", foo: "bar", date: 2026-01-17, title: "T"}'
        "\n---\n\nbody\n",
        "thoughts/2026-01-17-b.md": '---\ndate: 2026-01-17\ntitle: "A"\ntitle: "B"\n---\n\nbody\n',
        "thoughts/2026-01-17-c.md": '---\ndate: 2026-01-17\ntitle: "A"\non: sunday\n---\n\nbody\n',
    }
    for rel, text in cases.items():
        write(home, rel, text)
    run_guard("fix", "--home", str(home))
    for rel, text in cases.items():
        assert not (home / rel).exists(), rel  # set aside as it was, not rewritten
        (moved,) = home.glob(f"quarantine/*/{rel}")
        assert moved.read_text() == text


def test_a_thought_whose_dates_disagree_says_so_even_when_unquoted(home):
    write(home, "thoughts/2026-01-16-a.md", '---\ndate: 2026-01-10\ntitle: "x"\n---\n\nhi\n')
    result = run_guard("validate", "--home", str(home))
    assert "C304 date-mismatch" in result.stdout
    run_guard("fix", "--home", str(home))
    (record,) = _records(home)
    assert "C304" in [f["code"] for f in record["findings"]]


def test_release_never_writes_through_a_linked_content_directory(home, tmp_path):
    write(home, "thoughts/2026-01-16-morning.md", '---\ndate: "2026-01-16"\ntitle: "x"\n---\n')
    run_guard("fix", "--home", str(home))
    (moved,) = home.glob("quarantine/*/thoughts/2026-01-16-morning.md")
    moved.write_text('---\ndate: "2026-01-16"\ntitle: "x"\n---\n\nnow with text\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    for entry in (home / "thoughts").iterdir():
        entry.unlink()
    (home / "thoughts").rmdir()
    (home / "thoughts").symlink_to(outside)
    result = run_guard(
        "quarantine", "release", "thoughts/2026-01-16-morning.md", "--home", str(home)
    )
    assert result.returncode == 3
    assert list(outside.iterdir()) == []
    assert moved.exists()


def test_a_fix_keeps_the_files_mode_and_owner(home):
    path = write(home, "thoughts/2026-01-17-evening.md", UNQUOTED.replace("01-16", "01-17"))
    os.chmod(path, 0o664)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    assert run_guard("fix", "--home", str(home)).returncode == 0
    st = path.stat()
    assert oct(st.st_mode & 0o777) == oct(0o664)
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_many_fixes_stay_fast(home):
    for n in range(1500):
        write(home, f"thoughts/2026-01-16-v{n}.md", UNQUOTED)
    start = time.monotonic()
    result = run_guard("fix", "--home", str(home), timeout=120)
    took = time.monotonic() - start
    assert result.returncode == 0
    assert len(_records(home)) == 1500
    assert took < 30, took  # was quadratic: the whole manifest rewritten per record


def test_escapes_in_names_never_reach_the_terminal(home):
    name = "dreams/esc\x1b[31mred\u202e.md"
    write(home, name, BAD_TYPE.decode())
    fixed = run_guard("fix", "--home", str(home))
    listed = run_guard("quarantine", "list", "--home", str(home))
    for output in (fixed.stdout, fixed.stderr, listed.stdout):
        assert "\x1b" not in output
        assert "\u202e" not in output
    assert "esc\\x1b[31mred\\u202e.md" in listed.stdout


def test_a_rename_interrupted_after_the_new_name_is_finished_on_rerun(home):
    write(
        home,
        "dreams/Friday Sea.md",
        '---\ndate: "2026-01-16"\ntitle: "Sea"\ntype: "Poem"\n---\n\nwaves\n',
    )
    killed = run_guard("fix", "--home", str(home), env={"GUARD_TEST_KILL_AT_STEP": "4"})
    assert killed.returncode == -9
    assert (home / "dreams/friday-sea.md").exists()
    assert (home / "dreams/Friday Sea.md").exists()
    again = run_guard("fix", "--home", str(home))
    assert again.returncode == 0, again.stdout
    assert not (home / "dreams/Friday Sea.md").exists()
    assert run_guard("quarantine", "list", "--home", str(home)).stdout == (
        "The quarantine is empty.\n"
    )


def test_a_readme_that_is_a_link_is_no_readme(home):
    (home / "thoughts/README.md").symlink_to("/etc/shadow")
    result = run_guard("validate", "--home", str(home))
    assert result.returncode == 1
    assert "thoughts/README.md: R101 not-a-regular-file" in result.stdout
