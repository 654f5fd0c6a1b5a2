"""The live line of `enrich --watch`: plain mode prints each state once; the terminal shows it."""

from __future__ import annotations

import io

from lsp_backoff.proxy.enrich.progress import BarProgress, PlainProgress, watching_line


def test_plain_progress_prints_each_state_once() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, clock=lambda: 0.0)
    progress.watching(0, 0, 0)
    progress.watching(0, 0, 0)  # an idle round changes nothing: no new line
    progress.watching(2, 3, 7)
    assert stream.getvalue().splitlines() == [
        "lsp-backoff enrich: watching: 0 files changed, 0 symbol operations pending",
        "lsp-backoff enrich: watching: 2 files changed (+3 to apply), 7 symbol operations pending",
    ]


def test_the_terminal_shows_the_live_state() -> None:
    stream = io.StringIO()
    progress = BarProgress(stream)
    try:
        progress.watching(1, 0, 4)
        progress.watching(5, 0, 0)
        tasks = progress._progress.tasks
        assert [task.description for task in tasks] == [watching_line(5, 0, 0)]
    finally:
        progress.close()
    assert "watching: 5 files changed, 0 symbol operations pending" in stream.getvalue()
