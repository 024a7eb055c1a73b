"""A simulation's report as files: JSON, a markdown summary and a PNG of the learning curves."""

from __future__ import annotations

from pathlib import Path

from vitrina.evaluate.simulate import SimulationReport


def _gain(learned: float, static: float) -> str:
    return f"{(learned / static - 1) * 100:+.1f}%" if static else "n/a"


def markdown(report: SimulationReport, machine: dict) -> str:
    r = report
    lines = [f"# Simulated shoppers: {r.dataset}, objective {r.objective}, seed {r.seed}", "",
             f"{r.searches} searches in {r.seconds:.0f} s on {machine['cpu']}, {machine['cores']} cores; "
             f"{machine['when']}. {r.updates} learner updates. Dev data: figures on the set's own judgments.", "",
             "| nDCG@10 | static | learned | change |", "|---|---|---|---|",
             f"| queries with traffic ({r.queries_with_traffic}), mean | {r.static_ndcg} | {r.learned_ndcg} | "
             f"{_gain(r.learned_ndcg, r.static_ndcg)} |",
             f"| the same, traffic-weighted | {r.traffic_static_ndcg} | {r.traffic_learned_ndcg} | "
             f"{_gain(r.traffic_learned_ndcg, r.traffic_static_ndcg)} |",
             f"| held-out queries, no traffic ({r.heldout_queries}) | {r.heldout_static_ndcg} | "
             f"{r.heldout_learned_ndcg} | {_gain(r.heldout_learned_ndcg, r.heldout_static_ndcg)} |", "",
             f"Over the run: CTR {r.ctr}, conversion {r.conversion}, revenue per search {r.revenue_per_search}, "
             f"margin per search {r.margin_per_search}. The learned phase took {r.learned_phase_ms_p50} ms per search "
             "(median, searches not answered from the cache).", "",
             "| searches | served nDCG@10 | static nDCG@10 | change | CTR | conversion | revenue/search | "
             "margin/search | model |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {c.searches} | {c.served_ndcg} | {c.static_ndcg} | {_gain(c.served_ndcg, c.static_ndcg)} | {c.ctr} | "
              f"{c.conversion} | {c.revenue_per_search} | {c.margin_per_search} | v{c.model_version} |"
              for c in r.checkpoints]
    if r.experiment is not None:
        lines += ["", "A/B test (the first variant is the control; p-values against it):", "",
                  "| variant | searches | CTR | conversion (p) | revenue/search (p) | margin/search (p) |",
                  "|---|---|---|---|---|---|"]
        for v in r.experiment.variants:
            def cell(metric: str, v=v) -> str:
                test = v.against_control.get(metric)
                return f"{v.metrics[metric].value:.4f}" + (f" ({test.p_value:.3g})" if test else "")
            lines.append(f"| {v.variant} | {v.searches} | {cell('ctr')} | {cell('conversion')} | "
                         f"{cell('revenue_per_search')} | {cell('margin_per_search')} |")
    return "\n".join(lines) + "\n"


def plot(report: SimulationReport, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")  # no screen: files only
    import matplotlib.pyplot as plt

    x = [c.searches for c in report.checkpoints]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.plot(x, [c.served_ndcg for c in report.checkpoints], marker="o", label="served (learning)")
    top.plot(x, [c.static_ndcg for c in report.checkpoints], linestyle="--", label="static, same searches")
    top.set_ylabel("traffic-weighted nDCG@10")
    top.legend()
    top.set_title(f"{report.dataset}: objective {report.objective}, seed {report.seed}")
    bottom.plot(x, [c.conversion for c in report.checkpoints], marker=".", label="conversion")
    bottom.plot(x, [c.ctr for c in report.checkpoints], marker=".", label="CTR")
    money = bottom.twinx()
    money.plot(x, [c.margin_per_search for c in report.checkpoints], color="tab:red", label="margin / search")
    money.set_ylabel("margin per search")
    bottom.set_xlabel("searches")
    bottom.legend(loc="upper left")
    money.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(report: SimulationReport, out: Path, name: str, machine: dict) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.json", out / f"{name}.md", out / f"{name}.png"]
    paths[0].write_text(report.model_dump_json(indent=1) + "\n")
    paths[1].write_text(markdown(report, machine))
    plot(report, paths[2])
    return paths
