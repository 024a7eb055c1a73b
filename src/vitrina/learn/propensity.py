"""How likely a shopper is to look at each position at all: the position-based click model, fitted by EM.

P(click at position k on product d for query q) = theta_k * gamma_qd. Clicks alone mix the two up; EM separates
them wherever the same (q, d) was shown at different positions, which the learned ranking itself causes as it
moves products, and which a second page adds. Positions too rarely shown keep a 1/k^0.5 prior; each theta is
floored at MIN_PROPENSITY, so no click is weighted more than 1/MIN_PROPENSITY (bounded variance).
"""

from __future__ import annotations

import numpy as np

MIN_PROPENSITY = 0.05
MIN_SHOWN = 50  # impressions at a position before EM may move its propensity off the prior


def prior(depth: int) -> np.ndarray:
    return 1.0 / np.sqrt(np.arange(1, depth + 1, dtype=np.float64))


def fit_propensities(positions: np.ndarray, pairs: np.ndarray, clicks: np.ndarray, depth: int,
                     iterations: int = 30) -> np.ndarray:
    """positions (1-based), pair ids (one per query-product pair) and 0/1 clicks, one entry per impression.
    Returns theta[0..depth-1], with theta[0] == 1 (only ratios matter for inverse-propensity weights)."""
    theta = prior(depth)
    if len(positions) == 0:
        return theta
    keep = positions <= depth
    k, pair, c = positions[keep] - 1, pairs[keep], clicks[keep].astype(np.float64)
    shown = np.bincount(k, minlength=depth)
    n_pairs = int(pair.max()) + 1 if len(pair) else 0
    per_pair = np.maximum(np.bincount(pair, minlength=n_pairs), 1)
    gamma = np.clip(np.bincount(pair, weights=c, minlength=n_pairs) / per_pair / theta[k].mean(), 0.01, 0.99)
    for _ in range(iterations):
        t, g = theta[k], gamma[pair]
        unclicked = 1.0 - t * g
        seen = np.where(c > 0, 1.0, t * (1.0 - g) / unclicked)
        liked = np.where(c > 0, 1.0, (1.0 - t) * g / unclicked)
        fitted = np.bincount(k, weights=seen, minlength=depth) / np.maximum(shown, 1)
        theta = np.where(shown >= MIN_SHOWN, fitted, theta)
        gamma = np.clip(np.bincount(pair, weights=liked, minlength=n_pairs) / per_pair, 1e-4, 1 - 1e-4)
    theta = theta / theta[0] if theta[0] > 0 else prior(depth)
    # Looking further down never gets likelier: EM noise at sparse positions must not reward depth.
    return np.maximum(np.minimum.accumulate(np.clip(theta, MIN_PROPENSITY, 1.0)), MIN_PROPENSITY)
