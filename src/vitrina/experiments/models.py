"""A/B experiments per tenant: variants are ranking profiles (static "full" against "learned", two weight sets
declared as two profiles, ...), each shopper kept in one variant by a hash of their user or session id."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    profile: str = Field(min_length=1, max_length=64)  # a ranking profile of the tenant's domain
    share: float = Field(default=1.0, gt=0)  # relative traffic share


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    variants: list[Variant] = Field(min_length=2, max_length=10)  # the first is the control
    unit: Literal["user", "session"] = "user"
    # "ab": each shopper sees one variant. "interleave": every first page mixes two variants' rankings by team
    # draft and clicks vote for the variant that placed what was clicked: far fewer searches to a verdict.
    kind: Literal["ab", "interleave"] = "ab"
    status: Literal["running", "stopped"] = "running"

    @model_validator(mode="after")
    def _distinct(self) -> Experiment:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names repeat: {names}")
        if self.kind == "interleave" and len(self.variants) != 2:
            raise ValueError("an interleaving experiment compares exactly two variants")
        return self

    def assign(self, unit_id: str) -> Variant:
        """The same shopper gets the same variant for the life of the experiment; experiments are independent."""
        point = int.from_bytes(hashlib.blake2b(f"{self.name}:{unit_id}".encode(), digest_size=8).digest(), "big") / 2**64
        total = sum(v.share for v in self.variants)
        edge = 0.0
        for variant in self.variants:
            edge += variant.share / total
            if point < edge:
                return variant
        return self.variants[-1]


class Assigned(BaseModel):
    """What a search response says about the experiment it was part of."""
    experiment: str
    variant: str
