"""Errors a user can cause: reported as one sentence and exit 2, never a traceback."""
from __future__ import annotations


class FatalError(Exception):
    """Something stops agentops from running at all (exit 2)."""
