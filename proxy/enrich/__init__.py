"""`lsp-backoff enrich`: fill a workspace's graph by asking a language server through the proxy.

`add_command(subparsers, add_proxy_options)` registers the subcommand; proxy/cli.py owns the rest
of the command line and puts the server command (after `--`) in `args.server`. The proxy options
(`--backoff-base`, `--timeout`, …) are handed on verbatim to the proxy this command launches.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from proxy.config import ProxyConfig
from tracker.model import DEFAULT_ORPHAN_OPERATIONS, OPERATIONS

from .runner import EnrichOptions, run_enrich

EXAMPLE = """\
example:
  lsp-backoff enrich examples/ --db graph.db -- basedpyright-langserver --stdio
  lsp-backoff orphans --db graph.db

The requests go through the proxy, which records every answer; running the command again
continues where an interrupted run stopped.
"""


def add_command(
    subparsers: Any, add_proxy_options: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "enrich",
        help="ask a language server about every symbol of a workspace, through the proxy",
        usage="lsp-backoff enrich WORKSPACE [options] -- SERVER [ARGS...]",
        description="Fill a workspace's graph: open every source file, list its symbols, then "
        "ask the server (through the proxy) about every symbol still missing data.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("workspace", type=Path, help="the workspace (project root) to enrich")
    parser.add_argument(
        "--operation",
        action="append",
        choices=OPERATIONS,
        metavar="OP",
        help=f"an operation to fill (repeatable; default: {' '.join(DEFAULT_ORPHAN_OPERATIONS)})",
    )
    parser.add_argument(
        "--interval",
        type=_positive,
        default=5.0,
        metavar="SECONDS",
        help="seconds between orphan queries (default: 5)",
    )
    parser.add_argument(
        "--jobs", type=int, default=8, metavar="N", help="requests in flight at most (default: 8)"
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only files matching GLOB (repeatable; default: source extensions)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out files matching GLOB (repeatable)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="do not wait longer than this for one symbol in backoff (default: 60)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    before = list(parser._actions)
    add_proxy_options(parser)
    proxy_actions = [action for action in parser._actions if action not in before]
    parser.set_defaults(func=run, enrich_proxy_actions=proxy_actions)
    return parser


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text}")
    return value


def proxy_argv(args: argparse.Namespace, actions: Sequence[argparse.Action]) -> list[str]:
    """The proxy options the user gave, back as argv; defaults are left out so a --config
    file still decides them. --db is passed separately, always."""
    argv: list[str] = []
    for action in actions:
        if action.dest in ("db", "no_db", "help") or not action.option_strings:
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        option = action.option_strings[-1]
        if action.nargs == 0:
            argv.append(option)  # store_true / store_const flags
        elif isinstance(value, list):
            for item in value:
                argv += [option, str(item)]
        else:
            argv += [option, str(value)]
    return argv


def run(args: argparse.Namespace) -> int:
    """Handler for `lsp-backoff enrich`; returns the exit status."""
    server = list(getattr(args, "server", None) or [])
    if server and server[0] == "--":
        server = server[1:]
    if not server:
        return _usage("no server command: lsp-backoff enrich WORKSPACE [options] -- SERVER ARGS…")
    if getattr(args, "no_db", False):
        return _usage("--no-db cannot be used with enrich: its results live in the database")
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        return _usage(f"not a directory: {args.workspace}")
    # The settings as the proxy will see them (--config TOML included; ConfigError is reported
    # by cli.py). The database default is the proxy's own: --db, $LSP_BACKOFF_DB, else the
    # per-workspace file the proxy would pick for this workspace folder.
    config = ProxyConfig.from_args(args)
    db = config.database_path(str(workspace))
    if db is None:
        return _usage("enrich needs a database file")
    if args.jobs < 1:
        return _usage("--jobs must be at least 1")
    options = EnrichOptions(
        workspace=workspace,
        db=str(Path(db).resolve()),
        server=server,
        proxy_args=proxy_argv(args, getattr(args, "enrich_proxy_actions", [])),
        operations=tuple(args.operation or DEFAULT_ORPHAN_OPERATIONS),
        interval=args.interval,
        jobs=args.jobs,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        max_wait=args.max_wait,
        backoff_base=config.backoff_base,
        max_retries=config.max_retries,
        timeout=config.timeout,
        json=args.json,
    )
    # cli.py sets the root logger from --log-level, which is meant for the proxy we launch.
    # pygls logs every server notification it has no handler for (publishDiagnostics,
    # $/progress, …) as a warning; those lines would drown the progress output.
    logging.getLogger("pygls").setLevel(logging.ERROR)
    return run_enrich(options)


def _usage(message: str) -> int:
    print(f"lsp-backoff enrich: {message}", file=sys.stderr)
    return 2
