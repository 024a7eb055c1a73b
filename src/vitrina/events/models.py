"""The event schema: every interaction points back to the search (and position) that showed the item."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EventType = Literal["view", "click", "add_to_cart", "purchase"]
MONEY_FIELDS = ("price", "revenue", "margin")


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


class Event(BaseModel):
    """One shopper interaction, as the pixel or a shop's backend sends it."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=128)  # chosen by the client: a retry is stored once
    type: EventType
    product_id: str = Field(min_length=1, max_length=256)
    search_id: str | None = Field(default=None, max_length=64)
    position: int | None = Field(default=None, ge=1, le=10_000)  # 1-based, across pages
    user_id: str | None = Field(default=None, max_length=256)
    session_id: str | None = Field(default=None, max_length=256)
    timestamp: datetime | None = None  # missing: the time of receipt, flagged in the batch result
    quantity: int = Field(default=1, ge=1, le=100_000)
    price: float | None = Field(default=None, ge=0)
    revenue: float | None = Field(default=None, ge=0)
    margin: float | None = None  # may be negative: sold below cost
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")

    _text = field_validator("event_id", "product_id", "search_id", "user_id", "session_id")(_printable)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator(*MONEY_FIELDS)
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _money(self) -> Event:
        if self.type == "purchase":
            if self.revenue is None and self.price is None:
                raise ValueError("a purchase needs revenue or price")
            if self.revenue is None and self.price is not None:
                self.revenue = round(self.price * self.quantity, 2)
        if any(getattr(self, f) is not None for f in MONEY_FIELDS):
            if self.currency is None:
                raise ValueError("currency is required when price, revenue or margin is given")
            self.currency = self.currency.upper()
        return self


class RejectedEvent(BaseModel):
    index: int  # position in the batch, from 0
    event_id: str | None = None
    field: str
    reason: str


class EventBatchResult(BaseModel):
    received: int
    stored: list[str] = Field(default_factory=list)  # event ids newly stored
    duplicates: list[str] = Field(default_factory=list)  # already stored earlier: acknowledged, not stored twice
    unknown_search: list[str] = Field(default_factory=list)  # stored, flagged: their search_id is not in the log
    timestamped_on_receipt: list[str] = Field(default_factory=list)  # stored with the time they arrived: none given
    rejected: list[RejectedEvent] = Field(default_factory=list)


class Impression(BaseModel):
    position: int
    product_id: str
    # Its rank before the learned phase moved it (the static ranking's): what a counterfactual check of another
    # model starts from. None where no learned phase ran: the position is the static rank.
    first_rank: int | None = None
    signals: dict[str, float] | None = None  # the first phase's signal scores (rank.signals), for the learner


class SearchRecord(BaseModel):
    """One line of the search log: what was asked and what was shown where."""

    search_id: str
    query: str
    user_id: str | None = None
    session_id: str | None = None
    filters: dict | None = None
    page: int = 1
    size: int = 10
    total: int = 0
    took_ms: float = 0.0
    created_at: datetime | None = None
    shown: list[Impression] = Field(default_factory=list)
