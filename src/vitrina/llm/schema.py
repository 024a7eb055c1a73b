"""Answer schemas made at run time from a catalog's own values: an enum of them (a grammar-constrained decoder can
then only name those), a list of it, and the plain string an enum member stands for."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any


def enum_of(name: str, values: Sequence[str]) -> Any:
    """An enum of the values (plain str when there are none: nothing to constrain to)."""
    return Enum(name, {f"v{i}": v for i, v in enumerate(values)}, type=str) if values else str


def list_of(item: Any) -> Any:
    """list[item] for a type made at run time."""
    return list.__class_getitem__(item)


def plain(value: Any) -> str:
    """The string an enum member (or a plain value) stands for."""
    return str(value.value if isinstance(value, Enum) else value)
