"""guard.toml: defaults in code, overrides at the home's root, clear usage errors."""

from __future__ import annotations

import pytest

from gpthome_guard.config import DEFAULT_CONFIG, default_config_toml, load_config, parse_config
from gpthome_guard.errors import ConfigError, ExitCode
from tests.conftest import run_guard, write


def test_no_file_means_defaults(tmp_path):
    assert load_config(tmp_path) == DEFAULT_CONFIG


def test_override_one_limit():
    config = parse_config("[limits]\ntitle_max_chars = 80\n")
    assert config.limits.title_max_chars == 80
    assert config.limits.max_file_bytes == DEFAULT_CONFIG.limits.max_file_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[limits]\ntitle_max_chars = \n", "guard.toml: Invalid value (at line 2, column 19)"),
        (
            "[limits]\n\ntitel_max_chars = 5\n",
            "guard.toml:3: unknown setting limits.titel_max_chars",
        ),
        (
            '[limits]\ntitle_max_chars = "5"\n',
            "guard.toml:2: limits.title_max_chars: input should be",
        ),
        (
            "[limits]\ntitle_max_chars = 0\n",
            "guard.toml:2: limits.title_max_chars: input should be",
        ),
        (
            "[limitz]\n",
            "guard.toml:1: unknown setting limitz; "
            "known here: access, git, limits, secrets, session",
        ),
    ],
)
def test_bad_config_names_the_line(text, expected):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value).startswith(expected)
    assert info.value.exit_code is ExitCode.USAGE


def test_commented_defaults_parse_to_the_defaults():
    text = default_config_toml()
    assert parse_config(text) == DEFAULT_CONFIG
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and "=" in line else line for line in text.splitlines()
    )
    assert parse_config(uncommented) == DEFAULT_CONFIG


def test_cli_reports_bad_config_as_usage_error(home):
    write(home, "guard.toml", "[limits]\nmax_file_bytes = -1\n")
    result = run_guard("validate", "--home", str(home))
    assert result.returncode == 2
    assert "guard.toml:2: limits.max_file_bytes" in result.stderr
    assert "Traceback" not in result.stderr
