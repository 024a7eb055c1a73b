"""Product photos in: a folder of `<id>.<ext>` files or tar shards of them, decoded to one fixed pixel grid.

Training (torch) and serving (onnxruntime) both call `pixels`, so the image tower sees the same grid in both."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

# The fashion feed's thumbnails are 60x80 (w x h); other photos are scaled to fit and padded with white, the
# background of catalog photos, so a garment keeps its proportions.
HEIGHT, WIDTH = 80, 60
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}


class ImageError(ValueError):
    """A file that is not a readable image; the message names it."""


def image_key(data: bytes) -> bytes:
    """The cache key of an image: its bytes' hash, so a re-sent photo is never embedded twice."""
    return hashlib.blake2b(data, digest_size=16).digest()


def pixels(data: bytes, name: str = "image") -> np.ndarray:
    """uint8 [HEIGHT, WIDTH, 3]: the photo scaled to fit (aspect kept), centred on white."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image: Image.Image = opened.convert("RGB")
            if image.size != (WIDTH, HEIGHT):
                scale = min(WIDTH / image.width, HEIGHT / image.height)
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                scaled = image.resize(size, Image.Resampling.BILINEAR)
                image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
                image.paste(scaled, ((WIDTH - size[0]) // 2, (HEIGHT - size[1]) // 2))
            return np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"{name}: not a readable image ({exc})") from exc


def _product_id(name: str) -> str | None:
    path = PurePosixPath(name)
    return path.stem if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") else None


def read_images(source: Path, wanted: Iterable[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """(product id, image bytes) from a folder of images and/or `*.tar` shards (the id is the file's stem);
    only the ids in `wanted` when given."""
    keep = set(wanted) if wanted is not None else None
    if source.is_file():
        files = [source]
    elif source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file())
    else:
        raise FileNotFoundError(f"no images at {source}")
    for path in files:
        if path.suffix == ".tar":
            with tarfile.open(path) as shard:
                for member in shard:
                    pid = _product_id(member.name) if member.isfile() else None
                    if pid is not None and (keep is None or pid in keep):
                        handle = shard.extractfile(member)
                        if handle is not None:
                            yield pid, handle.read()
        else:
            pid = _product_id(path.name)
            if pid is not None and (keep is None or pid in keep):
                yield pid, path.read_bytes()


MAX_PHOTO_BYTES = 10 * 2**20


def fetch_photos(refs: Iterable[tuple[str, str]], base: Path | None, rejected: list[str], timeout: float = 10.0,
                 workers: int = 8) -> Iterator[tuple[str, bytes]]:
    """(product id, bytes) for each (product id, reference) a feed gives: an http(s) URL the shop serves, or a
    path (relative to `base`, the feed's folder). One that cannot be read is named in `rejected`, with why."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        def get(item: tuple[str, str]) -> tuple[str, bytes | None]:
            pid, ref = item
            try:
                if ref.startswith(("http://", "https://")):
                    response = client.get(ref)
                    response.raise_for_status()
                    data = response.content
                else:
                    path = Path(ref) if base is None or Path(ref).is_absolute() else base / ref
                    data = path.read_bytes()
            except (httpx.HTTPError, OSError) as exc:
                rejected.append(f"{pid}: photo {ref} could not be read ({exc})")
                return pid, None
            if len(data) > MAX_PHOTO_BYTES:
                rejected.append(f"{pid}: photo {ref} is over {MAX_PHOTO_BYTES} bytes")
                return pid, None
            return pid, data

        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending = list(islice(iter_refs := iter(refs), 256))
            while pending:  # a bounded window: a million products are never all in memory at once
                for pid, data in pool.map(get, pending):
                    if data is not None:
                        yield pid, data
                pending = list(islice(iter_refs, 256))
