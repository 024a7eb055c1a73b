"""Our BM25 (Qdrant Edge's scored text index) against an independent implementation (bm25s).

Both are configured alike (English Snowball stemming, English stopwords, k1=1.2, b=0.75); the remaining
differences are tokenisation (Qdrant's word tokenizer splits on more punctuation) and IDF smoothing.
"""

import json

import pytest

import vitrina
from conftest import HOMEDEPOT, need
from vitrina.evaluate.datasets import load_qrels

N_PRODUCTS = 3000


@pytest.mark.slow
def test_bm25_agrees_with_bm25s_on_home_depot_titles(tmp_path):
    need(HOMEDEPOT / "products.jsonl")
    import bm25s
    import Stemmer

    rows = [json.loads(line) for line in open(HOMEDEPOT / "products.jsonl", encoding="utf-8")][:N_PRODUCTS]
    feed = tmp_path / "titles.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    engine = vitrina.open(tmp_path / "index", domain="generic")
    engine.ingest(feed, feed="homedepot", fresh=True, vectors="later")  # words only: no vectors to wait for
    index = engine.pipeline().index

    stemmer = Stemmer.Stemmer("english")
    titles = [r["title"] for r in rows]
    ids = [r["product_uid"] for r in rows]
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(bm25s.tokenize(titles, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)

    texts, _ = load_qrels(HOMEDEPOT / "dev-qrels.tsv")
    overlaps = []
    for query in list(texts.values())[:300]:
        ours = [h.id for h in index.bm25(query, 10)]
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            continue
        docs, scores = reference.retrieve(tokens, k=10, show_progress=False)
        theirs = [ids[d] for d, s in zip(docs[0], scores[0], strict=False) if s > 0]
        if not theirs and not ours:
            continue
        overlaps.append(len(set(ours) & set(theirs)) / max(len(theirs), len(ours)))
    engine.close()
    mean = sum(overlaps) / len(overlaps)
    print(f"mean top-10 overlap with bm25s over {len(overlaps)} queries: {mean:.3f}")
    assert mean >= 0.6
