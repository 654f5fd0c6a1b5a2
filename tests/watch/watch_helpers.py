"""Helpers for the watch tests: `lsp-backoff enrich --watch` as a real process in front of any
server, its stderr read as it comes, and the graph a database holds (edges and placeholders,
order aside) — to compare with what a fresh `enrich` of the same workspace records.

Waits are bounded and wait for what the process prints (the progress line, the summary), never
for a fixed time. Not a conftest.py: see tests/enrich/enrich_helpers.py for why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import PY, Doc, Session, proxy_cmd, running  # noqa: E402

GREP_SERVER = Path(__file__).parent / "servers" / "grep_server.py"
#: Seconds: a bound on settling on a loaded machine, not an expectation.
BOUND = 180.0


def env() -> dict[str, str]:
    result = dict(os.environ)
    result.pop("LSP_BACKOFF_DB", None)
    result["PYTHONPATH"] = str(ROOT)
    return result


def command(ws: Path, db: Path, server: Sequence[str], *options: str) -> list[str]:
    return [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
        "--interval", "0.3", "--backoff-base", "0.2", *options, "--", *server,
    ]  # fmt: skip


def grep_server(log: Path, *args: str) -> list[str]:
    return [sys.executable, str(GREP_SERVER), "--log", str(log), *args]


class Watching:
    """The `enrich --watch` process and the lines of its stderr, read as they come."""

    LINE = re.compile(r"watching: (\d+) files changed( \(\+\d+ to apply\))?, (\d+) symbol")

    def __init__(
        self, ws: Path, db: Path, server: Sequence[str], options: Sequence[str] = ()
    ) -> None:
        self.process = subprocess.Popen(
            command(ws, db, server, "--watch", *options),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, done: Callable[[list[str]], bool], what: str, bound: float = BOUND) -> None:
        """Until `done(lines)`: looked at on every new line, and every tenth of a second for
        what is not printed (a server's log). The bound only ends a wait that failed."""
        deadline = time.monotonic() + bound
        with self.changed:
            while not done(self.lines) and self.process.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"not {what}:\n" + "".join(self.lines[-30:]))
                self.changed.wait(0.1)
        assert self.process.poll() is None, "".join(self.lines)

    def settled(self, files_changed: int, bound: float = BOUND) -> None:
        """Wait for the progress line saying: this many files applied, nothing pending."""

        def done(lines: list[str]) -> bool:
            states = [m for line in lines if (m := self.LINE.search(line))]
            if not states:
                return False
            last = states[-1]
            return int(last[1]) >= files_changed and not last[2] and last[3] == "0"

        self.wait_for(done, f"settled at {files_changed} files changed", bound)

    def interrupt(self) -> tuple[int, str]:
        os.killpg(self.process.pid, signal.SIGINT)
        out, _ = self.process.communicate(timeout=120)
        return self.process.returncode, out

    def summary(self) -> dict[str, Any]:
        """Ctrl-C, then the JSON summary it prints."""
        status, out = self.interrupt()
        assert status == 130, "".join(self.lines[-30:])
        return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.interrupt()


def graph(db: Path) -> list[tuple[Any, ...]]:
    """Every edge and placeholder row, without when it was recorded, sorted."""
    from lsp_backoff.tracker import queries

    conn = queries.connect(db)
    try:
        rows = queries.edges(conn)
    finally:
        conn.close()
    keep = ("symbol", "name", "uri", "line", "character", "operation", "kind", "detail")
    return sorted(
        (*(row[k] for k in keep), tuple(sorted((row["target"] or {}).items()))) for row in rows
    )


def fresh(
    ws: Path,
    tmp: Path,
    step: str,
    server: Sequence[str],
    options: Sequence[str] = (),
    timeout: float = 120,
) -> list[tuple[Any, ...]]:
    """The graph a fresh `enrich` of `ws` records into an empty database (within `timeout`)."""
    db = tmp / f"fresh-{step}.db"
    # Its log (message bodies too) stays with the test's files: a graph that differs is
    # explained by what the server was told and said.
    log = ("--log-file", str(tmp / f"fresh-{step}.log"), "--log-level", "debug", "--log-messages")
    done = subprocess.run(
        command(ws, db, server, *log, *options),
        capture_output=True, text=True, cwd=ROOT, env=env(), timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return graph(db)


def write(path: Path, text: str) -> None:
    """Replace the file in one step, as editors save: the watcher never sees it half written
    (a truncated file applied as one batch, its text as the next)."""
    temporary = path.with_name(path.name + ".tmp~")
    temporary.write_text(text)
    os.replace(temporary, path)


def edit(path: Path, *pairs: str) -> None:
    """Replace each old text (pairs: old, new, old, new, …) in one write."""
    text = path.read_text()
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in text, (path, old)
        text = text.replace(old, new)
    write(path, text)


def difference(watched: list[Any], expected: list[Any]) -> str:
    """The rows only one of two graphs has, for an assertion message."""
    a, b = set(watched), set(expected)
    lines = [f"only watched: {row}" for row in sorted(a - b)]
    lines += [f"only fresh:   {row}" for row in sorted(b - a)]
    return "\n".join(lines[:40])


@contextlib.asynccontextmanager
async def grep_editor(
    tmp: Path, shapes_text: str, app_text: str, *, loaded: bool
) -> AsyncIterator[tuple[Session, Path, Doc, Doc]]:
    """An editor's session through a real proxy (database `tmp/graph.db`) in front of the
    cross-file test server, with `ws/shapes.py` and `ws/app.py` open; `loaded`: first wait
    for the server's loading progress to end (empty answers are definitive after it)."""
    ws = tmp / "ws"
    shapes, app = Doc(ws / "shapes.py", shapes_text), Doc(ws / "app.py", app_text)
    db = tmp / "graph.db"
    server = [PY, str(GREP_SERVER), "--log", str(tmp / "log.jsonl")]
    async with running(proxy_cmd(server, "--db", str(db)), ws) as session:
        if loaded:
            await session.wait_for(
                lambda m: m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end"
            )
        session.open(shapes.uri, shapes.text)
        session.open(app.uri, app.text)
        yield session, db, shapes, app
