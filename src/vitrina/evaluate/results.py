"""Benchmark figures as the repo keeps them: a JSON file, and its markdown beside it, in bench/results."""

from __future__ import annotations

import json
from pathlib import Path


def write_results(folder: Path, name: str, figures: dict, text: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    if text is not None:
        (folder / f"{name}.md").write_text(text)
