"""Speed and memory of the engine itself: ingest, per-stage query latency, two clients, RSS, with a baseline.

Catalogs: the real fashion feed, or real products replicated to 100k / 1M with new ids and jittered prices and
ratings. The embedding text of a replica is its source's, so its vector comes from the content-hash cache and a
1M run does not spend hours re-encoding; encoder throughput is measured on its own.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import psutil

from vitrina.catalog.demo import real_selection
from vitrina.catalog.embedding_text import embedding_text, keyword_text
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.validate import validate_rows
from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine

SIZES = {"quick": 1_000, "44k": None, "100k": 100_000, "1m": 1_000_000}
STAGES = ("understand", "embed", "retrieve_bm25", "retrieve_vector", "fuse", "fetch", "rank", "facets", "total")
Tick = Callable[[str, int, int | None], None]


def real_products(catalog: Path, feed: str, limit: int | None = None) -> list[Product]:
    """The feed's valid products, stopping after `limit` (a quick run needs only the first few thousand)."""
    valid = (p for p in validate_rows(make_feed(feed).rows(catalog)) if isinstance(p, Product))
    return list(islice(valid, limit))


def bench_products(size: str, catalog: Path, feed: str) -> list[Product]:
    """A quick run's 1,000 fashion products are spread over every product type (the demo's selection), as the
    catalog is, not its first rows; the other sizes start from every product."""
    if size == "quick" and feed == "myntra":
        return real_selection(catalog, SIZES[size] or 0)
    return real_products(catalog, feed, SIZES[size])


def replicate(products: list[Product], size: int, seed: int = 7) -> Iterator[Product]:
    """The real products first, then copies with new ids, prices within ±20% and ratings nudged."""
    rng = random.Random(seed)
    for i in range(size):
        source = products[i % len(products)]
        if i < len(products):
            yield source
            continue
        change: dict = {"id": f"{source.id}-r{i // len(products)}"}
        if source.price:
            change["price"] = round(source.price * rng.uniform(0.8, 1.2), 2)
        if source.rating is not None:
            change["rating"] = round(min(5.0, max(0.0, source.rating + rng.uniform(-0.3, 0.3))), 1)
        yield source.model_copy(update=change)


def bench_queries(shared: Path, wanted: int) -> list[str]:
    """Real shopper queries: every fashion dev turn, then Home Depot queries up to `wanted`."""
    out: list[str] = []
    dev = shared / "fashion-queries" / "dev.jsonl"
    if dev.exists():
        out += [t for line in dev.read_text().splitlines() if line.strip() for t in json.loads(line)["turns"]]
    qrels = shared / "homedepot" / "dev-qrels.tsv"
    if qrels.exists() and len(out) < wanted:
        texts, _ = load_qrels(qrels)
        out += [texts[q] for q in sorted(texts)][: wanted - len(out)]
    return out[:wanted]


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    p50, p95, p99 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


def rss_mb() -> float:
    return round(psutil.Process().memory_info().rss / 1024 / 1024, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class PhasePeaks:
    """Peak RSS per phase of an ingest (rows upserted, then the HNSW build), and of it the anonymous memory (heap,
    not pages of the shard's mapped files, which the kernel can write back and drop). Sampled by a child process:
    the shard's native calls hold the GIL, so a thread in this process would miss the build's peak."""

    PHASES = ("start", "ingest", "optimize")

    def __init__(self, every_s: float = 0.1):
        context = multiprocessing.get_context("spawn")
        self._phase = context.Value("i", 0)
        self._peaks = context.Array("d", len(self.PHASES))
        self._anon = context.Array("d", len(self.PHASES))
        self._stop = context.Event()
        self._child = context.Process(target=_sample_rss, daemon=True, args=(
            os.getpid(), self._phase, self._peaks, self._anon, self._stop, every_s))
        self._child.start()
        self.anonymous: dict[str, float] = {}  # the anonymous memory's peak per phase, once stopped

    def enter(self, phase: str) -> None:
        if phase in self.PHASES:
            self._phase.value = self.PHASES.index(phase)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._child.join()
        self.anonymous = {name: round(self._anon[i], 1) for i, name in enumerate(self.PHASES) if self._anon[i]}
        return {name: round(self._peaks[i], 1) for i, name in enumerate(self.PHASES) if self._peaks[i]}


def _sample_rss(pid: int, phase, peaks, anon, stop, every_s: float) -> None:
    status = Path(f"/proc/{pid}/status")
    process = psutil.Process(pid)
    while not stop.wait(every_s):
        if status.exists():  # Linux: both figures from one read, in kB
            kb = {row.split(":")[0]: int(row.split()[1]) for row in status.read_text().splitlines()
                  if row.startswith(("VmRSS:", "RssAnon:"))}
            rss, anonymous = kb["VmRSS"] / 1024, kb["RssAnon"] / 1024
        else:
            rss, anonymous = process.memory_info().rss / 1024 / 1024, 0.0
        peaks[phase.value] = max(peaks[phase.value], rss)
        anon[phase.value] = max(anon[phase.value], anonymous)


def index_files(path: Path, skip: str = "vectors.sqlite") -> Iterator[Path]:
    """The files of an index folder, without the vector cache that may live beside it."""
    return (f for f in path.rglob("*") if f.is_file() and f.name != skip)


def dir_size_mb(path: Path) -> float:
    """Blocks actually used: the shard preallocates sparse files whose apparent size means nothing."""
    return round(sum(f.stat().st_blocks * 512 for f in index_files(path)) / 2**20, 1)


def read_through(path: Path) -> None:
    """Read every file of an index once, so its pages are in the OS cache as on a server that has been up: this
    machine evicts file pages that no process maps once unread for ~60 s (a DAMON pageout scheme), and a reused
    index would otherwise time cold disk."""
    for f in index_files(path):
        with f.open("rb") as handle:
            while handle.read(1 << 20):
                pass


THROUGHPUT_SAMPLE = 256  # texts that time the encoder


def encoder_throughput(engine: Engine, products: list[Product], n: int = THROUGHPUT_SAMPLE) -> float:
    """Texts/s of the encoder alone on real product texts (no cache)."""
    texts = [embedding_text(p) for p in products[:n]]
    engine.encoder.encoder.encode(texts[:16])  # warm
    started = time.perf_counter()
    engine.encoder.encoder.encode(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def _fixed_work() -> float:
    """A constant CPU task about as long as a query, timed between queries: when its p99 jumps as the engine's
    does, the machine stalled (a short task would slip between stalls and see nothing)."""
    started = time.perf_counter()
    sum(i * i for i in range(600_000))
    return (time.perf_counter() - started) * 1000


def latency(engine: Engine, queries: list[str]) -> dict:
    """Per-stage latency over the queries: once new (nothing cached), once repeated; and the noise probe."""
    for q in ("warm up the engine", "blue shirt", "black jeans for men", "red dress under 1000", "running shoes"):
        engine.search(q, size=11)  # a different page size: these stay out of the response cache
    runs: dict[str, dict[str, list[float]]] = {"new": {}, "repeated": {}}
    probe: list[float] = []
    for label in ("new", "repeated"):
        stages = runs[label]
        for query in queries:
            started = time.perf_counter()
            response = engine.search(query)
            stages.setdefault("wall", []).append((time.perf_counter() - started) * 1000)
            for stage, ms in response.timings.items():
                stages.setdefault(stage, []).append(ms)
            if len(stages["wall"]) % 4 == 0:
                probe.append(_fixed_work())
    out: dict[str, dict] = {label: {stage: percentiles(v) for stage, v in stages.items()} for label, stages in runs.items()}
    out["noise_probe"] = {**percentiles(probe), "runs": len(probe),
                          "over_5x_median": sum(p > 5 * statistics.median(probe) for p in probe)}
    return out


def throughput(settings: Settings, queries: list[str], clients: int) -> float:
    """Queries/s with `clients` threads, each with its own engine over the same index (as worker processes would)."""
    # Each client gets its share of the cores for its encoder, as separate worker processes would be sized.
    encoder = settings.encoder.model_copy(update={"threads": max(1, settings.encoder.threads // clients)})
    uncached = settings.model_copy(update={"response_cache_size": 0, "encoder": encoder, "warm_on_open": True})
    engines = [Engine(uncached) for _ in range(clients)]  # each warmed at open
    share = [queries[i::clients] for i in range(clients)]
    threads = [threading.Thread(target=lambda e=e, qs=qs: [e.search(q) for q in qs])
               for e, qs in zip(engines, share, strict=True)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for e in engines:
        e.close()
    return round(len(queries) / elapsed, 1)


class ReferenceBM25:
    """The baseline beside us in the same run: bm25s over the same products' keyword text."""

    def __init__(self, products: Iterator[Product]):
        try:
            import bm25s
            import Stemmer
        except ImportError as exc:
            raise RuntimeError("the reference BM25 needs the eval extra: pip install 'vitrina[eval]'") from exc

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        corpus, self.ids = [], []
        for p in products:
            corpus.append(keyword_text(p))
            self.ids.append(p.id)
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=self.stemmer, show_progress=False),
                             show_progress=False)
        self.size = len(corpus)

    def search(self, query: str, k: int = 100):
        tokens = self.bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        return self.retriever.retrieve(tokens, k=min(k, self.size), show_progress=False, n_threads=1)

    def ranked(self, query: str, k: int = 100) -> list[str]:
        found = self.search(query, k)
        if not found:
            return []
        documents, _ = found
        return [self.ids[i] for i in documents[0]]

    def rerank(self, query: str, product_ids: list[str]) -> list[str]:
        tokens = self.bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False,
                                     return_ids=False)[0]
        scores = self.retriever.get_scores(tokens) if tokens else None
        score = {pid: float(scores[self.row[pid]]) if scores is not None and pid in self.row else 0.0
                 for pid in product_ids}
        return sorted(product_ids, key=lambda pid: -score[pid])

    def latency(self, queries: list[str]) -> dict[str, float]:
        times = []
        for query in queries:
            started = time.perf_counter()
            self.search(query)
            times.append((time.perf_counter() - started) * 1000)
        return percentiles(times)


def learned_overhead(settings: Settings, queries: list[str], work: Path, searches: int) -> dict:
    """What the learned phase costs a search on this index. Simulated shoppers (evaluate.simulate) search the
    bench queries and each wants one product of that query's static top 30; the learner updates from them as the
    service's would. Then the same queries, with the response cache off (query vectors cached for both), are
    timed with the `full` and the `learned` profile in turn: the learned phase's own p50 and the whole search's
    p50 against `full`."""
    import logging

    from vitrina.evaluate.shoppers import unit
    from vitrina.evaluate.simulate import Judged, Simulation
    from vitrina.events.db import connect
    from vitrina.learn.worker import Learners

    database = work / "bench-learning.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    db = connect(f"sqlite:///{database}")
    learners = Learners(db, settings.learning, logging.getLogger("vitrina.learn"))
    engine = Engine(settings, phases=learners.phases("bench"))
    texts = {f"b{n}": q for n, q in enumerate(queries)}
    grades = {}
    for qid, text in texts.items():
        ids = [str(h.product["id"]) for h in engine.search(text, size=30, profile="full").hits]
        if ids:
            grades[qid] = {ids[int(unit(text) * len(ids))]: 1.0}
    judged = Judged(texts={q: texts[q] for q in grades}, grades=grades, top_grade=1.0)
    simulation = Simulation(engine, db, learners.get("bench"), judged, "bench", learners=learners)
    simulation.run(searches, checkpoint=searches, update_every=50, heldout_sample=1)
    learners.get("bench").update()  # what the worker's next poll would do with the last events
    model = learners.get("bench").model
    uncached = Engine(settings.model_copy(update={"response_cache_size": 0}), phases=learners.phases("bench"))
    timed: dict[str, list[float]] = {"full": [], "learned": [], "phase": []}
    for text in queries:
        uncached.search(text, profile="full")  # both timed runs then find the query's vector cached alike
        for profile in ("full", "learned"):
            started = time.perf_counter()
            response = uncached.search(text, profile=profile)
            timed[profile].append((time.perf_counter() - started) * 1000)
            timed["phase"] += [p.ms for p in response.phases if p.name == "learned" and p.status in ("ran", "late")]
    engine.close()
    uncached.close()
    db.dispose()
    full, learned = statistics.median(timed["full"]), statistics.median(timed["learned"])
    return {"simulated_searches": searches, "model_version": model.info.version if model else 0,
            "weights": model.info.weights if model else {},
            "evidence_pairs": len(model.evidence.queries) if model else 0,
            "phase_ms": percentiles(timed["phase"]), "full_p50_ms": round(full, 2), "learned_p50_ms": round(learned, 2),
            "learned_minus_full_p50_ms": round(learned - full, 2)}


def llm_overhead(settings: Settings, queries: list[str]) -> dict:
    """What the LLM layer costs new queries with the default budget of 0: the same queries with it off and on
    (response cache off, query vectors cached for both), alternated. Each search with it on finds no reading and
    asks the model in the background (the configured endpoint; if none answers, the asks fail and the circuit
    breaker stops them): no search may wait for it."""
    from vitrina.llm.client import ChatClient

    llm = settings.llm.model_copy(update={"enabled": True, "budget_ms": 0.0, "retries": 0, "timeout_seconds": 5.0})
    off = Engine(settings.model_copy(update={"response_cache_size": 0}))
    client = ChatClient(llm)  # no answer cache: every query is new to it
    on = Engine(settings.model_copy(update={"response_cache_size": 0, "llm": llm}), llm=client)
    on.llm_ready()  # its one-off set-up for the catalog, as a service does at start, not timed as a search
    timed: dict[str, list[float]] = {"off": [], "on": []}
    statuses: dict[str, int] = {}
    for text in queries:
        off.search(text), on.search(text)  # each engine's query vector cache warm (on: the reading now asked for)
        for name, engine in (("off", off), ("on", on)):
            started = time.perf_counter()
            response = engine.search(text)
            timed[name].append((time.perf_counter() - started) * 1000)
            if name == "on" and response.understanding.llm is not None:
                status = response.understanding.llm.status
                statuses[status] = statuses.get(status, 0) + 1
    stats = client.stats.snapshot()
    off.close()
    on.close()
    client.close()
    pct = {name: {"p50": round(statistics.median(ms), 3), "p99": round(float(np.percentile(ms, 99)), 3),
                  "max": round(max(ms), 3)} for name, ms in timed.items()}
    return {"endpoint": llm.base_url, "model": llm.model, "queries": len(queries), "statuses": statuses,
            "llm_calls": stats["calls"], "llm_failures": stats["failures"], "latency_ms": pct,
            "p99_difference_ms": round(pct["on"]["p99"] - pct["off"]["p99"], 3)}


def run_bench(size: str, catalog: Path, feed: str, shared: Path, work: Path, n_queries: int = 1000,
              cache_path: Path | None = None, tick: Tick | None = None, reuse: bool = False) -> dict:
    """Build the index for `size` (or reuse the one an earlier run built, with its ingest figures), then measure."""
    tick = tick or (lambda *_: None)
    base = bench_products(size, catalog, feed)
    count = SIZES[size] or len(base)
    index_path = work / f"bench-{size}"
    settings = Settings(index_path=index_path, domain="fashion" if feed == "myntra" else "generic",
                        encoder={"cache_path": cache_path or work / "vectors.sqlite"})
    saved = index_path / "ingest.json"  # the figures of the ingest that built this index
    reused = reuse and saved.exists()
    if reused:
        built = json.loads(saved.read_text())
    else:
        shutil.rmtree(index_path, ignore_errors=True)
        engine = Engine(settings)
        engine.encoder.encoder.encode(["warm the encoder's session"])  # not timed as encoding

        peaks = PhasePeaks()

        def progress(stage: str, advance: int, total: int | None) -> None:
            peaks.enter(stage)
            tick(stage, advance, count)

        gc.collect()
        report = engine.ingest(replicate(base, count), fresh=True, progress=progress)
        by_phase = peaks.stop()
        # The ingest's own encodes time the encoder when it made enough of them (a cold cache), else a sample does.
        timed_by = "ingest" if report.embedded >= THROUGHPUT_SAMPLE else "sample"
        encoder_tps = (round(report.embedded / report.encode_seconds, 1) if timed_by == "ingest"
                       else encoder_throughput(engine, base))
        indexing = report.seconds - report.encode_seconds
        encode_all = report.upserted / encoder_tps  # what encoding every product would cost without the cache
        built = {"products": report.upserted, "encoder_tps": encoder_tps, "encoder_timed_by": timed_by, "ingest": {
            "seconds": report.seconds, "products_per_s": round(report.upserted / report.seconds, 1),
            "newly_encoded": report.embedded, "encode_and_cache_seconds": report.encode_seconds,
            "publish_seconds": report.publish_seconds,
            "indexing_products_per_s_excluding_encoding": round(report.upserted / max(indexing, 1e-9), 1),
            "pipeline_overhead_vs_encoding": round(indexing / encode_all, 3), "peak_rss_mb": peak_rss_mb(),
            "peak_rss_by_phase_mb": by_phase, "peak_anonymous_rss_by_phase_mb": peaks.anonymous}}
        saved.write_text(json.dumps(built, indent=2))
        engine.close()
        del engine
        gc.collect()

    queries = bench_queries(shared, n_queries) or ["blue shirt", "black jeans for men", "cheap red dress"]
    read_through(index_path)
    before = rss_mb()
    engine = Engine(settings.model_copy(update={"warm_on_open": True}))  # as the service opens it
    lat = latency(engine, queries)
    search_rss = rss_mb() - before
    engine.close()
    learned = learned_overhead(settings, queries[:300], work, searches=10 * len(queries[:300]))
    llm = llm_overhead(settings, queries[:300])
    read_through(index_path)  # again: the phases before took minutes (see read_through)
    one = throughput(settings, queries[:400], 1)
    two = throughput(settings, queries[:400], 2)
    reference = ReferenceBM25(replicate(base, count))
    ref_latency = reference.latency(queries)
    ours_bm25 = lat["new"].get("retrieve_bm25", {}).get("p50")
    return {
        "size": size, "products": built["products"], "machine": machine(), "queries": len(queries),
        "encoder": {"model": settings.encoder.model, "backend": settings.encoder.backend,
                    "texts_per_s": built["encoder_tps"], "timed_by": built.get("encoder_timed_by", "sample"),
                    "threads": settings.encoder.threads},
        "ingest": built["ingest"], "index_reused": reused,
        "index_size_mb": dir_size_mb(index_path),
        "search_rss_mb": round(search_rss, 1),
        "latency_ms": lat,
        "learned_stage": learned,
        "llm_stage": llm,
        "throughput_qps": {"1_client": one, "2_clients": two},
        "baseline": {"name": f"bm25s {reference.bm25s.__version__} top-100, same products and queries",
                     "latency_ms": ref_latency,
                     "ratio_our_bm25_stage_to_bm25s_p50": round(ours_bm25 / ref_latency["p50"], 2)
                     if ours_bm25 and ref_latency else None,
                     "ratio_our_total_new_to_bm25s_p50": round(lat["new"]["total"]["p50"] / ref_latency["p50"], 2)},
    }


def markdown(result: dict) -> str:
    new, rep = result["latency_ms"]["new"], result["latency_ms"]["repeated"]
    probe = result["latency_ms"].get("noise_probe")
    rows = "\n".join(f"| {s} | {new[s]['p50']} | {new[s]['p95']} | {new[s]['p99']} |" for s in STAGES if s in new)
    ing, base = result["ingest"], result["baseline"]
    m = result["machine"]
    # (target, measured, limit, lower is better)
    targets = [
        ("new query p50 ≤ 20 ms", new["total"]["p50"], 20, True),
        ("repeated query p50 ≤ 5 ms", rep["total"]["p50"], 5, True),
        ("p99 ≤ 50 ms (new)", new["total"]["p99"], 50, True),
        ("indexing excl. encoding ≥ 2,000 products/s", ing["indexing_products_per_s_excluding_encoding"], 2000, False),
        ("pipeline overhead ≤ 10% of encoder time", ing["pipeline_overhead_vs_encoding"], 0.10, True),
    ]
    learned = result.get("learned_stage")
    llm = result.get("llm_stage")
    if llm:  # a search never waits for the model: its p99 stays within 5 ms of the rules' in the same run
        targets.append(("LLM on (budget 0): p99 within 5 ms of off", llm["p99_difference_ms"], 5, True))
    if learned:
        targets.append(("learned stage ≤ 2 ms p50", learned["phase_ms"]["p50"], 2, True))
    if result["products"] >= 1_000_000:  # below 1M the fixed cost (model, runtime) would be scaled up with it
        targets.append(("search RAM ≤ 2 GB per 1M products (MB)", result["search_rss_mb"],
                        2048 * result["products"] / 1_000_000, True))

    def verdict(value: float, limit: float, lower: bool) -> str:
        if (value <= limit) if lower else (value >= limit):
            return "yes"
        return f"no: {abs(value - limit) / limit:.0%} {'over' if lower else 'short'}"

    costliest = max((s for s in STAGES if s in new and s != "total"), key=lambda s: new[s]["p50"])
    return (f"# Benchmark: {result['products']:,} products ({result['size']})\n\n"
            f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}; {m['when']}. "
            f"{result['queries']} real queries (fashion dev turns + Home Depot), warm, single client.\n\n"
            "| stage (new query) | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|\n" + rows + "\n\n"
            f"Repeated query (answered from the response cache): p50 {rep['total']['p50']} ms, "
            f"p99 {rep['total']['p99']} ms. Costliest stage: **{costliest}** ({new[costliest]['p50']} ms p50).\n\n"
            + (f"Noise probe (a fixed CPU task timed after every query): p50 {probe['p50']} ms, p99 {probe['p99']} ms, "
               f"{probe['over_5x_median']} of {probe['runs']} runs over 5x its median. Stalls the probe shares are "
               "the machine's; the engine's own show in its p99 only.\n\n" if probe else "")
            +
            f"Baseline in the same run, {base['name']}: p50 {base['latency_ms']['p50']} ms, "
            f"p99 {base['latency_ms']['p99']} ms; our BM25 stage / bm25s = "
            f"{base['ratio_our_bm25_stage_to_bm25s_p50']}, our whole pipeline / bm25s = "
            f"{base['ratio_our_total_new_to_bm25s_p50']}.\n\n"
            + (f"Learned stage (a model from {learned['simulated_searches']} simulated searches, "
               f"{learned['evidence_pairs']} query-product pairs of evidence): phase p50 {learned['phase_ms']['p50']} ms, "
               f"p99 {learned['phase_ms']['p99']} ms; whole search p50 {learned['learned_p50_ms']} ms with it, "
               f"{learned['full_p50_ms']} ms without, on the same queries (response cache off, query vectors "
               "cached).\n\n" if learned else "")
            + (f"LLM layer on, budget 0, {llm['queries']} new queries ({llm['model']} at {llm['endpoint']}: "
               f"{llm['llm_calls']} asks in the background, {llm['llm_failures']} failed; readings {llm['statuses']}): "
               f"p50 {llm['latency_ms']['on']['p50']} ms, p99 {llm['latency_ms']['on']['p99']} ms, max "
               f"{llm['latency_ms']['on']['max']} ms; off: p50 {llm['latency_ms']['off']['p50']} ms, p99 "
               f"{llm['latency_ms']['off']['p99']} ms, max {llm['latency_ms']['off']['max']} ms (alternated in one "
               "process).\n\n" if llm else "")
            + f"Throughput: {result['throughput_qps']['1_client']} q/s with 1 client, "
            f"{result['throughput_qps']['2_clients']} q/s with 2.\n\n"
            f"Ingest: {ing['products_per_s']} products/s end to end ({ing['seconds']} s; {ing['newly_encoded']} "
            f"newly encoded; encoder {result['encoder']['model']} on {result['encoder']['backend']} at "
            f"{result['encoder']['texts_per_s']} texts/s alone, timed by the "
            f"{result['encoder'].get('timed_by', 'sample')}); indexing excluding encoding "
            f"{ing['indexing_products_per_s_excluding_encoding']} products/s (HNSW build and publish "
            f"{ing['publish_seconds']} s); index {result['index_size_mb']} MB on disk; peak RSS "
            f"{ing['peak_rss_mb']} MB"
            + (f" (by phase: {', '.join(f'{k} {v} MB' for k, v in ing['peak_rss_by_phase_mb'].items())})"
               if ing.get("peak_rss_by_phase_mb") else "")
            + (f"; of it anonymous memory, not mapped files: "
               f"{', '.join(f'{k} {v} MB' for k, v in ing['peak_anonymous_rss_by_phase_mb'].items())}"
               if ing.get("peak_anonymous_rss_by_phase_mb") else "")
            + f"; search RSS {result['search_rss_mb']} MB.\n\n"
            "| target | measured | met |\n|---|---|---|\n"
            + "\n".join(f"| {name} | {value} | {verdict(value, limit, lower)} |"
                        for name, value, limit, lower in targets) + "\n")
