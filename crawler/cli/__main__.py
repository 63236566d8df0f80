"""``python -m crawler.cli``: the same as the ``darkcrawl`` command."""

import sys

from crawler.cli import main

sys.exit(main())
