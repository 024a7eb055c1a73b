"""Loaders for the evaluation sets in ../shared/datasets."""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from pathlib import Path


def load_judge(path: Path):
    """The fashion set's own grading module, imported as it is (the grading is never rewritten here)."""
    spec = importlib.util.spec_from_file_location("fashion_judge", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the judge at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_qrels(path: Path) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Home Depot TSV: (query id -> text, query id -> {product id: relevance})."""
    texts: dict[str, str] = {}
    judged: dict[str, dict[str, float]] = defaultdict(dict)
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            texts[row["query_id"]] = row["query"]
            judged[row["query_id"]][row["product_uid"]] = float(row["relevance"])
    return texts, dict(judged)
