"""Vitrina: self-hostable, LLM-powered product search for e-commerce."""

from vitrina.catalog.product import Product
from vitrina.config import Settings
from vitrina.engine import Engine, open

__all__ = ["Engine", "Product", "Settings", "open"]
__version__ = "0.1.0"
