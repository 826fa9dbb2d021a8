"""Root test set-up, shared by the tests and the notebooks run by nbval.

Notebook kernels are separate processes: they import `malakai_analytics` from the
source tree (as the tests do, through pytest's pythonpath) because PYTHONPATH is set
here, before any kernel starts.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

# Build matplotlib's font cache now: on a fresh machine the first import prints
# "Matplotlib is building the font cache" to stderr, which strict nbval would see.
import matplotlib.font_manager  # noqa: E402,F401
