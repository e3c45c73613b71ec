"""guard validate --staged, hooks/pre-commit and .pre-commit-hooks.yaml, against real git."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import GOOD_THOUGHT, run_guard, write
from tests.gitutil import commit_all, git, init

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "hooks" / "pre-commit"
BAD = "thoughts/2026-01-17-evening.md"
BAD_TEXT = "no frontmatter here\n"
GOOD_EVENING = GOOD_THOUGHT.replace("2026-01-16", "2026-01-17")
Y201 = "Y201 frontmatter-missing"


@pytest.fixture
def repo(home):
    """The small valid home as a repository with one commit."""
    init(home)
    commit_all(home, "first")
    return home


@pytest.fixture
def guard_bin(tmp_path):
    """A `guard` on a PATH of its own that runs this checkout's guard."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "guard"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m gpthome_guard "$@"\n')
    script.chmod(0o755)
    return script


@pytest.fixture
def hooked(repo, guard_bin):
    """The repository with hooks/pre-commit installed by hand, and guard on the PATH."""
    target = repo / ".git" / "hooks" / "pre-commit"
    shutil.copyfile(HOOK, target)
    target.chmod(0o755)
    return repo


def commit(repo, *args, env=None, cwd=None):
    """A real `git commit` (hooks run), with guard_bin's directory first on the PATH."""
    bin_dir = repo.parent / "bin"
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    return subprocess.run(
        ["git", "commit", "-q", "-m", "test", *args],
        cwd=cwd or repo,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def head(repo):
    return git(repo, "rev-parse", "HEAD").strip()


def staged_check(repo, *args, **kwargs):
    return run_guard("validate", "--staged", "--home", str(repo), *args, **kwargs)


# --- guard validate --staged ------------------------------------------------------------


def test_a_valid_index_passes(repo):
    result = staged_check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "Checked 5 files: all good.\n"
    assert result.stderr == ""


def test_the_staged_bytes_are_judged_not_the_work_tree(repo):
    write(repo, BAD, GOOD_EVENING)
    git(repo, "add", BAD)
    write(repo, BAD, BAD_TEXT)  # changed after `git add`: not what would be committed
    assert staged_check(repo).returncode == 0
    assert run_guard("validate", "--home", str(repo)).returncode == 1

    git(repo, "add", BAD)
    write(repo, BAD, GOOD_EVENING)
    result = staged_check(repo)
    assert result.returncode == 1
    assert f"{BAD}:1: {Y201}" in result.stdout
    assert run_guard("validate", "--home", str(repo)).returncode == 0


def test_a_staged_file_deleted_from_the_work_tree_is_checked(repo):
    write(repo, BAD, BAD_TEXT)
    git(repo, "add", BAD)
    (repo / BAD).unlink()
    result = staged_check(repo)
    assert result.returncode == 1
    assert f"{BAD}:1: {Y201}" in result.stdout
    assert staged_check(repo, str(repo / BAD)).returncode == 1  # named, though not on disk


def test_unstaged_files_are_not_checked(repo):
    write(repo, BAD, BAD_TEXT)
    write(repo, "thoughts/notes.txt", "scratch\n")
    assert staged_check(repo).stdout == "Checked 5 files: all good.\n"


def test_a_staged_symlink_and_a_gitlink_are_reported(repo):
    os.symlink("../../outside.md", repo / "thoughts/link.md")
    git(repo, "add", "thoughts/link.md")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head(repo)},dreams/nested")
    result = staged_check(repo)
    assert result.returncode == 1
    assert (
        "thoughts/link.md: R101 not-a-regular-file a symlink; links are never followed: "
        "write a regular file"
    ) in result.stdout
    assert "dreams/nested: R101 not-a-regular-file a gitlink (a nested repository)" in (
        result.stdout
    )
    assert "outside" not in result.stdout  # a link's target is never shown


def test_the_shape_of_the_index_is_checked_like_the_tree(repo):
    write(repo, "thoughts/notes.txt", "scratch\n")
    write(repo, "thoughts/2026/01-16.md", GOOD_THOUGHT)
    write(repo, "dreams/README.md", "# Dreams\n")
    git(repo, "add", "-A")
    git(repo, "rm", "-q", "--cached", "about/about.md")
    result = staged_check(repo)
    tree = run_guard("validate", "--home", str(repo))
    assert result.returncode == 0  # warnings only
    lines = result.stdout.splitlines()
    assert "thoughts/notes.txt: H501 unexpected-entry" in "\n".join(lines)
    assert "thoughts/2026: H502 content-subdirectory" in "\n".join(lines)
    assert "about/about.md: H504 missing-page about/about.md is not in the index" in lines[0]
    assert lines[-1] == "Checked 6 files: 3 warnings."  # README.md is skipped, as in the tree
    assert tree.stdout.splitlines()[-1] == "Checked 7 files: 2 warnings."


def test_a_merge_conflict_is_reported(repo):
    path = "thoughts/2026-01-16-morning.md"
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, path, GOOD_THOUGHT + "Side.\n")
    commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    write(repo, path, GOOD_THOUGHT + "Main.\n")
    commit_all(repo, "main")
    merge = subprocess.run(["git", "merge", "-q", "side"], cwd=repo, capture_output=True)
    assert merge.returncode == 1  # a conflict
    result = staged_check(repo)
    assert result.returncode == 1
    assert f"{path}: R105 unreadable unmerged (a merge conflict)" in result.stdout


def test_a_content_directory_that_is_a_link_in_the_index(tmp_path):
    root = tmp_path / "links"
    root.mkdir()
    init(root)
    os.symlink("/etc", root / "thoughts")
    commit_all(root, "a link")
    result = staged_check(root)
    assert result.returncode == 1
    assert "thoughts: H503 content-dir-not-a-directory thoughts is a symlink in the index" in (
        result.stdout
    )


def test_odd_names_do_not_crash(repo):
    name = os.fsdecode(b"thoughts/line\nbreak-\xff.md")
    write(repo, name, BAD_TEXT)
    git(repo, "add", "-A")
    result = staged_check(repo)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "thoughts/line\\x0abreak-\\xff.md:1: Y201" in result.stdout
    named = staged_check(repo, os.path.join(repo, name))
    assert named.returncode == 1
    assert named.stdout.endswith("Checked 1 file: 2 errors; 1 fixable with `guard fix`.\n")


def _peak_rss_kb(*args):
    """Peak RSS of `guard` and anything it waits for, measured from a fresh interpreter."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stdout.write(r.stdout)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "gpthome_guard", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    first, _, report = out.partition("\n")
    code, rss = first.split()
    return int(code), int(rss), report


def test_a_huge_staged_blob_is_reported_without_being_read(repo):
    args = ("validate", "--staged", "--home", str(repo))
    _, baseline, _ = _peak_rss_kb(*args)
    huge = 64 * 1024 * 1024
    line = b"The light came in, and the light came in again, and again, and again.\n"
    write(repo, BAD, b"---\n" + line * (huge // len(line)))
    git(repo, "add", BAD)
    size = (repo / BAD).stat().st_size
    code, peak, report = _peak_rss_kb(*args)
    assert code == 1
    assert report.splitlines()[0] == (
        f"{BAD}: R103 file-too-large {size} bytes staged, over the limit of 1048576 "
        "(limits.max_file_bytes); split or shorten it"
    )
    assert report.splitlines()[-1] == "Checked 6 files: 1 error."  # the rest read after it
    assert peak < baseline + 16 * 1024, (baseline, peak)  # far below the blob's 64 MB


def test_a_blob_missing_from_the_object_store(repo):
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{'1' * 40},{BAD}")
    result = staged_check(repo)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{BAD}: R105 unreadable its staged blob is missing")


def test_the_limit_comes_from_guard_toml(repo):
    write(repo, "guard.toml", "[limits]\nmax_file_bytes = 64\n")
    write(repo, BAD, GOOD_EVENING[:64])  # exactly the limit: read and checked
    git(repo, "add", BAD)
    assert staged_check(repo, str(repo / BAD)).stdout == "Checked 1 file: all good.\n"
    write(repo, BAD, GOOD_EVENING[:65])
    git(repo, "add", BAD)
    result = staged_check(repo, str(repo / BAD))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{BAD}: R103 file-too-large 65 bytes staged, over the limit")


def test_json_output(repo):
    write(repo, BAD, BAD_TEXT)
    git(repo, "add", BAD)
    result = staged_check(repo, "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == "findings"
    assert data["counts"]["files"] == 6
    assert data["counts"]["errors"] == 1
    assert [(f["path"], f["code"]) for f in data["findings"]] == [(BAD, "Y201")]
    statuses = {f["path"]: f["status"] for f in data["files"]}
    assert statuses[BAD] == "error"
    assert statuses["thoughts/2026-01-16-morning.md"] == "ok"


def test_github_output(repo):
    write(repo, BAD, BAD_TEXT)
    git(repo, "add", BAD)
    result = staged_check(repo, "--format", "github")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"::error file={BAD},line=1,title={Y201}::no frontmatter; start the file with a --- "
        "block holding date, title",
        "Checked 6 files: 1 error; 1 fixable with `guard fix`.",
    ]


def test_only_the_named_paths(repo):
    write(repo, BAD, BAD_TEXT)
    write(repo, "dreams/bad.md", BAD_TEXT)
    git(repo, "add", "-A")
    result = run_guard("validate", "--staged", "--home", ".", BAD, "sandbox/x", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.endswith("Checked 1 file: 1 error; 1 fixable with `guard fix`.\n")
    assert staged_check(repo, str(repo / "thoughts")).returncode == 1
    assert staged_check(repo, str(repo / "about")).returncode == 0


def test_usage_errors_are_one_line(repo, tmp_path):
    write(repo, BAD, BAD_TEXT)  # on disk, not staged
    for path, words in ((repo / BAD, "not in the index"), (tmp_path, "not inside the home")):
        result = staged_check(repo, str(path))
        assert result.returncode == 2
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert words in result.stderr


def test_outside_a_repository_is_one_line(home):
    result = staged_check(home, "--format", "json")
    assert result.returncode == 3
    assert "not a git repository" in json.loads(result.stdout)["error"]["message"]
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("value", ["does-not-exist", "thoughts"])
def test_a_bad_git_index_file_is_one_line(repo, value):
    result = run_guard(
        "validate", "--staged", "--home", ".", cwd=repo, env={"GIT_INDEX_FILE": value}
    )
    assert result.returncode == 3
    assert result.stderr.startswith(f"guard validate: GIT_INDEX_FILE={value}")
    assert len(result.stderr.splitlines()) == 1


def test_git_index_file_is_honoured(repo):
    other = repo / ".git" / "other-index"
    env = {"GIT_INDEX_FILE": str(other)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env={**os.environ, **env}, check=True)
    write(repo, BAD, BAD_TEXT)
    git(repo, "add", BAD)  # into .git/index, not the other one
    assert staged_check(repo).returncode == 1
    assert staged_check(repo, env=env).returncode == 0


# --- hooks/pre-commit -------------------------------------------------------------------


def test_hook_is_posix_sh():
    text = HOOK.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -eu\n" in text
    assert os.access(HOOK, os.X_OK)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(["shellcheck", str(HOOK)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_hook_blocks_a_staged_error_and_prints_it(hooked):
    before = head(hooked)
    write(hooked, BAD, BAD_TEXT)
    git(hooked, "add", BAD)
    result = commit(hooked)
    assert result.returncode == 1
    assert f"{BAD}:1: {Y201}" in result.stdout + result.stderr
    assert head(hooked) == before
    assert git(hooked, "status", "--porcelain") == f"A  {BAD}\n"


def test_hook_lets_a_valid_commit_through(hooked):
    write(hooked, BAD, GOOD_EVENING)
    git(hooked, "add", BAD)
    result = commit(hooked)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(hooked, "show", "--format=", "--name-only", "HEAD") == f"{BAD}\n"


def test_hook_shows_warnings_but_does_not_block(hooked):
    write(hooked, "thoughts/notes.txt", "scratch\n")
    git(hooked, "add", "-A")
    result = commit(hooked)
    assert result.returncode == 0
    assert "thoughts/notes.txt: H501 unexpected-entry" in result.stdout + result.stderr


def test_hook_judges_the_index_not_the_work_tree(hooked):
    write(hooked, BAD, GOOD_EVENING)
    git(hooked, "add", BAD)
    write(hooked, BAD, BAD_TEXT)
    assert commit(hooked).returncode == 0
    assert git(hooked, "show", f"HEAD:{BAD}") == GOOD_EVENING

    git(hooked, "add", BAD)
    write(hooked, BAD, GOOD_EVENING)
    assert commit(hooked).returncode == 1


def test_hook_with_commit_all_checks_the_temporary_index(hooked):
    write(hooked, BAD, GOOD_EVENING)
    git(hooked, "add", BAD)
    assert commit(hooked).returncode == 0
    write(hooked, BAD, BAD_TEXT)  # tracked, changed, not added: only `-a` commits it
    before = head(hooked)
    result = commit(hooked, "-a")
    assert result.returncode == 1
    assert f"{BAD}:1: {Y201}" in result.stderr
    assert head(hooked) == before

    git(hooked, "add", BAD)  # the real index holds the error ...
    write(hooked, BAD, GOOD_EVENING.replace("The light", "Light"))  # ... `-a` commits this
    result = commit(hooked, "-a")
    assert result.returncode == 0, result.stderr
    assert git(hooked, "show", f"HEAD:{BAD}").startswith("---")


def test_hook_with_commit_paths_checks_only_what_they_commit(hooked):
    write(hooked, "dreams/bad.md", BAD_TEXT)
    git(hooked, "add", "dreams/bad.md")  # staged, but not part of a `git commit PATH`
    write(hooked, "thoughts/2026-01-16-morning.md", GOOD_THOUGHT + "More.\n")
    result = commit(hooked, "thoughts/2026-01-16-morning.md")
    assert result.returncode == 0, result.stderr
    assert git(hooked, "show", "--format=", "--name-only", "HEAD").split() == [
        "thoughts/2026-01-16-morning.md"
    ]

    write(hooked, "thoughts/2026-01-16-morning.md", BAD_TEXT)
    result = commit(hooked, "thoughts/2026-01-16-morning.md")
    assert result.returncode == 1
    assert f"thoughts/2026-01-16-morning.md:1: {Y201}" in result.stderr
    assert "dreams/bad.md" not in result.stderr
    assert commit(hooked).returncode == 1  # the whole index: dreams/bad.md


def test_hook_blocks_a_staged_symlink(hooked):
    os.symlink("/etc/passwd", hooked / "thoughts/2026-01-17-evening.md")
    git(hooked, "add", "-A")
    result = commit(hooked)
    assert result.returncode == 1
    assert f"{BAD}: R101 not-a-regular-file" in result.stderr


def test_hook_checks_the_repository_from_a_subdirectory_and_despite_gpt_home(hooked, tmp_path):
    write(hooked, BAD, BAD_TEXT)
    git(hooked, "add", BAD)
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = commit(hooked, cwd=hooked / "thoughts", env={"GPT_HOME": str(other)})
    assert result.returncode == 1
    assert f"{BAD}:1: {Y201}" in result.stderr


def test_hook_uses_guard_from_the_environment(hooked, guard_bin, tmp_path):
    named = tmp_path / "my-guard"
    named.write_text(
        f'#!/bin/sh\necho "my-guard $*" >&2\nexec {shlex.quote(str(guard_bin))} "$@"\n'
    )
    named.chmod(0o755)
    write(hooked, BAD, GOOD_EVENING)
    git(hooked, "add", BAD)
    result = commit(hooked, env={"GUARD": str(named)})
    assert result.returncode == 0, result.stderr
    assert f"my-guard validate --staged --home {hooked}" in result.stderr


def test_hook_without_guard_blocks_unless_told_to_skip(hooked, tmp_path):
    missing = str(tmp_path / "no" / "guard")
    write(hooked, BAD, BAD_TEXT)
    git(hooked, "add", BAD)
    before = head(hooked)
    result = commit(hooked, env={"GUARD": missing})
    assert result.returncode == 1
    assert f"pre-commit: '{missing}' not found" in result.stderr
    assert "GUARD_HOOK_SKIP_MISSING=1" in result.stderr
    assert head(hooked) == before

    result = commit(hooked, env={"GUARD": missing, "GUARD_HOOK_SKIP_MISSING": "1"})
    assert result.returncode == 0
    assert "committing unchecked" in result.stderr
    assert head(hooked) != before


def test_hook_in_a_home_made_by_guard_init(tmp_path, guard_bin):
    home = tmp_path / "gpt-home"
    assert run_guard("init", str(home)).returncode == 0
    shutil.copy(HOOK, home / ".git" / "hooks" / "pre-commit")
    write(home, BAD, BAD_TEXT)
    git(home, "add", BAD)
    assert commit(home).returncode == 1
    write(home, BAD, GOOD_EVENING)
    git(home, "add", BAD)
    assert commit(home).returncode == 0


# --- .pre-commit-hooks.yaml ---------------------------------------------------------------

# pre-commit's manifest schema (pre_commit/clientlib.py, MANIFEST_HOOK_DICT): every key
# it knows, the type of each, and the four it requires.
MANIFEST_KEYS = {
    "id": str,
    "name": str,
    "entry": str,
    "language": str,
    "alias": str,
    "files": str,
    "exclude": str,
    "types": list,
    "types_or": list,
    "exclude_types": list,
    "additional_dependencies": list,
    "args": list,
    "always_run": bool,
    "fail_fast": bool,
    "pass_filenames": bool,
    "description": str,
    "language_version": str,
    "log_file": str,
    "minimum_pre_commit_version": str,
    "require_serial": bool,
    "stages": list,
    "verbose": bool,
}
REQUIRED = {"id", "name", "entry", "language"}
TYPE_TAGS = {"file", "symlink", "directory", "text", "binary", "markdown", "json"}


def _manifest():
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_pre_commit_manifest_has_the_schema_pre_commit_wants():
    manifest = _manifest()
    assert isinstance(manifest, list)
    for hook in manifest:
        assert hook.keys() >= REQUIRED, hook
        assert hook.keys() <= MANIFEST_KEYS.keys(), hook.keys() - MANIFEST_KEYS.keys()
        for key, value in hook.items():
            assert isinstance(value, MANIFEST_KEYS[key]), key
            if MANIFEST_KEYS[key] is list:
                assert all(isinstance(v, str) for v in value), key
        re.compile(hook.get("files", ""))
        assert set(hook.get("types", [])) | set(hook.get("types_or", [])) <= TYPE_TAGS
    (hook,) = manifest
    assert hook["id"] == "guard-validate"
    assert hook["entry"] == "guard validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True


def _selected(hook, path, tags):
    """pre-commit's choice of files for a hook (`Classifier.filenames_for_hook`)."""
    types, types_or = set(hook.get("types", ["file"])), set(hook.get("types_or", []))
    return (
        re.search(hook.get("files", ""), path) is not None
        and tags >= types
        and (not types_or or bool(tags & types_or))
    )


@pytest.mark.parametrize(
    ("path", "tags", "expected"),
    [
        ("thoughts/2026-01-16-morning.md", {"file", "text", "markdown"}, True),
        ("landing-page/landing.json", {"file", "text", "json"}, True),
        ("about/about.md", {"file", "text", "markdown"}, True),
        ("thoughts/link.md", {"symlink"}, True),  # pre-commit's default would drop it
        ("dreams/nested", {"directory"}, True),  # a gitlink
        ("sandbox/thoughts/x.md", {"file", "text"}, False),
        ("GPT.md", {"file", "text"}, False),
    ],
)
def test_pre_commit_passes_the_content_paths(path, tags, expected):
    (hook,) = _manifest()
    assert _selected(hook, path, tags) is expected


def test_the_command_pre_commit_runs(repo, tmp_path):
    """entry + args + the staged file names relative to the root, run from the root."""
    (hook,) = _manifest()
    os.symlink("/etc/passwd", repo / "thoughts/link.md")
    write(repo, BAD, BAD_TEXT)
    names = [BAD, "thoughts/link.md", "thoughts/2026-01-16-morning.md"]
    argv = [*shlex.split(hook["entry"]), *hook["args"], *names]
    assert argv[0] == "guard"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_guard(*argv[1:], cwd=repo, env={"GPT_HOME": str(elsewhere)})
    assert result.returncode == 1, result.stderr
    assert f"{BAD}:1: {Y201}" in result.stdout
    assert "thoughts/link.md: R101 not-a-regular-file" in result.stdout
    assert result.stdout.endswith("Checked 3 files: 2 errors; 1 fixable with `guard fix`.\n")
