"""Vitrina: self-hostable, LLM-powered product search for e-commerce.

The names below load on first use, so importing one stage (`vitrina.embed.encoder`, say, on a GPU machine that
has no index engine installed) does not pull in every other.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vitrina.catalog.product import Product
    from vitrina.config import Settings
    from vitrina.engine import Engine, open_engine

    open = open_engine  # noqa: A001

__all__ = ["Engine", "Product", "Settings", "open", "open_engine"]
__version__ = "0.1.0"
_WHERE = {"Engine": "vitrina.engine", "open_engine": "vitrina.engine", "open": "vitrina.engine",
          "Product": "vitrina.catalog.product", "Settings": "vitrina.config"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'vitrina' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), "open_engine" if name == "open" else name)
