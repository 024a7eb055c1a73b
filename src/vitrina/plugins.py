"""Named plug-ins: a built-in table first, then an installed package's entry point of the given group."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")


def find(table: Mapping[str, T], name: str, group: str, kind: str) -> T:
    """The factory registered under `name`; an unknown name is an error that lists the known ones."""
    if name in table:
        return table[name]
    plugins = {ep.name: ep for ep in entry_points(group=group)}
    if name not in plugins:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(sorted({*table, *plugins}))}")
    return plugins[name].load()
