"""A model's training within a time budget (settings.tuning.train_budget_s): once its steps' pace is known, a run
that would overrun is re-planned to end by the deadline, its learning rate then falling linearly from where it is to
zero at the new last step, so the model it leaves is annealed as a finished schedule's would be, only on fewer
examples. A run that fits is left exactly as planned. The plan is only cut after the warmup (the rate is then at
its peak); a budget the warmup alone overruns stops the training where the deadline finds it.

A trainer callback (transformers); imported where a training starts, beside torch."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from torch.optim.lr_scheduler import LambdaLR
from transformers import TrainerCallback

PACE_FROM = 3  # the first steps load and compile more than they train: the pace is measured after them
REPLANS = 20  # the plan is revisited this many times over the run (a pace that changes is followed)


class Budget(TrainerCallback):
    """Ends the training by `seconds` after it begins (None: no budget). `stopped_at` is the step it ended on when the
    budget cut it short, `planned` the steps it would otherwise have taken."""

    def __init__(self, seconds: float | None, log: Callable[[str], None] = lambda _: None,
                 clock: Callable[[], float] = time.perf_counter):
        self.seconds = seconds
        self.log = log
        self.clock = clock
        self.begun = 0.0
        self.paced_from: tuple[int, float] | None = None  # (step, time) the pace is measured from
        self.end: int | None = None  # the step the training now ends on
        self.planned: int | None = None
        self.warmup = 0
        self.stopped_at: int | None = None

    @property
    def cut_from(self) -> int | None:
        """The steps planned where the budget ended the training before them; None where it ran as planned."""
        return self.planned if self.stopped_at else None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.begun = self.clock()
        self.end = self.planned = state.max_steps
        self.warmup = args.get_warmup_steps(state.max_steps) if hasattr(args, "get_warmup_steps") else 0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.seconds is None or self.end is None:
            return
        step, now = state.global_step, self.clock()
        if step == PACE_FROM:
            self.paced_from = (step, now)
        if step >= self.end or now - self.begun >= self.seconds:
            self._stop(control, step)
            return
        if (self.paced_from is None or step <= self.paced_from[0] or step < self.warmup
                or step % max(1, (self.planned or 1) // REPLANS)):
            return
        pace = (now - self.paced_from[1]) / (step - self.paced_from[0])
        affordable = step + max(1, math.floor((self.begun + self.seconds - now) / pace))
        if affordable < self.end:
            self._replan(kwargs.get("lr_scheduler"), step, affordable)

    def _replan(self, scheduler: Any, step: int, end: int) -> None:
        """From `step` on, the learning rate falls linearly from its present value to zero at `end`."""
        if self.end == self.planned:
            self.log(f"the time budget ({self.seconds:g} s): ending at step {end} of {self.planned}")
        self.end = end
        if not isinstance(scheduler, LambdaLR):
            return  # another schedule than the trainer's default: it only stops at the deadline
        factors = [lr / base if base else 0.0 for lr, base in zip(scheduler.get_last_lr(), scheduler.base_lrs,
                                                                  strict=True)]
        scheduler.lr_lambdas = [_falling(factor, step, end) for factor in factors]

    def _stop(self, control: Any, step: int) -> None:
        control.should_training_stop = True
        if step < (self.planned or 0):
            self.stopped_at = step


def _falling(factor: float, start: int, end: int) -> Callable[[int], float]:
    return lambda step: factor * max(0.0, (end - step) / (end - start))
