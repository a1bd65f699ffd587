"""The JSON Schemas in schemas/, shipped inside the package as agentops_hooks.schemas."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_PACKAGE = "agentops_hooks.schemas"
# An editable install maps only hooks/; the checkout's schemas/ sits beside it.
_CHECKOUT_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. "learning.schema.json"."""
    try:
        text = resources.files(SCHEMA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        text = (_CHECKOUT_SCHEMAS / name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
