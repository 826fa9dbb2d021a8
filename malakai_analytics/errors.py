"""The package's exception hierarchy.

Every error the package raises on purpose derives from `MalakaiError`, so callers can
catch one class. Messages say what went wrong and what to do; they never carry the API
key or the access token.
"""

from __future__ import annotations


class MalakaiError(Exception):
    """Base class of every error raised by malakai_analytics."""


class SourceError(MalakaiError, ValueError):
    """A source as a whole cannot be read: missing file, not JSON, wrong shape."""
