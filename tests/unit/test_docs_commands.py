"""Every `lsp-backoff` command shown in README.md and docs/ runs as written.

All of them must parse with the real parsers (an option renamed or removed fails here); the
graph commands also run, in a directory holding the database each names, filled with the
symbol the examples page after (`--after 'file:///home/me/proj/app.py#3:4:main'`).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from lsp_backoff.proxy import cli
from lsp_backoff.tracker.model import SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# An indented (code block) line that starts the command, from PATH or from the checkout's venv;
# not the synopsis (`lsp-backoff [options] -- …`).
COMMAND = re.compile(r"^ {4}(?:\.venv/bin/)?lsp-backoff (?!\[options\])(.*)$", re.MULTILINE)
GRAPH = ("edges", "orphans", "stats", "reset", "migrate")
URI = "file:///home/me/proj/app.py"


def documented() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for match in COMMAND.finditer(page.read_text(encoding="utf-8")):
            argv = shlex.split(match.group(1), comments=True)
            found.append((f"{page.relative_to(ROOT)}: lsp-backoff {match.group(1)}", argv))
    return found


COMMANDS = documented()


def split(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def test_the_pages_show_every_command() -> None:
    shown = {argv[0] if argv[0] in cli.SUBCOMMANDS else "proxy" for _, argv in COMMANDS}
    assert shown == {*cli.SUBCOMMANDS, "proxy"}
    readme = {argv[0] for where, argv in COMMANDS if where.startswith("README.md")}
    assert set(cli.SUBCOMMANDS) <= readme, "README.md shows one example of each command"


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where: str, argv: list[str]) -> None:
    own, server = split(argv)
    if own[0] in cli.SUBCOMMANDS:
        cli.build_subcommand_parser(own[0]).parse_args(own)
        assert bool(server) == (own[0] == "enrich"), where
    elif own == ["--version"]:
        with pytest.raises(SystemExit) as exit:
            cli.build_parser().parse_args(own)
        assert exit.value.code == 0, where
    else:
        cli.build_parser().parse_args(own)
        assert server, where


@pytest.mark.parametrize(
    ("where", "argv"),
    [(w, a) for w, a in COMMANDS if a[0] in GRAPH],
    ids=[w for w, a in COMMANDS if a[0] in GRAPH],
)
def test_documented_graph_command_runs(
    where: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / argv[argv.index("--db") + 1]
    database.parent.mkdir(parents=True, exist_ok=True)
    store = GraphStore(database)
    store.start()
    main = SymbolRef(f"{URI}#3:4:main", URI, "main", 3, 4)
    store.put_symbols([main], "document_symbol")
    store.put_edges(main, "references", [Target(URI, 9, 2)])
    assert store.flush()
    store.close()
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 0, where
