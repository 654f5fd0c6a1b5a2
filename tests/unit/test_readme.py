"""The options and operations tables of docs/ (once README.md's) tell the truth about the code."""

from __future__ import annotations

import re
from pathlib import Path

from lsp_backoff.proxy.cli import build_parser
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.operations import TRACKED
from lsp_backoff.tracker.model import OPERATIONS

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPTIONS = ("options.md", "# Options")


def table_after(page: str, heading: str) -> list[list[str]]:
    section = (DOCS / page).read_text().split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # header and separator


def test_every_option_is_documented_and_every_documented_option_exists() -> None:
    documented = {re.match(r"`(--[a-z-]+)", row[0]).group(1) for row in table_after(*OPTIONS)}  # type: ignore[union-attr]
    actual = {
        opt
        for action in build_parser()._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help"
    }
    assert documented == actual


def test_documented_defaults_match_the_config() -> None:
    documented = {
        re.match(r"`--([a-z-]+)", row[0]).group(1).replace("-", "_"): row[2]  # type: ignore[union-attr]
        for row in table_after(*OPTIONS)
    }
    config = ProxyConfig()
    for name in ("backoff_base", "backoff_max", "max_retries", "timeout", "jitter"):
        assert float(documented[name]) == getattr(config, name), name
    assert documented["log_level"] == config.log_level


def test_operation_table_matches_the_code() -> None:
    rows = table_after("behaviour.md", "## Tracked requests (operations)")
    assert {row[0]: row[1].strip("`") for row in rows} == TRACKED
    assert tuple(TRACKED.values()) == OPERATIONS
