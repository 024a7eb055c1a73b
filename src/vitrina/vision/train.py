"""`vitrina train image-encoder`: an image tower trained into the text encoder's space (CLIP-style, text side
frozen), on an index's products (their text vectors, as stored) and their photos.

The text tower stays the index's encoder, so a text query's vector finds images with no other model, and an image
finds products by their text vectors too. The loss is contrastive with soft targets: an image should pick out its
own product's text among a batch, and rank the others by how alike their texts are (many products share a text
but for the brand, and a hard one-hot target would punish a right answer). Held-out products (seeded) never train;
every figure in the report is on them, measured on the exported ONNX graph that serving runs."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from vitrina.engine import Engine
from vitrina.learn.tuning.pairs import split_queries
from vitrina.vision.encoder import OnnxImageEncoder
from vitrina.vision.images import HEIGHT, WIDTH, ImageError, image_key, pixels, read_images
from vitrina.vision.readers import fit_reader, label_of, reader_file

OPSET = 17


class ImageTraining(BaseModel):
    epochs: float = 6
    batch: int = 256
    lr: float = 2e-3
    width: int = 32  # the CNN's first stage width; 32 gives 2.1M parameters, an 8 MB graph
    text_temperature: float = 0.05  # how sharply text similarity decides the soft targets
    holdout: float = 0.1
    seed: int = 0
    limit: int | None = None  # train on the first N products with photos (tests)


class ImageReport(BaseModel):
    products: int
    trained_on: int
    held_out: int
    skipped_images: int
    epochs: float
    seconds: float
    final_loss: float
    data_sha256: str  # the products, their photos and text vectors trained on: same hash, same training set
    text_model: str
    export_max_diff: float  # the ONNX graph against torch on held-out photos
    metrics: dict[str, float]
    onnx_mb: float


@dataclass
class ImageSet:
    ids: list[str]
    grids: np.ndarray  # uint8 [N, H, W, 3]
    vectors: np.ndarray  # float32 [N, D]: the products' text vectors in the index
    types: list[str | None]
    families: list[str | None]
    digest: str


def load_image_set(engine: Engine, images: Path, limit: int | None = None) -> tuple[ImageSet, int]:
    """The index's products that have a photo in `images` and a text vector; (the set, unreadable photos)."""
    found: dict[str, np.ndarray] = {}
    keys: dict[str, bytes] = {}
    skipped = 0
    for pid, data in read_images(images, engine.ids()):
        try:
            found[pid] = pixels(data, pid)
        except ImageError:
            skipped += 1
            continue
        keys[pid] = image_key(data)
    ids: list[str] = []
    grids: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    types: list[str | None] = []
    families: list[str | None] = []
    candidates = sorted(found)
    for start in range(0, len(candidates), 4096):
        chunk = candidates[start:start + 4096]
        for pid, (record, vector) in sorted(engine.records_with_vectors(chunk).items()):
            if vector is None:
                continue
            ids.append(pid)
            grids.append(found[pid])
            vectors.append(vector)
            # The labels search matches a photo's reading against (readers.label_of), so fitting and use agree.
            types.append(label_of(record, "type"))
            families.append(label_of(record, "colour"))
        if limit and len(ids) >= limit:
            break
    if limit:
        ids, grids, vectors, types, families = ids[:limit], grids[:limit], vectors[:limit], types[:limit], families[:limit]
    digest = hashlib.sha256()
    for pid, vector in zip(ids, vectors, strict=True):
        digest.update(pid.encode() + keys[pid] + np.asarray(vector, dtype=np.float32).tobytes())
    return ImageSet(ids, np.stack(grids) if grids else np.zeros((0, HEIGHT, WIDTH, 3), np.uint8),
                    np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, 0), np.float32),
                    types, families, digest.hexdigest()), skipped


def _augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror half the photos and shift each by up to 4 px on white: a garment's look, not its exact place."""
    out = batch.copy()
    flip = rng.random(len(out)) < 0.5
    out[flip] = out[flip, :, ::-1]
    padded = np.pad(out, ((0, 0), (4, 4), (4, 4), (0, 0)), constant_values=255)
    dy, dx = rng.integers(0, 9, size=2)
    return padded[:, dy:dy + HEIGHT, dx:dx + WIDTH]


def fit(data: ImageSet, train_rows: np.ndarray, config: ImageTraining,
        tick: Callable[[float, float], None] | None = None):
    """The trained tower (torch) and its last epoch's mean loss; `tick(progress 0..1, loss)` as it goes."""
    import torch
    from torch.nn import functional as F

    from vitrina.vision.encoder import batch_of
    from vitrina.vision.tower import ImageTower

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    tower = ImageTower(data.vectors.shape[1], config.width)
    logit_scale = torch.nn.Parameter(torch.tensor(np.log(20.0), dtype=torch.float32))
    optimiser = torch.optim.AdamW([*tower.parameters(), logit_scale], lr=config.lr, weight_decay=1e-4)
    per_epoch = max(1, len(train_rows) // config.batch)
    steps = max(1, round(per_epoch * config.epochs))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=steps, pct_start=0.15)
    texts = torch.from_numpy(data.vectors)
    losses: list[float] = []
    tower.train()
    for step in range(steps):
        if step % per_epoch == 0:
            order = rng.permutation(train_rows)
            losses = []
        rows = np.sort(order[(step % per_epoch) * config.batch:(step % per_epoch + 1) * config.batch])
        images = tower(torch.from_numpy(batch_of(_augment(data.grids[rows], rng))))
        text = texts[rows]
        targets = F.softmax(text @ text.T / config.text_temperature, dim=1)
        logits = images @ text.T * logit_scale.exp().clamp(max=100)
        loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets.T)) / 2
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if tick:
            tick((step + 1) / steps, float(np.mean(losses)))
    tower.eval()
    return tower, float(np.mean(losses))


def export(tower, path: Path, sample: np.ndarray) -> float:
    """The tower as ONNX (batch dynamic); returns the largest difference to torch on `sample` (uint8 grids)."""
    import torch

    from vitrina.vision.encoder import batch_of

    path.parent.mkdir(parents=True, exist_ok=True)
    inputs = torch.from_numpy(batch_of(sample))
    with torch.no_grad():
        torch.onnx.export(tower, (inputs,), str(path), input_names=["pixels"], output_names=["vector"],
                          dynamic_axes={"pixels": {0: "batch"}, "vector": {0: "batch"}}, opset_version=OPSET,
                          dynamo=False)
        expected = tower(inputs).numpy()
    got = OnnxImageEncoder(path).encode_grids(sample)
    return float(np.abs(got - expected).max())


def measure(data: ImageSet, held_rows: np.ndarray, image_vectors: np.ndarray) -> dict[str, float]:
    """On held-out products: a photo's 10 nearest other photos (whole catalog) of the same type and colour family;
    a product's own photo among the held-out photos from its text vector (recall@10)."""
    held = image_vectors[held_rows]
    same_type_colour, same_type, found = [], [], []
    for start in range(0, len(held_rows), 512):
        rows = held_rows[start:start + 512]
        scores = image_vectors[rows] @ image_vectors.T
        scores[np.arange(len(rows)), rows] = -np.inf  # not itself
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        for row, hits in zip(rows, top, strict=True):
            if data.types[row] is None or data.families[row] is None:
                continue
            kind = [data.types[h] == data.types[row] for h in hits]
            same_type.append(np.mean(kind))
            same_type_colour.append(np.mean([k and data.families[h] == data.families[row]
                                             for k, h in zip(kind, hits, strict=True)]))
        text_scores = data.vectors[rows] @ held.T
        own = text_scores[np.arange(len(rows)), start + np.arange(len(rows))]
        found.extend((text_scores > own[:, None]).sum(axis=1) < 10)
    return {"image_to_product_p@10_type_and_colour": float(np.mean(same_type_colour)),
            "image_to_product_p@10_type": float(np.mean(same_type)),
            "text_to_own_image_recall@10": float(np.mean(found)), "held_out_products": float(len(held_rows))}


def fit_readers(data: ImageSet, train_rows: np.ndarray, held_rows: np.ndarray, vectors: np.ndarray, tower: str,
                out: Path) -> dict[str, float]:
    """The readers of a photo's colour family and product type over the tower's vectors, fitted on the training
    products whose feed names one and written beside `out`; returns each one's agreement with the feed on the
    held-out products (`colour_from_pixels_agreement`, `type_from_pixels_agreement`). A field the catalog labels
    too thinly to learn gets no reader: the tower serves without it."""
    agreement = {}
    for field, labels in (("colour", data.families), ("type", data.types)):
        known = [r for r in train_rows if labels[r]]
        try:
            reader = fit_reader(field, vectors[known], [str(labels[r]) for r in known], tower)
        except ValueError:  # fewer than two labels with enough photos
            continue
        checked = [r for r in held_rows if labels[r]]
        agreed = float(np.mean([label == labels[r] for (label, _), r in zip(reader.predict(vectors[checked]),
                                                                              checked, strict=True)])) if checked else 0.0
        reader.save(reader_file(out, field), held_out_agreement=round(agreed, 4), trained_on=len(known),
                    held_out=len(checked))
        agreement[f"{field}_from_pixels_agreement"] = agreed
    return agreement


def train_readers(engine: Engine, images: Path, tower: Path, config: ImageTraining) -> dict[str, float]:
    """The readers alone, for a tower already trained (same seeded split)."""
    data, _ = load_image_set(engine, images, config.limit)
    train_ids, held_ids = split_queries(data.ids, config.holdout, config.seed)
    row_of = {pid: i for i, pid in enumerate(data.ids)}
    encoder = OnnxImageEncoder(tower, threads=engine.settings.search_threads)
    vectors = encoder.encode_grids(data.grids)
    return {**fit_readers(data, np.array([row_of[p] for p in train_ids]), np.array([row_of[p] for p in held_ids]),
                          vectors, encoder.model_id, tower), "products": float(len(data.ids))}


def train_image_encoder(engine: Engine, images: Path, out: Path, config: ImageTraining,
                        tick: Callable[[float, float], None] | None = None) -> ImageReport:
    """Trains, exports `out` (ONNX) and `out`.json (this report, which also says how to rebuild it)."""
    started = time.perf_counter()
    data, skipped = load_image_set(engine, images, config.limit)
    if len(data.ids) < 20:
        raise ValueError(f"only {len(data.ids)} products of {engine.path} have a photo in {images} and a vector")
    train_ids, held_ids = split_queries(data.ids, config.holdout, config.seed)
    row_of = {pid: i for i, pid in enumerate(data.ids)}
    train_rows = np.array([row_of[p] for p in train_ids])
    held_rows = np.array([row_of[p] for p in held_ids])
    tower, loss = fit(data, train_rows, config, tick)
    seconds = time.perf_counter() - started
    max_diff = export(tower, out, data.grids[held_rows[:64]])
    encoder = OnnxImageEncoder(out, threads=engine.settings.search_threads)
    vectors = encoder.encode_grids(data.grids)
    metrics = measure(data, held_rows, vectors)
    metrics.update(fit_readers(data, train_rows, held_rows, vectors, encoder.model_id, out))
    report = ImageReport(products=len(data.ids), trained_on=len(train_rows), held_out=len(held_rows),
                         skipped_images=skipped, epochs=config.epochs, seconds=round(seconds, 1),
                         final_loss=round(loss, 4), data_sha256=data.digest, text_model=engine.encoder.model_id,
                         export_max_diff=max_diff, metrics=metrics, onnx_mb=round(out.stat().st_size / 2**20, 2))
    out.with_suffix(".json").write_text(json.dumps({**report.model_dump(), "config": config.model_dump()}, indent=2))
    return report
