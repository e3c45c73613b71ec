"""guard doctor: the permission arithmetic (pure), then real homes, a real user and real
permissions (as root, as CI runs the tests)."""

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
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpthome_guard import doctor, doctor_access, doctor_checks, doctor_probe
from gpthome_guard.access import WRITABLE
from gpthome_guard.cli import app
from gpthome_guard.doctor_access import (
    ACL_GROUP,
    ACL_GROUP_OBJ,
    ACL_MASK,
    ACL_OTHER,
    ACL_USER,
    ACL_USER_OBJ,
    Node,
    R,
    Role,
    Target,
    W,
    Who,
    X,
)
from gpthome_guard.doctor_checks import Check
from gpthome_guard.generate import guide
from tests.conftest import run_guard

AGENT = "gg-doctor-agent"
EXTRA = "gg-doctor-extra"  # a supplementary group of the agent
NO_ACL_ID = 0xFFFFFFFF
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="issue 5: needs root to create a user, chown and try as the user"
)

# --- the arithmetic, pure ---------------------------------------------------------------

WHO = Who("agent", 1001, 1001, frozenset({1001, 2000}), "agent")
ROOT = Who("root", 0, 0, frozenset({0}), "root")


def node(mode, uid=0, gid=0, acl=None, kind=stat.S_IFDIR, path="/x"):
    return Node(path, kind | mode, uid, gid, acl=acl)


@pytest.mark.parametrize(
    ("mode", "uid", "gid", "want", "expected"),
    [
        (0o700, 1001, 0, R | W | X, True),  # owner
        (0o077, 1001, 0, R, False),  # the owner class decides, whatever group and others say
        (0o750, 0, 1001, R | X, True),  # primary group
        (0o750, 0, 2000, R | X, True),  # supplementary group
        (0o750, 0, 2000, W, False),
        (0o705, 0, 1001, R, False),  # a member of the group never falls back to others
        (0o705, 0, 0, R, True),  # others
        (0o700, 0, 0, R, False),
        (0o001, 0, 0, X, True),
    ],
)
def test_permits_follows_the_owner_group_other_classes(mode, uid, gid, want, expected):
    assert doctor_access.permits(node(mode, uid, gid), WHO, want) is expected


def test_root_may_do_anything_but_execute_a_file_without_an_x_bit():
    assert doctor_access.permits(node(0o000), ROOT, R | W | X)
    assert doctor_access.permits(node(0o000, kind=stat.S_IFREG), ROOT, R | W)
    assert not doctor_access.permits(node(0o600, kind=stat.S_IFREG), ROOT, X)


def _acl(*entries):
    return tuple((tag, qualifier, perm) for tag, qualifier, perm in entries)


@pytest.mark.parametrize(
    ("entries", "want", "expected"),
    [
        # a named user entry, within the mask
        ([(ACL_USER, 1001, R | X), (ACL_MASK, NO_ACL_ID, R | X)], R | X, True),
        # the mask limits it
        ([(ACL_USER, 1001, R | W | X), (ACL_MASK, NO_ACL_ID, R)], W, False),
        # a named group of the agent's (supplementary)
        ([(ACL_GROUP, 2000, R), (ACL_MASK, NO_ACL_ID, 7)], R, True),
        # another user's entry: the agent is in no class of the ACL, so others decide (---)
        ([(ACL_USER, 4242, 7), (ACL_MASK, NO_ACL_ID, 7)], R, False),
    ],
)
def test_permits_evaluates_posix_acls(entries, want, expected):
    base = [(ACL_USER_OBJ, NO_ACL_ID, 7), (ACL_GROUP_OBJ, NO_ACL_ID, 0), (ACL_OTHER, NO_ACL_ID, 0)]
    assert doctor_access.permits(node(0o700, acl=_acl(*base, *entries)), WHO, want) is expected


def test_parse_acl_reads_the_kernel_format():
    raw = struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", tag, perm, qualifier)
        for tag, perm, qualifier in [(ACL_USER_OBJ, 7, NO_ACL_ID), (ACL_USER, 5, 1001)]
    )
    assert doctor_access.parse_acl(raw) == ((ACL_USER_OBJ, NO_ACL_ID, 7), (ACL_USER, 1001, 5))
    assert doctor_access.parse_acl(b"junk") == ()


def test_reach_needs_search_on_every_ancestor():
    chain = [node(0o755, path="/"), node(0o700, path="/srv"), node(0o777, path="/srv/x")]
    access = doctor_access.reach(chain, WHO)
    assert (access.read, access.write, access.enter) == (False, False, False)
    assert access.blocked_at == chain[1]
    assert doctor_access.reach(chain, ROOT).write


@pytest.mark.parametrize(
    ("mode", "kind", "expected"),
    [
        (0o757, stat.S_IFDIR, (True, True, True)),
        (0o753, stat.S_IFDIR, (False, True, True)),
        (0o756, stat.S_IFDIR, (True, False, False)),  # w without x: no entry can be made
        (0o751, stat.S_IFDIR, (False, False, True)),
        (0o646, stat.S_IFREG, (True, True, False)),
    ],
)
def test_reach_of_files_and_directories(mode, kind, expected):
    chain = [node(0o755, path="/"), node(mode, kind=kind, path="/x")]
    access = doctor_access.reach(chain, WHO)
    assert (access.read, access.write, access.enter) == expected


OPS = ("read", "write", "enter")


def _target(role, path="/h/runner"):
    label = "home directory" if role is Role.home else path.rsplit("/", 1)[1] + "/"
    return Target(label, path, role)


def test_judge_access_absent_and_missing():
    assert doctor_access.judge_access(_target(Role.forbidden), WHO, None, None).ok is True
    missing = doctor_access.judge_access(_target(Role.writable, "/h/thoughts"), WHO, None, None)
    assert missing.ok is False
    assert missing.fix == "install -d -o agent -g agent -m 755 /h/thoughts"


def test_judge_access_reports_bits_and_the_real_try_when_they_disagree():
    chain = [node(0o755, path="/"), node(0o755, path="/h"), node(0o700, path="/h/runner")]
    agrees = doctor_access.judge_access(
        _target(Role.forbidden), WHO, chain, dict.fromkeys(OPS, False)
    )
    assert agrees.ok is True
    assert "the real try agrees" in agrees.detail
    # an ACL the bits did not show (say): the real try could read
    tried = {"read": True, "write": False, "enter": True}
    check = doctor_access.judge_access(_target(Role.forbidden), WHO, chain, tried)
    assert check.ok is False
    assert "bits say nothing, the real try read, enter" in check.detail
    assert "getfacl /h/runner" in check.fix


def test_judge_access_fix_for_a_readable_forbidden_directory():
    chain = [node(0o755, path="/"), node(0o755, path="/h"), node(0o755, path="/h/runner")]
    check = doctor_access.judge_access(_target(Role.forbidden), WHO, chain, None)
    assert check.ok is False
    assert check.detail.startswith("the agent can read and enter it (755 0:0, others r-x")
    assert check.fix == "chown -R root:root /h/runner && chmod 700 /h/runner"


@pytest.mark.parametrize(
    ("free", "total", "ok"),
    [(2 << 30, 10 << 30, True), (1 << 29, 10 << 30, False), (2 << 30, 100 << 30, False)],
)
def test_judge_disk(free, total, ok):
    assert doctor_checks.judge_disk(free, total, Path("/h")).ok is ok


def test_judge_guard_user():
    assert doctor_access.judge_guard_user(0, WHO).ok is True
    assert doctor_access.judge_guard_user(1001, WHO).ok is False


def test_judge_guide():
    assert doctor_checks.judge_guide(guide().encode(), guide(), Path("/h/GPT.md")).ok is True
    stale = doctor_checks.judge_guide(b"old", guide(), Path("/h/GPT.md"))
    assert (stale.ok, stale.fix) == (False, "guard guide --write --file /h/GPT.md")
    assert doctor_checks.judge_guide(None, guide(), Path("/h/GPT.md")).detail == "missing"


def test_judge_ignored_names_a_negation_and_tracked_files():
    records = {p: (".gitignore", f"/{p}") for p in doctor_checks.MUST_IGNORE}
    assert doctor_checks.judge_ignored(records, []).ok is True
    records[".env"] = (".gitignore", "!/.env")
    check = doctor_checks.judge_ignored(records, [".env"])
    assert check.ok is False
    assert check.detail == "not ignored: .env (un-ignored by .gitignore); tracked: .env"
    assert check.fix.startswith("git rm -r --cached -- .env, then")


def test_render_text_and_json():
    checks = [
        Check(name="git HEAD", ok=True, detail="abc"),
        Check(name="runner/ out of reach", ok=False, detail="the agent can read it", fix="chmod"),
        Check(name="agent's access", ok=None, detail="not checked"),
    ]
    assert doctor_checks.render_text(checks) == (
        "✓ git HEAD: abc\n"
        "✗ runner/ out of reach: the agent can read it\n"
        "    fix: chmod\n"
        "- agent's access: not checked\n"
        "doctor: 1 problem, 1 not checked\n"
    )
    data = json.loads(doctor_checks.render_json(checks, Path("/h"), None))
    assert (data["schema_version"], data["command"], data["status"]) == (1, "doctor", "findings")
    assert [c["status"] for c in data["checks"]] == ["pass", "fail", "skip"]


# --- the command, without root ----------------------------------------------------------


@pytest.fixture(scope="session")
def base():
    """Homes live here, not under pytest's 0700 basetemp: the agent must be able to reach them."""
    path = Path(tempfile.mkdtemp(prefix="gg-doctor-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def template(base):
    """One home laid out by `guard init`; each test gets a copy (modes kept, owner root)."""
    home = base / "template"
    result = run_guard("init", str(home))
    assert result.returncode == 0, result.stderr
    return home


def _new_home(base, template):
    parent = Path(tempfile.mkdtemp(dir=base))
    parent.chmod(0o755)
    return Path(shutil.copytree(template, parent / "gpt-home", symlinks=True))


def _invoke(*args):
    return CliRunner().invoke(app, ["doctor", *args], catch_exceptions=False)


def test_unknown_agent_user_is_a_usage_error(base):
    result = _invoke("--home", str(base), "--agent-user", "gg-doctor-nobody")
    assert result.exit_code == 2
    assert "no user 'gg-doctor-nobody'" in result.stderr


def test_missing_home_exits_3(tmp_path):
    result = run_guard("doctor", "--home", str(tmp_path / "nowhere"), "--format", "json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["status"] == "error"
    assert "guard init" in result.stderr


def test_without_agent_user_the_access_checks_are_not_run(base, template):
    home = _new_home(base, template)
    result = _invoke("--home", str(home), "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert data["status"] == "ok"
    skipped = {c["name"]: c["detail"] for c in data["checks"] if c["status"] == "skip"}
    assert "--agent-user" in skipped["agent's access"]
    assert {c["status"] for c in data["checks"]} == {"pass", "skip"}


# --- real homes, a real user (root) -----------------------------------------------------


@pytest.fixture(scope="session")
def agent():
    """A system user with a supplementary group, removed at the end."""
    if os.geteuid() != 0:
        pytest.skip("issue 5: needs root to create a user, chown and try as the user")
    for command in (
        ["groupadd", "--system", EXTRA],
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", AGENT],
        ["usermod", "-a", "-G", EXTRA, AGENT],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode in (0, 9), done.stderr  # 9: exists already
    entry = pwd.getpwnam(AGENT)
    gids = frozenset(os.getgrouplist(AGENT, entry.pw_gid))
    assert grp.getgrnam(EXTRA).gr_gid in gids
    yield Who(AGENT, entry.pw_uid, entry.pw_gid, gids, grp.getgrgid(entry.pw_gid).gr_name)
    subprocess.run(["userdel", AGENT], capture_output=True, check=False)
    subprocess.run(["groupdel", EXTRA], capture_output=True, check=False)


def _sh(script, **env):
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # `guard` in a fix line
    subprocess.run(["sh", "-ec", script], check=True, env={**os.environ, "PATH": path, **env})


@pytest.fixture
def good_home(agent, base, template):
    """A home laid out by `guard init` and set up as the doctor's fix lines say."""
    home = _new_home(base, template)
    writable = " ".join(f'"$H/{d}"' for d in WRITABLE)
    _sh(
        f'chown -R "$A:$G" {writable}\n'
        'chown -R root:root "$H/runner" "$H/logs" "$H/.git" "$H/guard.toml"\n'
        'chmod 700 "$H/runner" "$H/logs" "$H/.git"\n'
        'chmod 600 "$H/guard.toml"\n',
        H=str(home),
        A=agent.name,
        G=agent.group,
    )
    return home


def _doctor(home, *extra, fmt="json"):
    result = _invoke("--home", str(home), "--agent-user", AGENT, "--format", fmt, *extra)
    return result, json.loads(result.stdout) if fmt == "json" else None


def _failed(data):
    return {c["name"]: c for c in data["checks"] if c["status"] == "fail"}


@needs_root
def test_a_well_set_up_home_passes_every_check(good_home):
    result, data = _doctor(good_home)
    assert result.exit_code == 0, result.stdout
    assert data["status"] == "ok"
    assert {c["status"] for c in data["checks"]} == {"pass"}
    names = {c["name"] for c in data["checks"]}
    assert {"git fsck", "runner/ out of reach", "thoughts/ writable", "real try as " + AGENT} <= (
        names
    )
    text, _ = _doctor(good_home, fmt="text")
    assert text.exit_code == 0
    assert "✗" not in text.stdout
    assert text.stdout.endswith("doctor: all good\n")


def _chmod(mode, *parts):
    def setup(home, agent):
        (home.joinpath(*parts)).chmod(mode)

    return setup


def _secret(name, group):
    def setup(home, agent):
        path = home / name
        path.write_text("API_KEY=not-a-real-one\n")
        gid = agent.gid if group == "primary" else grp.getgrnam(EXTRA).gr_gid
        os.chown(path, 0, gid)
        path.chmod(0o640)

    return setup


def _chown(user, *parts, recursive=True):
    def setup(home, agent):
        flags = ["-R"] if recursive else []
        path = home.joinpath(*parts)
        subprocess.run(["chown", *flags, user or agent.name, path], check=True)

    return setup


def _remove(name):
    def setup(home, agent):
        path = home / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    return setup


def _append_to(name, text):
    def setup(home, agent):
        with (home / name).open("a") as f:
            f.write(text)

    return setup


def _replace(name, text):
    def setup(home, agent):
        (home / name).write_text(text)

    return setup


MISCONFIGURED = [
    ("runner-world-readable", _chmod(0o755, "runner"), {"runner/ out of reach"}, "chmod 700"),
    ("env-primary-group", _secret(".env", "primary"), {".env out of reach"}, "chmod 600"),
    ("db-extra-group", _secret("sessions.db", "extra"), {"sessions.db out of reach"}, "chmod 600"),
    ("env-dot-local", _secret(".env.local", "extra"), {".env.local out of reach"}, "chmod 600"),
    ("git-readable", _chmod(0o755, ".git"), {".git/ out of reach"}, "chmod 700"),
    (
        "git-owned-by-agent",
        _chown(None, ".git"),
        {".git/ out of reach", "git dir location"},
        "chown -R root:root",
    ),
    ("visitors-agent", _chown(None, "visitors"), {"visitors/ read-only"}, "chown -R root:root"),
    ("home-agent", _chown(None, recursive=False), {"home directory"}, "chmod 755"),
    ("thoughts-root", _chown("root", "thoughts"), {"thoughts/ writable"}, "chown -R"),
    ("dreams-not-writable", _chmod(0o555, "dreams"), {"dreams/ writable"}, "u+rwX"),
    ("gpt-md-missing", _remove("GPT.md"), {"GPT.md current"}, "guard guide --write --file"),
    ("gpt-md-old", _append_to("GPT.md", "edited\n"), {"GPT.md current"}, "guard guide --write"),
    ("no-ignore-block", _replace(".gitignore", "notes/\n"), {".gitignore block"}, "guard init"),
    ("no-repository", _remove(".git"), {"git repository"}, "guard init"),
]


@needs_root
@pytest.mark.parametrize(
    ("setup", "expected", "fix"), [m[1:] for m in MISCONFIGURED], ids=[m[0] for m in MISCONFIGURED]
)
def test_each_misconfiguration_fails_its_check_and_the_fix_repairs_it(
    good_home, agent, setup, expected, fix
):
    setup(good_home, agent)
    result, data = _doctor(good_home)
    failed = _failed(data)
    assert set(failed) == expected, result.stdout
    assert result.exit_code == (1 if expected else 0)
    for check in failed.values():
        assert fix in check["fix"]
        _sh(check["fix"])
    again, data = _doctor(good_home)
    assert again.exit_code == 0, again.stdout


@needs_root
def test_no_repository_skips_what_needs_one(good_home):
    shutil.rmtree(good_home / ".git")
    _, data = _doctor(good_home)
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert status["git repository"] == "fail"
    assert {status[n] for n in ("git HEAD", "git fsck", "ignored paths", "git dir location")} == {
        "skip"
    }
    assert status[".git/ out of reach"] == "pass"  # absent


@needs_root
def test_text_output_on_a_bad_home(good_home):
    (good_home / "runner").chmod(0o755)
    result, _ = _doctor(good_home, fmt="text")
    assert result.exit_code == 1
    runner = good_home / "runner"
    assert (
        "✗ runner/ out of reach: the agent can read and enter it (755 root:root, others r-x; "
        "the real try agrees)\n"
        f"    fix: chown -R root:root {runner} && chmod 700 {runner}\n"
    ) in result.stdout
    assert result.stdout.endswith("doctor: 1 problem\n")


@needs_root
def test_an_unsearchable_ancestor_blocks_the_agent(good_home):
    good_home.parent.chmod(0o700)
    _, data = _doctor(good_home)
    failed = _failed(data)
    assert {f"{d}/ writable" for d in WRITABLE} | {"home directory"} <= set(failed)
    assert failed["thoughts/ writable"]["fix"] == f"chmod a+x {good_home.parent}"
    assert "cannot be searched by it" in failed["thoughts/ writable"]["detail"]


@needs_root
def test_an_acl_is_evaluated_and_the_fix_names_setfacl(good_home, agent):
    runner = good_home / "runner"
    entries = [
        (ACL_USER_OBJ, 7, NO_ACL_ID),
        (ACL_USER, R | X, agent.uid),
        (ACL_GROUP_OBJ, 0, NO_ACL_ID),
        (ACL_MASK, R | X, NO_ACL_ID),
        (ACL_OTHER, 0, NO_ACL_ID),
    ]
    raw = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)
    try:
        os.setxattr(runner, "system.posix_acl_access", raw)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            pytest.skip("the file system has no POSIX ACLs")
        raise
    _, data = _doctor(good_home)
    check = _failed(data)["runner/ out of reach"]
    assert "the real try agrees" in check["detail"]
    assert "POSIX ACL" in check["detail"]
    assert check["fix"].startswith(f"setfacl -R -b {runner} && ")


@needs_root
def test_git_dir_outside_the_home(agent, base):
    parent = Path(tempfile.mkdtemp(dir=base))
    parent.chmod(0o755)
    home, git_dir = parent / "gpt-home", parent / "var" / "home.git"
    assert run_guard("init", str(home), "--git-dir", str(git_dir)).returncode == 0
    writable = " ".join(f'"$H/{d}"' for d in WRITABLE)
    _sh(
        f'chown -R "$A:" {writable} && chmod 700 "$H/runner" "$H/logs" && chmod 600 '
        '"$H/guard.toml"',
        H=str(home),
        A=agent.name,
    )
    _, data = _doctor(home)
    assert set(_failed(data)) == {f"{git_dir}/ out of reach"}
    git_dir.chmod(0o700)
    result, data = _doctor(home)
    assert result.exit_code == 0, result.stdout
    location = next(c for c in data["checks"] if c["name"] == "git dir location")
    assert location["detail"] == f"outside the home: {git_dir}"


MODES = (0o000, 0o400, 0o200, 0o600, 0o640, 0o604, 0o060, 0o006, 0o700, 0o750, 0o705, 0o711,
         0o730, 0o703, 0o777, 0o070, 0o041, 0o014)  # fmt: skip


@needs_root
def test_the_real_try_agrees_with_the_arithmetic(agent, base):
    root = Path(tempfile.mkdtemp(dir=base))
    root.chmod(0o755)
    extra = grp.getgrnam(EXTRA).gr_gid
    paths = []
    for mode in MODES:
        for owner in (0, agent.uid):
            for group in (0, agent.gid, extra):
                for kind in ("file", "dir"):
                    path = root / f"{kind}-{mode:03o}-{owner}-{group}"
                    path.mkdir() if kind == "dir" else path.write_text("x\n")
                    os.chown(path, owner, group)
                    path.chmod(mode)
                    paths.append(path)
    hidden = root / "closed"
    hidden.mkdir(mode=0o700)
    (hidden / "open").write_text("x\n")
    (hidden / "open").chmod(0o666)
    paths.append(hidden / "open")
    chains = [doctor.chain_of(str(p)) for p in paths]
    tried, check = doctor_probe.try_as(agent, [c[-1] for c in chains])
    assert check.ok is True, check.detail
    disagree = []
    for chain in chains:
        bits = doctor_access.reach(chain, agent)
        real = tried[chain[-1].path]
        ops = ("read", "write", "enter") if chain[-1].is_dir else ("read", "write")
        if any(real[op] is not bits.get(op) for op in ops):
            disagree.append((chain[-1].path, bits, real))
    assert disagree == []
    assert not list(root.rglob(".guard-doctor-probe-*"))


def _snapshot(home):
    out = {}
    for top, dirs, files in os.walk(home):
        for name in [".", *dirs, *files]:
            path = os.path.join(top, name)
            out[os.path.relpath(path, home)] = os.lstat(path).st_mtime_ns
    return out


@needs_root
def test_the_probe_leaves_nothing_behind_and_changes_no_mtime(good_home, agent):
    # let the agent write where it must not, so the probe really creates and removes files
    subprocess.run(
        ["chown", agent.name, good_home, good_home / "runner", good_home / ".git"], check=True
    )
    (good_home / ".env").write_text("KEY=1\n")
    (good_home / ".env").chmod(0o666)
    before = _snapshot(good_home)
    result, data = _doctor(good_home)
    assert result.exit_code == 1
    assert {"home directory", "runner/ out of reach", ".env out of reach"} <= set(_failed(data))
    assert _snapshot(good_home) == before
    assert (good_home / ".env").read_text() == "KEY=1\n"


@needs_root
def test_json_output_is_one_document(good_home):
    (good_home / "runner").chmod(0o755)
    result = run_guard("doctor", "--home", str(good_home), "--agent-user", AGENT, "--format=json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["schema_version"], data["status"], data["agent_user"]) == (1, "findings", AGENT)
    for check in data["checks"]:
        assert set(check) == {"name", "ok", "status", "detail", "fix"}
