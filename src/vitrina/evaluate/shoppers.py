"""Simulated shoppers: who searches for what, what they look at, click, put in the cart and buy.

Traffic: query popularity is Zipf (weight 1/rank^exponent over a seeded shuffle of the queries); a seeded
`heldout_share` of the queries never gets traffic (the generalisation set). Shoppers come from a pool of
`users`, each search in a session of its own user.

Clicks follow the position-based model: a shopper examines position k with probability 1/k^position_decay
(positions count on across pages). An examined product with relevance grade g (normalised to gn = g / top grade
of the set) is clicked with probability click_noise + click_gain * gn (so irrelevant products get a few noise
clicks); a click goes to the cart with probability cart_base + cart_gain * gn; a cart is bought with probability
buy_base + buy_gain * gn, quantity 1. A shopper with no click on page 1 opens page 2 with probability next_page.

Money: revenue is the product's price x quantity. Products without a price (the Home Depot set has none) get
a simulated one, lognormal (median 30, sigma 1) seeded by the product id. The margin rate is deterministic per
product: a category base, 0.08 + 0.32 * u(category), plus a product jitter of +-0.06 * (2 u(id) - 1), where u()
maps a sha256 to [0, 1): some categories earn more, and within them some products do.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random

from pydantic import BaseModel, ConfigDict, Field


class ClickModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position_decay: float = Field(default=1.0, gt=0)
    click_noise: float = Field(default=0.03, ge=0, le=1)
    click_gain: float = Field(default=0.6, ge=0, le=1)
    cart_base: float = Field(default=0.05, ge=0, le=1)
    cart_gain: float = Field(default=0.4, ge=0, le=1)
    buy_base: float = Field(default=0.2, ge=0, le=1)
    buy_gain: float = Field(default=0.5, ge=0, le=1)
    next_page: float = Field(default=0.3, ge=0, le=1)


class Traffic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zipf_exponent: float = Field(default=1.0, gt=0)
    heldout_share: float = Field(default=0.2, ge=0, lt=1)
    users: int = Field(default=2000, ge=1)


def unit(text: str) -> float:
    """A deterministic number in [0, 1) from any text."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2 ** 64


def price_of(product: dict) -> float:
    if product.get("price"):
        return float(product["price"])
    return round(random.Random(f"price:{product['id']}").lognormvariate(math.log(30.0), 1.0), 2)


def margin_rate(product: dict) -> float:
    category = str(product.get("category") or product.get("product_type") or "")
    return 0.08 + 0.32 * unit(f"category:{category}") + 0.06 * (2 * unit(f"margin:{product['id']}") - 1)


class QueryTraffic:
    """Which queries get searched, how often, and which are kept from all traffic."""

    def __init__(self, query_ids: list[str], traffic: Traffic, seed: int):
        shuffled = sorted(query_ids)
        random.Random(f"traffic:{seed}").shuffle(shuffled)
        held = int(len(shuffled) * traffic.heldout_share)
        self.heldout, self.served = shuffled[:held], shuffled[held:]
        self.cumulative = list(itertools.accumulate(1.0 / rank ** traffic.zipf_exponent
                                                    for rank in range(1, len(self.served) + 1)))
        self.rng = random.Random(f"searches:{seed}")
        self.users = traffic.users

    def next(self) -> tuple[str, str]:
        """(query id, user id) of the next search."""
        qid = self.rng.choices(self.served, cum_weights=self.cumulative)[0]
        return qid, f"user{self.rng.randrange(self.users)}"


class Shopper:
    """What one shopper does with one page of results, as events."""

    def __init__(self, model: ClickModel, seed: int, currency: str = "USD"):
        self.model = model
        self.currency = currency
        self.rng = random.Random(f"shopper:{seed}")

    def react(self, shown: list[tuple[int, dict, float]]) -> list[dict]:
        """shown: (position, product, normalised grade) -> events (without ids, search or user)."""
        m, out = self.model, []
        for position, product, gn in shown:
            if self.rng.random() >= 1.0 / position ** m.position_decay:
                continue
            if self.rng.random() >= m.click_noise + m.click_gain * gn:
                continue
            pid = str(product["id"])
            out.append({"type": "click", "product_id": pid, "position": position})
            if self.rng.random() >= m.cart_base + m.cart_gain * gn:
                continue
            out.append({"type": "add_to_cart", "product_id": pid, "position": position})
            if self.rng.random() >= m.buy_base + m.buy_gain * gn:
                continue
            price = price_of(product)
            out.append({"type": "purchase", "product_id": pid, "position": position, "quantity": 1,
                        "price": price, "revenue": price, "margin": round(price * margin_rate(product), 2),
                        "currency": self.currency})
        return out

    def turns_page(self) -> bool:
        return self.rng.random() < self.model.next_page
