"""How many tokens the cross-encoder's training reads for every real one, by how its batches are drawn and cut: on
Home Depot (after bench/tenant_model.py: its index's product texts, the same seeded 80/20 split), the judged pairs
of the 80% (positives and judged negatives; the training run adds a few mined negatives a query) tokenized as the
cross-encoder reads them, one epoch's batches of 64 each read in runs of 32 padded to the run's longest:

- at random, the runs cut by characters (the training before learn/tuning/batches.py);
- at random, the runs cut by tokens (learn/tuning/loss.py now);
- by length (learn/tuning/batches.py, the default), runs of 32 and one run of 64.

Tokens are what a layer's matrix products scale with; attention also with the square of the width (its figure too).

    python bench/reranker_padding.py        # bench/results/reranker-padding.{json,md}
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path

from tenant_reranker import RESULTS, tuned_index_settings  # a sibling script: bench/ is on the path when run

from vitrina.engine import open_engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.batches import length_grouped_batches
from vitrina.learn.tuning.pairs import pairs_from_qrels, split_queries
from vitrina.learn.tuning.train import CatalogTexts, default_base

BATCH = 64


def read_tokens(batches: list[list[int]], tokens: list[int], key: Callable[[int], int], run: int) -> tuple[int, int]:
    """Tokens read, and token-width products (attention's share), with each batch sorted by `key` and cut in runs."""
    read = squared = 0
    for batch in batches:
        ordered = sorted(batch, key=key)
        for start in range(0, len(ordered), run):
            piece = ordered[start:start + run]
            width = max(tokens[i] for i in piece)
            read += width * len(piece)
            squared += width * width * len(piece)
    return read, squared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--results", default="reranker-padding", help="the results files' name")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    settings, qrels = tuned_index_settings(args.index)
    texts, _ = load_qrels(qrels)
    kept, _ = split_queries(list(texts), 0.2, args.seed)
    pairs = pairs_from_qrels(qrels, set(kept))
    engine = open_engine(args.index, settings)
    catalog = CatalogTexts(engine)
    catalog.load(sorted({pid for p in pairs.pairs for pid in (p.product_id, *p.negatives)}))
    rows = [(p.query, text) for p in pairs.pairs for pid in (p.product_id, *p.negatives)
            if (text := catalog.get(pid)) is not None]
    engine.close()
    tokenizer = AutoTokenizer.from_pretrained(default_base())
    encoded = tokenizer([q for q, _ in rows], [t for _, t in rows], truncation=True,
                        max_length=settings.tuning.max_seq_length)
    tokens = [len(ids) for ids in encoded["input_ids"]]
    chars = [len(q) + len(t) for q, t in rows]
    real = sum(tokens)
    shuffled = list(range(len(rows)))
    random.Random(args.seed).shuffle(shuffled)
    at_random = [shuffled[k:k + BATCH] for k in range(0, len(shuffled), BATCH)]
    by_length = length_grouped_batches(tokens, BATCH, drop_last=False, seed=args.seed, epoch=0)
    ways = {"at random, runs of 32 cut by characters (before)": read_tokens(at_random, tokens, chars.__getitem__, 32),
            "at random, runs of 32 cut by tokens": read_tokens(at_random, tokens, tokens.__getitem__, 32),
            "by length, runs of 32 (the default)": read_tokens(by_length, tokens, tokens.__getitem__, 32),
            "by length, one run of 64": read_tokens(by_length, tokens, tokens.__getitem__, 64)}
    first = next(iter(ways.values()))
    figures = {"machine": machine(), "pairs": len(rows), "real_tokens": real,
               "mean_tokens": round(real / len(rows), 2), "batch": BATCH,
               "ways": {name: {"tokens_read": read, "per_real_token": round(read / real, 3),
                               "attention_against_before": round(squared / first[1], 3)}
                        for name, (read, squared) in ways.items()}}
    table = ["| batches, runs | tokens read | per real token | attention's work against before |", "|---|---|---|---|"]
    table += [f"| {name} | {f['tokens_read']:,} | {f['per_real_token']} | {f['attention_against_before']} |"
              for name, f in figures["ways"].items()]
    text = "\n".join(["# The cross-encoder's training: tokens read for every real one", "",
                      f"Home Depot, the 80% split's judged pairs: {len(rows):,} (query, product) pairs, "
                      f"{figures['mean_tokens']} tokens on average, batches of {BATCH}, one epoch:", "", *table, ""])
    write_results(RESULTS, args.results, figures, text)
    print(text)


if __name__ == "__main__":
    main()
