"""Stateless multi-turn search: earlier turns' constraints carry forward unless a later turn replaces them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vitrina.understand.models import ParsedQuery

# A new value in these replaces the old one ("in red" after "blue kurtas"); others accumulate.
REPLACING = {"colors", "brands", "materials", "patterns", "fits", "lengths", "sleeves", "genders", "styles"}


class Turn(BaseModel):
    query: str
    shown: list[str] = Field(default_factory=list)  # product ids shown for this turn, in order


def merge_turns(turns: list[ParsedQuery]) -> ParsedQuery:
    """The last turn read in the context of the earlier ones."""
    merged = turns[0].model_copy(deep=True)
    for turn in turns[1:]:
        merged = _apply(merged, turn)
    return merged


def _apply(state: ParsedQuery, turn: ParsedQuery) -> ParsedQuery:
    carried: list[str] = []
    new = turn.model_copy(deep=True)
    replaced_vocab = {c.vocabulary for c in turn.constraints if not c.negated and not c.implied}
    new_type = bool(turn.types) and not turn.types_implied
    for c in state.constraints:
        if c.implied and new_type:
            continue  # "lbd" -> black does not survive "actually jeans instead"
        if not c.negated and c.vocabulary in REPLACING and c.vocabulary in replaced_vocab:
            continue
        if any(x.vocabulary == c.vocabulary and x.term == c.term and x.negated == c.negated for x in new.constraints):
            continue
        new.constraints.append(c)
        carried.append(f"{'not ' if c.negated else ''}{c.term}")
    if not new_type:
        new.types, new.types_implied = dict(state.types), state.types_implied
        if state.types:
            carried.append("product type")
    if new.price is None and state.price is not None:
        new.price = state.price
        carried.append("price")
    new.keywords = list(dict.fromkeys([*(state.keywords if not new_type else []), *turn.keywords]))
    if not new_type:
        new.semantic_text = " ".join(x for x in (state.semantic_text, turn.semantic_text) if x)
    else:
        kept = [c.source for c in new.constraints if not c.negated and c.source and c.source not in turn.semantic_text]
        new.semantic_text = " ".join(dict.fromkeys([turn.semantic_text, *kept]))
    new.carried = carried
    return new
