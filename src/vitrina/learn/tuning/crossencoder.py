"""A cross-encoder re-ranker trained on the same pairs as the index's encoder (the optional `torch` extra).

It reads query and product together, so it sees what a bi-encoder's two separate vectors cannot (a model
number, "without", a size), at the cost of one model pass per (query, product): served on the top hits only,
in ONNX (rank/cross_encoder.py). Trained from the packaged MiniLM weights with a fresh one-logit head, binary
cross-entropy: a positive's label is its weight's share of the strongest (a grade 3 is 1.0, a grade 2 0.5), a
product a judge graded in between can be learnt the same way at its grade (a 1.67 is 0.33; `rerank_in_between`,
off: it learnt less on Home Depot),
negatives are the judged-low or skipped products plus, per query, products the engine ranks near the top that
no pair names (mining.py). With `rerank_loss` "listwise" the same pairs are read a query at a time, and the loss is
the softmax cross-entropy of each query's list toward its labels (loss.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vitrina.config import TuningSettings
from vitrina.learn.tuning.hardware import training_hardware
from vitrina.learn.tuning.pairs import PairSet


class CrossEncoderReport(BaseModel):
    layers: int | None = None  # the transformer layers it kept of the base's (None: reports before the choice)
    examples: int
    positives: int
    mined_negatives: int
    in_between: int = 0  # examples a judge graded between a negative and a positive, at their grade
    seconds: float
    device: str
    precision: str = "fp32"  # reports written before bf16 training existed were all fp32
    steps: int
    epochs: float | None = None  # None: reports before the cross-encoder's epochs were their own setting
    planned_steps: int | None = None  # set where the time budget ended the training before its planned steps
    batches: str = "random"  # "by length": drawn from pairs of about the same length (batches.py)
    loss: str = "pointwise"  # or "listwise": a query's pairs together (settings.tuning.rerank_loss)


def keep_layers(model: Any, layers: int | None) -> int:
    """Keeps a Hugging Face BERT-family model's first `layers` transformer layers (None: all); returns how many it
    has. A pair reads in time about proportional to the layers (Sajjad et al.'s layer dropping makes a smaller
    model the same way); what the dropped layers knew is lost (README: the cross-encoder, three layers)."""
    stack = model.base_model.encoder.layer
    if layers is not None and layers < len(stack):
        model.base_model.encoder.layer = stack[:layers]
        model.config.num_hidden_layers = layers
    return len(model.base_model.encoder.layer)


def pair_lengths(model: Any, data: Any) -> list[int]:
    """Each row's (query, product) pair's tokens as the cross-encoder reads them (truncated to its length)."""
    encoded = model.tokenizer(list(data["query"]), list(data["product"]), truncation=True, max_length=model.max_seq_length)
    return [len(ids) for ids in encoded["input_ids"]]


def by_query(rows: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The (query, product, label) rows as one row per query: (query, [products], [labels]), in first-seen order."""
    lists: dict[str, tuple[list[str], list[float]]] = {}
    for query, product, label in zip(rows["query"], rows["product"], rows["label"], strict=True):
        products, labels = lists.setdefault(query, ([], []))
        products.append(product)
        labels.append(label)
    return {"query": list(lists), "products": [p for p, _ in lists.values()], "label": [g for _, g in lists.values()]}


def list_lengths(model: Any, data: Any) -> list[int]:
    """Each query's list: the mean tokens of its (query, product) pairs, so lists of about the same pair length
    can share a batch (each batch's pairs are read in runs by length: loss.py)."""
    flat = {"query": [q for q, products in zip(data["query"], data["products"], strict=True) for _ in products],
            "product": [p for products in data["products"] for p in products]}
    tokens = iter(pair_lengths(model, flat))
    return [round(sum(next(tokens) for _ in products) / len(products)) for products in data["products"]]


def train_cross_encoder(base: str, pairs: PairSet, text_of: Callable[[str], str | None],
                        mined: dict[str, list[str]], out_dir: Path, settings: TuningSettings,
                        log: Callable[[str], None] = lambda _: None) -> CrossEncoderReport:
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from vitrina.learn.tuning.batches import LengthGroupedBatchSampler
    from vitrina.learn.tuning.deadline import Budget
    from vitrina.learn.tuning.loss import LengthSortedBCELoss, LengthSortedListwiseLoss

    torch.manual_seed(settings.seed)
    hardware = training_hardware(settings)
    top = max((p.weight for p in pairs.pairs), default=1.0)
    rows: dict[str, list[Any]] = {"query": [], "product": [], "label": []}

    def add(query: str, pid: str, label: float) -> None:
        text = text_of(pid)
        if text is not None:
            rows["query"].append(query)
            rows["product"].append(text)
            rows["label"].append(label)

    negatives_of: dict[str, set[str]] = {}
    for pair in pairs.pairs:
        add(pair.query, pair.product_id, min(1.0, pair.weight / top))
        negatives_of.setdefault(pair.query, set()).update(pair.negatives)
    positives = len(rows["label"])
    if settings.rerank_in_between:
        for query, graded in sorted(pairs.unsure.items()):
            for pid, weight in sorted(graded.items()):
                add(query, pid, min(1.0, weight / top))
    in_between = len(rows["label"]) - positives
    for query, judged in sorted(negatives_of.items()):
        for pid in sorted(judged):
            add(query, pid, 0.0)
    mined_count = 0
    for query, pids in sorted(mined.items()):
        for pid in pids:
            add(query, pid, 0.0)
            mined_count += 1
    model = CrossEncoder(base, num_labels=1, max_length=settings.max_seq_length, device=hardware.device,
                         model_kwargs=hardware.model_kwargs())
    layers = keep_layers(model.model, settings.rerank_layers)
    hardware.prepare(model, settings.seed)
    listwise = settings.rerank_loss == "listwise"
    data = Dataset.from_dict(by_query(rows) if listwise else rows).shuffle(seed=settings.seed)
    # a listwise batch holds whole queries, as many as make about `rerank_batch_size` pairs
    batch = (max(1, round(settings.rerank_batch_size * len(data) / max(1, len(rows["label"])))) if listwise
             else settings.rerank_batch_size)
    drawn = "by length" if settings.rerank_batches_by_length else "random"
    lengths = list_lengths if listwise else pair_lengths
    sampler = ({"batch_sampler": partial(LengthGroupedBatchSampler, lengths=lengths(model, data))}
               if settings.rerank_batches_by_length else {})
    args = CrossEncoderTrainingArguments(
        output_dir=str(out_dir / "checkpoints"), num_train_epochs=settings.rerank_epochs,
        per_device_train_batch_size=batch, learning_rate=settings.rerank_learning_rate,
        warmup_steps=0.1, seed=settings.seed, data_seed=settings.seed, logging_steps=50, save_strategy="no",
        report_to=[], dataloader_num_workers=0, disable_tqdm=True, **sampler, **hardware.arguments())
    started = time.perf_counter()
    log(f"training the cross-encoder ({layers} layers) on {len(rows['label'])} examples ({positives} positive) on "
        f"{hardware.device} in {hardware.precision}, batches {drawn}, "
        + (f"listwise ({len(data)} queries, {batch} a batch)" if listwise else "pointwise"))
    loss = (LengthSortedListwiseLoss(model, run=settings.length_run) if listwise
            else LengthSortedBCELoss(model, run=settings.length_run) if settings.encode_by_length
            else BinaryCrossEntropyLoss(model))
    budget = Budget(settings.train_budget_s, log)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss, callbacks=[budget])
    result = trainer.train()
    model.save_pretrained(str(out_dir))
    return CrossEncoderReport(layers=layers, examples=len(rows["label"]), positives=positives, mined_negatives=mined_count,
                              in_between=in_between,
                              seconds=round(time.perf_counter() - started, 1), device=hardware.device,
                              precision=hardware.precision,
                              steps=int(result.global_step), planned_steps=budget.cut_from,
                              epochs=round(trainer.state.epoch, 2) if budget.stopped_at else settings.rerank_epochs,
                              batches=drawn, loss=settings.rerank_loss)


def export_cross_encoder(model_dir: Path, out_dir: Path, check: list[tuple[str, str]], max_length: int) -> float:
    """out_dir/model.onnx (input ids, mask, types -> one logit per pair), its int8 copy model.int8.onnx (the
    held-out check decides which serves) and tokenizer.json; returns the largest difference between the fp32
    graph's logits and torch's on the check pairs."""
    import shutil

    import numpy as np
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    from vitrina.learn.tuning.export import export_graph, quantize_int8

    out_dir.mkdir(parents=True, exist_ok=True)
    model = CrossEncoder(str(model_dir), device="cpu", max_length=max_length)
    tokenizer = model.tokenizer
    if not (model_dir / "tokenizer.json").exists():
        tokenizer.save_pretrained(str(model_dir))
    shutil.copy(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    sample = tokenizer([q for q, _ in check[:2]], [t for _, t in check[:2]], padding=True, return_tensors="pt")
    export_graph(model.model, sample, out_dir / "model.onnx", "logits", {0: "batch"})
    from vitrina.rank.cross_encoder import OnnxCrossEncoder

    reference = model.predict(check, activation_fn=torch.nn.Identity(), convert_to_numpy=True)
    served = OnnxCrossEncoder(out_dir / "model.onnx", out_dir / "tokenizer.json", max_length=max_length).logits(check)
    quantize_int8(out_dir / "model.onnx")
    return float(np.max(np.abs(np.asarray(reference).reshape(-1) - served)))
