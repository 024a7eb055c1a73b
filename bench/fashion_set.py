"""The 44k fashion catalog's evaluation index, as the fashion benchmarks open it."""

from __future__ import annotations

from pathlib import Path

from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.evaluate.runner import eval_engine


def fashion_catalog(settings: Settings) -> Path:
    """The feed under ../shared, or exit saying where it belongs."""
    catalog = settings.datasets_path / "fashion" / "catalog.jsonl.gz"
    if not catalog.exists():
        raise SystemExit(f"{catalog} is absent: the fashion set lives in ../shared/datasets (see its README)")
    return catalog


def fashion_engine(settings: Settings) -> Engine:
    """Built on first use, then reused (evaluate/runner.py's content-keyed index)."""
    return eval_engine("fashion", fashion_catalog(settings), "myntra", settings)
