"""The cross-encoder's training batches drawn from pairs of about the same length (the optional `torch` extra).

A batch is read in runs, each padded to its longest pair (loss.py). Drawn at random, a Home Depot batch of 64
(query, product) pairs read 1.42 tokens for every real one; drawn from pairs of about the same length, 1.01 (the
judged pairs of the 80% split, MiniLM's tokenizer: bench/results/reranker-padding.md), and a training step took
1.48x less time side by side (bench/results/training-speed-amd-epyc-length-batches.md). So each epoch's pairs are
shuffled, cut into pools of POOL batches, each pool sorted by length and cut into batches, and the batches
shuffled: every pair is read once an epoch, in an order the seed and the epoch fix (what transformers'
`group_by_length` does for its own Trainer). The loss is pointwise (binary cross-entropy), so a batch's other
pairs never enter a pair's loss: which pairs share a batch moves only the noise of a step. Not for the encoder:
there a batch's products are each query's negatives, and batches of similar length would make them easier.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sentence_transformers.base.sampler import DefaultBatchSampler

POOL = 50  # batches per pool: enough that a pool holds every length often, few enough that order stays random


def length_grouped_batches(lengths: Sequence[int], batch_size: int, drop_last: bool, seed: int,
                           epoch: int) -> list[list[int]]:
    """One epoch's batches of indices into `lengths`, each of similar lengths, in a seeded random order."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    pool = batch_size * POOL
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lengths.__getitem__)
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()  # pools are whole batches: only the last pool's last batch can be short
    return [batches[i] for i in rng.permutation(len(batches))]


class LengthGroupedBatchSampler(DefaultBatchSampler):
    """sentence-transformers' batch sampler interface over `length_grouped_batches`; `lengths` is the dataset's
    rows' token counts, in its order. Pass it bound to them (functools.partial) as the trainer's `batch_sampler`."""

    def __init__(self, dataset: Any, batch_size: int, drop_last: bool, valid_label_columns: list[str] | None = None,
                 generator: Any = None, seed: int = 0, *, lengths: Sequence[int]):
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        if len(lengths) != len(dataset):
            raise ValueError(f"{len(lengths)} lengths for a dataset of {len(dataset)} rows")
        self.lengths = list(lengths)

    def __iter__(self) -> Iterator[list[int]]:
        yield from length_grouped_batches(self.lengths, self.batch_size, self.drop_last, self.seed, self.epoch)
