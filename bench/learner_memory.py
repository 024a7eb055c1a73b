"""The learner's memory: what its served model holds, and what one update needs at its peak, for the window of a
finished simulation (Python allocations by tracemalloc, not RSS; both grow with the window of searches).

    python bench/learner_memory.py [DB]   # default data/simulate/simulate-homedepot-conversion-s0.db
"""

from __future__ import annotations

import json
import logging
import sys
import time
import tracemalloc
from pathlib import Path

from vitrina.config import Settings
from vitrina.evaluate.results import write_results
from vitrina.events.db import connect
from vitrina.learn.learner import Learner

RESULTS = Path("bench/results")


def main(database: Path) -> dict:
    if not database.exists():
        sys.exit(f"no {database}: run `vitrina simulate --dataset homedepot --seed 0` first")
    db = connect(f"sqlite:///{database}")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    learner = Learner(db, "simulated", Settings().learning, logging.getLogger("vitrina.learn"))
    model_bytes = tracemalloc.get_traced_memory()[0] - base
    if learner.model is None:
        sys.exit(f"{database} holds no served model")
    evidence = learner.model.evidence
    tracemalloc.reset_peak()
    started = time.perf_counter()
    learner.update()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    mb = 2**20
    result = {"database": str(database), "window_searches": learner.model.info.searches,
              "evidence_entries": {"query_product": len(evidence.queries), "word_product": len(evidence.words),
                                   "product": len(evidence.products)},
              "served_model_mb": round(model_bytes / mb, 1), "update_peak_mb": round(peak / mb, 1),
              "update_seconds_under_tracemalloc": round(seconds, 1),
              "per_1000_searches_mb": {"model": round(model_bytes / mb / learner.model.info.searches * 1000, 2),
                                       "update_peak": round(peak / mb / learner.model.info.searches * 1000, 2)}}
    write_results(RESULTS, "learner-memory", result)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/simulate/simulate-homedepot-conversion-s0.db"))
