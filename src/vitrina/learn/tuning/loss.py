"""The training losses with their texts run through the model by length, not padded to the batch's longest.

A batch's queries (8 tokens on average on Home Depot) are padded to its longest (about 18), its product titles
(20) to theirs (about 40): half the encoder's work went into padding. All the batch's texts, queries and products
together, are sorted by length and encoded in runs of similar length, each padded only to its own longest; the
embeddings go back to their places and the loss is the same multiple-negatives ranking loss on the same batch. The
padding is masked either way, so the model learns the same thing, in fewer operations. The cross-encoder's pairs
go the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import batch_to_device

TOKEN_KEYS = {"input_ids", "attention_mask", "token_type_ids"}


def read_by_length(model: torch.nn.Module, features: dict[str, torch.Tensor], run: int, output: str) -> torch.Tensor:
    """The model's `output` for every row of `features`, the rows read in runs of `run` by length, each run cut to
    its own longest, back in the rows' order. (Looking the words up once for all the runs, to build the embedding
    table's dense gradient once a step, gained nothing side by side: bench/results/training-speed-amd-epyc-lookup.md.)"""
    lengths = features["attention_mask"].sum(dim=1)
    order = torch.argsort(lengths, stable=True)
    rows = {key: value.index_select(0, order) for key, value in features.items() if key in TOKEN_KEYS}
    shared = {key: value for key, value in features.items() if key not in TOKEN_KEYS}  # e.g. the modality
    widths = lengths.index_select(0, order).split(run)
    runs = {key: value.split(run) for key, value in rows.items()}
    pieces = []
    for i, width in enumerate(int(w.max()) for w in widths):
        pieces.append(model({**{key: value[i][:, :width] for key, value in runs.items()}, **shared})[output])
    position = torch.empty_like(order)
    position[order] = torch.arange(len(order), device=order.device)
    return torch.cat(pieces).index_select(0, position)


def embed_by_length(model: torch.nn.Module, columns: list[dict[str, torch.Tensor]], run: int) -> list[torch.Tensor]:
    """Each column's sentence embeddings, its rows encoded with every column's in runs of `run` by length."""
    widest = max(c["attention_mask"].shape[1] for c in columns)
    # every column's rows in one tensor per token key, padded with 0 (a 0 in the attention mask: never read)
    rows: dict[str, Any] = {key: torch.cat([torch.nn.functional.pad(c[key], (0, widest - c[key].shape[1]))
                                            for c in columns]) for key in columns[0] if key in TOKEN_KEYS}
    rows.update({key: value for key, value in columns[0].items() if key not in TOKEN_KEYS})
    in_place = read_by_length(model, rows, run, "sentence_embedding")
    return list(in_place.split([c["attention_mask"].shape[0] for c in columns]))


class LengthSortedMNRLoss(MultipleNegativesRankingLoss):
    """Multiple-negatives ranking loss on embeddings from `embed_by_length`."""

    def __init__(self, model, run: int = 32, **kwargs):
        super().__init__(model, **kwargs)
        self.run = run

    def forward(self, sentence_features: Iterable[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        columns = list(sentence_features)
        shared = {k: v for k, v in columns[0].items() if k not in TOKEN_KEYS}  # e.g. sentence-transformers' modality
        if ("attention_mask" not in columns[0] or any(not isinstance(v, str) for v in shared.values())
                or any({k: v for k, v in c.items() if k not in TOKEN_KEYS} != shared for c in columns)):
            return super().forward(columns, labels)  # features this does not know how to cut: as the library does
        return self.compute_loss_from_embeddings(embed_by_length(self.model, columns, self.run), labels)


class LengthSortedBCELoss(BinaryCrossEntropyLoss):
    """The cross-encoder's binary cross-entropy with its (query, product) pairs read in runs of similar length, each
    padded to its own longest. The batch is tokenized once and sorted by tokens: sorted by characters, as before,
    Home Depot's random batches of 64 read 1.57 tokens for every real one, by tokens 1.42 (model numbers and
    measures cut into many tokens for their characters; bench/results/reranker-padding.md)."""

    def __init__(self, model, run: int = 32, **kwargs):
        super().__init__(model, **kwargs)
        self.run = run

    def forward(self, inputs: list[list[str]], labels: torch.Tensor, prompt: str | None = None,
                task: str | None = None) -> torch.Tensor:
        if len(inputs) != 2 or getattr(self.model.tokenizer, "padding_side", "right") != "right":
            return super().forward(inputs, labels, prompt=prompt, task=task)  # the library's own error or padding
        pairs = list(zip(inputs[0], inputs[1], strict=True))
        features = batch_to_device(self.model.preprocess(pairs, prompt=prompt, task=task), self.model.device)
        if "attention_mask" not in features:
            return super().forward(inputs, labels, prompt=prompt, task=task)
        logits = read_by_length(self.model, features, self.run, "scores").view(-1)
        return self.bce_with_logits_loss(self.activation_fn(logits), labels.view(-1).float())


class LengthSortedListwiseLoss(torch.nn.Module):
    """Softmax cross-entropy over each query's list of products toward its grades: ListNet's top-one loss (Cao et
    al. 2007), the target each product's share of the list's grades; with one positive among hard negatives it is the
    localized contrastive estimation that Gao et al. (2021) found to train re-rankers better than pointwise losses.
    A row is (query, [products], [grades]); all the batch's pairs are read by length as LengthSortedBCELoss reads
    them. A list with no positive teaches no order and is left out."""

    def __init__(self, model, run: int = 32):
        super().__init__()
        self.model = model
        self.run = run

    def forward(self, inputs: list[Any], labels: list[torch.Tensor], prompt: str | None = None,
                task: str | None = None) -> torch.Tensor:
        queries, lists = inputs
        pairs = [(query, product) for query, products in zip(queries, lists, strict=True) for product in products]
        features = batch_to_device(self.model.preprocess(pairs, prompt=prompt, task=task), self.model.device)
        logits = read_by_length(self.model, features, self.run, "scores").view(-1).float()
        losses = []
        for scores, grades in zip(logits.split([len(products) for products in lists]), labels, strict=True):
            target = grades.to(scores.device).float()
            if target.sum() > 0:
                losses.append(-(target / target.sum() * torch.log_softmax(scores, dim=0)).sum())
        return torch.stack(losses).mean() if losses else logits.sum() * 0.0

    def get_config_dict(self) -> dict[str, Any]:
        return {"run": self.run}
