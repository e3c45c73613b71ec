"""Run one command; print its wall time (s), CPU time (s), peak RSS (KiB) and exit code.

    python -I -S bench/measure.py STDOUT ARGV...

The command's stdout goes to the file STDOUT, its stderr is ours. bench/run.py starts this
script in a fresh interpreter rather than spawning the commands itself because on Linux a
process's ru_maxrss starts at the high-water mark of the address space it was spawned from
(exec carries it over): a child of the runner, which holds far more memory than this script,
would be charged for the runner's memory. This script imports nothing beyond os, sys and time
and stays around 9 MB, below anything it measures.
"""

import os
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(f"usage: {argv[0]} STDOUT ARGV...", file=sys.stderr)
        return 2
    stdout, command = argv[1], argv[2:]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)  # this child and the children it waited for
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{wall:.6f} {cpu:.6f} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
