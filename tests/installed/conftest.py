"""The session fixture of tests/installed/: the wheel, built and installed once (installed_env.py).

``LSP_BACKOFF_SMOKE_VENV=/path`` reuses an environment built earlier (one where
``lsp-backoff`` is installed), skipping the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from installed_env import REPO, Installed, build


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    reuse = os.environ.get("LSP_BACKOFF_SMOKE_VENV")
    if reuse:
        return Installed(Path(reuse), tmp_path_factory.mktemp("home"), None)
    root = tmp_path_factory.mktemp("installed")
    assert not root.resolve().is_relative_to(REPO), "the smoke venv must live outside the checkout"
    return build(root)
