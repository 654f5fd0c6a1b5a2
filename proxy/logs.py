"""Logging set-up: our lines and the server's stderr, off the relay's thread.

Records go through a queue to a listener thread, so no log write (a slow terminal, a log
file on a busy disk) ever blocks the pipe. A log file we create is the owner's alone (0600,
like the databases: ``--log-messages`` writes source text into it); one that exists keeps
its mode, and a missing directory stays an error (we do not guess where logs should live).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
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


def log_file_handler(path: str) -> logging.FileHandler:
    """A handler appending to `path`, created 0600 when it does not exist (the umask can
    only narrow that). Raises ConfigError, one line, when it cannot be opened."""
    try:
        # Created here with its mode; FileHandler would create it 0666 & ~umask (0644).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        return logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot open log file {path}: {exc.strerror}") from exc


def setup_logging(config: ProxyConfig) -> logging.handlers.QueueListener:
    """Logs go through a queue to a thread, so no log write ever blocks the pipe."""
    handler: logging.Handler
    if config.log_file:
        handler = log_file_handler(config.log_file)
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
