"""malakai_analytics: tidy tables, metrics and charts from Malakai workflow logs."""

from __future__ import annotations

import logging

from .errors import MalakaiError, SourceError
from .loader import CallLogs, load_logs

__all__ = ["CallLogs", "MalakaiError", "SourceError", "load_logs"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
