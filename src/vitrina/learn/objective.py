"""What a shop wants more of, as the gain one shown product earns: clicks, conversion, revenue, margin or a mix.

Money terms are in units of the window's mean purchase (revenue / mean revenue per purchase), so one weight set
reads the same for a shop selling screws and one selling sofas. Clicks and carts keep a small weight under the
money objectives: they come long before enough purchases do, and mostly lead to them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ObjectiveName = Literal["clicks", "conversion", "revenue", "margin", "mix"]


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ObjectiveName = "conversion"
    click: float = Field(default=0.1, ge=0)
    add_to_cart: float = Field(default=0.3, ge=0)
    purchase: float = Field(default=1.0, ge=0)
    revenue: float = Field(default=0.0, ge=0)  # per mean purchase revenue
    margin: float = Field(default=0.0, ge=0)  # per mean purchase margin

    @classmethod
    def named(cls, name: ObjectiveName, **weights: float) -> Objective:
        """A preset; "mix" takes the weights given (unset ones are 0)."""
        presets: dict[str, dict[str, float]] = {
            "clicks": {"click": 1.0, "add_to_cart": 0.0, "purchase": 0.0},
            "conversion": {},
            "revenue": {"purchase": 0.0, "revenue": 1.0},
            "margin": {"purchase": 0.0, "margin": 1.0},
            "mix": {"click": 0.0, "add_to_cart": 0.0, "purchase": 0.0},
        }
        return cls(name=name, **{**presets[name], **weights})

    @property
    def what(self) -> str:
        """The event the explanation counts: what this objective values most."""
        return {"clicks": "clicks", "revenue": "purchases", "margin": "purchases"}.get(self.name, "purchases")

    def gain(self, clicked: bool, carted: bool, purchases: int, revenue: float, margin: float,
             mean_revenue: float, mean_margin: float) -> float:
        value = self.click * clicked + self.add_to_cart * carted + self.purchase * min(purchases, 1)
        if self.revenue and mean_revenue > 0:
            value += self.revenue * revenue / mean_revenue
        if self.margin and mean_margin > 0:
            value += self.margin * margin / mean_margin
        return value
