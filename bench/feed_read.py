"""How long reading the 44k Myntra feed into rows takes (gzip, JSON, mapping and cleaning; no validation, no
encoding), with the cleaners as they are and with their plain definitions (regex whitespace, NFKC on every
value, the backtracking empty-sentence pattern), alternated over rounds in one process. The rows must be equal.

    python bench/feed_read.py   # writes bench/results/feed-read.{json,md}
"""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from vitrina.catalog import clean, myntra
from vitrina.catalog.registry import make_feed
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

FEED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fashion" / "catalog.jsonl.gz"
RESULTS = Path("bench/results")
ROUNDS = 3


def plain_is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip().lower() in clean.MISSING


def plain_clean_text(value) -> str | None:
    if plain_is_missing(value):
        return None
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip() or None


@contextmanager
def plain_cleaners():
    saved = (clean.is_missing, clean.clean_text, clean._EMPTY_SENTENCES, myntra.clean_text, myntra.is_missing)
    clean.is_missing = myntra.is_missing = plain_is_missing
    clean.clean_text = myntra.clean_text = plain_clean_text
    clean._EMPTY_SENTENCES = re.compile(r"(\s*\.\s*){2,}")
    try:
        yield
    finally:
        clean.is_missing, clean.clean_text, clean._EMPTY_SENTENCES, myntra.clean_text, myntra.is_missing = saved


def read_rows() -> tuple[float, list]:
    started = time.perf_counter()
    rows = list(make_feed("myntra").rows(FEED))
    return time.perf_counter() - started, rows


def main() -> None:
    if not FEED.exists():
        raise SystemExit(f"needs {FEED} (../shared/datasets beside the repo)")
    seconds: dict[str, list[float]] = {"plain": [], "current": []}
    for _ in range(ROUNDS):
        with plain_cleaners():
            plain, before = read_rows()
        current, after = read_rows()
        if before != after:
            raise SystemExit("the current cleaners read the feed into other rows than the plain definitions")
        seconds["plain"].append(round(plain, 2))
        seconds["current"].append(round(current, 2))
    medians = {k: round(statistics.median(v), 2) for k, v in seconds.items()}
    figures = {"machine": machine(), "rows": len(after), "rounds": ROUNDS, "seconds": seconds, "median_s": medians,
               "ratio_plain_to_current": round(medians["plain"] / medians["current"], 2), "rows_equal": True}
    host = figures["machine"]
    text = (f"# Reading the 44k Myntra feed into rows\n\n{host['cpu']}, {host['cores']} cores; {host['when']}.\n\n"
            f"{len(after):,} rows (gzip, JSON, mapping, cleaning; no validation or encoding), {ROUNDS} rounds "
            "alternated in one process; the rows are equal.\n\n| cleaners | median s | rounds s |\n|---|---|---|\n"
            + "".join(f"| {k} | {medians[k]} | {', '.join(map(str, v))} |\n" for k, v in seconds.items())
            + f"\nThe plain definitions take {figures['ratio_plain_to_current']}x as long. "
            "Command: `python bench/feed_read.py`.\n")
    write_results(RESULTS, "feed-read", figures, text)
    print(text)


if __name__ == "__main__":
    main()
