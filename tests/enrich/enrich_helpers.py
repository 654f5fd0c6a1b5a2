"""Helpers for the enrich tests: run `lsp-backoff enrich` as a real process, read the test
server's request log, read the graph database.

Not a conftest.py: test modules elsewhere do `from conftest import …`, and a second conftest
module on sys.path would shadow theirs. Each test module declares its `enrich` fixture with
`make_enrich`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).parent / "servers" / "fails_on_bad.py"

#: The test workspace: names pick the server's behaviour (see servers/fails_on_bad.py).
SOURCE = """\
def good_one():
    pass


def bad_one():
    pass


class Widget:
    pass


def empty_thing():
    pass
"""


@dataclass
class Enrich:
    ws: Path
    db: Path
    log: Path

    def argv(self, *options: str, server_args: Sequence[str] = ()) -> list[str]:
        return [
            sys.executable, "-m", "lsp_backoff", "enrich", str(self.ws), "--db", str(self.db),
            "--json", *options,
            "--", sys.executable, str(SERVER), "--log", str(self.log), *server_args,
        ]  # fmt: skip

    def run(
        self, *options: str, server_args: Sequence[str] = (), timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*options, server_args=server_args),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=timeout,
            env=env(),
            check=False,
        )

    def start(self, *options: str, server_args: Sequence[str] = ()) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*options, server_args=server_args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
            start_new_session=True,  # its own process group, like a job in a terminal
        )

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((r["method"], r["name"]) for r in self.requests())

    def edges(self) -> list[dict[str, Any]]:
        from lsp_backoff.tracker import queries

        conn = queries.connect(self.db)
        try:
            return queries.edges(conn)
        finally:
            conn.close()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def env() -> dict[str, str]:
    result = dict(os.environ)
    result.pop("LSP_BACKOFF_DB", None)
    result["PYTHONPATH"] = str(ROOT)
    return result


def summary(process: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert process.stdout.strip(), process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def make_enrich(tmp_path: Path) -> Enrich:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(SOURCE)
    return Enrich(ws=ws, db=tmp_path / "graph.db", log=tmp_path / "requests.jsonl")


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group (the server it started
    included, unless enrich keeps its server out of the group — which it must)."""
    os.killpg(process.pid, signal.SIGINT)
