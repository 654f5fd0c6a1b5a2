"""`python -m lsp_backoff` whose file reads wait for the test, for tests of what happens while
a read is in flight (tests/fuzz/test_regressions.py).

A read of a document whose URI contains "gated" blocks until the test opens the FIFO named
by LSP_BACKOFF_TEST_GATE for writing and closes it; once the session has acted on that read's
result (written what waited for it, or queued it), ``gate: acted on URI`` goes to stderr.
Ordering by events, not by time: the test knows the read ended, and when.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from lsp_backoff.proxy import reads, session
from lsp_backoff.proxy.cli import main

GATE = os.environ.get("LSP_BACKOFF_TEST_GATE", "")

_check_file = reads.check_file
_read_done = session.Session._read_done


def check_file(uri: str, *args: Any, **kwargs: Any) -> reads.Loaded:
    """Every read and check of the read gate goes through ``reads.check_file``."""
    if GATE and "gated" in uri:
        with open(GATE, "rb") as gate:  # blocks (in the worker) until the test opens it
            gate.read()
    return _check_file(uri, *args, **kwargs)


def read_done(self: session.Session, uri: str, done: asyncio.Future[Any]) -> None:
    _read_done(self, uri, done)
    if "gated" in uri:
        sys.stderr.write(f"gate: acted on {uri}\n")
        sys.stderr.flush()


reads.check_file = check_file
session.Session._read_done = read_done  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
