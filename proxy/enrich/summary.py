"""The end-of-run summary of `lsp-backoff enrich`: built from the database (edges and placeholders
of this workspace), the monitor's own counts and the proxy's counters (`lspBackoff/stats`), then
printed to stdout as a table, or as one JSON object with `--json`.

The JSON keys are a public interface (scripts read them): files, symbols,
document_symbol_errors, operations
({op: {edges, symbols_with_edges, none, error, missing, backoff}}), still_in_backoff, missing,
abandoned, unresolved, orphans ([{symbol, name, uri, line, character, operation}]), unfilled
(the same fields plus state), requests
({sent, errors, transient, forwarded, short_circuited, failures, timeouts, skipped,
server_faults}), restarts, at_fault, elapsed, completed, interrupted.

``completed`` is true only when nothing is ``missing``: every listed symbol has data or a
placeholder for every operation asked. Pairs left missing — waiting in backoff past
--max-wait, or given up asking without an answer that fills them — are listed under
``unfilled`` and the exit status is EXIT_UNFILLED: a graph with holes is not a finished index.

``unresolved`` counts the (symbol, operation) pairs the monitor gave up asking that the graph
still lists as missing. ``orphans`` lists those of them the server answered while nothing at all
was recorded under their key (no data, no placeholder, no failure state — for incoming/outgoing
calls, not for prepare either): no request can ever fill such a pair, its answers land under
another key (two keys for one symbol). That is a defect, never a finished run: ``completed`` is
false and the exit status is EXIT_ORPHANS. A pair whose empty answers came while the server was
still loading has failure state under its own key: unresolved, but not a defect; nor is a pair
the server never answered at all — every ask cancelled (RequestCancelled leaves no failure
state: nobody asked for it), its last outcome "transient".

``at_fault`` names the servers' faults still on when the run ended (tracker/faults.py: one
method failing for every symbol with the same error; the server is restarted at each, and the
restarts are counted in ``restarts``): the errors of such a run are the server's, not the
symbols', so it is never completed and the exit status is EXIT_SERVER_FAULT.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from lsp_backoff.tracker import queries

from .monitor import Monitor

PROXY_COUNTERS = (
    "forwarded",
    "short_circuited",
    "failures",
    "timeouts",
    "skipped",
    "server_faults",
)
#: Exit status of a run that ended with answered symbols still orphans (see the docstring).
EXIT_ORPHANS = 3
#: Exit status of a run that ended with (symbol, operation) pairs still missing, no defect.
EXIT_UNFILLED = 4
#: Exit status of a run that ended with a server at fault (see the docstring).
EXIT_SERVER_FAULT = 5
#: How many of those the text summary names.
NAMED_ORPHANS = 5


def build_summary(
    db: sqlite3.Connection,
    *,
    workspace: Path,
    operations: Sequence[str],
    files: int,
    symbols: int,
    symbol_errors: int,
    monitor: Monitor,
    proxy_stats: dict[str, int],
    restarts: int,
    elapsed: float,
    interrupted: bool,
    at_fault: Sequence[str] = (),
) -> dict[str, Any]:
    prefix = workspace.as_uri() + "/"
    recorded = queries.edge_counts(db, uri_prefix=prefix)
    per_op: dict[str, dict[str, Any]] = {}
    for op in operations:
        counts = {"edges": 0, "symbols_with_edges": 0, "none": 0, "error": 0}
        counts.update(recorded.get(op, {}))
        per_op[op] = {**counts, "missing": 0, "backoff": 0}
    stuck = monitor.last.stuck
    unresolved = 0
    orphans: list[dict[str, Any]] = []
    unfilled: list[dict[str, Any]] = []
    tracked = _with_failure_state(db, {symbol for symbol, _ in stuck})
    for row in queries.orphans(db, operations=tuple(operations)):
        if str(row["uri"]).startswith(prefix):
            counts = per_op[row["operation"]]
            counts["missing"] += 1
            if row["state"] != "ready":
                counts["backoff"] += 1
            unfilled.append({**{k: row[k] for k in _ORPHAN_FIELDS}, "state": row["state"]})
            pair = (row["symbol"], row["operation"])
            if pair in stuck:
                unresolved += 1
                if _answered(monitor, pair) and not tracked & {
                    pair,
                    (row["symbol"], PREPARE if pair[1] in CALLS else ""),
                }:
                    orphans.append({k: row[k] for k in _ORPHAN_FIELDS})
    backoff = sum(c["backoff"] for c in per_op.values())
    missing = sum(c["missing"] for c in per_op.values())
    requests = {
        "sent": monitor.counts.sent,
        "errors": monitor.counts.errors,
        "transient": monitor.counts.transient,
    }
    requests.update({key: proxy_stats.get(key, 0) for key in PROXY_COUNTERS})
    return {
        "workspace": str(workspace),
        "files": files,
        "symbols": symbols,
        "document_symbol_errors": symbol_errors,
        "operations": per_op,
        "missing": missing,
        "still_in_backoff": backoff,
        "abandoned": len(monitor.last.abandoned),
        "unresolved": unresolved,
        "orphans": orphans,
        "unfilled": unfilled,
        "requests": requests,
        "restarts": restarts,
        "at_fault": list(at_fault),
        "elapsed": round(elapsed, 3),
        "completed": not interrupted and not orphans and not missing and not at_fault,
        "interrupted": interrupted,
    }


_ORPHAN_FIELDS = ("symbol", "name", "uri", "line", "character", "operation")
PREPARE = "prepare_call_hierarchy"
CALLS = ("incoming_calls", "outgoing_calls")


def _with_failure_state(db: sqlite3.Connection, symbols: set[str]) -> set[tuple[str, str]]:
    """The (symbol, operation) pairs of ``symbols`` that have failure state in the graph."""
    found: set[tuple[str, str]] = set()
    keys = sorted(symbols)
    for at in range(0, len(keys), 500):  # SQLite's bound on parameters per statement
        chunk = keys[at : at + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT symbol, operation FROM failures WHERE symbol IN ({marks})", chunk
        )
        found.update((symbol, operation) for symbol, operation in rows)
    return found


def _answered(monitor: Monitor, pair: tuple[str, str]) -> bool:
    """Did the server answer the pair in the end (not only cancel it, every time)?"""
    record = monitor.asked.get(pair)
    return record is None or record.outcome != "transient"


def exit_status(summary: dict[str, Any]) -> int:
    """0 for a completed run, EXIT_SERVER_FAULT when a server was at fault at the end,
    EXIT_ORPHANS when answered symbols stay orphans, EXIT_UNFILLED when other pairs are still
    missing (the caller turns an interrupted run into its own status
    first)."""
    if summary.get("at_fault"):  # first: what it failed was recorded nowhere, orphans too
        return EXIT_SERVER_FAULT
    if summary["orphans"]:
        return EXIT_ORPHANS
    return EXIT_UNFILLED if summary["missing"] else 0


def print_summary(summary: dict[str, Any], *, as_json: bool, stream: TextIO) -> None:
    if as_json:
        print(json.dumps(summary, sort_keys=True), file=stream, flush=True)
        return
    console = Console(file=stream, width=100)
    table = Table(title=f"lsp-backoff enrich: {summary['workspace']}")
    for column in (
        "operation",
        "edges",
        "symbols w/ edges",
        "none",
        "error",
        "missing",
        "in backoff",
    ):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for op, c in summary["operations"].items():
        table.add_row(
            op,
            *(
                str(c[k])
                for k in ("edges", "symbols_with_edges", "none", "error", "missing", "backoff")
            ),
        )
    console.print(table)
    r = summary["requests"]
    state = "interrupted" if summary["interrupted"] else "completed"
    orphans = summary["orphans"]
    if not summary["interrupted"] and not summary["completed"]:
        state = "NOT completed"
    if summary.get("at_fault") and not summary["interrupted"]:
        console.print(
            "the server was at fault when the run ended (its errors are not the symbols'; "
            f"run again to go on): {'; '.join(summary['at_fault'])}",
            highlight=False,
            markup=False,
        )
    elif orphans and not summary["interrupted"]:
        console.print(
            f"{len(orphans)} answered symbol operations are still orphans — no request can "
            f"fill them (a defect; `--json` lists them all): {_named(orphans)}",
            highlight=False,
            markup=False,
        )
    elif summary["unfilled"] and not summary["interrupted"]:
        console.print(
            f"{len(summary['unfilled'])} symbol operations are still missing "
            f"({summary['still_in_backoff']} in backoff past --max-wait, the others asked "
            f"without an answer that fills them; run again to go on, `--json` lists them "
            f"all): {_named(summary['unfilled'])}",
            highlight=False,
            markup=False,
        )
    console.print(
        f"{summary['files']} files, {summary['symbols']} symbols; {r['sent']} requests sent "
        f"({r['errors']} errors, {r['transient']} not answered); proxy: {r['forwarded']} "
        f"forwarded, {r['short_circuited']} short-circuited, {r['failures']} failures, "
        f"{r['timeouts']} timeouts, {r['server_faults']} server faults; "
        f"{summary['still_in_backoff']} still in backoff, {summary['abandoned']} past "
        f"--max-wait, {summary['unresolved']} unresolved; {summary['restarts']} restarts; "
        f"{state} in {summary['elapsed']:.1f} s",
        highlight=False,
    )


def _named(pairs: list[dict[str, Any]]) -> str:
    named = ", ".join(
        f"{o['name'] or o['symbol']} ({o['operation']}, {_short(o['uri'])}:{o['line'] + 1})"
        for o in pairs[:NAMED_ORPHANS]
    )
    more = f" and {len(pairs) - NAMED_ORPHANS} more" if len(pairs) > NAMED_ORPHANS else ""
    return named + more


def _short(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]
