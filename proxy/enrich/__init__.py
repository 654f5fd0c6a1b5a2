"""`lsp-backoff enrich`: fill a workspace's graph by asking a language server through the proxy.

`add_command(subparsers, add_proxy_options)` registers the subcommand; proxy/cli.py owns the rest
of the command line and puts the server command (after `--`) in `args.server`. The proxy options
(`--backoff-base`, `--timeout`, …) configure the proxy session this command runs in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.logs import SERVER_LOGGER, log_file_handler
from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS, OPERATIONS

from .client import PROXY_LOGGER
from .pool import MAX_AUTO_SERVERS, auto_servers
from .runner import EnrichOptions, run_enrich
from .window import DEFAULT_OPEN_FILES

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
        "--jobs",
        type=int,
        default=8,
        metavar="N",
        help="requests in flight at most, per server (default: 8)",
    )
    parser.add_argument(
        "--servers",
        type=_servers,
        default="auto",
        metavar="N",
        help="server processes to run side by side, all recording into one graph; auto: one "
        f"per core, at most {MAX_AUTO_SERVERS} and one per GiB of available memory "
        "(default: auto)",
    )
    parser.add_argument(
        "--open-files",
        type=_open_files,
        default="auto",
        metavar="K",
        help="documents open at once, per server; 0: every file stays open once opened; "
        "auto: 0 for servers that analyse the whole workspace anyway (basedpyright, pyright, "
        f"pyrefly, ty), {DEFAULT_OPEN_FILES} for the others (default: auto)",
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
    parser.add_argument(
        "--watch",
        action="store_true",
        help="keep running after the first pass: watch the workspace, tell the server what "
        "changed and ask again what went stale, until Ctrl-C",
    )
    parser.add_argument(
        "--modules",
        action="store_true",
        help="with references: a symbol per Python file (key URI#module) whose references are "
        "the places that import it, for servers that answer references at a module name in an "
        "import statement (basedpyright, pyright, zuban)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    before = list(parser._actions)
    add_proxy_options(parser)
    proxy_actions = [action for action in parser._actions if action not in before]
    parser.set_defaults(func=run, enrich_proxy_actions=proxy_actions)
    return parser


def _auto_or_at_least(minimum: int, meaning: str = "") -> Callable[[str], str | int]:
    """An argparse type: "auto", or a whole number >= `minimum`."""

    def parse(text: str) -> str | int:
        if text == "auto":
            return text
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a number or auto: {text}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{meaning}: {text}")
        return value

    return parse


_servers = _auto_or_at_least(1)
_open_files = _auto_or_at_least(0, " (0: no limit)")


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """Handler for `lsp-backoff enrich`; returns the exit status."""
    try:
        options = build_options(args)
    except _UsageError as exc:
        print(f"lsp-backoff enrich: {exc}", file=sys.stderr)
        return 2
    with _proxy_logging(options.proxy):
        return run_enrich(options)


class _UsageError(Exception):
    """A command line enrich cannot run with; the message is one line."""


def build_options(args: argparse.Namespace) -> EnrichOptions:
    """The run's options from the command line; the proxy's settings exactly as
    `lsp-backoff -- SERVER` would read them (options given, then --config, then defaults)."""
    server = list(getattr(args, "server", None) or [])
    if server and server[0] == "--":
        server = server[1:]
    if not server:
        raise _UsageError(
            "no server command: lsp-backoff enrich WORKSPACE [options] -- SERVER ARGS…"
        )
    if getattr(args, "no_db", False):
        raise _UsageError("--no-db cannot be used with enrich: its results live in the database")
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        raise _UsageError(f"not a directory: {args.workspace}")
    # ConfigError (a bad value, a bad --config file) is reported by cli.py. The database
    # default is the proxy's own: --db, $LSP_BACKOFF_DB, else the per-workspace file the proxy
    # would pick for this workspace folder.
    config = ProxyConfig.from_args(args)
    db = config.database_path(str(workspace))
    if db is None:
        raise _UsageError("enrich needs a database file")
    if args.jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    return EnrichOptions(
        workspace=workspace,
        db=str(Path(db).resolve()),
        server=server,
        proxy=config,
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
        open_files=None if args.open_files == "auto" else args.open_files,
        servers=auto_servers() if args.servers == "auto" else args.servers,
        watch=args.watch,
        modules=args.modules,
    )


@contextlib.contextmanager
def _proxy_logging(config: ProxyConfig) -> Iterator[None]:
    """The proxy's log lines (failures, the server's stderr) stay off the progress display:
    they go to --log-file when one is given, and otherwise only into the tail enrich keeps to
    explain a server's death. The loggers are as they were afterwards."""
    proxy_log, server_log = logging.getLogger(PROXY_LOGGER), logging.getLogger(SERVER_LOGGER)
    saved = (proxy_log.level, proxy_log.propagate, server_log.level)
    handler: logging.Handler | None = None
    if config.log_file:
        handler = log_file_handler(config.log_file)  # 0600 when created
        handler.setFormatter(logging.Formatter("lsp-backoff %(asctime)s %(levelname)s %(message)s"))
        proxy_log.addHandler(handler)
    proxy_log.setLevel(getattr(logging, config.log_level.upper()))
    proxy_log.propagate = False
    server_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        proxy_log.setLevel(saved[0])
        proxy_log.propagate = saved[1]
        server_log.setLevel(saved[2])
        if handler is not None:
            proxy_log.removeHandler(handler)
            handler.close()
