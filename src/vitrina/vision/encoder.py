"""The image encoder on onnxruntime (no torch): photos in, L2-normalised rows in the text encoder's space out."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

import numpy as np

from vitrina.onnx_session import cpu_session
from vitrina.vision.images import pixels

PACKAGED = Path(__file__).parent / "model" / "fashion-image-tower.onnx"


def batch_of(grids: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] grids -> the tower's float32 [N, 3, H, W] input in 0..1."""
    return np.ascontiguousarray(grids.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


class OnnxImageEncoder:
    def __init__(self, path: Path | None = None, threads: int = 1, batch: int = 64):
        self.path = Path(path) if path else PACKAGED
        if not self.path.is_file():
            raise FileNotFoundError(f"no image model at {self.path}")
        self.threads = threads
        self.batch = batch

    @cached_property
    def model_id(self) -> str:
        return f"image:{self.path.name}:{hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]}"

    @cached_property
    def _session(self):
        return cpu_session(self.path, self.threads)

    @cached_property
    def dimension(self) -> int:
        return int(self._session.get_outputs()[0].shape[1])

    def encode_grids(self, grids: np.ndarray) -> np.ndarray:
        """uint8 [N, H, W, 3] (vision.images.pixels of each photo) -> [N, dimension]."""
        if len(grids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        name = self._session.get_inputs()[0].name
        parts = [self._session.run(None, {name: batch_of(grids[i:i + self.batch])})[0]
                 for i in range(0, len(grids), self.batch)]
        return np.concatenate(parts).astype(np.float32)

    def encode(self, images: list[bytes]) -> np.ndarray:
        """Photos' bytes (any format Pillow reads) -> [N, dimension]; ImageError names an unreadable one."""
        return self.encode_grids(np.stack([pixels(data, f"image {i}") for i, data in enumerate(images)])
                                 if images else np.zeros((0, 1, 1, 3), dtype=np.uint8))
