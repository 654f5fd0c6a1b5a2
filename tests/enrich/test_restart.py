"""A server that dies: restarted (bounded), the run resumes; beyond the bound, a clear error.

These run `lsp-backoff enrich` in this process (proxy.cli.main) so the restart pauses can be
shortened; the proxy and the server are still real processes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from enrich_helpers import SERVER, Enrich, make_enrich

from lsp_backoff.proxy import cli
from lsp_backoff.proxy.enrich import runner


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    return make_enrich(tmp_path)


# One server: these are about one server's restarts (test_pool.py has several dying).
FAST = ("--servers", "1", "--backoff-base", "0.2", "--interval", "0.1", "--operation", "references")


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RESTART_DELAYS", (0.05, 0.05, 0.05))
    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)


def run(enrich: Enrich, *options: str, server_args: tuple[str, ...] = ()) -> int:
    argv = enrich.argv(*options, server_args=server_args)
    return cli.main(argv[3:])  # drop "python -m lsp_backoff"


def summary_of(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out.strip().splitlines()[-1])


def add_crasher(enrich: Enrich) -> None:
    with (enrich.ws / "a.py").open("a") as handle:
        handle.write("\n\ndef crash_me():\n    pass\n")


def test_a_server_that_dies_once_is_restarted_and_the_run_resumes(
    enrich: Enrich, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_crasher(enrich)
    marker = tmp_path / "crashed"
    status = run(enrich, *FAST, "--max-retries", "3", server_args=("--crash-marker", str(marker)))
    result = summary_of(capsys)
    assert status == 0
    assert marker.exists()
    assert result["restarts"] == 1
    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    # The death counted as one failure for crash_me; its retry after the restart succeeded.
    assert kinds[("crash_me", "references")] == "edge"
    assert kinds[("good_one", "references")] == "edge"
    assert enrich.counts()[("textDocument/references", "crash_me")] == 2


def test_a_symbol_that_always_kills_the_server_ends_as_error(
    enrich: Enrich, capsys: pytest.CaptureFixture[str]
) -> None:
    # --max-retries 2: three deaths skip crash_me for good. Two restarts: after the third
    # death nothing is left to ask, so no server is started for nothing.
    add_crasher(enrich)
    status = run(enrich, *FAST, "--max-retries", "2")
    result = summary_of(capsys)
    assert status == 0
    assert result["restarts"] == 2
    assert enrich.counts()[("textDocument/references", "crash_me")] == 3
    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    assert kinds[("crash_me", "references")] == "error"
    assert kinds[("good_one", "references")] == "edge"


def test_past_the_restart_bound_the_run_fails_with_a_message(
    enrich: Enrich, capsys: pytest.CaptureFixture[str]
) -> None:
    add_crasher(enrich)
    status = run(enrich, *FAST, "--max-retries", "7")
    err = capsys.readouterr().err
    assert status == 1
    assert "could not be restarted" in err
    # What was learnt before giving up stays in the database.
    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    assert kinds[("good_one", "references")] == "edge"


def test_a_server_that_cannot_start(enrich: Enrich, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(
        ["enrich", str(enrich.ws), "--db", str(enrich.db), "--",
         sys.executable, str(SERVER.parent / "no_such_server.py")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1
    assert "cannot start" in err


def test_usage_errors_exit_2(enrich: Enrich, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["enrich", str(enrich.ws), "--db", str(enrich.db)]) == 2
    assert "no server command" in capsys.readouterr().err
    assert cli.main(["enrich", str(enrich.ws), "--no-db", "--", "srv"]) == 2
    assert "--no-db" in capsys.readouterr().err
    assert cli.main(["enrich", str(enrich.ws / "missing"), "--", "srv"]) == 2
    assert "not a directory" in capsys.readouterr().err
