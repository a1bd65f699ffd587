"""Data files shipped inside the package (the JSON Schemas, the factors' pages), read
from the installed package or, in an editable install, from the checkout."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CHECKOUT = Path(__file__).resolve().parents[2]
"""The source tree's root, where an editable install finds the data beside hooks/."""


def shipped(package: str, checkout_dir: str) -> Traversable:
    """The folder of `package`'s data: installed, or `checkout_dir` of the checkout
    (an editable install maps only hooks/, so the package does not import there)."""
    try:
        return resources.files(package)
    except ModuleNotFoundError:
        return CHECKOUT / checkout_dir
