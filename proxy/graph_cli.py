"""`lsp-backoff edges|orphans|stats|reset|migrate`: read (and reset, migrate) a graph database.

``add_commands`` registers the subcommands on the lead's argparse subparsers; each handler takes
the parsed namespace and returns the exit code. ``--json`` prints one JSON object per line, as the
rows come; otherwise an aligned table. Positions are 0-based lines and UTF-16 code units: the
graph's one unit (proxy/units.py), whatever each recording client negotiated. A missing, foreign or
older-schema database is one line on stderr and exit status 2: only ``migrate`` (and the proxy)
upgrade a file.
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

    edges = subparsers.add_parser(
        "edges",
        help="list current edges and placeholders",
        description="Current edges and placeholders. Positions: 0-based lines, characters in "
        "UTF-16 code units (the graph's one unit, whatever each client negotiated).",
    )
    edges.add_argument("--symbol", metavar="KEY", help="only this symbol key")
    edges.add_argument("--operation", choices=OPERATIONS, help="only this operation")
    edges.add_argument("--json", action="store_true", help="one JSON object per line")
    edges.add_argument("--db", metavar="PATH", help=db_help)
    edges.set_defaults(func=edges_command)

    orphans = subparsers.add_parser(
        "orphans",
        help="symbols still lacking data",
        description="Symbols that lack current data for an operation (skipped ones excluded). "
        "Positions: 0-based lines, characters in UTF-16 code units (the graph's one unit).",
    )
    orphans.add_argument(
        "--operation",
        action="append",
        choices=OPERATIONS,
        help=f"repeatable (default: {' '.join(DEFAULT_ORPHAN_OPERATIONS)})",
    )
    orphans.add_argument("--ready", action="store_true", help="leave out symbols in backoff")
    orphans.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="stop after N rows (finishing the last symbol's operations)",
    )
    orphans.add_argument(
        "--after",
        metavar="KEY",
        help="continue after this symbol: the last `symbol` of the previous page",
    )
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

    migrate = subparsers.add_parser(
        "migrate",
        help="bring a database to the current schema",
        description="Upgrade an older graph database in place, then compact it (the proxy "
        "and enrich do the same when they open it; the read-only commands never do).",
    )
    migrate.add_argument("--db", metavar="PATH", help=db_help)
    migrate.set_defaults(func=migrate_command)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def edges_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        rows = queries.iter_edges(conn, symbol=args.symbol, operation=args.operation)
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
        rows = queries.iter_orphans(
            conn,
            operations=tuple(args.operation or DEFAULT_ORPHAN_OPERATIONS),
            ready_only=args.ready,
            after=args.after,
            limit=args.limit,
        )
        try:
            if args.json:
                # streamed: the first line costs one index seek
                _print_json(row.as_dict() for row in rows)
                return
            table = [
                (
                    r.name,
                    _where(r.uri, r.line, r.character),
                    r.operation,
                    r.state,
                    queries.iso(r.retry_at) or "",
                )
                for r in rows
            ]
        except KeyError:
            raise _Usage(f"no symbol {args.after} in the database (--after)") from None
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


def migrate_command(args: argparse.Namespace) -> int:
    def run(conn: sqlite3.Connection) -> None:
        print(f"{args.db_path}: schema version {queries.SCHEMA_VERSION}")

    return _with_db(args, run, upgrade=True)


class _Usage(Exception):
    """A bad argument found only once the database is open: one line, exit status 2."""


def _with_db(
    args: argparse.Namespace,
    run: Callable[[sqlite3.Connection], None],
    *,
    upgrade: bool = False,
) -> int:
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
    args.db_path = path
    try:
        conn = queries.connect(path, upgrade=upgrade)
    except StoreError as exc:
        print(f"lsp-backoff: {exc}", file=sys.stderr)
        return 2
    try:
        run(conn)
    except _Usage as exc:
        print(f"lsp-backoff: {exc}", file=sys.stderr)
        return 2
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
        print(json.dumps(row, ensure_ascii=False), flush=False)


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
