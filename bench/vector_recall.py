"""How much of the exact nearest 100 the HNSW graph finds, by search-time ef, on the fashion eval index, and what
that does to nDCG@10 (fashion dev and the vague set): the vector lists' recall, beside their cost per search.

    python bench/vector_recall.py [--index data/eval/fashion-<digest>]   # default: the eval index (built if absent)
    # writes bench/results/vector-recall.{json,md}
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import qdrant_edge as qe

from vitrina.config import Settings
from vitrina.evaluate.datasets import load_judge
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import eval_engine, eval_fashion
from vitrina.index.edge import NAMED, EdgeIndex

RESULTS = Path("bench/results")
EFS = (128, 256, 512, 1024, 4096)
DEPTH = 100


def nearest(index: EdgeIndex, vectors: list, params: qe.SearchParams) -> tuple[list[set], float]:
    """Each vector's top DEPTH point ids under these search parameters, and the median ms of a search."""
    found, ms = [], []
    for vector in vectors:
        request = qe.QueryRequest(limit=DEPTH, query=qe.Query.Nearest([float(x) for x in vector], using=NAMED["text"]),
                                  params=params, with_payload=False)
        started = time.perf_counter()
        points = index._shard.query(request)
        ms.append((time.perf_counter() - started) * 1000)
        found.append({p.id for p in points})
    return found, statistics.median(ms)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings()
    data = settings.datasets_path
    catalog, dev = data / "fashion" / "catalog.jsonl.gz", data / "fashion-queries" / "dev.jsonl"
    vague = Path("bench/queries/fashion-vague.jsonl")
    if not catalog.exists() or not dev.exists():
        raise SystemExit(f"{catalog} or {dev} is absent: the fashion sets live in ../shared/datasets")
    judge = load_judge(dev.parent / "judge.py")
    texts = [spec["turns"][-1] for path in (dev, vague) for spec in judge.load_jsonl(path)]
    rows = []
    for ef in EFS:
        engine = eval_engine("fashion", catalog, "myntra", settings.model_copy(update={
            "retrieval": settings.retrieval.model_copy(update={"hnsw_ef": ef})}), args.index)
        index = engine._reader
        assert isinstance(index, EdgeIndex), "this bench reads Qdrant Edge's graph"
        vectors = [engine.encoder.encode_query(text) for text in texts]

        exact, exact_ms = nearest(index, vectors, qe.SearchParams(exact=True))
        graph, graph_ms = nearest(index, vectors, qe.SearchParams(hnsw_ef=ef))
        recall = [len(g & e) / len(e) for g, e in zip(graph, exact, strict=True) if e]
        scores = {name: eval_fashion(engine, catalog, path, ("vector", "full"), judge_path=dev.parent / "judge.py")
                  for name, path in (("dev", dev), ("vague", vague))}
        rows.append({"ef": ef, "recall@100": round(statistics.fmean(recall), 3), "worst": round(min(recall), 2),
                     "knn_ms_p50": round(graph_ms, 2), "exact_ms_p50": round(exact_ms, 2),
                     **{f"{part} {mode}": scores[part][mode]["ndcg@10"] for part in scores for mode in scores[part]}})
        print(rows[-1], flush=True)
        engine.close()
    table = ["| hnsw_ef | recall@100 | worst query | kNN p50 ms | exact p50 ms | dev vector | dev full | vague vector "
             "| vague full |", "|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['ef']} | {r['recall@100']} | {r['worst']} | {r['knn_ms_p50']} | {r['exact_ms_p50']} | "
              f"{r['dev vector']} | {r['dev full']} | {r['vague vector']} | {r['vague full']} |" for r in rows]
    result = {"machine": machine(), "queries": len(texts), "rows": rows}
    text = "\n".join(["# HNSW recall of the text vectors: fashion, 44k", "",
                      f"{result['machine']['cpu']}, {result['machine']['cores']} cores; {result['machine']['when']}.",
                      "", f"{len(texts)} queries (fashion dev and the vague set): the top {DEPTH} of the graph "
                      "search against the exact top 100, on one index build; nDCG@10 of that index at each ef.", "",
                      *table, ""])
    write_results(RESULTS, "vector-recall", result, text)
    print(text)


if __name__ == "__main__":
    main()
