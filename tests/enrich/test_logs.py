"""Where the embedded proxy's log lines go during `enrich`: --log-file, never the terminal."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from enrich_helpers import Enrich, make_enrich


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    return make_enrich(tmp_path)


FAST = ("--backoff-base", "0.2", "--max-retries", "1", "--interval", "0.1")
FAILURE = "failure references"  # the proxy's line for a failed request (issue 3's log line)


def test_proxy_lines_go_to_the_log_file(enrich: Enrich, tmp_path: Path) -> None:
    log = tmp_path / "enrich.log"
    done = enrich.run(*FAST, "--operation", "references", "--log-file", str(log))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # created the owner's alone
    lines = log.read_text().splitlines()
    assert any(FAILURE in line and "bad_one" in line for line in lines)
    assert any("skipped for good" in line and "bad_one" in line for line in lines)
    assert FAILURE not in done.stderr  # the terminal keeps the progress lines only


def test_without_a_log_file_the_terminal_gets_progress_only(enrich: Enrich) -> None:
    done = enrich.run(*FAST, "--operation", "references")
    assert done.returncode == 0, done.stderr
    assert "phase 2" in done.stderr  # the plain progress lines are there …
    assert FAILURE not in done.stderr  # … the proxy's per-request lines are not
    assert "skipped for good" not in done.stderr


def test_an_unwritable_log_file_is_a_clear_error(enrich: Enrich, tmp_path: Path) -> None:
    done = enrich.run("--log-file", str(tmp_path / "missing" / "dir" / "enrich.log"))
    assert done.returncode == 2
    assert "cannot open log file" in done.stderr
    assert not enrich.db.exists()  # nothing started
