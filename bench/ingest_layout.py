"""Index build cost by native allocator and filter-field layout, on replicated fashion products.

Each configuration builds the same catalog in its own process (an allocator is chosen when a process starts), the
four of them alternated round by round on this shared machine; medians per configuration. Encoding is not timed:
vectors come from `vitrina bench`'s cache (data/bench/vectors.sqlite, filled on the first run).

- allocator: glibc's malloc ("system") or mimalloc (what the `vitrina` command runs on, vitrina.allocator)
- layout: an index per filter field (before) or the keyword fields folded into one (vitrina.index.edge_layout)

    python bench/ingest_layout.py [--size 100000] [--rounds 2]   # writes bench/results/ingest-layout.{json,md}
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from vitrina.allocator import CHOICE, preload_environment
from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

RESULTS = Path("bench/results")
CONFIGS = [("system", "per-field"), ("system", "folded"), ("mimalloc", "per-field"), ("mimalloc", "folded")]


def child(size: int, layout: str, work: Path) -> dict:
    """One build in this process; its figures as the bench's ingest measures them."""
    from vitrina.engine import Engine
    from vitrina.evaluate.bench import PhasePeaks, real_products, replicate
    from vitrina.index.edge_layout import FieldLayout
    from vitrina.index.protocol import FILTER_FIELDS

    if layout == "per-field":  # how generations were laid out before folding (still read that way)
        FieldLayout.folded = classmethod(lambda cls, resident: cls({f: f for f in FILTER_FIELDS}))  # type: ignore
    base = real_products(Settings().datasets_path / "fashion" / "catalog.jsonl.gz", "myntra")
    settings = Settings(index_path=work / "index", domain="fashion",
                        encoder={"cache_path": Path("data/bench/vectors.sqlite")})
    engine = Engine(settings)
    peaks = PhasePeaks()
    gc.collect()
    report = engine.ingest(replicate(base, size), fresh=True, progress=lambda stage, *_: peaks.enter(stage))
    by_phase = peaks.stop()
    engine.close()
    indexing = report.seconds - report.encode_seconds
    return {"indexing_products_per_s": round(report.upserted / indexing, 1),
            "write_seconds": round(indexing - report.publish_seconds, 1),
            "publish_seconds": round(report.publish_seconds, 1),
            "peak_rss_mb": max(by_phase.values()), "peak_rss_by_phase_mb": by_phase,
            "peak_anonymous_rss_by_phase_mb": peaks.anonymous}


def run(size: int, allocator: str, layout: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env[CHOICE] = allocator
    preloaded = preload_environment(env)
    if allocator == "mimalloc" and preloaded is None:
        sys.exit("cmeel-mimalloc is not installed: pip install -e .")
    with tempfile.TemporaryDirectory(dir="data") as work:
        done = subprocess.run([sys.executable, __file__, "--child", layout, "--size", str(size), "--work", work],
                              env=preloaded or env, capture_output=True, text=True, check=True)
        shutil.rmtree(work, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["per-field", "folded"])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.size, args.child, args.work)))
        return
    if not (Settings().datasets_path / "fashion" / "catalog.jsonl.gz").exists():
        sys.exit("../shared/datasets/fashion is absent: this bench builds from the real fashion catalog")
    runs: dict[str, list[dict]] = {f"{a}/{lay}": [] for a, lay in CONFIGS}
    for round_ in range(args.rounds):
        for allocator, layout in CONFIGS:
            figures = run(args.size, allocator, layout)
            runs[f"{allocator}/{layout}"].append(figures)
            print(round_, allocator, layout, figures, flush=True)
    medians = {name: {key: round(statistics.median(r[key] for r in rs), 1) for key in
                      ("indexing_products_per_s", "write_seconds", "publish_seconds", "peak_rss_mb")}
               for name, rs in runs.items()}
    result = {"machine": machine(), "products": args.size, "rounds": args.rounds, "medians": medians, "runs": runs}
    write_results(RESULTS, "ingest-layout", result, markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    m, med = r["machine"], r["medians"]
    base = med["system/per-field"]
    rows = "".join(
        f"| {name.replace('/', ' | ')} | {f['indexing_products_per_s']:,.0f} "
        f"({f['indexing_products_per_s'] / base['indexing_products_per_s']:.2f}x) | {f['write_seconds']} | "
        f"{f['publish_seconds']} | {f['peak_rss_mb']:,.0f} |\n" for name, f in med.items())
    return ("# Index build: allocator and filter-field layout\n\n"
            f"{m['cpu']}, {m['cores']} cores; {m['when']}. {r['products']:,} replicated fashion products, encoding "
            f"excluded (cached vectors). Each configuration in its own process, alternated over {r['rounds']} "
            "rounds; medians.\n\n"
            "| allocator | layout | indexing products/s (vs glibc, per field) | write s | HNSW + publish s | "
            "peak RSS MB |\n|---|---|---|---|---|---|\n" + rows)


if __name__ == "__main__":
    main()
