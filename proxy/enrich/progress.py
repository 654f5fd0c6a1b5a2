"""What `lsp-backoff enrich` tells the person waiting: a rich progress bar on a terminal, plain
log lines otherwise (CI logs, pipes). Both go to stderr; stdout is kept for the summary.

Phase 1 counts files; phase 2 counts (symbol, operation) pairs: the total is every orphan this
run has seen so far (it grows as documentSymbol results land), done is those no longer missing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

#: Plain mode prints phase-2 lines no more often than this (the monitor may run every 0.1 s).
PLAIN_EVERY = 2.0


class _Counts(Protocol):
    sent: int
    errors: int


class Progress(Protocol):
    def files(self, total: int) -> None: ...
    def file_done(self) -> None: ...
    def requests(self, total: int, done: int, counts: _Counts) -> None: ...
    def note(self, message: str) -> None: ...
    def watching(self, changed: int, waiting: int, pending: int) -> None: ...
    def close(self) -> None: ...


def watching_line(changed: int, waiting: int, pending: int) -> str:
    """`enrich --watch`'s live state: files changed (applied, and seen but not yet applied)
    and the symbol operations the graph still misses."""
    queued = f" (+{waiting} to apply)" if waiting else ""
    return f"watching: {changed} files changed{queued}, {pending} symbol operations pending"


class PlainProgress:
    """One line per phase start, then at most one line every PLAIN_EVERY seconds."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self._files_total = 0
        self._files_done = 0
        self._last_line = float("-inf")
        self._started = clock()
        self._watching = ""

    def _print(self, text: str) -> None:
        print(f"lsp-backoff enrich: {text}", file=self.stream, flush=True)

    def files(self, total: int) -> None:
        self._files_total = total
        self._print(f"phase 1: {total} files to open")

    def file_done(self) -> None:
        self._files_done += 1
        if self._files_done == self._files_total or self._due():
            self._print(f"phase 1: {self._files_done}/{self._files_total} files")

    def requests(self, total: int, done: int, counts: _Counts) -> None:
        if done == total or self._due():
            rate = counts.sent / max(self.clock() - self._started, 1e-9)
            self._print(
                f"phase 2: {done}/{total} symbol operations done, {counts.sent} requests sent "
                f"({rate:.1f}/s), {counts.errors} errors"
            )

    def _due(self) -> bool:
        now = self.clock()
        if now - self._last_line >= PLAIN_EVERY:
            self._last_line = now
            return True
        return False

    def note(self, message: str) -> None:
        self._print(message)

    def watching(self, changed: int, waiting: int, pending: int) -> None:
        line = watching_line(changed, waiting, pending)
        if line != self._watching:  # one line per state, not one per idle round
            self._watching = line
            self._print(line)

    def close(self) -> None:
        return None


class BarProgress:
    """rich bars: files, then symbol operations, each with rate, elapsed time and ETA."""

    def __init__(self, stream: TextIO) -> None:
        self._progress = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._progress.start()
        self._files: TaskID | None = None
        self._requests: TaskID | None = None
        self._watch: TaskID | None = None

    def files(self, total: int) -> None:
        self._files = self._progress.add_task("files", total=total, extra="")

    def file_done(self) -> None:
        if self._files is not None:
            self._progress.advance(self._files)

    def requests(self, total: int, done: int, counts: _Counts) -> None:
        extra = f"{counts.sent} sent, {counts.errors} errors"
        if self._requests is None:
            self._requests = self._progress.add_task("symbol operations", total=total, extra="")
        self._progress.update(self._requests, total=total, completed=done, extra=extra)

    def note(self, message: str) -> None:
        self._progress.console.print(message)

    def watching(self, changed: int, waiting: int, pending: int) -> None:
        """One live line (no bar: watching has no end)."""
        line = watching_line(changed, waiting, pending)
        if self._watch is None:
            self._watch = self._progress.add_task(line, total=None, extra="")
        self._progress.update(self._watch, description=line)

    def close(self) -> None:
        self._progress.stop()


def make_progress(stream: Any = None) -> Progress:
    stream = sys.stderr if stream is None else stream
    if hasattr(stream, "isatty") and stream.isatty():
        return BarProgress(stream)
    return PlainProgress(stream)
