"""Stateless multi-turn search: earlier turns' constraints carry forward unless a later turn replaces them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vitrina.understand.models import QueryDraft, QueryFields
from vitrina.understand.parser import owners_written


class Turn(BaseModel):
    query: str
    shown: list[str] = Field(default_factory=list)  # product ids shown for this turn, in order


def _without(text: str, phrases: list[str]) -> str:
    """`text` less the given phrases (whole words only)."""
    words = text.split()
    for phrase in phrases:
        part = phrase.split()
        for i in range(len(words) - len(part), -1, -1):
            if part and words[i:i + len(part)] == part:
                del words[i:i + len(part)]
    return " ".join(words)


def merge_turn(state: QueryFields, turn: QueryFields) -> QueryDraft:
    """The newer turn read in the context of the state so far (a draft: the caller builds it)."""
    carried: list[str] = []
    dropped: list[str] = []
    new = QueryDraft.of(turn)
    # A default no words implied ("pink ones": a grown-up's) is neither turn's to carry: the turns merged decide it
    new.constraints = [c for c in new.constraints if not c.default]
    # A new value of a replacing vocabulary ("in red" after "blue kurtas") replaces the old; others accumulate. A
    # person written as an owner ("i'm a man", then "for my sister's wedding") replaces no one: whose the wedding is
    owners = owners_written(turn.raw, [c.source for c in turn.constraints if c.vocabulary == "genders"])
    replaced_vocab = {c.vocabulary for c in turn.constraints if not c.negated and not c.implied
                      and not (c.vocabulary == "genders" and c.source in owners)}
    # What a turn only implies replaces only what an earlier turn implied ("for my son" after "for men": kids' wear).
    implied_vocab = {c.vocabulary for c in new.constraints if not c.negated and c.implied}
    new_type = bool(turn.types) and not turn.types_implied
    # What a said word implies of the shopper ("my son": a kid) is no type's: it survives a new type
    words_said = {c.source for c in state.constraints if not c.implied and c.source}
    # ... but not the word's own reading anew ("my son", then "he's 15": a teenager, no more a kid)
    turn_sources = {c.source for c in turn.constraints}
    read_anew = {c.source for c in state.constraints if not c.implied and not c.negated and c.replaces
                 and c.vocabulary in replaced_vocab and c.source in turn_sources}
    for c in state.constraints:
        if c.default:
            continue
        if c.implied and new_type and c.source not in words_said:
            continue  # "lbd" -> black does not survive "actually jeans instead"
        if not c.negated and c.replaces and (c.vocabulary in replaced_vocab
                                             or (c.implied and (c.vocabulary in implied_vocab or c.source in read_anew))):
            dropped.append(c.source)  # "black" must leave the carried words too, or "in white" still finds black
            continue
        if any(x.vocabulary == c.vocabulary and x.term == c.term and x.negated == c.negated for x in new.constraints):
            continue
        new.constraints.append(c)
        carried.append(f"{'not ' if c.negated else ''}{c.term}")
    if not new_type and state.types_implied and turn.types_implied and turn.types:
        # Kinds only implied before and now ("a gift for my mom", then "she likes ethnic wear"): the settings and
        # needs of both turns, merged, imply them anew
        new.types, new.types_implied = {}, False
    elif not new_type:
        new.types, new.types_implied = dict(state.types), state.types_implied
        if state.types:
            carried.append("product type")
    if new.price is None and state.price is not None:
        new.price = state.price
        carried.append("price")
    new.sizes = list(dict.fromkeys([*state.sizes, *turn.sizes])) if not turn.sizes else list(turn.sizes)
    new.keywords = list(dict.fromkeys([*(state.keywords if not new_type else []), *turn.keywords]))
    # Ruled-out words carry as negated terms do, unless this turn asks for one again.
    kept_out = [w for w in state.excluded if w not in turn.keywords]
    new.excluded = list(dict.fromkeys([*kept_out, *turn.excluded]))
    carried += [f"not {w}" for w in kept_out]
    # A turn of only a bound ("under 2000", "cheaper") has no words to embed: its text is the bound's own; nor has
    # one of only what the shopper has ("to go with a white kurta": whom and when for, implied)
    said = turn.semantic_text if turn.keywords or new_type or any(not c.implied for c in turn.constraints) else ""
    if not new_type:
        earlier = _without(state.semantic_text, dropped)
        new.semantic_text = " ".join(x for x in (earlier, said) if x)
    else:
        kept = [c.source for c in new.constraints if not c.negated and c.source and c.source not in said]
        new.semantic_text = " ".join(dict.fromkeys([said, *kept]))
    new.raw, new.normalized = turn.raw, turn.normalized
    new.intent = turn.intent if turn.intent.value != "product_search" else state.intent
    new.carried = carried
    return new
