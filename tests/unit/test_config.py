"""Options and --config files: defaults, precedence, and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_backoff.proxy.cli import build_parser
from lsp_backoff.proxy.config import ConfigError, ProxyConfig


def config(argv: list[str]) -> ProxyConfig:
    args = build_parser().parse_args(argv)
    args.server = ["srv"]
    return ProxyConfig.from_args(args)


def test_defaults() -> None:
    c = config([])
    assert (c.backoff_base, c.backoff_max, c.max_retries, c.timeout, c.jitter) == (5, 320, 7, 30, 0)
    assert c.server == ("srv",)


def test_toml_file_then_command_line(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('backoff-base = 2\nmax_retries = 3\nlog-level = "debug"\n')
    c = config(["--config", str(toml), "--max-retries", "5"])
    assert (c.backoff_base, c.max_retries, c.log_level) == (2.0, 5, "debug")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--timeout", "-1"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--jitter", "1"], "--jitter"),
        (["--backoff-base", "inf", "--backoff-max", "inf"], "finite"),
        (["--backoff-base", "10", "--backoff-max", "5"], "--backoff-max"),
        (["--max-retries", "-2"], "--max-retries"),
    ],
)
def test_bad_values_are_one_line_config_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        config(argv)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('backoff-base = "x"', "wrong type"),
        ("nope = 1", "unknown option"),
        ("backoff-base = inf", "finite"),
        ("[[[", "not valid TOML"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError, match=message):
        config(["--config", str(toml)])
