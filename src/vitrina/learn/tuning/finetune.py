"""Fine-tune a sentence-transformers bi-encoder on training pairs (the optional `torch` extra).

Multiple-negatives ranking loss: every other product in a batch is a negative of a query, and each example also
with a hard negative carries one (a product judged lower, or shown above the positive and skipped). A pair's weight
becomes repeats (at most `max_repeats`), so a purchase teaches more than a click. Seeded; a GPU when torch sees
one, bf16 on a CPU that multiplies it in hardware (hardware.py).

A large batch gives each query more in-batch negatives (512 checked better than 64 on Home Depot's judgments), but
a small set of pairs would train in a handful of its steps: the batch shrinks so that an epoch takes MIN_STEPS.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from vitrina.config import TuningSettings
from vitrina.learn.tuning.hardware import training_hardware
from vitrina.learn.tuning.pairs import PairSet

MIN_STEPS = 64  # an epoch's fewest steps where the examples allow (Home Depot's 34,419 at 512: 67)
MIN_BATCH = 16  # ... but a batch never shrinks below this (nor above the setting)


class FineTuneReport(BaseModel):
    examples: int  # training rows after repeats
    with_hard_negative: int
    seconds: float
    device: str
    precision: str = "fp32"  # reports written before bf16 training existed were all fp32
    steps: int
    batch_size: int | None = None  # None: reports written before the batch could shrink (it was the setting's)
    planned_steps: int | None = None  # set where the time budget ended the training before its planned steps


def _columns(*names: str) -> dict[str, list[str]]:
    return {name: [] for name in names}


class Rows(BaseModel):
    """Training rows after repeats: triplets where the pair has a hard negative, plain pairs where it has none
    (the other products of its batch are its negatives either way)."""
    triplets: dict[str, list[str]] = Field(default_factory=lambda: _columns("anchor", "positive", "negative"))
    pairs: dict[str, list[str]] = Field(default_factory=lambda: _columns("anchor", "positive"))

    def __len__(self) -> int:
        return len(self.triplets["anchor"]) + len(self.pairs["anchor"])


def batch_for(examples: int, setting: int) -> int:
    """The batch an epoch over `examples` rows trains in: the setting, or fewer so that it takes MIN_STEPS steps."""
    return max(min(setting, MIN_BATCH), min(setting, examples // MIN_STEPS))


def training_rows(pairs: PairSet, text_of: Callable[[str], str | None], max_repeats: int, seed: int) -> Rows:
    rng = random.Random(seed)
    rows = Rows()
    for pair in pairs.pairs:
        positive = text_of(pair.product_id)
        if positive is None:
            continue
        hard = [t for n in pair.negatives if n != pair.product_id and (t := text_of(n)) is not None]
        for _ in range(min(max_repeats, max(1, round(pair.weight)))):
            into = rows.triplets if hard else rows.pairs
            into["anchor"].append(pair.query)
            into["positive"].append(positive)
            if hard:
                into["negative"].append(rng.choice(hard))
    return rows


def fine_tune(base: str, pairs: PairSet, text_of: Callable[[str], str | None], out_dir: Path,
              settings: TuningSettings, log: Callable[[str], None] = lambda _: None) -> FineTuneReport:
    """Trains from `base` (a sentence-transformers folder or name) and saves the model to out_dir."""
    import torch
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from vitrina.learn.tuning.deadline import Budget
    from vitrina.learn.tuning.loss import LengthSortedMNRLoss

    torch.manual_seed(settings.seed)
    hardware = training_hardware(settings)
    rows = training_rows(pairs, text_of, settings.max_repeats, settings.seed)
    model = SentenceTransformer(base, device=hardware.device, model_kwargs=hardware.model_kwargs())
    model.max_seq_length = settings.max_seq_length
    hardware.prepare(model, settings.seed)
    data = DatasetDict({name: Dataset.from_dict(columns).shuffle(seed=settings.seed)
                        for name, columns in (("triplets", rows.triplets), ("pairs", rows.pairs))
                        if columns["anchor"]})
    batch = batch_for(len(rows), settings.batch_size)
    args = Arguments(
        output_dir=str(out_dir / "checkpoints"), num_train_epochs=settings.epochs,
        per_device_train_batch_size=batch, learning_rate=settings.learning_rate, warmup_steps=0.1,
        seed=settings.seed, data_seed=settings.seed, logging_steps=50, save_strategy="no", report_to=[],
        batch_sampler="no_duplicates", multi_dataset_batch_sampler="proportional", dataloader_num_workers=0,
        disable_tqdm=True, **hardware.arguments())
    directions = tuple(settings.encoder_loss_directions)
    started = time.perf_counter()
    hard = len(rows.triplets["anchor"])
    log(f"fine-tuning on {len(rows)} examples ({hard} with a hard negative) in batches of {batch} on "
        f"{hardware.device} in {hardware.precision}")
    budget = Budget(settings.train_budget_s, log)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, callbacks=[budget],
                                         loss=LengthSortedMNRLoss(model, run=settings.length_run, directions=directions)
                                         if settings.encode_by_length
                                         else MultipleNegativesRankingLoss(model, directions=directions))
    result = trainer.train()
    model.save(str(out_dir))
    return FineTuneReport(examples=len(rows), with_hard_negative=hard, device=hardware.device,
                          precision=hardware.precision,
                          seconds=round(time.perf_counter() - started, 1), steps=int(result.global_step),
                          batch_size=batch, planned_steps=budget.cut_from)
