"""A filesystem whose timestamps stand still, as the read gate (proxy/reads.py) sees it.

Coarse timestamp granularity taken to the limit: every ``stat`` of every file reports one
instant as its mtime and ctime, so two writes of the same size in place (same inode) leave
every field the same and only the content tells — the "racy" case, made deterministic.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from lsp_backoff.proxy import reads


class _StillStat:
    def __init__(self, st: os.stat_result, at_ns: int) -> None:
        self.st_mode, self.st_dev, self.st_ino = st.st_mode, st.st_dev, st.st_ino
        self.st_size = st.st_size
        self.st_mtime_ns = self.st_ctime_ns = at_ns


class _StillOs:
    """``os`` with ``stat`` and ``fstat`` reporting the one instant."""

    def __init__(self, at_ns: int) -> None:
        self.at_ns = at_ns

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def stat(self, path: Any) -> _StillStat:
        return _StillStat(os.stat(path), self.at_ns)

    def fstat(self, fd: int) -> _StillStat:
        return _StillStat(os.fstat(fd), self.at_ns)


def still_timestamps(monkeypatch: pytest.MonkeyPatch, now_after_ns: int) -> int:
    """Every file's times stand at one instant (returned); the reader's clock reads that
    instant plus ``now_after_ns``."""
    still = time.time_ns()
    monkeypatch.setattr(reads, "os", _StillOs(still))
    monkeypatch.setattr(reads, "wall_ns", lambda: still + now_after_ns)
    return still
