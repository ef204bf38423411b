"""``python -m frfeeds``: the ``frfeeds`` command."""

import sys

from frfeeds.cli import main

sys.exit(main())
