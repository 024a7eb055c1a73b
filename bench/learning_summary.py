"""The learning loop's targets from the simulator's result files: prints them and writes
bench/results/learning.json and learning.md. Run after the `vitrina simulate` commands in the README."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from vitrina.evaluate.results import write_results

RESULTS = Path("bench/results")


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def gain(learned: float, static: float) -> float:
    return round(learned / static - 1, 4) if static else 0.0


def run_figures(report: dict) -> dict:
    """End gain of served over static on the last checkpoint, the worst checkpoint, held-out gain, money."""
    points = report["checkpoints"]
    half = points[len(points) // 2:]
    return {"end_gain": gain(points[-1]["served_ndcg"], points[-1]["static_ndcg"]),
            "worst_checkpoint": min(gain(p["served_ndcg"], p["static_ndcg"]) for p in points),
            "traffic_gain": gain(report["traffic_learned_ndcg"], report["traffic_static_ndcg"]),
            "heldout_gain": gain(report["heldout_learned_ndcg"], report["heldout_static_ndcg"]),
            "static_ndcg": report["traffic_static_ndcg"], "learned_ndcg": report["traffic_learned_ndcg"],
            "margin_per_search_second_half": round(statistics.fmean(p["margin_per_search"] for p in half), 4),
            "learned_phase_ms_p50": report.get("learned_phase_ms_p50"), "seconds": report["seconds"]}


def median_of(runs: list[dict], key: str) -> float | None:
    return round(statistics.median(r[key] for r in runs), 4) if runs else None


def main(aa_folder: Path = Path("data/simulate/aa")) -> dict:
    summary: dict = {}
    for dataset, target in (("homedepot", 0.25), ("fashion", 0.15)):
        runs = {s: run_figures(r) for s in range(3)
                if (r := load(RESULTS / f"simulate-{dataset}-conversion-s{s}.json"))}
        summary[dataset] = {"seeds": runs, "target_end_gain": target,
                            **{f"median_{k}": median_of(list(runs.values()), k)
                               for k in ("end_gain", "worst_checkpoint", "heldout_gain", "traffic_gain")}}
    margin, conversion = (load(RESULTS / f"simulate-homedepot-{o}-s0.json") for o in ("margin", "conversion"))
    if margin and conversion:
        m, c = run_figures(margin), run_figures(conversion)
        summary["margin_vs_conversion"] = {
            "margin_per_search_gain": gain(m["margin_per_search_second_half"], c["margin_per_search_second_half"]),
            "ndcg_cost": round(1 - m["learned_ndcg"] / c["learned_ndcg"], 4)}
    for key, name in (("ab", "simulate-homedepot-ab-s0"), ("ab_objectives", "simulate-homedepot-ab-objectives-s0")):
        ab = load(RESULTS / f"{name}.json")
        if ab and ab.get("experiment"):
            control, treated = ab["experiment"]["variants"]
            summary[key] = {"searches": ab["searches"], "variants": [control["profile"], treated["profile"]], **{
                metric: {"control": control["metrics"][metric]["value"],
                         "treated": treated["metrics"][metric]["value"], "p_value": test["p_value"]}
                for metric, test in treated["against_control"].items()}}
    transfer = load(RESULTS / "learning-transfer.json")
    if transfer:
        summary["transfer"] = transfer["coverage"]
    aa_runs = [r for path in sorted(aa_folder.glob("aa-s*.json")) if (r := load(path)) and r.get("experiment")]
    if aa_runs:
        quiet = [r["experiment"]["variants"][1]["against_control"]["conversion"]["p_value"] >= 0.05 for r in aa_runs]
        summary["aa"] = {"seeds": len(aa_runs), "no_difference_on_conversion": sum(quiet),
                         "searches_each": aa_runs[0]["searches"]}
    return summary


def markdown(summary: dict) -> str:
    lines = ["# The learning loop on simulated shoppers (dev data)", "",
             "`vitrina simulate` runs; gains are served over static nDCG@10 on the same searches.", ""]
    for dataset in ("homedepot", "fashion"):
        s = summary.get(dataset)
        if not s or not s["seeds"]:
            continue
        lines += [f"## {dataset}", "", "| seed | static | learned (traffic-weighted) | end gain | worst checkpoint | "
                  "held-out gain | learned phase ms p50 |", "|---|---|---|---|---|---|---|"]
        for seed, r in s["seeds"].items():
            lines.append(f"| {seed} | {r['static_ndcg']} | {r['learned_ndcg']} | {r['end_gain']:+.1%} | "
                         f"{r['worst_checkpoint']:+.1%} | {r['heldout_gain']:+.1%} | {r['learned_phase_ms_p50']} |")
        lines += ["", f"Median end gain {s['median_end_gain']:+.1%} (target {s['target_end_gain']:+.0%}); worst "
                  f"checkpoint {s['median_worst_checkpoint']:+.1%} (target >= -2%); held-out "
                  f"{s['median_heldout_gain']:+.1%}.", ""]
    if "margin_vs_conversion" in summary:
        mc = summary["margin_vs_conversion"]
        lines += ["## Objective margin against objective conversion (Home Depot, seed 0)", "",
                  f"Margin per search {mc['margin_per_search_gain']:+.1%} (second half of the run) at an nDCG@10 "
                  f"cost of {mc['ndcg_cost']:.1%} (targets: >= +10% at <= 3%).", ""]
    for key in ("ab", "ab_objectives"):
        if key not in summary:
            continue
        control, treated = summary[key]["variants"]
        lines += [f"## A/B test inside the simulation (Home Depot, {summary[key]['searches']} searches, {control} "
                  f"against {treated})", "", f"| metric | {control} | {treated} | p |", "|---|---|---|---|"]
        lines += [f"| {m} | {v['control']} | {v['treated']} | {v['p_value']:.3g} |"
                  for m, v in summary[key].items() if isinstance(v, dict)]
        lines.append("")
    if "transfer" in summary:
        t = summary["transfer"]
        lines += ["## What can reach held-out queries (Home Depot, seed 0; bench/results/learning-transfer.md)", "",
                  f"Of {t['relevant_11_to_100']} relevant products the static ranking places 11th to 100th for "
                  f"held-out queries, {t['with_positive_word_evidence']} carry positive evidence through a shared "
                  f"query word and {t['with_positive_product_evidence']} through the product's other searches.", ""]
    if "aa" in summary:
        aa = summary["aa"]
        lines += ["## A/A tests (fashion, static against static, no learning)", "",
                  f"{aa['no_difference_on_conversion']} of {aa['seeds']} seeds ({aa['searches_each']} searches each) "
                  "call no difference in conversion (target >= 95%).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    result = main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/simulate/aa"))
    write_results(RESULTS, "learning", result, markdown(result))
    print(markdown(result))
