"""`python -m lsp_backoff`: the same as the `lsp-backoff` command."""

import sys

from lsp_backoff.proxy.cli import main

sys.exit(main())
