"""Vitrina: self-hostable, LLM-powered product search for e-commerce."""

from vitrina.catalog.product import Product
from vitrina.config import Settings
from vitrina.engine import Engine, open_engine

open = open_engine  # noqa: A001  `vitrina.open(path)`, as the README shows; the module itself shadows no builtin

__all__ = ["Engine", "Product", "Settings", "open", "open_engine"]
__version__ = "0.1.0"
