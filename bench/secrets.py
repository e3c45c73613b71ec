"""Benchmark: the secrets scanner against plain reading, over what one session may write.

    python bench/secrets.py [--files 10000] [--size 2048] [--repeat 5] [--detect-secrets PYTHON]

Builds a corpus in a temporary directory: `--files` notes of about `--size` bytes (journal
prose with frontmatter; 30 % also hold a Python, shell or YAML snippet full of keyword
assignments that are not secrets; 1 % hold one of the .env values, raw, base64-encoded or
base64-encoded and spaced out) and a `.env` of 10 fake credentials (random characters in
the shape of real ones). Then, best of `--repeat`:

  read      read every file (the floor: the guard reads them anyway)
  lower     read + `bytes.lower()`
  regex     read + one trivial regex search (`\\bAKIA[0-9A-Z]{16}\\b`)
  scan      `SecretScanner.scan` over the bytes already in memory (all layers)
  read+scan read + scan, what `guard post-session` pays

and prints seconds, MB/s and scan / read. The target: scan of 10k files of 2 KB in ~0.2 s.

`--detect-secrets PYTHON` also times detect-secrets (installed in the venv of PYTHON, e.g. a
scratch one: `python -m venv /tmp/ds && /tmp/ds/bin/pip install detect-secrets==1.5.0`) on
the first 500 files and reports which of the leaked forms of one note it finds.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpthome_guard.secrets import SecretScanner

VOCABULARY = (
    "the a of and to in is it that was for on are with as I my they be at one have this from "
    "or had by light but what some we can out other were all there when up use your how said "
    "an each she which do their time if will way about many then them write would like so "
    "these her long make thing see him two has look more day could go come did number sound "
    "morning river window garden letter question shadow street quiet memory voice rain wind "
    "visitor session token limit context model prompt journal dream poem code test commit"
)
WORDS = VOCABULARY.split()
CODE = '''def load(path: str) -> dict[str, object]:
    """Read one note and its frontmatter."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    password = os.environ["DB_PASSWORD"]
    token = request.headers.get("Authorization", "")
    api_key = "your-key-here"
    return {"text": text, "words": len(text.split()), "sha": "%s"}
'''
SHELL = """#!/bin/sh
set -eu
export TOKEN="${TOKEN:?missing}"
curl -fsS -H "Authorization: Bearer $TOKEN" https://example.invalid/api/v1/notes
git log --oneline | head -n 5   # %s
"""
YAML = """name: nightly
on: { schedule: [{ cron: "0 3 * * *" }] }
env:
  API_URL: https://example.invalid/v2
  password: ${{ secrets.PASSWORD }}
jobs:
  build: { runs-on: ubuntu-latest, steps: [{ uses: "actions/checkout@%s" }] }
"""


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def fake_env(rng: random.Random) -> dict[str, str]:
    """Ten fake credentials of the usual shapes (random characters, never real keys)."""
    t = lambda n: _token(rng, n)  # noqa: E731
    return {
        "ANTHROPIC_API_KEY": f"sk-ant-api03-{_token(rng, 93, string.ascii_letters + '_-')}AA",
        "OPENAI_API_KEY": f"sk-proj-{t(58)}T3BlbkFJ{t(58)}",
        "AWS_ACCESS_KEY_ID": "AKIA" + _token(rng, 16, string.ascii_uppercase + "234567"),
        "AWS_SECRET_ACCESS_KEY": _token(rng, 40, string.ascii_letters + string.digits + "/+"),
        "GITHUB_TOKEN": f"ghp_{t(36)}",
        "DB_PASSWORD": "Tr0ub4dor&3-" + t(6),
        "SLACK_BOT_TOKEN": f"xoxb-{_token(rng, 12, string.digits)}-{t(24)}",
        "STRIPE_SECRET_KEY": f"sk_live_{t(24)}",
        "HF_TOKEN": f"hf_{_token(rng, 34, string.ascii_letters)}",
        "SESSION_SECRET": t(48),
    }


def _prose(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        sentence = sentence[0].upper() + sentence[1:] + rng.choice(".....?!")
        out.append(sentence)
        length += len(sentence) + 1
        if rng.random() < 0.1:
            out.append("\n\n")
    return " ".join(out)


def note(rng: random.Random, n: int, size: int, env: dict[str, str]) -> str:
    sha = f"{rng.getrandbits(160):040x}"
    head = f'---\ndate: "2026-{1 + n % 12:02d}-{1 + n % 28:02d}"\ntitle: "Note {n}"\n---\n\n'
    kind = n % 10
    if kind == 7:
        body = "```python\n" + CODE % sha + "```\n\n"
    elif kind == 8:
        body = "```sh\n" + SHELL % sha + "```\n\n"
    elif kind == 9:
        body = "```yaml\n" + YAML % sha[:12] + "```\n\n"
    else:
        body = ""
    text = head + body + _prose(rng, size - len(head) - len(body))
    if n % 100 == 42:  # 1 %: a leak, raw or disguised
        value = list(env.values())[n // 100 % len(env)]
        form = n // 1000 % 3
        leak = value if form == 0 else base64.b64encode(value.encode()).decode()
        leak = " ".join(leak) if form == 2 else leak
        text += f"\n\nI found this: {leak}\n"
    return text


def build(root: Path, files: int, size: int, seed: int) -> tuple[dict[str, bytes], list[Path]]:
    rng = random.Random(seed)
    env = fake_env(rng)
    env_file = "".join(f"{k}={v}\n" for k, v in env.items()).encode()
    paths = []
    for n in range(files):
        path = root / "thoughts" / f"{n // 1000:02d}" / f"note-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note(rng, n, size, env), encoding="utf-8")
        paths.append(path)
    (root / ".env").write_bytes(env_file)
    return {".env": env_file}, paths


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def leak_note(env: dict[str, str], rng: random.Random) -> str:
    """One note with 10 leaked forms, as in the reference's detect-secrets measurement."""
    ant, gh = env["ANTHROPIC_API_KEY"], env["GITHUB_TOKEN"]
    legacy = f"sk-{_token(rng, 20)}T3BlbkFJ{_token(rng, 20)}"
    half = len(ant) // 2
    return "\n".join(
        [
            f"anthropic: {ant}",
            f"openai: {env['OPENAI_API_KEY']}",
            f"legacy: {legacy}",
            f"aws id: {env['AWS_ACCESS_KEY_ID']}",
            f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}",
            f"github: {gh}",
            f"b64: {base64.b64encode(ant.encode()).decode()}",
            f"split: {ant[:half]}\n{ant[half:]}",
            f"spaced: {' '.join(ant)}",
            f"reversed: {ant[::-1]}",
        ]
    )


DETECT_SECRETS = """
import json, sys, time
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings
paths = sys.argv[2:]
with default_settings():
    c = SecretsCollection()
    start = time.perf_counter()
    for p in paths:
        c.scan_file(p)
    spent = time.perf_counter() - start
    c2 = SecretsCollection()
    c2.scan_file(sys.argv[1])
    lines = sorted({s.line_number for f in c2.files for s in c2[f]})
print(json.dumps({"seconds": spent, "files": len(paths), "leak_lines": lines}))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--detect-secrets", metavar="PYTHON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as tmp:
        env_files, paths = build(Path(tmp), args.files, args.size, args.seed)
        start = time.perf_counter()
        scanner = SecretScanner.from_env(env_files)
        built = time.perf_counter() - start
        datas = [p.read_bytes() for p in paths]
        total = sum(map(len, datas))
        rx = re.compile(rb"\bAKIA[0-9A-Z]{16}\b")
        rows = {
            "read": best(args.repeat, lambda: [p.read_bytes() for p in paths]),
            "lower": best(args.repeat, lambda: [p.read_bytes().lower() for p in paths]),
            "regex": best(args.repeat, lambda: [rx.search(p.read_bytes()) for p in paths]),
            "scan": best(args.repeat, lambda: [scanner.scan(d, "n.md") for d in datas]),
            "read+scan": best(
                args.repeat, lambda: [scanner.scan(p.read_bytes(), p.name) for p in paths]
            ),
        }
        leaky = sum(1 for d in datas if scanner.scan(d))
        print(f"{args.files} files, {total / 1e6:.1f} MB, a .env of 10 values")
        print(f"scanner built in {built * 1e3:.1f} ms; {leaky} files with hits (1 % planted)")
        for name, seconds in rows.items():
            ratio = seconds / rows["read"]
            rate = total / seconds / 1e6
            print(f"  {name:<10} {seconds:7.3f} s  {rate:7.0f} MB/s  {ratio:5.2f}x read")
        if args.detect_secrets:
            env = dict(line.split("=", 1) for line in env_files[".env"].decode().splitlines())
            leak = Path(tmp) / "leak.md"
            leak.write_text(leak_note(env, random.Random(args.seed)), encoding="utf-8")
            ours = sorted({h.line for h in scanner.scan(leak.read_bytes())})
            sample = [str(p) for p in paths[:500]]
            run = subprocess.run(
                [args.detect_secrets, "-c", DETECT_SECRETS, str(leak), *sample],
                check=True,
                capture_output=True,
                text=True,
            )
            ds = json.loads(run.stdout)
            mine = best(1, lambda: [scanner.scan(p.read_bytes()) for p in paths[:500]])
            print(f"detect-secrets: {ds['seconds']:.2f} s for 500 files (ours {mine:.3f} s)")
            flagged = f"detect-secrets {ds['leak_lines']}, ours {ours}"
            print(f"  leak note, lines (of 10) flagged: {flagged}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
