"""tests/real: real language servers and real editors (see tests/real/README.md).

The helper modules here (lspwire, pairing, realtools, python_cases) are imported by plain name;
putting this folder on sys.path keeps that working under any pytest --import-mode.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
