import sys

from lsp_backoff.proxy.cli import main

sys.exit(main())
