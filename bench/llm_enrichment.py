"""LLM enrichment accuracy on the fashion feed's own attributes: a seeded sample of real products, with the fields
graded (type, usage, season) hidden from the model, read by the LLM and compared with what the feed says.

    python bench/llm_enrichment.py [--sample 120] [--index data/eval/fashion-...]
        # needs an LLM endpoint (settings.llm: `vitrina llm serve` for the local one);
        # writes bench/results/llm-enrichment[-<model>].{json,md}

Type: the model's type equals the feed's articleType. Usage: the feed's usage is one of the catalog values of an
occasion the model named (rules/fashion/occasions.json). Season: the feed's season is a value of a season the model
named. Throughput: products/s of one endpoint (the answers are not cached between runs of different models).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from vitrina.catalog.enrich import Enricher, EnrichPrompt
from vitrina.catalog.product import Product
from vitrina.config import Settings
from vitrina.evaluate.bench import real_products
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import eval_engine
from vitrina.llm.client import ChatClient, LLMError
from vitrina.llm.schema import plain

RESULTS = Path("bench/results")
HIDDEN = ("product_type", "category_path", "occasions", "seasons", "formality", "warmth")


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--sample", type=int, default=120)
    args.add_argument("--seed", type=int, default=7)
    args.add_argument("--index", type=Path, default=None, help="the fashion eval index (default: built/cached)")
    opts = args.parse_args()
    settings = Settings()
    catalog = settings.datasets_path / "fashion" / "catalog.jsonl.gz"
    if not catalog.exists():
        sys.exit(f"{catalog} is absent: the fashion feed lives in ../shared/datasets")
    engine = eval_engine("fashion", catalog, "myntra", settings, opts.index)
    products = list(real_products(catalog, "myntra"))
    sample = random.Random(opts.seed).sample(products, opts.sample)
    client = ChatClient(settings.llm, cache_path=engine.path / "llm.sqlite")
    parser = engine.parser()
    enricher = Enricher(client, EnrichPrompt(parser, settings.domain, hide=HIDDEN))
    occasion_values = {t: set(parser.lexicon.values("occasions", t)) for t in parser.lexicon.vocabularies["occasions"].terms}
    season_values = {t: set(parser.lexicon.values("seasons", t)) for t in parser.lexicon.vocabularies["seasons"].terms}
    right = {"type": 0, "usage": 0, "season": 0}
    graded = {"type": 0, "usage": 0, "season": 0}
    failed = 0
    seconds = 0.0
    for n, product in enumerate(sample, 1):
        hidden = Product.model_validate({**product.model_dump(), **{f: Product.model_fields[f].get_default(
            call_default_factory=True) for f in HIDDEN}})
        before = client.stats.snapshot()["seconds"]
        try:
            reading, _ = enricher.read(hidden)
        except LLMError as exc:
            failed += 1
            print(f"{product.id}: {exc}", file=sys.stderr)
            continue
        seconds += client.stats.snapshot()["seconds"] - before
        usage = next((o.lower() for o in product.occasions), None)  # the feed's usage comes first
        season = product.seasons[0].lower() if product.seasons else None
        named_type = plain(reading.product_type).lower() if reading.product_type else ""
        graded["type"] += 1
        right["type"] += named_type == (product.product_type or "").lower()
        occasions = [plain(o) for o in reading.occasions]
        if usage:
            graded["usage"] += 1
            right["usage"] += any(usage in occasion_values.get(o, set()) for o in occasions)
        seasons = [plain(s) for s in reading.seasons]
        if season:
            graded["season"] += 1
            right["season"] += any(season in season_values.get(s, {s}) for s in seasons)
        print(f"{n}/{len(sample)} {product.title[:40]!r}: type {named_type} ({product.product_type}), "
              f"occasions {occasions} ({usage}), seasons {seasons} ({season})", file=sys.stderr)
    accuracy = {k: round(right[k] / graded[k], 3) if graded[k] else None for k in right}
    # What always answering the sample's most common value would score: the bar a model must clear.
    truth = {"type": [(p.product_type or "").lower() for p in sample],
             "usage": [next((o.lower() for o in p.occasions), None) for p in sample],
             "season": [p.seasons[0].lower() if p.seasons else None for p in sample]}
    majority = {k: round(max(v.count(x) for x in set(v) if x) / sum(1 for x in v if x), 3) for k, v in truth.items()}
    asked = len(sample) - failed
    figures = {"machine": machine(), "model": settings.llm.model, "endpoint": settings.llm.base_url,
               "sample": len(sample), "seed": opts.seed, "failed": failed, "accuracy": accuracy, "majority_baseline": majority,
               "graded": graded,
               "seconds_per_product": round(seconds / asked, 2) if asked else None,
               "products_per_second": round(asked / seconds, 3) if seconds else None}
    text = (f"# LLM enrichment accuracy ({settings.llm.model})\n\n`python bench/llm_enrichment.py --sample "
            f"{len(sample)}` on {figures['machine']}\n\nFields hidden from the model: {', '.join(HIDDEN)}.\n\n"
            "| field | accuracy | always the most common value | graded |\n|---|---|---|---|\n"
            + "".join(f"| {k} | {accuracy[k]} | {majority[k]} | {graded[k]} |\n" for k in accuracy)
            + f"\n{figures['seconds_per_product']} s a product ({figures['products_per_second']} products/s) through "
              f"one endpoint; {failed} failed.\n")
    name = "llm-enrichment" + ("" if settings.llm.model == "qwen2.5-coder-0.5b" else f"-{settings.llm.model}")
    write_results(RESULTS, name, figures, text)
    print(text)
    engine.close()


if __name__ == "__main__":
    main()
