"""The image tower on the fashion set: text queries against photos only (the query's vector steered by the photo
readers toward the types and colours it asks for, and bare), the full pipeline with and without the photo list,
per category, on the fashion dev queries (dev figures), beside the tower's own held-out figures
(its report, measured on held-out products when it was trained).

    python bench/images_fashion.py     # writes bench/results/images-fashion.{json,md}
"""

from __future__ import annotations

import json
import statistics
import time
from itertools import islice
from pathlib import Path

import numpy as np

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import eval_engine, eval_fashion
from vitrina.learn.tuning.pairs import split_queries
from vitrina.vision.colour import colour_family
from vitrina.vision.encoder import PACKAGED
from vitrina.vision.images import read_images
from vitrina.vision.readers import reader_file
from vitrina.vision.train import load_image_set

RESULTS = Path("bench/results")
WEIGHTS = (0.2, 0.4, 0.8)  # the photo list's weight in the full profile, beside the one it ships with


def photo_search_precision(engine, photos: Path, seed: int, n: int = 500) -> dict[str, float]:
    """Held-out products' photos (the tower's own split) searched through the engine, the product left out."""
    held = split_queries(engine.ids(), 0.1, seed)[1][:n]
    records = engine.records(held)
    same_both, same_type, took = [], [], []
    for pid, data in read_images(photos, set(held)):
        mine = records[pid]
        family = colour_family(mine.get("primary_color"))
        if family is None:
            continue
        started = time.perf_counter()
        hits = [h.product for h in engine.search_image(data, size=11).hits if h.product["id"] != pid][:10]
        took.append((time.perf_counter() - started) * 1000)
        kind = [h.get("product_type") == mine.get("product_type") for h in hits]
        same_type.append(sum(kind) / 10)
        same_both.append(sum(k and colour_family(h.get("primary_color")) == family
                             for k, h in zip(kind, hits, strict=True)) / 10)
    return {"photos": len(took), "p@10_type_and_colour": round(statistics.mean(same_both), 4),
            "p@10_type": round(statistics.mean(same_type), 4), "p50_ms": round(statistics.median(took), 2)}


def image_list_cost(engine, queries: Path, rounds: int = 5) -> dict[str, float]:
    """What the photo list adds to a text search: the full profile with it and without it ("full-text"), each
    query's last turn alternating between the two (which goes first alternates too), the response cache off and
    the query's vector already cached, so the difference is the list (its steering, its kNN, its share of the
    fusion and ranking). The engine answers no repeat from memory (response_cache_size=0)."""
    texts = [json.loads(line)["turns"][-1] for line in queries.read_text().splitlines() if line.strip()]
    timed: dict[str, list[float]] = {"full": [], "full-text": []}
    for text in texts:  # warm: the query vectors and both pipelines
        engine.search(text, size=10, profile="full")
        engine.search(text, size=10, profile="full-text")
    for n in range(rounds):
        for k, text in enumerate(texts):
            for profile in (("full", "full-text") if (n + k) % 2 else ("full-text", "full")):
                started = time.perf_counter()
                engine.search(text, size=10, profile=profile)
                timed[profile].append((time.perf_counter() - started) * 1000)
    with_list, without = statistics.median(timed["full"]), statistics.median(timed["full-text"])
    return {"searches": len(timed["full"]), "p50_ms_with": round(with_list, 3), "p50_ms_without": round(without, 3),
            "p50_added_ms": round(with_list - without, 3)}


def photo_encode_p50(engine, photos: Path, n: int = 200) -> float:
    """A shopper's photo (bytes in) to its vector: decode, fit to the grid, the tower on onnxruntime."""
    took = []
    for _, data in islice(read_images(photos), n):
        started = time.perf_counter()
        engine.photos.embed_one(data)
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 3)


def feed_self_agreement(engine, photos: Path, seed: int, within: float = 0.01) -> dict[str, float]:
    """How often the feed gives the same colour family to the same photo: each held-out photo against its nearest
    training photo by pixels (20x15 means); pairs within `within` RMS (0..1 per channel) are the same photo. Where
    the feed gives one photo two families, no reader of pixels can agree with both."""
    data, _ = load_image_set(engine, photos)
    train_ids, held_ids = split_queries(data.ids, 0.1, seed)
    row = {pid: i for i, pid in enumerate(data.ids)}
    train = np.array([row[p] for p in train_ids if data.families[row[p]]])
    held = np.array([row[p] for p in held_ids if data.families[row[p]]])
    small = data.grids.reshape(len(data.ids), 20, 4, 15, 4, 3).mean(axis=(2, 4)).reshape(len(data.ids), -1) / 255
    a, b = small[held].astype(np.float32), small[train].astype(np.float32)
    same, agree = 0, 0
    for start in range(0, len(a), 1024):
        d = (a[start:start + 1024] ** 2).sum(1)[:, None] - 2 * a[start:start + 1024] @ b.T + (b ** 2).sum(1)[None]
        nearest, rms = d.argmin(axis=1), np.sqrt(np.maximum(d.min(axis=1), 0) / a.shape[1])
        for i in np.flatnonzero(rms <= within):
            same += 1
            agree += data.families[held[start + i]] == data.families[train[nearest[i]]]
    return {"same_photo_pairs": same, "same_family": round(agree / same, 4) if same else None, "within_rms": within}


def main() -> None:
    settings = Settings(response_cache_size=0)  # every search runs, for image_list_cost
    shared = settings.datasets_path
    catalog, queries = shared / "fashion" / "catalog.jsonl.gz", shared / "fashion-queries" / "dev.jsonl"
    if not (shared / "fashion" / "images-00.tar").exists() or not queries.exists():
        raise SystemExit(f"{shared}/fashion is absent: the fashion set lives in ../shared/datasets (see its README)")
    engine = eval_engine("fashion", catalog, "myntra", settings)
    if engine.photo_count() == 0:
        report = engine.attach_images(shared / "fashion")
        print(f"photos: {report.found} embedded in {report.seconds:.0f} s", flush=True)
    # The ablation: the full profile without its photo list, and with other weights for it (same engine, queries).
    full = engine.profiles.get("full")
    text_only = {k: v for k, v in full.retrievers.items() if k != "image"}
    engine.profiles.profiles["full-text"] = full.model_copy(update={"name": "full-text", "retrievers": text_only})
    weights = [w for w in WEIGHTS if w != full.retrievers.get("image")]
    for w in weights:
        engine.profiles.profiles[f"full-image-{w}"] = full.model_copy(update={
            "name": f"full-image-{w}", "retrievers": {**text_only, "image": w}})
    started = time.perf_counter()
    scores = eval_fashion(engine, catalog, queries, ("image", "vector", "full-text", "full",
                                                     *(f"full-image-{w}" for w in weights)),
                          judge_path=shared / "fashion-queries" / "judge.py")
    # The photo list without the readers' steering: the same index, the query's bare vector.
    bare = eval_engine("fashion", catalog, "myntra", settings.model_copy(update={
        "images": settings.images.model_copy(update={"query_reading_weight": 0.0})}))
    scores["image-bare-vector"] = eval_fashion(bare, catalog, queries, ("image",),
                                               judge_path=shared / "fashion-queries" / "judge.py")["image"]
    bare.close()
    seconds = time.perf_counter() - started
    tower = json.loads(PACKAGED.with_suffix(".json").read_text())
    by_photo = photo_search_precision(engine, shared / "fashion", tower["config"]["seed"])
    cost, encode = image_list_cost(engine, queries), photo_encode_p50(engine, shared / "fashion")
    base, with_photos = scores["full-text"]["ndcg@10"], scores["full"]["ndcg@10"]
    per_cat = {c: (scores["full-text"]["per_category"][c]["ndcg@10"], row["ndcg@10"])
               for c, row in scores["full"]["per_category"].items()}
    figures = {"machine": machine(), "photos": engine.photo_count(), "image_weight": full.retrievers.get("image"),
               "eval_seconds": round(seconds, 1), "modes": scores, "tower": tower,
               "full_gain": round(with_photos / base - 1, 4) if base else None, "search_by_photo": by_photo,
               "image_list_cost": cost, "photo_encode_p50_ms": encode}
    lines = ["# The image tower on the fashion set (dev queries: dev figures)", "",
             f"{engine.photo_count()} products with photos, embedded by the packaged tower "
             f"({tower['onnx_mb']} MB ONNX, trained in {tower['seconds'] / 60:.1f} min on {tower['trained_on']} "
             f"products, {tower['epochs']} epochs, seed {tower['config']['seed']}).", "",
             "| mode | nDCG@10 | P@10 |", "|---|---|---|"]
    lines += [f"| {m} | {scores[m]['ndcg@10']:.4f} | {scores[m]['p@10']:.4f} |" for m in scores]
    lines += ["", f"Full pipeline with the photo list (weight {full.retrievers.get('image')}): {base:.4f} -> "
              f"{with_photos:.4f} ({figures['full_gain']:+.1%}).", "", "| category | without photos | with |",
              "|---|---|---|"]
    lines += [f"| {c} | {a:.4f} | {b:.4f} |" for c, (a, b) in sorted(per_cat.items())]
    lines += ["", f"Search path cost of the photo list ({cost['searches']} searches each way, the full profile with "
              f"and without it, alternated, response cache off): p50 {cost['p50_ms_with']:.2f} ms against "
              f"{cost['p50_ms_without']:.2f} ms, **{cost['p50_added_ms']:+.2f} ms**. A shopper's photo to its vector "
              f"(decode, fit, the tower): p50 {encode:.2f} ms."]
    lines += ["", "Photos only (`image`): the query's vector moved along the photo readers' directions for the types "
              f"and colour families it asks for (weight {settings.images.query_reading_weight}), against its bare "
              "vector.", "", "| category | bare vector | steered |", "|---|---|---|"]
    lines += [f"| {c} | {scores['image-bare-vector']['per_category'][c]['ndcg@10']:.4f} | {row['ndcg@10']:.4f} |"
              for c, row in sorted(scores["image"]["per_category"].items())]
    metrics = tower["metrics"]
    readers = {field: json.loads(reader_file(PACKAGED, field).read_text()) for field in ("colour", "type")}
    figures["readers"] = {field: {k: r[k] for k in ("held_out_agreement", "trained_on", "held_out")}
                          for field, r in readers.items()}
    figures["feed_self_agreement"] = consistency = feed_self_agreement(engine, shared / "fashion",
                                                                       tower["config"]["seed"])
    lines += ["", f"Held-out products ({int(metrics['held_out_products'])}, never trained on), on the exported graph:",
              f"- a photo's 10 nearest photos of the same type and colour family: "
              f"{metrics['image_to_product_p@10_type_and_colour']:.3f} (same type: "
              f"{metrics['image_to_product_p@10_type']:.3f})",
              f"- a product's own photo in the top 10 of the held-out photos from its text vector: "
              f"{metrics['text_to_own_image_recall@10']:.3f}",
              f"- search by photo through the engine (photo and description lists fused, weighed by the chance "
              f"each product is the type and colour family the photo reads as; {by_photo['photos']} "
              f"held-out photos, the product itself left out): same type and colour family "
              f"{by_photo['p@10_type_and_colour']:.3f}, same type {by_photo['p@10_type']:.3f}, "
              f"p50 {by_photo['p50_ms']:.1f} ms",
              f"- colour family read from the photo against the feed's (held-out): "
              f"{readers['colour']['held_out_agreement']:.3f}; product type: "
              f"{readers['type']['held_out_agreement']:.3f} ({len(readers['type']['labels'])} types)",
              f"- the feed against itself: of {consistency['same_photo_pairs']} held-out photos whose nearest "
              f"training photo is the same photo (pixels within {consistency['within_rms']:.0%} RMS), "
              f"{consistency['same_family']:.3f} have the same colour family in the feed: on the same pixels the "
              f"feed disagrees with itself (it reuses a photo for other colour variants)", ""]
    write_results(RESULTS, "images-fashion", figures, "\n".join(lines))
    print("\n".join(lines))
    engine.close()


if __name__ == "__main__":
    main()
