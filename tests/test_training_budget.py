"""A model's training within its time budget (learn/tuning/deadline.py), driven step by step with a clock that
ticks one second a step, over the trainer's own linear schedule with warmup."""

import pytest

pytest.importorskip("torch")
import torch  # noqa: E402
from transformers import TrainerControl, TrainerState, TrainingArguments  # noqa: E402
from transformers.optimization import get_linear_schedule_with_warmup  # noqa: E402

from vitrina.learn.tuning.deadline import Budget  # noqa: E402

pytestmark = pytest.mark.fast
PLANNED, WARMUP = 100, 10


def run(seconds, tmp_path) -> tuple[Budget, list[float], list[str]]:
    """The learning rate of each step taken, as a trainer would step its schedule and call the callback."""
    ticks = iter(range(10_000))
    logged: list[str] = []
    budget = Budget(seconds, logged.append, clock=lambda: float(next(ticks)))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, WARMUP, PLANNED)
    args = TrainingArguments(output_dir=str(tmp_path), warmup_steps=0.1, use_cpu=True, report_to=[])
    state, control = TrainerState(max_steps=PLANNED), TrainerControl()
    budget.on_train_begin(args, state, control)
    rates = []
    for step in range(1, PLANNED + 1):
        rates.append(scheduler.get_last_lr()[0])  # the rate this step's update used
        optimizer.step()
        scheduler.step()
        state.global_step = step
        budget.on_step_end(args, state, control, lr_scheduler=scheduler)
        if control.should_training_stop:
            break
    return budget, rates, logged


def test_a_run_that_fits_is_left_as_planned(tmp_path):
    budget, rates, logged = run(1000.0, tmp_path)
    _, unbudgeted, _ = run(None, tmp_path)
    assert len(rates) == PLANNED and rates == unbudgeted and budget.stopped_at is None and logged == []


def test_a_run_that_would_overrun_ends_in_time_with_its_rate_annealed(tmp_path):
    budget, rates, logged = run(50.0, tmp_path)
    assert budget.stopped_at == len(rates) <= 50 and budget.planned == PLANNED
    assert logged == [f"the time budget (50 s): ending at step {len(rates)} of {PLANNED}"]
    after_warmup = rates[WARMUP:]
    assert after_warmup[0] == pytest.approx(1.0)  # the warmup as planned, the peak reached
    assert after_warmup == sorted(after_warmup, reverse=True)  # never rises again
    assert 0 < rates[-1] < 0.05  # the last update's rate is near zero: annealed, not cut off at the peak
    _, planned, _ = run(None, tmp_path)
    assert rates[-1] < planned[len(rates) - 1]  # falling faster than the unbudgeted schedule


def test_a_budget_the_warmup_overruns_stops_at_the_deadline(tmp_path):
    budget, rates, _ = run(5.0, tmp_path)
    assert len(rates) == budget.stopped_at == 5
