"""The naive byte relay the latency benchmark uses as a baseline.

``python benchmarks/naive_relay.py -- SERVER ARGS...`` spawns the server and copies bytes both ways
with one thread per direction and blocking chunked reads: no framing, no parsing. It is the floor
any Python proxy pays for an extra process hop, so the proxy's figures can be read against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable

CHUNK = 1 << 20


def pump(src: int, dst: int, on_eof: Callable[[], None] | None = None) -> None:
    try:
        while chunk := os.read(src, CHUNK):
            view = memoryview(chunk)
            while view:
                view = view[os.write(dst, view) :]
    except OSError:
        pass  # the peer went away: the other direction and the child's exit end the relay
    if on_eof is not None:
        on_eof()


def main(argv: list[str]) -> int:
    if "--" not in argv or not argv[argv.index("--") + 1 :]:
        print("usage: naive_relay.py -- SERVER ARGS...", file=sys.stderr)
        return 2
    child = subprocess.Popen(
        argv[argv.index("--") + 1 :], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
    )
    assert child.stdin is not None and child.stdout is not None
    # Closing the child's stdin on our EOF lets the server see the client leave.
    up = threading.Thread(
        target=pump, args=(0, child.stdin.fileno(), child.stdin.close), daemon=True
    )
    down = threading.Thread(target=pump, args=(child.stdout.fileno(), 1), daemon=True)
    up.start()
    down.start()
    status = child.wait()
    down.join(timeout=2)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
