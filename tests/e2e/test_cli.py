"""Issue 2: the command line — errors are one line and exit 2, --version, --help."""

from __future__ import annotations

from importlib import metadata

import pytest
from harness import PY, run, server_cmd


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("args", [[], ["--"], ["--no-db"], ["--no-db", "--"]])
async def test_no_server_command(args: list[str]) -> None:
    status, out, err = await run(PY, "-m", "lsp_backoff", *args)
    assert status == 2
    assert out == ""
    one_line(err)


async def test_server_that_cannot_start() -> None:
    status, out, err = await run(
        PY, "-m", "lsp_backoff", "--no-db", "--", "/nonexistent/server-xyz"
    )
    assert status == 2
    assert out == ""
    assert "/nonexistent/server-xyz" in one_line(err)


@pytest.mark.parametrize(
    "option",
    [
        ["--timeout", "-1"],
        ["--timeout", "abc"],
        ["--jitter", "2"],
        ["--backoff-base", "-5"],
        ["--max-retries", "-1"],
        ["--log-level", "loud"],
    ],
)
async def test_bad_option_values(option: list[str]) -> None:
    status, out, err = await run(
        PY, "-m", "lsp_backoff", "--no-db", *option, "--", *server_cmd("always_fails")
    )
    assert status == 2
    assert out == ""
    line = one_line(err)
    assert option[0] in line, line  # the whole option named, not a word of it ("max")


async def test_version() -> None:
    status, out, _err = await run(PY, "-m", "lsp_backoff", "--version")
    assert status == 0
    assert metadata.version("lsp-backoff") in out


async def test_help_has_an_example() -> None:
    status, out, _err = await run(PY, "-m", "lsp_backoff", "--help")
    assert status == 0
    for option in ("--db", "--no-db", "--backoff-base", "--timeout", "--jitter", "--max-retries"):
        assert option in out
    assert any("lsp-backoff" in line and " -- " in line for line in out.splitlines()), out
