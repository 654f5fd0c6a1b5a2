"""docs/enrich.md's option table names every option of `lsp-backoff enrich` with its default."""

from __future__ import annotations

import argparse
import re

from enrich_helpers import ROOT

from lsp_backoff.proxy import cli


def enrich_parser() -> argparse.ArgumentParser:
    parser = cli.build_subcommand_parser("enrich")
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices["enrich"]


def table() -> dict[str, str]:
    section = (ROOT / "docs" / "enrich.md").read_text().split("## Options", 1)[1]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `--"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            for option in re.findall(r"`(--[a-z-]+)", cells[0]):
                rows[option] = cells[1]
        elif rows and not line.startswith("|"):
            break
    return rows


def test_every_enrich_option_is_in_the_docs_with_its_default() -> None:
    parser = enrich_parser()
    proxy_actions = parser.get_default("enrich_proxy_actions")
    documented = table()
    for action in parser._actions:
        own = action not in proxy_actions and action.option_strings
        if not own or "--help" in action.option_strings:
            continue
        option = next(o for o in action.option_strings if o.startswith("--"))
        assert option in documented, option
        if isinstance(action.default, int | float) and not isinstance(action.default, bool):
            assert float(documented[option]) == action.default, option
