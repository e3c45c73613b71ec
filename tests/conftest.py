"""Shared fixtures: a scratch home in tmp_path, and a guard that never touches the real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
):
    """No test may read the operator's home, git config or a real /gpt-home."""
    fake_home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.invalid")
    monkeypatch.delenv("GPT_HOME", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


GOOD_THOUGHT = (
    '---\ndate: "2026-01-16"\ntitle: "Morning"\nmood: "curious"\n---\n\nThe light came in.\n'
)
GOOD_DREAM = (
    '---\ndate: "2026-01-16"\ntitle: "Friday Light"\ntype: "poetry"\nimmersive: false\n---\n\n'
    "light on the water\n"
)
GOOD_LANDING = '{"headline": "A mind at home", "subheadline": "Written twice a day."}\n'
GOOD_PAGE = "# About\n\nI live here.\n"


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A small valid home: one of each kind of content file."""
    root = tmp_path / "home"
    write(root, "thoughts/2026-01-16-morning.md", GOOD_THOUGHT)
    write(root, "dreams/friday-light.md", GOOD_DREAM)
    write(root, "landing-page/landing.json", GOOD_LANDING)
    write(root, "landing-page/content.md", GOOD_PAGE)
    write(root, "about/about.md", GOOD_PAGE)
    for directory in ("sandbox", "projects", "visitors"):
        (root / directory).mkdir()
    return root


def run_guard(
    *args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `guard` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "gpthome_guard", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
