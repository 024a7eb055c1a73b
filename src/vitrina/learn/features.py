"""What the learned phase weighs for one (query, product): three evidence lifts, and the first phase's signals.

The lifts (evidence.py) say what shoppers did with this product for this query, its words, and overall; the
signals (rank/signals.py, logged with every impression) let the weights correct how the static ranking weighs
meaning against words against type for this shop. The signals count only for a query with no evidence of its
own (they are 0 elsewhere): where a query has history, its evidence speaks, and a signal weight fitted there
(it learns to make room for the evidence) would only blur the static order of queries that have none.
Evidence weights are >= 0 (more engagement never ranks lower); signal weights may go either way.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vitrina.learn.evidence import Evidence

EVIDENCE = ("query", "words", "product")
SIGNALS = ("semantic", "lexical", "constraint", "metadata", "quality")
FEATURES = (*EVIDENCE, *(f"signal:{name}" for name in SIGNALS))
MAX_EVIDENCE_WEIGHT = 5.0
MAX_SIGNAL_WEIGHT = 2.0
BOUNDS = [(0.0, MAX_EVIDENCE_WEIGHT)] * len(EVIDENCE) + [(-MAX_SIGNAL_WEIGHT, MAX_SIGNAL_WEIGHT)] * len(SIGNALS)
START = np.array([1.0, 0.5, 0.3] + [0.0] * len(SIGNALS))  # where the first fit starts from


def feature_vector(evidence: Evidence, key: str, terms: tuple[str, ...], pid: str,
                   signals: Mapping[str, float] | None) -> np.ndarray:
    lifts = evidence.features(key, terms, pid)
    if signals and key not in evidence.keys:
        return np.array(lifts + [float(signals.get(s, 0.0)) for s in SIGNALS])
    return np.array(lifts + [0.0] * len(SIGNALS))


def reason(evidence: Evidence, key: str, terms: tuple[str, ...], pid: str, contributions: np.ndarray) -> str:
    """In words, the part of the learned score that moved this product most."""
    strongest = int(np.argmax(np.abs(contributions)))
    if strongest < len(EVIDENCE):
        return evidence.reason(key, terms, pid, contributions[:len(EVIDENCE)])
    name = SIGNALS[strongest - len(EVIDENCE)]
    return f"shoppers here favour {name} matches more than the static ranking does" if contributions[strongest] > 0 \
        else f"shoppers here favour {name} matches less than the static ranking does"
