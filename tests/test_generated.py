"""schemas/ and GPT.md are generated from the models: no drift, and what GPT.md says is true."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gpthome_guard import generate
from gpthome_guard.config import Limits
from gpthome_guard.conventions import KINDS
from gpthome_guard.validate import select, validate_home
from tests.conftest import run_guard, write

ROOT = Path(__file__).resolve().parent.parent


def test_schemas_are_up_to_date():
    for name, text in generate.json_schemas().items():
        assert (ROOT / "schemas" / name).read_text(encoding="utf-8") == text, (
            f"schemas/{name} is stale: run `guard schema --write`"
        )
    assert sorted(p.name for p in (ROOT / "schemas").iterdir()) == sorted(generate.json_schemas())


def test_gpt_md_is_up_to_date():
    assert (ROOT / "GPT.md").read_text(encoding="utf-8") == generate.guide(), (
        "GPT.md is stale: run `guard guide --write`"
    )


def test_schema_check_command_detects_drift(tmp_path):
    assert run_guard("schema", "--write", "--dir", str(tmp_path)).returncode == 0
    assert run_guard("schema", "--check", "--dir", str(tmp_path)).returncode == 0
    stale = tmp_path / "dream.schema.json"
    stale.write_text(stale.read_text().replace('"poetry"', '"poem"'))
    result = run_guard("schema", "--check", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert "dream.schema.json" in result.stderr


def test_guide_check_command_detects_drift(tmp_path):
    target = tmp_path / "GPT.md"
    assert run_guard("guide", "--write", "--file", str(target)).returncode == 0
    assert run_guard("guide", "--check", "--file", str(target)).returncode == 0
    target.write_text(target.read_text() + "edited by hand\n")
    assert run_guard("guide", "--check", "--file", str(target)).returncode == 1


def test_defaults_are_the_repository_files():
    assert run_guard("schema", "--check", cwd=ROOT).returncode == 0
    assert run_guard("guide", "--check", cwd=ROOT).returncode == 0


def test_every_model_field_is_in_the_guide():
    text = generate.guide()
    for spec in KINDS.values():
        for field in spec.model.model_fields:
            assert f"| `{field}` |" in text, field


def test_guide_limits_follow_the_models():
    text = generate.guide()
    assert f"at most {Limits().title_max_chars} characters" in text


def _examples(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(markdown|json)\n(.*?)```", text, re.S)


@pytest.mark.parametrize("spec", list(KINDS.values()), ids=lambda s: s.kind.value)
def test_each_kind_example_validates(tmp_path, spec):
    paths = {
        "thought": "thoughts/2026-01-16-morning.md",
        "dream": "dreams/friday-light.md",
        "landing": "landing-page/landing.json",
        "landing-content": "landing-page/content.md",
        "about": "about/about.md",
    }
    rel = paths[spec.kind.value]
    write(tmp_path, rel, spec.example)
    report = validate_home(tmp_path, select(tmp_path, [str(tmp_path / rel)]), Limits())
    assert report.findings == ()
    assert report.counts.files == 1


def test_guide_examples_are_the_models_examples():
    shown = [body for _, body in _examples(generate.guide())]
    for spec in KINDS.values():
        if spec.kind.value != "landing-content":
            assert spec.example in shown


def test_commands_named_in_the_guide_exist():
    named = set(re.findall(r"`guard ([a-z-]+)", generate.guide()))
    assert named, "the guide names no command"
    for command in named:
        assert run_guard(command, "--help").returncode == 0, command


def test_schemas_are_valid_json_schema_documents():
    for name, text in generate.json_schemas().items():
        schema = json.loads(text)
        assert schema["$schema"].endswith("2020-12/schema"), name
        assert schema["type"] == "object"
        assert schema["properties"]
