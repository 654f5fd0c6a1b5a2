"""Every test runs the code of the checkout it lives in.

Tests start the proxy as ``python -m lsp_backoff`` in subprocesses, often with a temporary
directory as the working directory. Putting this checkout first on PYTHONPATH makes those
processes import this tree's ``lsp_backoff`` (the repository's ``lsp_backoff/`` links to
``proxy/`` and ``tracker/``) rather than whatever copy an install put into site-packages — the
wheel's own smoke suite (tests/installed/) runs elsewhere and clears this on purpose.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_rest = os.environ.get("PYTHONPATH", "")
os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + _rest if _rest else "")
