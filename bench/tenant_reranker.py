"""An index's own re-rankers on Home Depot, after bench/tenant_model.py (same index, same 80/20 split): its learned
order and its cross-encoder trained on the 80%'s judgments (`vitrina train --reranker`), then on the unseen 20%:
full-pipeline nDCG@10 in the first phase's order, with the learned order alone, and with the cross-encoder over it
(its top 30) at several time budgets (the budget/quality curve), and the time it adds per search (p50, p95, mean) with how many
searches it skipped and gave twice the budget (selective: rank/cross_encoder.py; VITRINA_TUNING__RERANK_SELECTIVE=false
gives every search the budget).

    python bench/tenant_model.py && python bench/tenant_reranker.py   # bench/results/tenant-reranker-homedepot.*
    python bench/tenant_reranker.py --version v0002                  # the curve again, of a version it trained
    python bench/tenant_reranker.py --budgets 60 1000                 # fewer points of the curve
    VITRINA_TUNING__RERANK_LAYERS=3 python bench/tenant_reranker.py --results tenant-reranker-homedepot-3-layers
    VITRINA_TUNING__LEARNED_ORDER=false python bench/tenant_reranker.py   # the cross-encoder over the first phase
    python bench/tenant_reranker.py --trained DIR     # a cross-encoder a GPU machine trained (bench/gpu_training.py)
                                                     # over the served learned order: checked, served, measured here
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from vitrina.config import Settings
from vitrina.engine import open_engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import EVAL_ROOT
from vitrina.learn.tuning.pairs import pairs_from_qrels, split_queries
from vitrina.learn.tuning.train import train_reranker
from vitrina.rank.ranker import PhaseReport

RESULTS = Path("bench/results")
BUDGETS_MS = (10.0, 30.0, 60.0, 120.0, 1000.0)


def scored(settings: Settings, index: Path, held: dict[str, str], judged: dict,
           phase: str = "cross_encoder") -> tuple[float, list[PhaseReport]]:
    """Mean nDCG@10 of the full pipeline on the held-out queries, and a phase's report per search."""
    engine = open_engine(index, settings)
    ndcgs, reports = [], []
    for qid, text in sorted(held.items()):
        response = engine.search(text, size=10)
        ranked = [h.product["id"] for h in response.hits]
        ndcgs.append(ndcg_at_k(ranked, {pid: rel - 1 for pid, rel in judged[qid].items()}, 10))
        reports += [p for p in response.phases if p.name == phase]
    engine.close()
    return round(statistics.fmean(ndcgs), 4), reports


def added_ms(ms: list[float]) -> dict[str, float]:
    """The ms a phase added per search: p50, p95 and mean."""
    ordered = sorted(ms)
    return {"added_ms_p50": round(statistics.median(ordered), 2),
            "added_ms_p95": round(ordered[int(len(ordered) * 0.95)], 2),
            "added_ms_mean": round(statistics.fmean(ordered), 2)}


def point(budget: float, ndcg: float, reports: list[PhaseReport]) -> dict:
    """A point of the curve: nDCG@10, the ms the phase added per search, the shares it skipped and doubled."""
    return {"budget_ms": budget, "ndcg@10": ndcg, **added_ms([r.ms for r in reports]),
            "skipped": round(sum(r.budget_ms is None for r in reports) / len(reports), 3),
            "doubled": round(sum((r.budget_ms or 0) > budget for r in reports) / len(reports), 3)}


def tuned_index_settings(index: Path) -> tuple[Settings, Path]:
    """The settings the tuned Home Depot index was built with (the eval index's vector cache) and the qrels file;
    exits with a message where either is missing."""
    settings = Settings(domain="generic")
    settings = settings.model_copy(update={"encoder": settings.encoder.model_copy(
        update={"cache_path": EVAL_ROOT / "vectors.sqlite"})})
    qrels = settings.datasets_path / "homedepot" / "dev-qrels.tsv"
    if not qrels.exists() or not (index / "CURRENT").exists():
        raise SystemExit("needs ../shared/datasets/homedepot and the index bench/tenant_model.py builds")
    return settings, qrels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--version", default=None,  # a cross-encoder this bench trained before: only its curve
                        help="measure this registered cross-encoder version instead of training one")
    parser.add_argument("--results", default="tenant-reranker-homedepot", help="the results files' name")
    parser.add_argument("--budgets", type=float, nargs="+", default=list(BUDGETS_MS), help="the curve's budgets, ms")
    parser.add_argument("--trained", type=Path, default=None,
                        help="what bench/gpu_training.py brought back: its cross-encoder replaces the training here")
    args = parser.parse_args()
    settings, qrels = tuned_index_settings(args.index)
    tune = None
    if args.trained is not None:  # the order it was trained over stays: the run learns only the cross-encoder
        from gpu_training import trained_elsewhere

        tune, trained_with = trained_elsewhere(args.trained, "cross-encoder")
        settings = settings.model_copy(update={"tuning": trained_with.model_copy(update={"learned_order": False})})
    texts, judged = load_qrels(qrels)
    kept, held_ids = split_queries(list(texts), args.holdout, args.seed)
    held = {q: texts[q] for q in held_ids}

    engine = open_engine(args.index, settings)
    engine.use_reranker(None)
    order = engine.models.order()  # measuring a version trained before: the learned order served with it
    pairs = pairs_from_qrels(qrels, set(kept))
    if args.version is None:
        if tune is None:
            engine.use_order(None)
        report = train_reranker(engine, pairs, settings.tuning, log=lambda line: print(line, flush=True), tune=tune)
        trained = report.model_dump()
        version, notes, reason = report.version, report.notes, report.reason
        if tune is None:  # else the served order, which the cross-encoder was trained over, stays
            order = report.order.version if report.order is not None else None
        if report.order is not None:
            notes = [f"learned order {report.order.reason}", *notes]
    else:
        manifest = engine.models.manifest(args.version)
        trained, version, notes = manifest.model_dump(), args.version, manifest.notes
        served = (f"its weight {manifest.rerank_weight}" if manifest.rerank_weight is not None
                  else f"a share of {manifest.rerank_mix} of the fused order")
        reason = f"{version} as trained before (served at {served}; held-out check {manifest.validation})"
    print(reason, flush=True)
    served_manifest = engine.models.manifest(version) if version is not None else None
    gate = served_manifest.rerank_spreads if served_manifest else None
    skips = served_manifest is None or served_manifest.rerank_skips_apart
    engine.use_reranker(None)
    engine.use_order(None)
    engine.close()
    first, _ = scored(settings, args.index, held, judged)
    without, ordering = first, []
    if order is not None:
        open_engine(args.index, settings).use_order(order)
        without, ordering = scored(settings, args.index, held, judged, "learned_order")
        print({"first phase": first, "learned order": without, **added_ms([r.ms for r in ordering])}, flush=True)
    curve = []
    if version is not None:
        open_engine(args.index, settings).use_reranker(version)
        for budget in args.budgets:
            tuned = settings.model_copy(update={"tuning": settings.tuning.model_copy(
                update={"rerank_budget_ms": budget})})
            curve.append(point(budget, *scored(tuned, args.index, held, judged)))
            print(curve[-1], flush=True)
    where = machine()
    wide = "none" if skips else "the budget (its check gained there)"
    selective = (f"selective: a search whose top ten scores span less than {gate[0]:.4g} (the lower quartile of "
                 f"the training run's held-out queries') gets twice the budget, one from {gate[1]:.4g} (their upper "
                 f"quartile) on {wide}" if settings.tuning.rerank_selective and gate else "every search the same budget")
    result = {"machine": where, "seed": args.seed, "holdout_queries": len(held), "pairs": pairs.sources,
              "settings": settings.tuning.model_dump(), "gate": gate, "skips_apart": skips,
              "train": trained, "first_phase": first, "learned_order": order, "without": without,
              "order_ms": added_ms([r.ms for r in ordering]) if ordering else None, "curve": curve}
    table = ["| time budget | nDCG@10 | change | added p50 ms | added p95 ms | added mean ms | skipped | twice the "
             "budget |", "|---|---|---|---|---|---|---|---|", f"| the first phase's order | {first} | | | | | | |"]
    if order is not None:
        ms = added_ms([r.ms for r in ordering])
        table.append(f"| learned order ({order}), no cross-encoder | {without} | {(without / first - 1) * 100:+.1f}% | "
                     f"{ms['added_ms_p50']} | {ms['added_ms_p95']} | {ms['added_ms_mean']} | | |")
    table += [f"| {c['budget_ms']:g} ms | {c['ndcg@10']} | {(c['ndcg@10'] / without - 1) * 100:+.1f}% | "
              f"{c['added_ms_p50']} | {c['added_ms_p95']} | {c['added_ms_mean']} | {c['skipped']:.0%} | "
              f"{c['doubled']:.0%} |" for c in curve]
    text = "\n".join([
        "# An index's own re-rankers: Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}.", "",
        f"Trained on the judgments of the 80% of dev queries (seed {args.seed}; {'; '.join(notes)}); "
        f"the full pipeline (with the index's own encoder) on the {len(held)} unseen queries, the cross-encoder "
        f"over its top 30 within each time budget ({selective}; its change is over the row above the curve, the "
        f"order it re-ranks). {reason}.", "", *table, ""])
    write_results(RESULTS, args.results, result, text)
    print(text)


if __name__ == "__main__":
    main()
