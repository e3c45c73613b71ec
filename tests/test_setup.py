"""guard init --agent-user: the owners and modes it wants (pure), guard.toml, the refusal without
root; then, as root, real homes set up for a real user that `guard doctor` passes."""

from __future__ import annotations

import errno
import grp
import json
import os
import pwd
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from gpthome_guard.access import Zone
from gpthome_guard.config import default_config_toml
from gpthome_guard.doctor_access import Who
from gpthome_guard.errors import GuardError, UsageError
from gpthome_guard.generate import guide
from gpthome_guard.setup import (
    Change,
    Kind,
    Owner,
    check_can_set_up,
    summarize,
    wanted,
    with_agent_user,
    zone_of_entry,
)
from gpthome_guard.setup_apply import record_agent_user
from tests.conftest import run_guard

AGENT = "gg-setup-agent"  # not the doctor tests' user: the two files may run at the same time
ROOT_ONLY = "issue 5: needs root to create a user and give it files"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_ONLY)

# --- what each path should be, pure ---------------------------------------------------

DR, FL, OT = Kind.dir, Kind.file, Kind.other
OP, AG = Owner.operator, Owner.agent


@pytest.mark.parametrize(
    ("zone", "kind", "mode", "nlink", "is_agents", "top", "expected"),
    [
        (Zone.writable, DR, 0o755, 2, False, True, (AG, 0o755)),
        (Zone.writable, DR, 0o500, 2, True, False, (AG, 0o700)),  # the agent must write
        (Zone.writable, FL, 0o444, 1, False, False, (AG, 0o644)),
        (Zone.writable, FL, 0o4755, 1, True, False, (AG, 0o755)),  # no set-uid agent
        (Zone.writable, FL, 0o644, 2, True, False, (AG, 0o644)),  # linked, but its own
        (Zone.writable, OT, 0o777, 1, False, False, (AG, None)),  # a link: owner only
        (Zone.forbidden, DR, 0o755, 2, False, True, (OP, 0o700)),
        (Zone.forbidden, FL, 0o644, 1, True, True, (OP, 0o600)),
        (Zone.forbidden, FL, 0o644, 3, True, True, (OP, 0o600)),  # restricting is always safe
        (Zone.forbidden, FL, 0o644, 1, True, False, (OP, None)),  # below a 700 directory
        (Zone.forbidden, OT, 0o777, 1, True, True, (OP, None)),
        (Zone.read_only, DR, 0o777, 2, True, True, (OP, 0o755)),
        (Zone.read_only, FL, 0o666, 1, True, True, (OP, 0o644)),
        (Zone.read_only, FL, 0o600, 1, True, False, (OP, 0o644)),
        (Zone.read_only, FL, 0o775, 1, True, False, (OP, 0o755)),
        (Zone.read_only, FL, 0o644, 2, False, False, (OP, 0o644)),  # linked, nothing widened
    ],
)
def test_wanted(zone, kind, mode, nlink, is_agents, top, expected):
    want = wanted(zone, kind, mode, nlink, is_agents, top)
    assert (want.owner, want.mode, want.skip) == (*expected, "")


@pytest.mark.parametrize(
    ("zone", "kind", "mode", "nlink", "is_agents"),
    [
        (Zone.writable, FL, 0o644, 2, False),  # another name of it may be a secret elsewhere
        (Zone.read_only, FL, 0o600, 2, False),  # would make another name readable
        (Zone.outside, DR, 0o755, 2, False),
    ],
)
def test_wanted_leaves_what_it_cannot_change_safely(zone, kind, mode, nlink, is_agents):
    assert wanted(zone, kind, mode, nlink, is_agents, top=False).skip


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        (".env", Zone.forbidden),
        (".env.local", Zone.forbidden),
        ("quarantine", Zone.forbidden),
        ("visitors", Zone.read_only),
        ("thoughts", Zone.writable),
        ("notes.txt", Zone.outside),
        ("extra", Zone.forbidden),  # [access] forbidden adds to the map
    ],
)
def test_zone_of_entry(name, zone):
    assert zone_of_entry(name, ("visitors",), (".env", "quarantine", "extra")) is zone


def test_summarize():
    changes = [
        Change("home directory", owner=("gg:gg", "root:root"), mode=(0o777, 0o755)),
        Change("quarantine/", note="created, 700 root:root"),
        Change("thoughts/", owner=("root:root", "gg:gg")),
        Change("thoughts/", inside=True, owner=("root:root", "gg:gg")),
        Change("thoughts/", inside=True, owner=("root:root", "gg:gg"), mode=(0o444, 0o644)),
        Change("sandbox/", note="skipped /h/sandbox/x: has other hard links"),
        Change("runner/", mode=(0o755, 0o700), acl=True),
    ]
    assert summarize(changes) == [
        "home directory: owner gg:gg -> root:root, mode 777 -> 755",
        "quarantine/: created, 700 root:root",
        "thoughts/: owner root:root -> gg:gg, inside: 2 owners, 1 mode",
        "skipped /h/sandbox/x: has other hard links",
        "runner/: mode 755 -> 700, POSIX ACL removed",
    ]
    assert summarize([]) == []


def test_only_root_may_set_up_and_never_for_root():
    who = Who("gg", 1001, 1001, frozenset({1001}), "gg")
    with pytest.raises(UsageError, match=r"^/h: --agent-user needs root .* sudo guard init /h"):
        check_can_set_up(Path("/h"), 1000, who)
    with pytest.raises(UsageError, match="a user of its own, not root"):
        check_can_set_up(Path("/h"), 0, Who("root", 0, 0, frozenset({0}), "root"))
    check_can_set_up(Path("/h"), 0, who)


# --- guard.toml ---------------------------------------------------------------------------


def test_the_default_guard_toml_gets_its_commented_line_set():
    old = default_config_toml()
    new = with_agent_user(old, "gpt")
    changed = [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True) if a != b]
    assert changed == [('# agent_user = ""', 'agent_user = "gpt"')]
    assert tomllib.loads(new)["access"] == {"agent_user": "gpt"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", '[access]\nagent_user = "gpt"\n'),
        (
            "[git]\nagent_name = 'me'",
            "[git]\nagent_name = 'me'\n\n[access]\nagent_user = \"gpt\"\n",
        ),
        (
            "[access]  # the map\nforbidden = ['x']\n[git]\n",
            "[access]  # the map\nagent_user = \"gpt\"\nforbidden = ['x']\n[git]\n",
        ),
        (
            "[access]\nagent_user = 'old'  # was\n[secrets]\n# agent_user = ''\n",
            "[access]\nagent_user = \"gpt\"\n[secrets]\n# agent_user = ''\n",
        ),
        ("[access.x]\n[access]\n", '[access.x]\n[access]\nagent_user = "gpt"\n'),
    ],
)
def test_with_agent_user(text, expected):
    assert with_agent_user(text, "gpt") == expected
    assert tomllib.loads(expected)["access"]["agent_user"] == "gpt"


def test_record_agent_user_keeps_the_rest_and_refuses_what_it_cannot_edit(tmp_path):
    path = tmp_path / "guard.toml"
    path.write_text('# mine\n[git]\nagent_name = "me"  # kept\n')
    assert record_agent_user(path, "gpt") is False
    assert (
        path.read_text()
        == '# mine\n[git]\nagent_name = "me"  # kept\n\n[access]\nagent_user = "gpt"\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["guard.toml"]  # no temporary file left

    fresh = tmp_path / "new" / "guard.toml"
    fresh.parent.mkdir()
    assert record_agent_user(fresh, "gpt") is True
    assert fresh.read_text() == with_agent_user(default_config_toml(), "gpt")

    path.write_text('access.agent_user = "old"\n')  # a dotted key: not edited, said so
    with pytest.raises(GuardError, match=r"guard.toml: could not set agent_user there; put"):
        record_agent_user(path, "gpt")
    path.unlink()
    path.symlink_to(fresh)
    with pytest.raises(GuardError, match="not a readable regular file"):
        record_agent_user(path, "gpt")


# --- the commands -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base():
    """Homes live here, not under pytest's 0700 basetemp: the agent must be able to reach them."""
    path = Path(tempfile.mkdtemp(prefix="gg-setup-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _parent(base):
    parent = Path(tempfile.mkdtemp(dir=base))
    parent.chmod(0o755)
    return parent


def test_without_root_init_refuses_before_writing_anything(base):
    home = _parent(base) / "gpt-home"
    if os.geteuid() == 0:  # run it as nobody
        if shutil.which("setpriv") is None:
            pytest.skip("issue 5: no setpriv to run the command as another user")
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = subprocess.run(
            [*as_nobody, sys.executable, "-m", "gpthome_guard", "init", str(home),
             "--agent-user", "nobody"],
            capture_output=True, text=True, timeout=60, check=False, cwd="/",
        )  # fmt: skip
    else:
        result = run_guard("init", str(home), "--agent-user", pwd.getpwuid(os.geteuid()).pw_name)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"guard init: {home}: --agent-user needs root")
    assert len(result.stderr.splitlines()) == 1
    assert not home.exists()


def test_doctor_takes_the_agent_user_from_guard_toml(base):
    home = _parent(base) / "gpt-home"
    assert run_guard("init", str(home)).returncode == 0
    toml = home / "guard.toml"
    toml.write_text(toml.read_text().replace('# agent_user = ""', 'agent_user = "nobody"'))
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody on this system")
    result = run_guard("doctor", "--home", str(home), "--format", "json")
    data = json.loads(result.stdout)
    assert data["agent_user"] == "nobody"
    names = {c["name"] for c in data["checks"]}
    assert {"guard user", "runner/ out of reach"} <= names
    assert "agent's access" not in names  # the access checks ran

    toml.write_text('[access]\nagent_user = "gg-setup-nobody"\n')
    result = run_guard("doctor", "--home", str(home))
    assert result.returncode == 2
    assert result.stderr == (
        f"guard doctor: {toml}: [access] agent_user = 'gg-setup-nobody' is no user on this "
        "system; set it to the agent's Unix user (or pass --agent-user NAME)\n"
    )


# --- real homes, a real user (root) -------------------------------------------------------


@pytest.fixture(scope="module")
def agent():
    """A system user of its own, removed at the end."""
    if os.geteuid() != 0:
        pytest.skip(ROOT_ONLY)
    done = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", AGENT],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 9), done.stderr  # 9: exists already
    entry = pwd.getpwnam(AGENT)
    yield f"{AGENT}:{grp.getgrgid(entry.pw_gid).gr_name}"
    subprocess.run(["userdel", AGENT], capture_output=True, check=False)


@pytest.fixture(autouse=True)
def _umask():
    old = os.umask(0o022)  # the modes below are what `guard init` makes with the usual umask
    yield
    os.umask(old)


def _stats(home, *paths):
    out = {}
    for rel in paths:
        info = os.lstat(home / rel)
        owner = f"{pwd.getpwuid(info.st_uid).pw_name}:{grp.getgrgid(info.st_gid).gr_name}"
        out[rel] = f"{stat.S_IMODE(info.st_mode):03o} {owner}"
    return out


def _doctor_passes(home):
    """`guard doctor` without --agent-user: every check passes, the real try included."""
    result = run_guard("doctor", "--home", str(home), "--format", "json")
    data = json.loads(result.stdout)
    failing = [c for c in data["checks"] if c["status"] != "pass"]
    assert (result.returncode, failing) == (0, []), result.stdout
    assert (data["status"], data["agent_user"]) == ("ok", AGENT)
    assert f"real try as {AGENT}" in {c["name"] for c in data["checks"]}


@needs_root
def test_init_sets_up_a_fresh_home_that_doctor_passes(agent, base):
    home = _parent(base) / "gpt-home"
    result = run_guard("init", str(home), "--agent-user", AGENT)
    assert result.returncode == 0, result.stderr
    out = result.stdout.split(f"set up for the agent's user {AGENT} (agent_user in guard.toml):\n")
    assert out[1].splitlines() == [
        "  quarantine/: created, 700 root:root",
        "  .git/: mode 755 -> 700",
        f"  about/: owner root:root -> {agent}, inside: 1 owner",
        f"  dreams/: owner root:root -> {agent}, inside: 1 owner",
        f"  landing-page/: owner root:root -> {agent}, inside: 1 owner",
        "  logs/: mode 755 -> 700",
        f"  projects/: owner root:root -> {agent}, inside: 1 owner",
        "  runner/: mode 755 -> 700",
        f"  sandbox/: owner root:root -> {agent}, inside: 1 owner",
        f"  thoughts/: owner root:root -> {agent}, inside: 1 owner",
    ]
    paths = ". .git runner runner/README.md quarantine guard.toml visitors visitors/README.md"
    paths += " GPT.md .gitignore thoughts thoughts/README.md"
    assert _stats(home, *paths.split()) == {
        ".": "755 root:root",
        ".git": "700 root:root",
        "runner": "700 root:root",
        "runner/README.md": "644 root:root",
        "quarantine": "700 root:root",
        "guard.toml": "600 root:root",
        "visitors": "755 root:root",
        "visitors/README.md": "644 root:root",
        "GPT.md": "644 root:root",
        ".gitignore": "644 root:root",
        "thoughts": f"755 {agent}",
        "thoughts/README.md": f"644 {agent}",
    }
    committed = subprocess.run(
        ["git", "-C", str(home), "show", "HEAD:guard.toml"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert f'\nagent_user = "{AGENT}"\n' in committed  # in the first commit already
    _doctor_passes(home)
    again = run_guard("init", str(home), "--agent-user", AGENT)
    assert again.stdout.endswith(f"{AGENT} (agent_user in guard.toml):\n  nothing to change\n")


def _set_acl(path, uid):
    """Let `uid` read and enter `path` by a POSIX ACL; False where the file system has none."""
    entries = [(1, 7, 0xFFFFFFFF), (2, 5, uid), (4, 0, 0xFFFFFFFF), (16, 5, 0xFFFFFFFF),
               (32, 0, 0xFFFFFFFF)]  # fmt: skip
    raw = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)
    try:
        os.setxattr(path, "system.posix_acl_access", raw)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return False
        raise
    return True


@needs_root
def test_init_adopts_a_home_the_agent_owned_and_doctor_passes(agent, base):
    parent = _parent(base)
    home = parent / "gpt-home"
    secret = parent / "secret"  # outside the home: a link to it must not give it away
    secret.write_text("root's\n")
    secret.chmod(0o600)
    for rel in ("thoughts", "dreams", "landing-page", "about", "visitors", "runner", "sandbox"):
        (home / rel).mkdir(parents=True)
    (home / "thoughts" / "2026-01-16-morning.md").write_text("The light came in.\n")
    (home / "thoughts" / "link").symlink_to(secret)
    (home / "runner" / ".env").write_text("API_KEY=not-a-real-one\n")
    os.link(home / "runner" / ".env", home / "sandbox" / "hard")
    os.mkfifo(home / "sandbox" / "fifo")
    deep = home.joinpath("sandbox", *["d"] * 260)
    deep.mkdir(parents=True)
    (home / "visitors" / "hello.md").write_text("Hi!\n")
    (home / "visitors" / "hello.md").chmod(0o666)
    for name in (".env", ".env.local"):
        (home / name).write_text("K=1\n")
    (home / "GPT.md").write_text(guide())
    toml = '# mine\n[git]\nagent_name = "me"  # kept\n'
    (home / "guard.toml").write_text(toml)
    subprocess.run(["git", "init", "-q", str(home)], check=True)
    subprocess.run(["chown", "-R", agent, str(home)], check=True)  # -R: links not followed
    home.chmod(0o777)
    acl = _set_acl(home / "runner", pwd.getpwnam(AGENT).pw_uid)

    result = run_guard("init", str(home), "--agent-user", AGENT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"  home directory: owner {agent} -> root:root, mode 777 -> 755" in lines
    assert f"  projects/: created, 755 {agent}" in lines
    assert f"  .env.local: owner {agent} -> root:root, mode 644 -> 600" in lines
    runner = f"  runner/: owner {agent} -> root:root, mode 7{'50' if acl else '55'} -> 700"
    assert any(line.startswith(runner) for line in lines), lines
    assert ("POSIX ACL removed, inside: 1 owner" in result.stdout) is acl
    assert f"  skipped {home}/sandbox/hard: has other hard links" in result.stdout
    assert "directories deep; set it up by hand" in result.stdout
    assert _stats(home, "visitors/hello.md", "runner/.env", "sandbox/fifo") == {
        "visitors/hello.md": "644 root:root",
        "runner/.env": "644 root:root",  # below a 700 directory: the owner is enough
        "sandbox/fifo": f"644 {agent}",
    }
    assert os.lstat(home / "thoughts" / "link").st_uid == pwd.getpwnam(AGENT).pw_uid
    assert _stats(parent, "secret") == {"secret": "600 root:root"}
    assert (home / "guard.toml").read_text() == f'{toml}\n[access]\nagent_user = "{AGENT}"\n'
    _doctor_passes(home)


@needs_root
def test_links_at_the_root_are_left_alone(agent, base):
    parent = _parent(base)
    home, target = parent / "gpt-home", parent / "target"
    target.mkdir(mode=0o700)
    home.mkdir()
    (home / "about").symlink_to(target)
    result = run_guard("init", str(home), "--agent-user", AGENT)
    assert result.returncode == 0, result.stderr
    assert f"  skipped {home}/about: a symbolic link; set up what it points to by hand\n" in (
        result.stdout
    )
    assert _stats(parent, "target") == {"target": "700 root:root"}


@needs_root
def test_a_git_dir_outside_the_home(agent, base):
    parent = _parent(base)
    home, git_dir = parent / "gpt-home", parent / "var" / "home.git"
    result = run_guard("init", str(home), "--git-dir", str(git_dir), "--agent-user", AGENT)
    assert result.returncode == 0, result.stderr
    assert f"  {git_dir}/: mode 755 -> 700\n" in result.stdout
    _doctor_passes(home)
