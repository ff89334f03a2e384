"""Runs one command in its own process and reports wall time and peak resident memory as JSON.

Usage: python3 measure.py -- CMD [ARGS...]

Every measured operation of the benchmark (ours, the Python peers and `cp`) goes through this
same wrapper, so they are timed and sized alike:
- wall: time.perf_counter() from just before the fork to just after wait() returned;
- peak RSS: resource.getrusage(RUSAGE_CHILDREN).ru_maxrss after the wait. This wrapper starts
  exactly one child, so the value is that child's high-water mark (or of its largest waited-for
  descendant); worker threads live in the child's address space and count too;
- user/sys CPU seconds of the child, so CPU/wall shows how many cores it kept busy.
The child's stdout is passed back (slab readers print their own timings there); stderr is kept
only in part, to explain failures.
"""

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: measure.py -- CMD [ARGS...]", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as err:
        print(json.dumps({"rc": 127, "wall": 0, "error": str(err)}))
        return 0
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "rc": proc.returncode,
                "wall": wall,
                # Linux reports ru_maxrss in KiB.
                "maxrssBytes": usage.ru_maxrss * 1024,
                "user": usage.ru_utime,
                "sys": usage.ru_stime,
                "stdout": out.decode("utf-8", "replace")[-20000:],
                "stderr": err.decode("utf-8", "replace")[-4000:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
