"""Command line: argument parsing, configuration, logging set-up. No protocol logic here.

``lsp-backoff [options] -- SERVER ARGS…`` runs the proxy; ``lsp-backoff edges|orphans|stats|
reset|enrich …`` are subcommands over the graph database.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from typing import NoReturn

from lsp_backoff import __version__
from lsp_backoff.proxy.config import LOG_LEVELS, ConfigError, ProxyConfig

SUBCOMMANDS = ("edges", "orphans", "stats", "reset", "migrate", "enrich")

EXAMPLE = """\
example:
  lsp-backoff --log-file /tmp/lsp-backoff.log -- basedpyright-langserver --stdio

subcommands (lsp-backoff SUBCOMMAND --help for their options):
  edges     edges and placeholders recorded in the graph
  orphans   symbols still lacking data for an operation
  stats     counts per operation
  reset     forget failure state (all, or one document)
  enrich    fill a workspace's graph through the proxy
"""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"lsp-backoff: error: {message}\n")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_proxy_options(parser: argparse.ArgumentParser) -> None:
    """The proxy's options; shared with `enrich`, which launches the proxy."""
    d = ProxyConfig()
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="graph database file (default: $LSP_BACKOFF_DB, else one per workspace)",
    )
    parser.add_argument("--no-db", action="store_const", const=True, help="keep all in memory")
    parser.add_argument(
        "--backoff-base",
        type=_number,
        metavar="SECONDS",
        help=f"delay after a first failure, then doubling (default {d.backoff_base:g})",
    )
    parser.add_argument(
        "--backoff-max",
        type=_number,
        metavar="SECONDS",
        help=f"the longest delay (default {d.backoff_max:g})",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help=f"retries before a symbol is skipped for good (default {d.max_retries})",
    )
    parser.add_argument(
        "--timeout",
        type=_number,
        metavar="SECONDS",
        help=f"a tracked request unanswered this long fails (default {d.timeout:g})",
    )
    parser.add_argument(
        "--jitter",
        type=_number,
        metavar="FRACTION",
        help=f"spread each delay by up to ± this fraction (default {d.jitter:g})",
    )
    parser.add_argument("--log-file", metavar="PATH", help="log here instead of stderr")
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, type=str.lower, help=f"(default {d.log_level})"
    )
    parser.add_argument(
        "--log-messages",
        action="store_const",
        const=True,
        help="log every message body at debug level (off by default: bodies hold your code)",
    )
    parser.add_argument("--config", metavar="PATH", help="TOML file with the same keys")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lsp-backoff",
        usage="lsp-backoff [options] -- SERVER [ARGS...]\n       lsp-backoff SUBCOMMAND ...",
        description="A transparent LSP proxy that backs off per symbol and operation.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lsp-backoff {__version__}")
    add_proxy_options(parser)
    return parser


def build_subcommand_parser(command: str) -> argparse.ArgumentParser:
    from lsp_backoff.proxy import graph_cli

    parser = _Parser(prog="lsp-backoff")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    graph_cli.add_commands(sub)
    if command == "enrich":  # imported only when asked: it pulls in the session and rich
        from lsp_backoff.proxy import enrich

        enrich.add_command(sub, add_proxy_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        return _run_subcommand(args_list)
    if "--" in args_list:
        cut = args_list.index("--")
        own, server = args_list[:cut], args_list[cut + 1 :]
    else:
        own, server = args_list, []
    args = build_parser().parse_args(own)
    if not server:
        return _fail("no server command: use lsp-backoff [options] -- SERVER [ARGS...]")
    args.server = server
    try:
        config = ProxyConfig.from_args(args)
    except ConfigError as exc:
        return _fail(str(exc))
    from lsp_backoff.proxy.logs import setup_logging

    try:
        listener = setup_logging(config)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        from lsp_backoff.proxy.session import run_proxy

        return run_proxy(config)
    finally:
        listener.stop()


def _run_subcommand(args_list: list[str]) -> int:
    own, server = args_list, []
    if "--" in args_list:
        cut = args_list.index("--")
        own, server = args_list[:cut], args_list[cut + 1 :]
    args = build_subcommand_parser(own[0]).parse_args(own)
    args.server = server
    logging.basicConfig(
        level=getattr(logging, (getattr(args, "log_level", None) or "warning").upper()),
        format="lsp-backoff: %(message)s",
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        return _fail(str(exc))


def _fail(message: str) -> int:
    print(f"lsp-backoff: error: {message}", file=sys.stderr)
    return 2
