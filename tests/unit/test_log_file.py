"""Files the project creates are the owner's alone (issue 22): the proxy's --log-file.
(The database: tests/unit/test_store.py; enrich's --log-file: tests/enrich/test_logs.py.)"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_backoff.proxy.config import ConfigError, ProxyConfig
from lsp_backoff.proxy.logs import setup_logging


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022: a file created 0666 & ~umask would be world-readable."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


def test_a_log_file_is_created_0600_and_written(
    tmp_path: Path, loose_umask: None, restore_root_logger: None
) -> None:
    log = tmp_path / "proxy.log"
    listener = setup_logging(ProxyConfig(log_file=str(log)))
    try:
        logging.getLogger("lsp_backoff.test").warning("hello")
    finally:
        listener.stop()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "hello" in log.read_text()


def test_an_existing_log_file_keeps_its_mode_and_its_lines(
    tmp_path: Path, loose_umask: None, restore_root_logger: None
) -> None:
    log = tmp_path / "proxy.log"
    log.write_text("before\n")
    log.chmod(0o640)  # the owner's choice
    listener = setup_logging(ProxyConfig(log_file=str(log)))
    try:
        logging.getLogger("lsp_backoff.test").warning("after")
    finally:
        listener.stop()
    assert stat.S_IMODE(log.stat().st_mode) == 0o640
    assert log.read_text().startswith("before\n") and "after" in log.read_text()


def test_a_log_file_in_a_missing_directory_is_one_clear_error(
    tmp_path: Path, restore_root_logger: None
) -> None:
    with pytest.raises(ConfigError, match="cannot open log file"):
        setup_logging(ProxyConfig(log_file=str(tmp_path / "missing" / "proxy.log")))
