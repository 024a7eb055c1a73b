"""The learner's view of the log: the latest searches of a tenant, what each showed where, and what followed.

Only events that can be trusted to mean something are learned from: their search is in the log (known_search)
and the product was shown in that search. A click repeated on one result counts once; one shopper's clicks on
one product count at most `cap` times in the window (a flood of clicks is not a crowd). Everything else is
counted, by reason, and left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Engine, func, select

from vitrina.events.schema import events, impressions, searches
from vitrina.learn.objective import Objective

STOPWORDS = frozenset("a an and the for of in on with to by at from or is are my me i you it this that".split())


def query_key(text: str) -> str:
    """The normalised query the evidence is keyed by: case, accents, punctuation and spacing do not matter."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[a-z0-9]+(?:[.'/][a-z0-9]+)*", folded))


def query_terms(key: str) -> tuple[str, ...]:
    """Content words of a query key, the unit evidence carries over to other queries with."""
    return tuple(dict.fromkeys(t for t in key.split() if t not in STOPWORDS and len(t) > 1))


class Shown(NamedTuple):
    position: int
    product_id: str
    first_rank: int  # before learning; the position where no learned phase ran
    signals: dict[str, float] | None  # the first phase's signals, as logged


@dataclass
class Outcome:
    clicked: bool = False
    carted: bool = False
    purchases: int = 0
    revenue: float = 0.0
    margin: float = 0.0


@dataclass
class LoggedSearch:
    search_id: str
    key: str
    user: str | None
    shown: list[Shown]  # by position
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def gain(self, pid: str, objective: Objective, worth: dict[str, float]) -> float:
        """What showing this product here earned, under the objective (0 when nothing followed)."""
        o = self.outcomes.get(pid)
        return objective.gain(o.clicked, o.carted, o.purchases, worth.get(pid, 1.0)) if o else 0.0


@dataclass
class Window:
    searches: list[LoggedSearch]  # oldest first
    ignored: Counter = field(default_factory=Counter)  # reason -> events left out
    learned_events: int = 0
    last_event: int = 0  # the highest events.id seen: what the next update starts after

    def worth(self, objective: Objective) -> dict[str, float]:
        """Each purchased product's worth under the objective (objective.py); products not bought are worth 1."""
        if not objective.values_money:
            return {}
        sold: dict[str, list[float]] = {}
        for s in self.searches:
            for pid, o in s.outcomes.items():
                if o.purchases:
                    totals = sold.setdefault(pid, [0, 0.0, 0.0])
                    totals[0] += o.purchases
                    totals[1] += o.revenue
                    totals[2] += o.margin
        units = sum(t[0] for t in sold.values())
        mean_revenue = sum(t[1] for t in sold.values()) / units if units else 0.0
        mean_margin = sum(t[2] for t in sold.values()) / units if units else 0.0
        return {pid: objective.worth(int(n), revenue, margin, mean_revenue, mean_margin)
                for pid, (n, revenue, margin) in sold.items()}


def load_window(db: Engine, tenant: str, max_searches: int, cap_per_user_product: int) -> Window:
    latest = (select(searches.c.search_id).where(searches.c.tenant == tenant)
              .order_by(searches.c.created_at.desc(), searches.c.search_id).limit(max_searches).subquery())
    with db.connect() as conn:
        rows = conn.execute(
            select(searches.c.search_id, searches.c.query, searches.c.user_id, searches.c.session_id,
                   impressions.c.position, impressions.c.product_id, impressions.c.first_rank,
                   impressions.c.signals)
            .select_from(searches.join(impressions, impressions.c.search_id == searches.c.search_id))
            .where(searches.c.search_id.in_(select(latest.c.search_id)))
            .order_by(searches.c.created_at, searches.c.search_id, impressions.c.position)).all()
        happened = conn.execute(
            select(events.c.id, events.c.search_id, events.c.known_search, events.c.product_id, events.c.type,
                   events.c.user_id, events.c.session_id, events.c.quantity, events.c.revenue, events.c.margin)
            .where(events.c.tenant == tenant, events.c.search_id.in_(select(latest.c.search_id)))
            .order_by(events.c.id)).all()
        unattributed = conn.scalar(select(func.count()).select_from(events).where(
            events.c.tenant == tenant, events.c.known_search.is_(False)))
        last = conn.scalar(select(events.c.id).where(events.c.tenant == tenant).order_by(events.c.id.desc()).limit(1))
    by_id: dict[str, LoggedSearch] = {}
    for search_id, query, user, session, position, product, first_rank, signals in rows:
        logged = by_id.get(search_id)
        if logged is None:
            logged = by_id[search_id] = LoggedSearch(search_id, query_key(query), user or session, [])
        logged.shown.append(Shown(position, product, first_rank or position, signals))
    window = Window(searches=list(by_id.values()), last_event=last or 0)
    window.ignored["unknown search"] = unattributed or 0
    shown_in = {s.search_id: {shown.product_id for shown in s.shown} for s in window.searches}
    per_shopper: Counter = Counter()
    for _, search_id, known, product, kind, user, session, quantity, revenue, margin in happened:
        if not known:
            continue  # counted above
        if product not in shown_in[search_id]:
            window.ignored["product not shown in that search"] += 1
            continue
        outcome = by_id[search_id].outcomes.setdefault(product, Outcome())
        if kind == "click":
            if outcome.clicked:
                window.ignored["repeated click"] += 1
                continue
            shopper = (user or session or by_id[search_id].user, product)
            if shopper[0] is not None:
                per_shopper[shopper] += 1
                if per_shopper[shopper] > cap_per_user_product:
                    window.ignored["over the per-shopper cap"] += 1
                    continue
            outcome.clicked = True
        elif kind == "add_to_cart":
            outcome.carted = True
        elif kind == "purchase":
            outcome.purchases += quantity
            outcome.revenue += revenue or 0.0
            outcome.margin += margin or 0.0
        else:
            continue  # views say nothing the impressions don't
        window.learned_events += 1
    return window
