"""Photos into an index: the image tower behind a cache keyed by each photo's bytes, and the report of a run."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from pydantic import BaseModel, Field

from vitrina.embed.cache import VectorCache
from vitrina.vision.colour import product_family
from vitrina.vision.encoder import OnnxImageEncoder
from vitrina.vision.images import ImageError, image_key, pixels
from vitrina.vision.readers import PhotoQuery, PhotoReader, load_readers


class ImageAttach(BaseModel):
    """What `vitrina ingest --images` did."""
    products: int = 0  # in the index
    found: int = 0  # of them, with a photo in the source
    embedded: int = 0  # photos encoded now; the rest came from the cache
    rejected: list[str] = Field(default_factory=list)  # "<id>: not a readable image (...)": skipped, nothing else lost
    colour_checked: int = 0  # photos whose colour family was read and the feed names one
    colour_agreed: int = 0  # ... and the two agree
    colour_filled: int = 0  # products the feed gave no colour, now given their photo's
    model: str = ""
    seconds: float = 0.0


class PhotoEmbedder:
    """Photos -> vectors in the text space; the same bytes are never encoded twice (cache by their hash)."""

    def __init__(self, encoder: OnnxImageEncoder, cache: VectorCache | None):
        self.encoder = encoder
        self.cache = cache

    @cached_property
    def readers(self) -> dict[str, PhotoReader]:
        """The tower's readers (beside it, `<tower>.<field>.json`) made for this tower: what its photos show."""
        return load_readers(self.encoder.path, self.encoder.model_id)

    @property
    def colour(self) -> PhotoReader | None:
        return self.readers.get("colour")

    def query(self, weight: float) -> PhotoQuery | None:
        """How a text query looks among the photos, steered by the readers; None without readers or weight."""
        return PhotoQuery(self.readers, weight) if self.readers and weight > 0 else None

    def embed(self, photos: list[tuple[str, bytes]], report: ImageAttach) -> dict[str, np.ndarray]:
        """{product id: vector} for the readable photos; unreadable ones are named in report.rejected."""
        keys = [image_key(data) for _, data in photos]
        known = self.cache.get_many(self.encoder.model_id, keys) if self.cache else {}
        out = {pid: known[key] for (pid, _), key in zip(photos, keys, strict=True) if key in known}
        todo: list[tuple[str, bytes]] = []
        grids: list[np.ndarray] = []
        for (pid, data), key in zip(photos, keys, strict=True):
            if key in known:
                continue
            try:
                grids.append(pixels(data, pid))
            except ImageError as exc:
                report.rejected.append(str(exc))
                continue
            todo.append((pid, key))
        if grids:
            vectors = self.encoder.encode_grids(np.stack(grids))
            out.update({pid: v for (pid, _), v in zip(todo, vectors, strict=True)})
            if self.cache:
                self.cache.put_many(self.encoder.model_id, [(key, v) for (_, key), v in zip(todo, vectors, strict=True)])
            report.embedded += len(grids)
        return out

    def embed_one(self, data: bytes) -> np.ndarray:
        """A shopper's photo (not cached: each is new); ImageError if it is not an image."""
        return self.encoder.encode_grids(pixels(data, "the uploaded photo")[None])[0]


def colour_fills(colour: PhotoReader, vectors: dict[str, np.ndarray], records: dict[str, dict], report: ImageAttach,
                 min_probability: float = 0.5) -> dict[str, str]:
    """Each photo's colour family checked against the feed's (counted in the report); {id: family} for products
    whose feed names no colour and whose photo's family is read with at least min_probability."""
    ids = [pid for pid in vectors if pid in records]
    fills: dict[str, str] = {}
    for pid, (family, probability) in zip(ids, colour.predict(np.stack([vectors[p] for p in ids]) if ids else
                                                              np.zeros((0, 1))), strict=True):
        record = records[pid]
        known = product_family(record)
        if known is not None:
            report.colour_checked += 1
            report.colour_agreed += known == family
        elif not record.get("colors") and not record.get("primary_color") and probability >= min_probability:
            fills[pid] = family
    return fills
