"""Complete the look on the fashion catalog: 50 outfit requests we wrote (bench/queries/outfits.jsonl), each look's
slots checked for what a shopper would call wrong: a slot left empty, a piece for another gender or age, for
another occasion or season than asked (or, where none was asked, than the look's first piece), more than one accent
colour, a look over the budget. Compatible means what the domain's rules say goes together
(rules/fashion/outfits.json: the occasion and season groups); "exact" counts the pieces whose own label is one
asked for. The baseline, in the same process: the same builder not told which occasions, seasons and age groups
the catalog's products carry, so it keeps to gender alone.

    python bench/outfits_fashion.py     # writes bench/results/outfits-fashion.{json,md}
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from fashion_set import fashion_engine

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.recommend.fit import FIT_FIELDS, labels_of
from vitrina.recommend.models import Outfit, OutfitRules
from vitrina.recommend.outfit import ADULT, KIDS, OutfitBuilder
from vitrina.understand.models import ParsedQuery
from vitrina.vision.colour import product_family

RESULTS = Path("bench/results")
QUERIES = Path("bench/queries/outfits.jsonl")
CHECKS = ("filled", "gender", "age", "occasion", "season", "colours", "budget")


def check_look(look: Outfit, parsed: ParsedQuery, rules: OutfitRules) -> dict[str, list[bool]]:
    """Per piece (or per look, for colours and budget), whether it keeps each rule; recomputed from the request's
    own reading, not from what the builder kept."""
    pieces = [i.product for i in look.items]
    first = pieces[0] if pieces else {}
    asked_genders = {c.term for c in parsed.positive("genders")}
    genders = ({v for c in parsed.positive("genders") for v in c.values} if asked_genders
               else set(ADULT.get(str(first.get("gender")).lower(), [str(first.get("gender")).lower()])))
    age = (("kids" if asked_genders & KIDS else "adult") if asked_genders else first.get("age_group"))
    result: dict[str, list[bool]] = {"filled": [slot not in look.missing for slot in look.look]}
    result["gender"] = [str(p.get("gender")).lower() in genders for p in pieces]
    result["age"] = [age is None or p.get("age_group") in (None, age) for p in pieces]
    for field, name in zip(FIT_FIELDS, ("occasion", "season"), strict=True):
        asked = {v.lower() for c in parsed.positive(field) for v in c.values}
        keep = asked or labels_of(first, field)
        fits = rules.compatible(field, keep) if keep else None
        result[name] = [fits is None or not labels_of(p, field) or bool(labels_of(p, field) & fits) for p in pieces]
        result[f"{name}_exact"] = [bool(asked & labels_of(p, field)) for p in pieces] if asked else []
    accents = {f for f in map(product_family, pieces) if f and f not in rules.neutral_families}
    result["colours"] = [len(accents) <= 1]
    result["budget"] = [look.total is not None and look.total <= look.budget] if look.budget else []
    return result


def run(engine, requests: list[str], catalog: dict) -> dict:
    rules = engine.outfit_rules
    counts: dict[str, list[bool]] = {}
    took, looks, failed = [], [], []
    for text in requests:
        parsed = engine.parser().parse(text)
        started = time.perf_counter()
        look = OutfitBuilder(rules, engine._slot_search, catalog).build(parsed)
        took.append((time.perf_counter() - started) * 1000)
        checked = check_look(look, parsed, rules)
        for name, marks in checked.items():
            counts.setdefault(name, []).extend(marks)
        wrong = [name for name in CHECKS if not all(checked[name])]
        if wrong:
            failed.append({"query": text, "wrong": wrong})
        looks.append({"query": text, "look": look.look, "missing": look.missing, "total": look.total,
                      "items": [{"slot": i.slot, "type": i.product.get("product_type"),
                                 "gender": i.product.get("gender"), "age": i.product.get("age_group"),
                                 **{f: i.product.get(f) for f in FIT_FIELDS}, "colour": i.product.get("primary_color"),
                                 "price": i.product.get("price"), "reasons": i.reasons} for i in look.items]})
    shares = {name: round(sum(marks) / len(marks), 4) if marks else None for name, marks in counts.items()}
    return {"shares": shares, "checked": {name: len(marks) for name, marks in counts.items()},
            "looks_all_right": len(requests) - len(failed), "failed": failed, "p50_ms": round(statistics.median(took), 1),
            "looks": looks}


def main() -> None:
    engine = fashion_engine(Settings())
    requests = [json.loads(line)["query"] for line in QUERIES.read_text().splitlines() if line.strip()]
    for text in requests[:5]:  # warm the query vectors and the pipeline
        engine.outfit(text)
    values = engine.stats.values
    runs = {"keeping to occasion, season and age": run(engine, requests, values),
            "gender only (baseline)": run(engine, requests, {"type": values["type"], "gender": values["gender"]})}
    by_intent = sum(engine.search(text, size=5).outfit is not None for text in requests)
    figures = {"machine": machine(), "requests": len(requests), "outfit_in_search_response": by_intent, "runs": runs}
    lines = ["# Complete the look: 50 outfit requests on the fashion catalog", "",
             f"{machine()['cpu']}, {machine()['cores']} cores; {len(requests)} requests (bench/queries/outfits.jsonl), "
             f"{engine.count()} products. Each share is of the slots (filled) or pieces checked; colours and budget "
             "are per look.", "",
             "| check | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    names = [*CHECKS[:5], "occasion_exact", "season_exact", *CHECKS[5:]]
    for name in names:
        cells = [f"{r['shares'][name]:.1%} ({r['checked'][name]})" if r["shares"].get(name) is not None else "-"
                 for r in runs.values()]
        lines.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
    lines.append("| looks with every check right | " + " | ".join(f"{r['looks_all_right']}/{len(requests)}"
                                                                  for r in runs.values()) + " |")
    lines.append("| p50 ms a look | " + " | ".join(f"{r['p50_ms']}" for r in runs.values()) + " |")
    lines += ["", f"A search (`/v1/{{tenant}}/search`) answers {by_intent} of the {len(requests)} requests with a look "
              "(read as outfit intent); the others are found by `POST /v1/{tenant}/outfit`, which the checks use.", ""]
    for name, r in runs.items():
        if r["failed"]:
            lines += [f"Looks with a check wrong, {name}:", ""]
            lines += [f"- {f['query']}: {', '.join(f['wrong'])}" for f in r["failed"]]
            lines.append("")
    write_results(RESULTS, "outfits-fashion", figures, "\n".join(lines))
    print("\n".join(lines))
    engine.close()


if __name__ == "__main__":
    main()
