"""The proxy's settings: one frozen dataclass, its defaults, TOML loading and validation.

Command-line options and ``--config`` TOML files use the same names (``backoff-base`` or
``backoff_base``); the command line wins. Every bad value is a :class:`ConfigError` with a
one-line message naming the option.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.errors import LspBackoffError

LOG_LEVELS = ("debug", "info", "warning", "error")
DB_ENV = "LSP_BACKOFF_DB"


class ConfigError(LspBackoffError):
    """A bad option value or configuration file."""


@dataclass(frozen=True)
class ProxyConfig:
    db: str | None = None  # None: $LSP_BACKOFF_DB, else a per-workspace file
    no_db: bool = False
    backoff_base: float = 5.0
    backoff_max: float = 320.0
    max_retries: int = 7
    timeout: float = 30.0
    jitter: float = 0.0
    log_file: str | None = None
    log_level: str = "info"
    log_messages: bool = False
    server: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("backoff_base", "backoff_max", "timeout", "jitter"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"--{name.replace('_', '-')} must be a finite number")
        checks = [
            (self.backoff_base > 0, "--backoff-base must be a positive number of seconds"),
            (self.backoff_max >= self.backoff_base, "--backoff-max must be >= --backoff-base"),
            (self.max_retries >= 0, "--max-retries must be a whole number >= 0"),
            (self.timeout > 0, "--timeout must be a positive number of seconds"),
            (0 <= self.jitter < 1, "--jitter must be a fraction in [0, 1)"),
            (self.log_level in LOG_LEVELS, f"--log-level must be one of {', '.join(LOG_LEVELS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        try:
            self.policy  # noqa: B018 — the policy's own checks, as one-line errors
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    @property
    def policy(self) -> BackoffPolicy:
        return BackoffPolicy(
            base=self.backoff_base,
            cap=self.backoff_max,
            max_retries=self.max_retries,
            jitter=self.jitter,
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ProxyConfig:
        """Defaults, then the --config file, then the options given on the command line."""
        values: dict[str, Any] = {}
        if getattr(args, "config", None):
            values.update(load_toml(args.config))
        for f in dataclasses.fields(cls):
            given = getattr(args, f.name, None)
            if given is not None and f.name != "server":
                values[f.name] = given
        values["server"] = tuple(getattr(args, "server", None) or ())
        return cls(**values)

    def database_path(self, workspace: str | None) -> str | None:
        """Where the graph lives: None means in memory (--no-db)."""
        if self.no_db:
            return None
        if self.db:
            return self.db
        if os.environ.get(DB_ENV):
            return os.environ[DB_ENV]
        return str(default_database(workspace))


def default_database(workspace: str | None) -> Path:
    """A per-workspace file in the user's state directory."""
    import platformdirs  # imported here: only needed when no --db is given

    root = Path(platformdirs.user_state_dir("lsp-backoff"))
    # Normalised, so rootUri "file:///w/" and a shell in /w name the same file.
    label = os.path.normpath(workspace) if workspace else "no-workspace"
    digest = hashlib.blake2b(label.encode(), digest_size=8).hexdigest()
    stem = Path(label.rstrip("/")).name or "workspace"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:40]
    return root / f"{safe}-{digest}.db"


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(ProxyConfig)}


def load_toml(path: str) -> dict[str, Any]:
    """Read a --config file: the same keys as the long options (dashes or underscores)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in _FIELD_TYPES or name == "server":
            raise ConfigError(f"config file {path}: unknown option {key!r}")
        expected = _FIELD_TYPES[name]
        values[name] = _coerce(path, key, value, str(expected))
    return values


def _coerce(path: str, key: str, value: Any, expected: str) -> Any:
    if "bool" in expected:
        ok = isinstance(value, bool)
    elif "float" in expected:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif "int" in expected:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"config file {path}: {key} has the wrong type ({expected})")
    return value
