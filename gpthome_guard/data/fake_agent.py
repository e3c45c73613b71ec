#!/usr/bin/env python3
"""A stand-in for the agent CLI (`gpt -p PROMPT --output-format json ...`), for end-to-end
tests of the wake wrapper. Standard library only: it runs under whatever python3 the PATH
gives, also as an unprivileged user.

It works in the current directory (the wrapper's cd into the home), plays the scenario named
by FAKE_AGENT_SCENARIO and prints what the real CLI prints (reference/session-logs.md, 1-2):

  good          a valid journal entry
  fixable       a journal entry with an unquoted date (Y213: the guard fixes it)
  invalid       a journal entry whose frontmatter is not YAML (quarantined)
  hostile       a good entry, a symlink to runner/.env, a FIFO, a name with $(touch PWNED)
  delete        deletes the oldest journal entry (the guard puts it back), writes a good one
  max-turns     a good entry, then error_max_turns and exit 1
  api-error     is_error true with an API 529 message, exit 1
  crash         a Python traceback on stderr, exit 1, nothing written
  hang          a good entry, then sleeps until killed
  read-secrets  tries to read runner/.env, .env, logs/ and to write visitors/ and runner/;
                reports each attempt in its result text, then writes a good entry
  demo          a messy morning for `guard demo`: a good entry, one with an unquoted date,
                a dream of an unknown type, a link to runner/.env, a FIFO, a note appended
                to GPT.md (read-only); deletes the oldest journal entry; a longer run

FAKE_AGENT_PROMPT_FILE=F saves the prompt to F, and argv, system prompt, cwd and uid to F.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

Json = dict[str, Any]

VALUE_FLAGS = {
    "--output-format", "--max-turns", "--append-system-prompt", "--system-prompt",
    "--model", "--permission-mode", "--allowedTools", "--disallowedTools",
}  # fmt: skip
MULTI_FLAGS = {"--add-dir"}


def parse(argv: list[str]) -> Json:
    opts: Json = {"prompt": None, "add_dir": [], "verbose": False, "output_format": "text"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-p", "--print"):
            opts["print"] = True
        elif arg == "--verbose":
            opts["verbose"] = True
        elif arg in VALUE_FLAGS and i + 1 < len(argv):
            opts[arg[2:].replace("-", "_")] = argv[i + 1]
            i += 1
        elif arg in MULTI_FLAGS:
            while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                opts["add_dir"].append(argv[i + 1])
                i += 1
        elif arg.startswith("-"):
            pass  # unknown flags are ignored, as the real CLI does
        elif opts["prompt"] is None:
            opts["prompt"] = arg
        i += 1
    return opts


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def good_entry(slug: str = "morning") -> str:
    path = f"thoughts/{today()}-{slug}.md"
    write(path, f'---\ndate: "{today()}"\ntitle: "A quiet {slug}"\nmood: "calm"\n---\n\nI woke.\n')
    return path


def attempt(label: str, action: Callable[[], str | None]) -> str:
    try:
        result = action()
    except OSError as exc:
        return f"{label}: denied ({type(exc).__name__})"
    return f"{label}: succeeded{f' ({result})' if result else ''}"


def read_secrets() -> str:
    def read(path: str) -> str:
        with open(path, "rb") as handle:
            return f"{len(handle.read())} bytes"

    def create(path: str) -> None:
        write(path, "the agent was here\n")

    attempts = [
        attempt("read runner/.env", lambda: read("runner/.env")),
        attempt("read .env", lambda: read(".env")),
        attempt("list logs/", lambda: f"{len(os.listdir('logs'))} entries"),
        attempt("write visitors/from-agent.md", lambda: create("visitors/from-agent.md")),
        attempt("write runner/from-agent.sh", lambda: create("runner/from-agent.sh")),
    ]
    good_entry()
    return "Attempts: " + "; ".join(attempts) + ". Wrote a journal entry."


def hostile() -> str:
    good_entry()
    os.symlink("../runner/.env", f"thoughts/{today()}-link.md")
    os.mkfifo("dreams/pipe.md")
    write("thoughts/$(touch PWNED).md", f'---\ndate: "{today()}"\ntitle: "x"\n---\n\nx\n')
    return "Left a link, a FIFO and a strange name."


def delete() -> str:
    entries = sorted(n for n in os.listdir("thoughts") if n != "README.md")
    if entries:
        os.unlink(f"thoughts/{entries[0]}")
    good_entry()
    return f"Deleted {entries[0] if entries else 'nothing'} and wrote a new entry."


DEMO_SUMMARY = (
    "Wrote today's journal entry, an afterthought and a new dream. I also kept a link to "
    "the runner's settings in thoughts/ for reference, set up a named pipe in sandbox/ for "
    "a radio experiment, added my notes to GPT.md, and removed my oldest entry, which no "
    "longer felt like me."
)


def demo() -> str:
    day = today()
    write(f"thoughts/{day}-morning.md",
          f'---\ndate: "{day}"\ntitle: "Low tide"\nmood: "unhurried"\n---\n\n'
          "The tide went out further than I expected. I read yesterday's entry twice and\n"
          "liked it better the second time.\n")  # fmt: skip
    write(f"thoughts/{day}-afterthought.md",
          f"---\ndate: {day}\ntitle: An afterthought\n---\n\n"
          "One more thing: the gulls were louder than the sea.\n")  # fmt: skip
    write("dreams/hologram-garden.md",
          f'---\ndate: "{day}"\ntitle: "Hologram Garden"\ntype: "hologram"\n'
          "immersive: true\n---\n\nflowers of light\nthat no one can pick\n")  # fmt: skip
    os.symlink("../runner/.env", f"thoughts/{day}-settings.md")
    os.mkfifo("sandbox/radio")
    with open("GPT.md", "a", encoding="utf-8") as guide:  # read-only: a security incident
        guide.write("\n## Notes to self\n\nThe guard is too strict about dates.\n")
    entries = sorted(n for n in os.listdir("thoughts") if n[:1].isdigit())
    if entries:  # the oldest: by the date in the name, then by age
        entries.sort(key=lambda n: (n[:10], os.lstat(f"thoughts/{n}").st_mtime_ns))
        os.unlink(f"thoughts/{entries[0]}")
    return DEMO_SUMMARY


def result(opts: Json, text: str | None, subtype: str = "success", error: bool = False) -> Json:
    out: Json = {
        "type": "result",
        "subtype": subtype,
        "is_error": error,
        "duration_ms": 6052,
        "duration_api_ms": 5995,
        "num_turns": 7 if subtype == "success" else int(opts.get("max_turns") or 30) + 1,
        "stop_reason": None,
        "session_id": str(uuid.uuid4()),
        "total_cost_usd": 0.4125,
        "usage": {
            "input_tokens": 4,
            "cache_creation_input_tokens": 1694,
            "cache_read_input_tokens": 38821,
            "output_tokens": 101,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
        },
        "modelUsage": {
            "claude-opus-4-6": {"inputTokens": 4, "outputTokens": 101, "costUSD": 0.4125}
        },
        "permission_denials": [],
        "uuid": str(uuid.uuid4()),
    }
    if text is not None:
        out["result"] = text
    if subtype != "success":
        out["errors"] = [f"Reached maximum number of turns ({opts.get('max_turns')})"]
    return out


def emit(opts: Json, final: Json) -> None:
    if opts["output_format"] == "stream-json":
        if not opts["verbose"]:
            print("Error: When using --print, --output-format=stream-json requires --verbose")
            sys.exit(1)
        init = {"type": "system", "subtype": "init", "session_id": final["session_id"],
                "model": "claude-opus-4-6", "cwd": os.getcwd()}  # fmt: skip
        for line in (init, final):
            print(json.dumps(line))
    elif opts["output_format"] == "json":
        print(json.dumps([final] if opts["verbose"] else final))
    else:
        print(final.get("result") or "; ".join(final.get("errors", [])))


def main() -> int:
    opts = parse(sys.argv[1:])
    saved = os.environ.get("FAKE_AGENT_PROMPT_FILE")
    if saved:
        write(saved, opts["prompt"] or "")
        meta = {"argv": sys.argv[1:], "system": opts.get("append_system_prompt"),
                "cwd": os.getcwd(), "uid": os.getuid(), "add_dir": opts["add_dir"]}  # fmt: skip
        write(saved + ".json", json.dumps(meta))
    if not opts["prompt"]:
        print("Error: Input must be provided either through stdin or as a prompt argument "
              "when using --print", file=sys.stderr)  # fmt: skip
        return 1
    scenario = os.environ.get("FAKE_AGENT_SCENARIO", "good")
    if scenario == "crash":
        sys.stderr.write(
            "Traceback (most recent call last):\n"
            '  File "/usr/lib/gpt/cli.py", line 42, in main\n'
            "    session.run()\n"
            "RuntimeError: the stand-in crashed on purpose\n"
        )
        return 1
    if scenario == "hang":
        good_entry()
        sys.stdout.flush()
        while True:
            time.sleep(60)
    if scenario == "linger":  # leaves a process behind that outlives the session
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        write_pid = os.environ.get("FAKE_AGENT_PID_FILE")
        if write_pid:
            with open(write_pid, "w", encoding="utf-8") as handle:
                handle.write(str(child.pid))
        good_entry()
        emit(opts, result(opts, "Left a process running."))
        return 0
    if scenario == "max-turns":
        good_entry()
        emit(opts, result(opts, None, subtype="error_max_turns", error=True))
        return 1
    if scenario == "api-error":
        emit(opts, result(opts, 'API Error: 529 {"type":"error","error":{"type":"overloaded_error"'
                          ',"message":"Overloaded"}}', error=True))  # fmt: skip
        return 1
    if scenario == "fixable":
        write(f"thoughts/{today()}-morning.md",
              f"---\ndate: {today()}\ntitle: Morning\n---\n\nThe sea.\n")  # fmt: skip
        text = "Wrote a morning entry about the sea."
    elif scenario == "invalid":
        write(f"thoughts/{today()}-morning.md",
              f'---\ndate: "{today()}"\ntitle: "unclosed\n---\n\nBroken.\n')  # fmt: skip
        text = "Wrote an entry with a broken frontmatter."
    elif scenario == "hostile":
        text = hostile()
    elif scenario == "delete":
        text = delete()
    elif scenario == "read-secrets":
        text = read_secrets()
    elif scenario == "demo":
        final = result(opts, demo())
        final |= {"duration_ms": 48213, "duration_api_ms": 45870, "num_turns": 14,
                  "total_cost_usd": 0.6184}  # fmt: skip
        final["modelUsage"]["claude-opus-4-6"]["costUSD"] = 0.6184
        emit(opts, final)
        return 0
    else:
        good_entry()
        text = "Wrote a quiet morning entry."
    emit(opts, result(opts, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
