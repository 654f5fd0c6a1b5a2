"""A spy on every way the standard library opens, reads, stats or lists a file.

``spy_on_files(monkeypatch, root)`` wraps ``builtins.open``, ``io.open``, ``os.open``,
``os.stat``, ``os.lstat``, ``os.fstat``, ``os.access``, ``os.scandir``, ``os.listdir`` and the
``pathlib.Path`` methods that reach the disk (``open``, ``read_text``, ``read_bytes``,
``stat``, ``lstat``, ``exists``, ``is_file``), and records each call about a path under
``root`` (an fd is followed to its path through /proc) with the thread it ran on. The
``os.path`` helpers go through ``os.stat`` and are seen there. Calls pass through unchanged.
"""

from __future__ import annotations

import builtins
import io
import os
import pathlib
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

_readlink = os.readlink


@dataclass
class FileSpy:
    root: str
    loop_thread: threading.Thread
    #: (on the loop's thread, kind: "read" | "stat" | "list", path)
    calls: list[tuple[bool, str, str]] = field(default_factory=list)

    def note(self, kind: str, target: Any) -> None:
        path = _path_of(target)
        if path is not None and path.startswith(self.root):
            on_loop = threading.current_thread() is self.loop_thread
            self.calls.append((on_loop, kind, path))

    def on_loop(self) -> list[tuple[str, str]]:
        return [(kind, path) for on, kind, path in self.calls if on]

    def kinds(self, path: object) -> set[str]:
        return {kind for _, kind, seen in self.calls if seen == str(path)}


def _path_of(target: Any) -> str | None:
    if isinstance(target, int):
        try:
            return _readlink(f"/proc/self/fd/{target}")
        except OSError:
            return None
    if isinstance(target, str | bytes | os.PathLike):
        path = os.fspath(target)
        return os.fsdecode(path)
    return None


def spy_on_files(
    monkeypatch: pytest.MonkeyPatch, root: os.PathLike[str] | str, loop_thread: Any = None
) -> FileSpy:
    """Record file access under ``root``; ``loop_thread``: the event loop's (default: this)."""
    spy = FileSpy(str(root), loop_thread or threading.current_thread())

    def wrap(owner: Any, name: str, kind: str) -> None:
        real = getattr(owner, name)

        def spying(*args: Any, **kwargs: Any) -> Any:
            spy.note(kind, args[0] if args else kwargs.get("path", kwargs.get("file")))
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, spying)

    wrap(builtins, "open", "read")
    wrap(io, "open", "read")
    wrap(os, "open", "read")
    for name in ("stat", "lstat", "fstat", "access"):
        wrap(os, name, "stat")
    for name in ("scandir", "listdir"):
        wrap(os, name, "list")
    for name in ("open", "read_text", "read_bytes"):
        wrap(pathlib.Path, name, "read")
    for name in ("stat", "lstat", "exists", "is_file"):
        wrap(pathlib.Path, name, "stat")
    return spy
