"""The JSON Schemas in schemas/, shipped inside the package as agentops_hooks.schemas."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from agentops_hooks.shipped import shipped

SCHEMA_PACKAGE = "agentops_hooks.schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. "learning.schema.json"."""
    text = shipped(SCHEMA_PACKAGE, "schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
