"""What a shop wants more of, as the gain a shown product earns: clicks, conversion, revenue, margin or a mix.

    gain = (click x clicked + add_to_cart x carted + purchase x bought) x worth(product)

worth is 1 for the clicks and conversion objectives. For revenue and margin it is what the product earns per
purchase over the window's mean purchase (shrunk toward the mean with PRIOR_PURCHASES), mixed by the revenue and
margin weights: a click or a sale of a product that earns twice the mean counts twice. Worth comes from all the
product's purchases in the window, not the one sale that followed one search, so a single expensive order does
not swing a product's evidence, and clicks on high-margin products count for more before anyone has bought.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ObjectiveName = Literal["clicks", "conversion", "revenue", "margin", "mix"]
PresetName = Literal["clicks", "conversion", "revenue", "margin"]  # the objectives that need no weights
PRIOR_PURCHASES = 2.0


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ObjectiveName = "conversion"
    click: float = Field(default=0.1, ge=0, le=1000)
    add_to_cart: float = Field(default=0.3, ge=0, le=1000)
    purchase: float = Field(default=1.0, ge=0, le=1000)
    revenue: float = Field(default=0.0, ge=0, le=1000)  # weight of revenue in a product's worth
    margin: float = Field(default=0.0, ge=0, le=1000)  # weight of margin in a product's worth

    @classmethod
    def named(cls, name: ObjectiveName, **weights: float) -> Objective:
        """A preset; "mix" takes the weights given (unset event weights are 0)."""
        presets: dict[str, dict[str, float]] = {
            "clicks": {"click": 1.0, "add_to_cart": 0.0, "purchase": 0.0},
            "conversion": {},
            "revenue": {"revenue": 1.0},
            "margin": {"margin": 1.0},
            "mix": {"click": 0.0, "add_to_cart": 0.0, "purchase": 0.0},
        }
        return cls(name=name, **{**presets[name], **weights})

    @property
    def values_money(self) -> bool:
        return self.revenue > 0 or self.margin > 0

    def worth(self, purchases: int, revenue: float, margin: float, mean_revenue: float, mean_margin: float) -> float:
        """A product's worth per sale, relative to the mean (1.0 when the objective does not value money)."""
        if not self.values_money:
            return 1.0
        parts = []
        if self.revenue:
            parts.append((self.revenue, _relative(purchases, revenue, mean_revenue)))
        if self.margin:
            parts.append((self.margin, _relative(purchases, margin, mean_margin)))
        return sum(w * v for w, v in parts) / sum(w for w, _ in parts)

    def gain(self, clicked: bool, carted: bool, purchases: int, worth: float = 1.0) -> float:
        return (self.click * clicked + self.add_to_cart * carted + self.purchase * min(purchases, 1)) * worth


def _relative(purchases: int, total: float, mean: float) -> float:
    if mean <= 0:
        return 1.0
    return max(0.0, (total + PRIOR_PURCHASES * mean) / (purchases + PRIOR_PURCHASES) / mean)
