"""Every file in editors/ that CI can load is loaded, and starts exactly lsp-backoff -- SERVER.

Neovim loads the Lua, Emacs the Lisp (lsp-mode against stubs: it is not installed here), the
TOML and JSON files are parsed, and the VS Code wrappers run a real LSP session through the
proxy. Editors that are not installed in CI (Helix, Zed, Sublime Text, Kakoune, VS Code) are
checked for syntax and for the command they would start.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from lspwire import CLIENT_CAPABILITIES, LspClient
from realtools import EDITORS, EXAMPLES, VENV_BIN, find_tool, missing

pytestmark = pytest.mark.editor

BASEDPYRIGHT = ["lsp-backoff", "--", "basedpyright-langserver", "--stdio"]
PYRIGHT = ["lsp-backoff", "--", "pyright-langserver", "--stdio"]
RUST_ANALYZER = ["lsp-backoff", "--", "rust-analyzer"]
FAKE_RA = Path(__file__).with_name("fake_rust_analyzer.py")


def command(entry: dict[str, Any]) -> list[str]:
    return [entry["command"], *entry.get("args", [])]


def test_readme_lists_every_file() -> None:
    readme = (EDITORS / "README.md").read_text()
    files = [p.relative_to(EDITORS).as_posix() for p in EDITORS.rglob("*") if p.is_file()]
    unlisted = [f for f in files if f != "README.md" and f"({f})" not in readme]
    assert not unlisted, f"editors/README.md does not link {unlisted}"


def run_nvim(lua: str, tmp: Path, *, config: Path | None = None) -> Any:
    """Runs ``lua`` in a clean headless Neovim; the chunk returns a value printed as JSON."""
    nvim = find_tool("nvim")
    script = tmp / "check.lua"
    script.write_text(
        "local ok, value = pcall(function()\n" + lua + "\nend)\n"
        "io.stdout:write(vim.json.encode({ ok = ok, value = ok and value or tostring(value) }))\n"
        "vim.cmd('qall!')\n"
    )
    env = {**os.environ, **{f"XDG_{k}_HOME": str(tmp / k) for k in ("CONFIG", "DATA", "STATE")}}
    cmd = [nvim, "--headless", "--clean", "-u", str(config or "NONE"), "-l", str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"], result["value"]
    return result["value"]


def test_neovim_builtin_config_loads(tmp_path: Path) -> None:
    value = run_nvim(
        "return {"
        " basedpyright = vim.lsp.config.basedpyright.cmd,"
        " pyright = vim.lsp.config.pyright.cmd,"
        " rust_analyzer = vim.lsp.config.rust_analyzer.cmd,"
        " enabled = { vim.lsp.is_enabled('basedpyright'), vim.lsp.is_enabled('rust_analyzer'),"
        "             vim.lsp.is_enabled('pyright') } }",
        tmp_path,
        config=EDITORS / "neovim" / "lsp-backoff.lua",
    )
    assert value["basedpyright"] == BASEDPYRIGHT
    assert value["pyright"] == PYRIGHT
    assert value["rust_analyzer"] == RUST_ANALYZER
    assert value["enabled"] == [True, True, False]


def test_neovim_lspconfig_file_loads_with_and_without_lspconfig(tmp_path: Path) -> None:
    path = json.dumps(str(EDITORS / "neovim" / "lspconfig.lua"))
    # Without nvim-lspconfig the file must do nothing, quietly.
    assert run_nvim(f"dofile({path}) return 'ok'", tmp_path) == "ok"
    value = run_nvim(
        "local calls = {}\n"
        "package.preload.lspconfig = function()\n"
        "  return setmetatable({}, { __index = function(_, name)\n"
        "    return { setup = function(opts) calls[name] = opts.cmd end } end })\n"
        "end\n"
        f"dofile({path})\n"
        "return calls",
        tmp_path,
    )
    assert value == {"basedpyright": BASEDPYRIGHT, "rust_analyzer": RUST_ANALYZER}


def run_emacs(elisp: str) -> Any:
    emacs = shutil.which("emacs")
    if emacs is None:
        missing("emacs")
    done = subprocess.run(
        [
            emacs,
            "--batch",
            "--eval",
            f"(progn (require (quote json)) (princ (json-encode (progn {elisp}))))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_emacs_eglot_file_loads() -> None:
    path = json.dumps(str(EDITORS / "emacs" / "lsp-backoff-eglot.el"))
    value = run_emacs(
        "(require 'json) (require 'eglot) "
        f"(load {path} nil t) "
        "(vector (vconcat (cdr (assoc '(python-mode python-ts-mode) eglot-server-programs))) "
        "        (vconcat (cdr (assoc '(rust-mode rust-ts-mode) eglot-server-programs))))"
    )
    assert value == [BASEDPYRIGHT, RUST_ANALYZER]


def test_emacs_lsp_mode_file_loads_against_stubs() -> None:
    path = json.dumps(str(EDITORS / "emacs" / "lsp-backoff-lsp-mode.el"))
    # lsp-mode is not installed: stub the three functions the file calls, then let
    # with-eval-after-load fire by providing the features.
    value = run_emacs(
        "(require 'json) (defvar captured nil) (defvar lsp-rust-analyzer-server-command nil) "
        f"(load {path} nil t) "
        "(defun lsp-stdio-connection (cmd) cmd) "
        "(defun make-lsp-client (&rest args) args) "
        "(defun lsp-register-client (client) (setq captured client)) "
        "(provide 'lsp-mode) (provide 'lsp-rust) "
        "(vector (vconcat (plist-get captured :new-connection)) "
        "        (vconcat lsp-rust-analyzer-server-command) "
        "        (symbol-name (plist-get captured :server-id)))"
    )
    assert value == [BASEDPYRIGHT, RUST_ANALYZER, "basedpyright-lsp-backoff"]


def test_helix_languages_toml() -> None:
    config = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text())
    servers = config["language-server"]
    assert command(servers["basedpyright-backoff"]) == BASEDPYRIGHT
    assert command(servers["pyright-backoff"]) == PYRIGHT
    assert command(servers["rust-analyzer"]) == RUST_ANALYZER
    python = next(lang for lang in config["language"] if lang["name"] == "python")
    assert python["language-servers"] == ["basedpyright-backoff"]


def test_kakoune_configs() -> None:
    legacy = tomllib.loads((EDITORS / "kakoune" / "kak-lsp.toml").read_text())
    assert command(legacy["language_server"]["basedpyright"]) == BASEDPYRIGHT
    assert command(legacy["language_server"]["rust-analyzer"]) == RUST_ANALYZER
    kakrc = (EDITORS / "kakoune" / "kakrc").read_text()
    blocks = re.findall(r"set-option buffer lsp_servers %\{(.*?)\n    \}", kakrc, re.S)
    parsed = [tomllib.loads(block) for block in blocks]
    assert [command(next(iter(p.values()))) for p in parsed] == [BASEDPYRIGHT, RUST_ANALYZER]


def test_zed_sublime_vscode_json() -> None:
    zed = json.loads((EDITORS / "zed" / "settings.json").read_text())["lsp"]
    assert [
        zed["basedpyright"]["binary"]["path"],
        *zed["basedpyright"]["binary"]["arguments"],
    ] == BASEDPYRIGHT
    assert [
        zed["rust-analyzer"]["binary"]["path"],
        *zed["rust-analyzer"]["binary"]["arguments"],
    ] == RUST_ANALYZER
    sublime = json.loads((EDITORS / "sublime" / "LSP.sublime-settings").read_text())["clients"]
    assert sublime["basedpyright-lsp-backoff"]["command"] == BASEDPYRIGHT
    assert sublime["rust-analyzer-lsp-backoff"]["command"] == RUST_ANALYZER
    vscode = json.loads((EDITORS / "vscode" / "settings.json").read_text())
    assert vscode["rust-analyzer.server.path"].endswith("/editors/vscode/rust-analyzer-lsp-backoff")


def wrapper_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LSP_BACKOFF_ARGS": "--no-db", **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update({f"XDG_{k}_HOME": str(tmp / k) for k in ("CACHE", "STATE")})
    return env


async def session_through(cmd: list[str], env: dict[str, str], root: Path) -> tuple[str, Any]:
    """initialize through ``cmd``; returns the server's name and the proxy's own stats answer."""
    client = await LspClient.start(cmd, cwd=root, env=env, name=cmd[0])
    try:
        init = await client.initialize(root, capabilities=CLIENT_CAPABILITIES)
        # Only the proxy answers lspBackoff/stats: an answer proves it sits in the chain.
        stats = await client.request("lspBackoff/stats")
        return init.result["serverInfo"]["name"], stats.result
    finally:
        assert await client.close() == 0


def test_rust_analyzer_wrapper(tmp_path: Path) -> None:
    wrapper = EDITORS / "vscode" / "rust-analyzer-lsp-backoff"
    assert os.access(wrapper, os.X_OK), f"{wrapper} is not executable"
    stub = tmp_path / "rust-analyzer"
    stub.write_text(
        "#!/bin/sh\n"
        '[ "$1" = --version ] && echo "rust-analyzer 0.0.0 (stub)" && exit 0\n'
        f'exec {sys.executable} {FAKE_RA} "$@"\n'
    )
    stub.chmod(0o755)
    env = wrapper_env(tmp_path, LSP_BACKOFF_RUST_ANALYZER=str(stub))
    version = subprocess.run(
        [str(wrapper), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert (version.returncode, version.stdout) == (0, "rust-analyzer 0.0.0 (stub)\n"), (
        version.stderr
    )
    name, stats = asyncio.run(session_through([str(wrapper)], env, tmp_path))
    assert name == "fake-rust-analyzer"
    assert stats["tracked"] == 0


def test_basedpyright_wrapper(tmp_path: Path) -> None:
    find_tool("basedpyright-langserver")
    source = EDITORS / "vscode" / "basedpyright-langserver"
    assert os.access(source, os.X_OK), f"{source} is not executable"
    # Installed the way vscode/README.md says: in a bin/ folder next to lsp-backoff.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy2(source, bin_dir / "basedpyright-langserver")
    (bin_dir / "lsp-backoff").symlink_to(VENV_BIN / "lsp-backoff")
    # A symlinked python outside the venv would not find the venv's packages: name it instead.
    env = wrapper_env(tmp_path, LSP_BACKOFF_PYTHON=sys.executable)
    name, stats = asyncio.run(
        session_through([str(bin_dir / "basedpyright-langserver"), "--stdio"], env, EXAMPLES)
    )
    assert name == "basedpyright"
    assert stats["tracked"] == 0
