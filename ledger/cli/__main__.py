"""``python -m ledger.cli``."""

import sys

from ledger.cli import main

sys.exit(main())
