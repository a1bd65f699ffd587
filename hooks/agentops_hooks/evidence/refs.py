"""The refs agentops keeps its evidence in (a module light enough for every hook)."""
from __future__ import annotations

NOTES_PREFIX = "refs/notes/agentops/"
VERDICTS_REF = NOTES_PREFIX + "verdicts"
RATCHET_REF = NOTES_PREFIX + "ratchet"
CONSTRAINTS_REF = NOTES_PREFIX + "constraints"
