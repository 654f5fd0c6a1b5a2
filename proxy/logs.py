"""Logging set-up: our lines and the server's stderr, off the relay's thread.

Records go through a queue to a listener thread, so no log write (a slow terminal, a log
file on a busy disk) ever blocks the pipe.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys

from lsp_backoff.proxy.config import ConfigError, ProxyConfig

#: The logger the server's stderr lines go to; always passed on, whatever --log-level says.
SERVER_LOGGER = "lsp_backoff.server"


class _Formatter(logging.Formatter):
    """Our own lines carry a prefix; the server's stderr lines pass through as they came."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == SERVER_LOGGER:
            return record.getMessage()
        return super().format(record)


def setup_logging(config: ProxyConfig) -> logging.handlers.QueueListener:
    """Logs go through a queue to a thread, so no log write ever blocks the pipe."""
    if config.log_file:
        try:
            handler: logging.Handler = logging.FileHandler(config.log_file, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot open log file {config.log_file}: {exc.strerror}") from exc
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("lsp-backoff %(asctime)s %(levelname)s %(message)s"))
    log_queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(log_queue)]
    root.setLevel(getattr(logging, config.log_level.upper()))
    # The server's stderr is always passed on, whatever --log-level says.
    logging.getLogger(SERVER_LOGGER).setLevel(logging.DEBUG)
    listener = logging.handlers.QueueListener(log_queue, handler)
    listener.start()
    return listener
