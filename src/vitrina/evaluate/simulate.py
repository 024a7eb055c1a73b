"""`vitrina simulate`: simulated shoppers search a real index through the service's own parts (the engine with
the learned phase, the search log, the event store, the learner), and the learning is measured end to end.

Every `checkpoint` searches it records what shoppers were actually served: traffic-weighted nDCG@10 (graded
by the set's judgments), and beside it the static ranking's nDCG@10 for the same searches, CTR, conversion,
revenue and margin per search. At the end: nDCG@10 of the static and the learned ranking on the queries that
got traffic and on the held-out queries that got none.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import Engine as Database

from vitrina.engine import Engine
from vitrina.evaluate.datasets import load_judge, load_qrels
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.shoppers import ClickModel, QueryTraffic, Shopper, Traffic
from vitrina.events.models import Impression, SearchRecord
from vitrina.events.store import EventStore
from vitrina.experiments.models import Experiment
from vitrina.experiments.report import ExperimentReport, experiment_report
from vitrina.experiments.store import ExperimentStore
from vitrina.learn.learner import Learner
from vitrina.learn.worker import Learners

STATIC = "full"
PAGE = 10


class Judged(BaseModel):
    """The queries of a set and their graded products (gain per product id, 0 if absent)."""
    texts: dict[str, str]
    history: dict[str, list[str]] = Field(default_factory=dict)  # earlier turns of a conversational query
    grades: dict[str, dict[str, float]]
    top_grade: float


class Checkpoint(BaseModel):
    searches: int
    served_ndcg: float
    static_ndcg: float
    ctr: float
    conversion: float
    revenue_per_search: float
    margin_per_search: float
    model_version: int
    weights: dict[str, float] = Field(default_factory=dict)


class SimulationReport(BaseModel):
    dataset: str
    seed: int
    searches: int
    objective: str
    click_model: ClickModel
    traffic: Traffic
    checkpoints: list[Checkpoint]
    static_ndcg: float  # mean over queries that got traffic, static ranking
    learned_ndcg: float
    traffic_static_ndcg: float  # the same, weighted by how often each query was searched
    traffic_learned_ndcg: float
    heldout_static_ndcg: float  # queries that never got traffic
    heldout_learned_ndcg: float
    queries_with_traffic: int
    heldout_queries: int
    revenue_per_search: float
    margin_per_search: float
    conversion: float
    ctr: float
    updates: int
    experiment: ExperimentReport | None = None
    learned_phase_ms_p50: float = 0.0  # the learned phase's own time per search (not answered from the cache)
    ignored_events: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


class Simulation:
    def __init__(self, engine: Engine, db: Database, learner: Learner, judged: Judged, dataset: str,
                 seed: int = 0, click_model: ClickModel | None = None, traffic: Traffic | None = None,
                 currency: str = "USD", learned_profile: str = "learned", experiment: Experiment | None = None,
                 learners: Learners | None = None):
        self.engine, self.learner, self.judged, self.dataset = engine, learner, judged, dataset
        # Every learner the engine's phases made (an experiment's variants may rank by other objectives' learners)
        # updates when the tenant's does, as the service's worker would update them.
        self.learners = learners
        self.store = EventStore(db)
        self.seed = seed
        self.click_model, self.traffic_model = click_model or ClickModel(), traffic or Traffic()
        self.traffic = QueryTraffic(sorted(judged.texts), self.traffic_model, seed)
        self.shopper = Shopper(self.click_model, seed, currency)
        self.profile = learned_profile
        # An A/B test run as the service runs one: each shopper kept in one variant, assignments logged.
        self.experiment = experiment
        self.experiments = ExperimentStore(db) if experiment else None
        if self.experiments is not None and experiment is not None:
            self.experiments.create(learner.tenant, experiment)
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)
        self._static: dict[str, float] = {}
        self._n = 0
        self.phase_ms: list[float] = []

    # --- one search, as the service would serve and log it ---
    def _serve(self, qid: str, user: str, session: str, page: int) -> tuple[list[dict], list[dict]]:
        variant = self.experiment.assign(user) if self.experiment else None
        response = self.engine.search(self.judged.texts[qid], history=self.judged.history.get(qid), size=PAGE,
                                      page=page, profile=variant.profile if variant else self.profile)
        self._n += 1
        if "cache" not in response.timings:
            self.phase_ms += [p.ms for p in response.phases if p.name == "learned"]
        self.clock += timedelta(seconds=1)
        search_id = f"sim{self.seed}-{self._n}"  # deterministic ids: the learner's splits depend on them
        first = (page - 1) * PAGE + 1
        products = [h.product for h in response.hits]
        self.store.log_search(self.learner.tenant, SearchRecord(
            search_id=search_id, query=self.judged.texts[qid], user_id=user, session_id=session, page=page,
            size=PAGE, total=response.total, created_at=self.clock,
            shown=[Impression(position=first + i, product_id=str(h.product["id"]), first_rank=h.explanation.first_rank,
                              signals=h.explanation.signals or None) for i, h in enumerate(response.hits)]))
        if self.experiments is not None and self.experiment is not None and variant is not None:
            self.experiments.record(self.learner.tenant, search_id, self.experiment.name, variant.name)
        grades = self.judged.grades.get(qid, {})
        shown = [(first + i, p, grades.get(str(p["id"]), 0.0) / self.judged.top_grade) for i, p in enumerate(products)]
        events = self.shopper.react(shown)
        for number, event in enumerate(events):
            event.update(event_id=f"{search_id}-{number}", search_id=search_id, user_id=user, session_id=session,
                         timestamp=(self.clock + timedelta(milliseconds=100 * (number + 1))).isoformat())
        if events:
            result = self.store.record_events(self.learner.tenant, events)
            if result.rejected:
                raise RuntimeError(f"the simulator sent invalid events: {result.rejected[:3]}")
        return products, events

    def static_ndcg(self, qid: str) -> float:
        if qid not in self._static:
            hits = self.engine.search(self.judged.texts[qid], history=self.judged.history.get(qid), size=PAGE,
                                      profile=STATIC).hits
            self._static[qid] = self._ndcg(qid, [str(h.product["id"]) for h in hits])
        return self._static[qid]

    def _ndcg(self, qid: str, ranked: list[str]) -> float:
        return ndcg_at_k(ranked, self.judged.grades.get(qid, {}), 10)

    def learned_ndcg(self, qid: str) -> float:
        hits = self.engine.search(self.judged.texts[qid], history=self.judged.history.get(qid), size=PAGE,
                                  profile=self.profile).hits
        return self._ndcg(qid, [str(h.product["id"]) for h in hits])

    def run(self, searches: int, checkpoint: int = 1000, update_every: int = 200,
            heldout_sample: int | None = 500, tick: Callable[[int], None] | None = None) -> SimulationReport:
        started = time.perf_counter()
        checkpoints: list[Checkpoint] = []
        traffic: Counter = Counter()
        window: list[tuple[float, float, list[dict]]] = []  # (served nDCG, static nDCG, events) per search
        since_update = updates = 0
        totals: list[list[dict]] = []
        for n in range(1, searches + 1):
            qid, user = self.traffic.next()
            traffic[qid] += 1
            session = f"{user}-s{n}"
            products, events = self._serve(qid, user, session, page=1)
            served = self._ndcg(qid, [str(p["id"]) for p in products])
            if not any(e["type"] == "click" for e in events) and products and self.shopper.turns_page():
                _, more = self._serve(qid, user, session, page=2)
                events = events + more
            window.append((served, self.static_ndcg(qid), events))
            totals.append(events)
            since_update += len(events)
            if since_update >= update_every:
                for learner in self.learners.all() if self.learners else [self.learner]:
                    learner.update()
                since_update, updates = 0, updates + 1
            if n % checkpoint == 0 or n == searches:
                checkpoints.append(self._checkpoint(n, window))
                window = []
            if tick:
                tick(n)
        learned = {q: self.learned_ndcg(q) for q in sorted(traffic)}
        held = self.traffic.heldout[:heldout_sample] if heldout_sample else self.traffic.heldout
        weight = sum(traffic.values())
        money = _money(totals)
        return SimulationReport(
            dataset=self.dataset, seed=self.seed, searches=searches, objective=self.learner.objective.name,
            click_model=self.click_model, traffic=self.traffic_model, checkpoints=checkpoints,
            static_ndcg=_mean([self.static_ndcg(q) for q in learned]), learned_ndcg=_mean(list(learned.values())),
            traffic_static_ndcg=round(sum(self.static_ndcg(q) * c for q, c in traffic.items()) / weight, 4),
            traffic_learned_ndcg=round(sum(learned[q] * c for q, c in traffic.items()) / weight, 4),
            heldout_static_ndcg=_mean([self.static_ndcg(q) for q in held]),
            heldout_learned_ndcg=_mean([self.learned_ndcg(q) for q in held]),
            queries_with_traffic=len(traffic), heldout_queries=len(held), updates=updates,
            learned_phase_ms_p50=round(statistics.median(self.phase_ms), 3) if self.phase_ms else 0.0,
            ignored_events=dict(self.learner.model.info.ignored_events) if self.learner.model else {},
            experiment=experiment_report(self.experiments.db, self.learner.tenant, self.experiment)
            if self.experiments is not None and self.experiment is not None else None,
            seconds=round(time.perf_counter() - started, 1), **money)

    def _checkpoint(self, n: int, window: list[tuple[float, float, list[dict]]]) -> Checkpoint:
        model = self.learner.model
        return Checkpoint(searches=n, served_ndcg=_mean([w[0] for w in window]),
                          static_ndcg=_mean([w[1] for w in window]), **_money([w[2] for w in window]),
                          model_version=model.info.version if model else 0,
                          weights=model.info.weights if model else {})


def judged_homedepot(qrels: Path) -> Judged:
    """Home Depot relevance 1-3 as gains 0-2, as `vitrina eval` grades them."""
    texts, judged = load_qrels(qrels)
    return Judged(texts=texts, grades={q: {p: r - 1 for p, r in g.items()} for q, g in judged.items()}, top_grade=2.0)


def judged_fashion(queries: Path, catalog: Path, judge_path: Path | None = None) -> Judged:
    """Grades from the fashion set's own judge.py; the last turn is searched with the earlier ones as history."""
    judge = load_judge(judge_path or queries.parent / "judge.py")
    products = list(judge.load_jsonl(catalog))
    specs = judge.load_jsonl(queries)
    grades = {s["id"]: {str(k): float(v) for k, v in judge.grades(s, products).items() if v > 0} for s in specs}
    top = max((g for per in grades.values() for g in per.values()), default=1.0)
    return Judged(texts={s["id"]: s["turns"][-1] for s in specs},
                  history={s["id"]: s["turns"][:-1] for s in specs if len(s["turns"]) > 1}, grades=grades,
                  top_grade=top)


def _money(per_search: list[list[dict]]) -> dict[str, float]:
    n = max(1, len(per_search))
    clicked = sum(1 for events in per_search if any(e["type"] == "click" for e in events))
    bought = sum(1 for events in per_search if any(e["type"] == "purchase" for e in events))
    revenue = sum(e.get("revenue", 0.0) for events in per_search for e in events if e["type"] == "purchase")
    margin = sum(e.get("margin", 0.0) for events in per_search for e in events if e["type"] == "purchase")
    return {"ctr": round(clicked / n, 4), "conversion": round(bought / n, 4),
            "revenue_per_search": round(revenue / n, 4), "margin_per_search": round(margin / n, 4)}


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0
