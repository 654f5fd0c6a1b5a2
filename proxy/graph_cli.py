"""`lsp-backoff edges|orphans|stats|reset`: read (and reset) a graph database from the shell.

``add_commands`` registers the four subcommands on the lead's argparse subparsers; each handler
takes the parsed namespace and returns the exit code. ``--json`` prints one JSON object per line;
otherwise an aligned table. Positions are 0-based, as in LSP. A missing or foreign database is one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from lsp_backoff.proxy.config import default_database
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS, OPERATIONS

ENV_DB = "LSP_BACKOFF_DB"
_STAT_KEYS = ("symbols", "edges", "none", "error", "backoff", "skipped")


def add_commands(subparsers: Any) -> None:
    """Register edges, orphans, stats and reset on ``subparsers`` (from add_subparsers())."""
    db_help = (
        f"the graph database (default: ${ENV_DB}, else the per-workspace file of the "
        "current directory)"
    )

    edges = subparsers.add_parser("edges", help="list current edges and placeholders")
    edges.add_argument("--symbol", metavar="KEY", help="only this symbol key")
    edges.add_argument("--operation", choices=OPERATIONS, help="only this operation")
    edges.add_argument("--json", action="store_true", help="one JSON object per line")
    edges.add_argument("--db", metavar="PATH", help=db_help)
    edges.set_defaults(func=edges_command)

    orphans = subparsers.add_parser(
        "orphans",
        help="symbols still lacking data",
        description="Symbols that lack current data for an operation (skipped ones excluded).",
    )
    orphans.add_argument(
        "--operation",
        action="append",
        choices=OPERATIONS,
        help=f"repeatable (default: {' '.join(DEFAULT_ORPHAN_OPERATIONS)})",
    )
    orphans.add_argument("--ready", action="store_true", help="leave out symbols in backoff")
    orphans.add_argument("--json", action="store_true", help="one JSON object per line")
    orphans.add_argument("--db", metavar="PATH", help=db_help)
    orphans.set_defaults(func=orphans_command)

    stats = subparsers.add_parser("stats", help="counts per operation")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument("--db", metavar="PATH", help=db_help)
    stats.set_defaults(func=stats_command)

    reset = subparsers.add_parser(
        "reset",
        help="forget failure state",
        description="Forget failure state and error placeholders, so the symbols are asked "
        "again. A running proxy keeps the state it holds in memory until it restarts.",
    )
    reset.add_argument("--uri", help="only this document")
    reset.add_argument("--db", metavar="PATH", help=db_help)
    reset.set_defaults(func=reset_command)


def edges_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        rows = queries.edges(conn, symbol=args.symbol, operation=args.operation)
        if args.json:
            _print_json(rows)
            return
        table = [
            (
                r["name"],
                _where(r["uri"], r["line"], r["character"]),
                r["operation"],
                r["kind"],
                _target(r["target"]),
                r["detail"],
            )
            for r in rows
        ]
        _print_table(("NAME", "SYMBOL AT", "OPERATION", "KIND", "TARGET", "DETAIL"), table)

    return _with_db(args, run)


def orphans_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        operations = tuple(args.operation or DEFAULT_ORPHAN_OPERATIONS)
        rows = queries.orphans(conn, operations=operations, ready_only=args.ready)
        if args.json:
            _print_json(rows)
            return
        table = [
            (
                r["name"],
                _where(r["uri"], r["line"], r["character"]),
                r["operation"],
                r["state"],
                r["retry_at"] or "",
            )
            for r in rows
        ]
        _print_table(("NAME", "SYMBOL AT", "OPERATION", "STATE", "RETRY AT"), table)

    return _with_db(args, run)


def stats_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        result = queries.stats(conn)
        if args.json:
            _print_json([result])
            return
        print(f"documents: {result['documents']}  symbols: {result['symbols']}")
        table = [
            (op, *(str(counts[k]) for k in _STAT_KEYS))
            for op, counts in result["operations"].items()
        ]
        table.append(("total", str(result["symbols"]), *(str(result[k]) for k in _STAT_KEYS[1:])))
        _print_table(("OPERATION", *(k.upper() for k in _STAT_KEYS)), table, numeric_from=1)

    return _with_db(args, run)


def reset_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        count = queries.reset(conn, args.uri)
        where = f" in {args.uri}" if args.uri else ""
        print(f"forgot the failure state of {count} symbol/operation pairs{where}")

    return _with_db(args, run)


def _with_db(args: argparse.Namespace, run: Callable[[sqlite3.Connection], None]) -> int:
    path = args.db or os.environ.get(ENV_DB)
    if not path:
        # The file a proxy (or enrich) would have used for this directory as its workspace.
        guess = default_database(os.getcwd())
        if not guess.exists():
            print(
                f"lsp-backoff: no database: pass --db PATH or set {ENV_DB} "
                f"(no per-workspace database for this directory at {guess})",
                file=sys.stderr,
            )
            return 2
        path = str(guess)
    try:
        conn = queries.connect(path)
    except StoreError as exc:
        print(f"lsp-backoff: {exc}", file=sys.stderr)
        return 2
    try:
        run(conn)
    except sqlite3.Error as exc:
        print(f"lsp-backoff: {path}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`); silence the interpreter's flush at exit too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        conn.close()
    return 0


def _where(uri: str, line: int | None, character: int | None) -> str:
    return uri if line is None else f"{uri}:{line}:{character}"


def _target(target: dict[str, Any] | None) -> str:
    return "-" if target is None else _where(target["uri"], target["line"], target["character"])


def _print_json(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


def _print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int | None = None
) -> None:
    if not rows:
        print("(none)")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = []
        for i, cell in enumerate(row):
            right = numeric_from is not None and i >= numeric_from
            cells.append(str(cell).rjust(widths[i]) if right else str(cell).ljust(widths[i]))
        print("  ".join(cells).rstrip())
