"""Named ranking profiles, declared in data (rules/<domain>/ranking.json), in the manner of Vespa rank profiles:
which retriever lists feed the fusion and with what weight, which signals score the first phase and with what
weight, which later phases re-rank the top. The ablations (bm25, vector, rrf) are profiles too.

    {"profiles": {"full": {"retrievers": {"bm25": 0.4, "vector": 0.6}, "signals": {"semantic": 0.25, ...}},
                  "bm25": {"inherits": "full", "understanding": "words", "retrievers": {"bm25": 1}, ...}}}

A domain's file adds profiles to the generic file's; a domain profile named like a generic one changes only the
fields it sets. `inherits` copies another profile and changes the fields this one sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vitrina.understand.rules import RulesError, rule_files, validated


class PhaseSpec(BaseModel):
    """A later ranking phase: re-ranks the top `depth` hits within `budget_ms`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    depth: int = Field(default=30, ge=1, le=1000)
    budget_ms: float = Field(default=50.0, gt=0)


class RankProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    inherits: str | None = None
    description: str = ""
    # "conversation": the rules' reading with the earlier turns; "words": the normalised words of this turn only.
    understanding: Literal["conversation", "words"] = "conversation"
    retrievers: dict[str, float] = Field(default_factory=dict)  # list -> RRF weight (vitrina.retrieve.hybrid.LISTS)
    query_filters: bool = True  # the query's hard constraints and relaxable preferences pre-filter every list
    exact_ids: bool = True  # product ids typed verbatim come first
    signals: dict[str, float] = Field(default_factory=dict)  # signal -> weight; none: the fused order
    boosts: dict[str, float] = Field(default_factory=dict)  # boost -> size (vitrina.rank.ranker.BOOSTS)
    min_cosine: float = Field(default=0.0, ge=-1, le=1)  # a hit only the vectors found must be this close to match
    phases: list[PhaseSpec] = Field(default_factory=list)
    facets: bool = True

    @field_validator("retrievers", "signals", "boosts")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"weights must be >= 0: {bad}")
        return value

    def changed(self, other: RankProfile) -> RankProfile:
        """This profile with the fields `other` sets."""
        update = {k: getattr(other, k) for k in other.model_fields_set if k not in ("name", "inherits")}
        return self.model_copy(update=update)


class RankingProfiles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: dict[str, RankProfile]

    def get(self, name: str) -> RankProfile:
        if name not in self.profiles:
            raise RulesError(f"no ranking profile {name!r}; known: {', '.join(sorted(self.profiles))}")
        return self.profiles[name]


def load_profiles(domain: str, rules_path: Path | None = None) -> RankingProfiles:
    declared: dict[str, RankProfile] = {}
    for path in rule_files(domain, rules_path, "ranking"):
        for name, profile in validated(RankingProfiles, path).profiles.items():
            base = declared.get(name)
            declared[name] = base.changed(profile) if base is not None and profile.inherits is None else profile

    resolved: dict[str, RankProfile] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> RankProfile:
        if name in resolved:
            return resolved[name]
        if name in chain:
            raise RulesError(f"ranking profiles inherit in a circle: {' -> '.join([*chain, name])}")
        if name not in declared:
            raise RulesError(f"ranking profile {chain[-1]!r} inherits unknown profile {name!r}")
        profile = declared[name]
        if profile.inherits:
            profile = resolve(profile.inherits, (*chain, name)).changed(profile)
        resolved[name] = profile.model_copy(update={"name": name})
        return resolved[name]

    return RankingProfiles(profiles={name: resolve(name, ()) for name in declared})
