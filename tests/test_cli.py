"""The `guard` command end to end: exit codes, formats, help, errors without tracebacks."""

from __future__ import annotations

import json
import os

from gpthome_guard import __version__
from gpthome_guard.rules import RULES
from tests.conftest import run_guard, write

COMMANDS = (
    "validate",
    "fix",
    "quarantine",
    "rules",
    "schema",
    "guide",
    "init",
    "pre-session",
    "post-session",
    "restore",
    "log",
    "doctor",
    "report",
    "prompt",
    "hooks-path",
    "demo",
)


def test_version():
    result = run_guard("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"guard {__version__}"


def test_help_lists_every_command_with_a_line():
    result = run_guard("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        line = next(ln for ln in result.stdout.splitlines() if f" {command} " in ln)
        assert len(line.split(command, 1)[1].strip(" │")) > 10, line


def test_every_command_is_in_the_guide_and_the_readme():
    from gpthome_guard.cli import app
    from tests.test_generated import ROOT

    guide = (ROOT / "GPT.md").read_text()
    readme = (ROOT / "README.md").read_text()
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    names += [g.name for g in app.registered_groups]
    assert sorted(names) == sorted(COMMANDS)
    for name in names:
        assert f"`guard {name}" in guide, name
        assert f"`guard {name}" in readme, name


def test_console_script_is_installed():
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "guard"]
    assert script.value == "gpthome_guard.cli:main"


def test_valid_home_exits_zero(home):
    result = run_guard("validate", "--home", str(home))
    assert result.returncode == 0, result.stdout
    assert result.stdout == "Checked 5 files: all good.\n"
    assert result.stderr == ""


def test_home_from_environment_and_cwd(home):
    write(home, "thoughts/2026-01-17-morning.md", "no frontmatter\n")
    assert run_guard("validate", env={"GPT_HOME": str(home)}).returncode == 1
    assert run_guard("validate", cwd=home).returncode == 1


def test_text_output_is_grouped_by_file(home):
    write(home, "thoughts/2026-01-17-morning.md", "---\ndate: 2026-01-17\ntitle: 7\n---\n\nhi\n")
    result = run_guard("validate", "--home", str(home))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "thoughts/2026-01-17-morning.md:2: Y213 unquoted-date date is an unquoted YAML date; "
        'write date: "2026-01-17" [fixable]',
        "thoughts/2026-01-17-morning.md:3: Y212 yaml-implicit-type title was read as a number "
        '(7); quote it: title: "7" [fixable]',
        "",
        "Checked 6 files: 2 errors; 2 fixable with `guard fix`.",
    ]


def test_color_only_when_asked(home):
    write(home, "thoughts/2026-01-17-morning.md", "no frontmatter\n")
    plain = run_guard("validate", "--home", str(home))
    colored = run_guard("validate", "--home", str(home), "--color", "always")
    assert "\033[" not in plain.stdout
    assert "\033[31m" in colored.stdout


def test_json_output_is_one_versioned_document(home):
    write(home, "dreams/bad.md", '---\ndate: "2026-01-16"\ntitle: "x"\ntype: poem\n---\n\nx\n')
    result = run_guard("validate", "--home", str(home), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert data["status"] == "findings"
    assert data["counts"]["files"] == 6
    assert data["counts"]["errors"] == 1
    assert data["findings"] == [
        {
            "path": "dreams/bad.md",
            "code": "C309",
            "name": "invalid-choice",
            "severity": "error",
            "message": 'type "poem" is not one of poetry, ascii, prose; write type: "poetry"',
            "line": 4,
            "field": "type",
            "fixable": True,
        }
    ]
    statuses = {f["path"]: f["status"] for f in data["files"]}
    assert statuses["dreams/bad.md"] == "error"
    assert statuses["thoughts/2026-01-16-morning.md"] == "ok"


def test_json_errors_are_json_too(tmp_path):
    result = run_guard("validate", "--home", str(tmp_path / "missing"), "--format", "json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["status"] == "error"
    assert data["error"]["exit_code"] == 2
    assert "not a directory" in data["error"]["message"]


def test_github_annotations(home):
    write(home, "thoughts/2026-01-17-morning.md", '---\ndate: "2026-01-17"\n---\n\nhi\n')
    result = run_guard("validate", "--home", str(home), "--format", "github")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "::error file=thoughts/2026-01-17-morning.md,line=1,title=C301 missing-field::"
        'title is missing; add title: "..."'
    )


def test_validate_given_paths_only(home):
    bad = write(home, "thoughts/2026-01-17-morning.md", "no frontmatter\n")
    good = home / "thoughts/2026-01-16-morning.md"
    assert run_guard("validate", "--home", str(home), str(good)).returncode == 0
    assert run_guard("validate", "--home", str(home), str(bad)).returncode == 1
    assert run_guard("validate", "--home", str(home), str(home / "sandbox")).returncode == 0
    assert run_guard("validate", "--home", str(home), str(home / "thoughts")).returncode == 1


def test_path_outside_home_is_usage_error(home, tmp_path):
    result = run_guard("validate", "--home", str(home), str(tmp_path))
    assert result.returncode == 2
    assert "not inside the home" in result.stderr


def test_missing_path_is_usage_error(home):
    result = run_guard("validate", "--home", str(home), str(home / "thoughts/nope.md"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_unknown_option_is_usage_error(home):
    result = run_guard("validate", "--bogus")
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_json_too_with_format_json(home):
    for args in (("validate", "--bogus", "--format", "json"), ("fix", "--format=json", "-x")):
        result = run_guard(*args)
        assert result.returncode == 2
        data = json.loads(result.stdout)
        assert data["status"] == "error"
        assert data["command"] == args[0]
        assert data["error"]["exit_code"] == 2
        assert data["error"]["message"].startswith("usage: No such option")


def test_internal_error_is_one_line_without_traceback(home):
    # An unreadable home root makes os.open fail in a way no finding covers: for root,
    # use a home that is a directory we then make unsearchable via a file in its place.
    env = {"GPT_HOME": str(home)}
    os.chmod(home, 0o000)
    try:
        result = run_guard("validate", env=env)
    finally:
        os.chmod(home, 0o755)
    if os.geteuid() == 0:  # root reads anything: nothing fails
        assert result.returncode == 0
        return
    assert result.returncode in (3, 4)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rules_lists_every_rule():
    result = run_guard("rules")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(RULES)
    assert all(line.split()[0] in RULES for line in lines)


def test_rules_explains_one_by_code_or_name():
    by_code = run_guard("rules", "Y213")
    by_name = run_guard("rules", "unquoted-date")
    assert by_code.returncode == 0
    assert by_code.stdout == by_name.stdout
    assert 'date: "2026-01-16"' in by_code.stdout
    assert "Bad:" in by_code.stdout
    assert "Good:" in by_code.stdout


def test_rules_unknown_code_is_usage_error():
    result = run_guard("rules", "X999")
    assert result.returncode == 2
    assert "no rule 'X999'" in result.stderr


def test_rule_codes_and_names_are_stable_and_unique():
    names = [r.name for r in RULES.values()]
    assert len(set(names)) == len(names)
    for rule in RULES.values():
        assert rule.name == rule.name.lower()
        assert " " not in rule.name
        assert rule.summary.endswith(".")
        assert rule.bad != rule.good
