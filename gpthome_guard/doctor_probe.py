"""shell: the real try of `guard doctor`: as root, open each path as the agent's user.

The bits say what the kernel should allow; the try is what it does allow (ACLs, read-only
mounts, AppArmor and SELinux have their say too). It leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence

from gpthome_guard.doctor_access import Node, Who
from gpthome_guard.doctor_checks import Check

PROBE_TIMEOUT_S = 20.0
PROBE = r"""
import errno, json, os, sys

FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def attempt(action):
    try:
        action()
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return False
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return True


def touch(path, flags):
    os.close(os.open(path, flags | FLAGS))


def create_and_remove(path):
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | FLAGS, 0o600))
    os.unlink(path)


request = json.loads(sys.argv[1])
out = {}
for path, is_dir in request["targets"]:
    if is_dir:
        out[path] = {
            "read": attempt(lambda: touch(path, os.O_RDONLY | os.O_DIRECTORY)),
            "enter": attempt(lambda: os.stat(os.path.join(path, "."))),
            "write": attempt(lambda: create_and_remove(os.path.join(path, request["token"]))),
        }
    else:  # never O_TRUNC, never O_CREAT: opening changes nothing
        out[path] = {
            "read": attempt(lambda: touch(path, os.O_RDONLY)),
            "write": attempt(lambda: touch(path, os.O_WRONLY)),
        }
print(json.dumps(out))
"""
_INTERPRETERS = ("/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3")


Tried = dict[str, dict[str, bool | str]]


def try_as(who: Who, nodes: Sequence[Node]) -> tuple[Tried | None, Check]:
    """Open each node as the agent (read, write without truncating, enter; a directory's
    write is a file created and removed). Leftovers are removed and times put back."""
    import secrets
    import subprocess
    import sys

    name = f"real try as {who.name}"
    if os.geteuid() != 0:
        detail = "needs root (only the mode bits were checked); run doctor as root"
        return None, Check(name=name, ok=None, detail=detail)
    probed = [n for n in nodes if n.is_dir or stat.S_ISREG(n.mode)]
    token = f".guard-doctor-probe-{secrets.token_hex(8)}"
    request = json.dumps({"token": token, "targets": [(n.path, n.is_dir) for n in probed]})
    before = {n.path: os.lstat(n.path) for n in probed}
    reasons: list[str] = []
    try:
        for python in dict.fromkeys([sys.executable, *_INTERPRETERS]):
            try:
                done = subprocess.run(
                    [python, "-I", "-c", PROBE, request],
                    user=who.uid,
                    group=who.gid,
                    extra_groups=sorted(who.gids),
                    env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
                    cwd="/",
                    capture_output=True,
                    timeout=PROBE_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                reasons.append(f"{python}: no answer in {PROBE_TIMEOUT_S:.0f} s")
                continue
            except OSError as exc:  # not there, or the agent may not run it
                reasons.append(f"{python}: {exc.strerror}")
                continue
            tried = _parse_tried(done.stdout)
            if done.returncode == 0 and tried is not None:
                detail = f"with {python} as uid {who.uid}, groups {sorted(who.gids)}"
                return tried, Check(name=name, ok=True, detail=detail)
            last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
            reasons.append(f"{python}: exit {done.returncode}: {last[:200]}")
    finally:
        _put_back(who, probed, token, before)
    return None, Check(
        name=name,
        ok=False,
        detail=f"could not run the probe ({'; '.join(reasons)}); only the mode bits were checked",
        fix=f"install a Python 3 that {who.name} may run (apt-get install python3-minimal)",
    )


def _parse_tried(out: bytes) -> Tried | None:
    try:
        data = json.loads(out)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {
        str(path): {str(op): v for op, v in ops.items() if isinstance(v, bool | str)}
        for path, ops in data.items()
        if isinstance(ops, dict)
    }


def _put_back(
    who: Who, probed: Sequence[Node], token: str, before: Mapping[str, os.stat_result]
) -> None:
    """Remove a probe file a killed probe left, and put back the times it changed."""
    for node in probed:
        if node.is_dir:
            leftover = os.path.join(node.path, token)
            try:
                info = os.lstat(leftover)
            except OSError:
                pass
            else:
                if stat.S_ISREG(info.st_mode) and info.st_uid == who.uid:
                    os.unlink(leftover)
        old = before[node.path]
        try:
            now = os.lstat(node.path)
        except OSError:
            continue
        if (now.st_atime_ns, now.st_mtime_ns) != (old.st_atime_ns, old.st_mtime_ns):
            times = (old.st_atime_ns, old.st_mtime_ns)
            os.utime(node.path, ns=times, follow_symlinks=False)
