"""`python -m malakai_analytics` runs the `malakai-analytics` command."""

import sys

from .cli import main

sys.exit(main())
