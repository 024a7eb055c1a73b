"""The response cache holds answers of repeated searches within a count and a byte budget, oldest use out first."""

import pytest

from conftest import sample_settings
from vitrina.engine import Engine
from vitrina.response_cache import ResponseCache

pytestmark = pytest.mark.fast


def test_the_cache_keeps_within_its_bytes_and_its_count(sample_engine):
    answers = {q: sample_engine.search(q) for q in ("navy shirt", "red dress", "white sneakers", "black boots")}
    sizes = {q: len(a.model_dump_json()) for q, a in answers.items()}
    budget = sizes["navy shirt"] + sizes["red dress"] + sizes["white sneakers"] - 1  # not quite three
    cache = ResponseCache(entries=100, max_bytes=budget)
    for query in ("navy shirt", "red dress", "white sneakers"):
        cache.put(query, answers[query])
    assert cache.get("navy shirt") is None and len(cache) == 2 and cache.bytes <= budget  # the oldest went
    cache.get("red dress")  # used: now the newest
    cache.put("black boots", answers["black boots"])
    assert cache.get("red dress") == answers["red dress"] and cache.get("white sneakers") is None  # kept whole
    counted = ResponseCache(entries=2, max_bytes=10**9)
    for query, answer in answers.items():
        counted.put(query, answer)
    assert len(counted) == 2 and counted.get("black boots") is not None
    tiny = ResponseCache(entries=10, max_bytes=100)  # smaller than any answer: nothing kept, nothing raised
    tiny.put("navy shirt", answers["navy shirt"])
    assert len(tiny) == 0 and not ResponseCache(entries=0, max_bytes=10**9).enabled


def test_an_engine_answers_a_repeat_from_the_cache_only_when_it_has_room(tmp_path, sample_engine, encoder, vector_cache):
    for megabytes, cached in ((8.0, True), (0.0, False)):
        engine = Engine(sample_settings(sample_engine.path, vector_cache, response_cache_mb=megabytes), encoder=encoder)
        engine.search("navy shirt")
        again = engine.search("navy shirt")
        assert ("cache" in again.timings) is cached
        engine.close()


def test_a_cached_answer_reads_back_whole_whatever_it_holds(sample_engine):
    """Answers are kept as JSON: every kind of answer (an outfit, a conversation turn, filters) reads back equal."""
    cache = ResponseCache(entries=10, max_bytes=10**8)
    answers = {"look": sample_engine.search("what should i wear to a summer wedding"),
               "turn": sample_engine.search("cheaper ones", history=["red dress"]),
               "filtered": sample_engine.search("shirt", filters={"price": {"lte": 60}})}
    assert answers["look"].outfit is not None  # the answer that carries the most nested parts
    for key, answer in answers.items():
        cache.put(key, answer)
        assert cache.get(key) == answer
