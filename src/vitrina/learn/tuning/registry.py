"""The model versions of one index, beside its generations:

    <index>/models/v0003/model.onnx, tokenizer.json, manifest.json[, blend.json]   (an encoder, a cross-encoder)
    <index>/models/v0004/model.txt, manifest.json                                  (a learned order, LightGBM)

A version is registered once its files are complete (written to a temporary folder, renamed into place). Which
version serves is not kept here: each index generation's meta.json names its model version, so the vectors and
the model that made them are published together by one rename, and a rollback is a new generation. The phases
that re-order searches' top hits (a cross-encoder, a learned order) serve from a pointer file each (RERANKER, ORDER).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from vitrina.config import EncoderSettings
from vitrina.learn.tuning.blend import Blend

_VERSION = re.compile(r"^v\d{4,}$")


class ModelFileError(RuntimeError):
    """A model version whose files are missing or do not match the hash recorded when it was registered."""


class ModelManifest(BaseModel):
    version: str
    kind: Literal["encoder", "cross-encoder", "learned-order"] = "encoder"
    created: str
    base: str  # the model it was fine-tuned from
    onnx_sha256: str  # of the model file (the name kept from when every model was an ONNX graph)
    model_file: str = "model.onnx"
    precision: str = "fp32"  # "int8" only where the cosine to fp32 held (export.py), or a cross-encoder's check
    pairs: dict[str, int] = Field(default_factory=dict)  # training pairs by source
    queries: int = 0
    train_seconds: float = 0.0
    device: str = "cpu"
    validation: dict[str, float] = Field(default_factory=dict)  # held-out check: metric -> value, new and current
    # a cross-encoder's share of the order it serves, fused with the incoming one (rank/cross_encoder.py)
    rerank_mix: float = Field(default=1.0, ge=0, le=1)
    # ... or, from this field on, the weight of its standard scores added to the incoming ones' (None: fuse by rank)
    rerank_weight: float | None = Field(default=None, ge=0)
    # ... and the tokens of query and product it reads, as many as it was trained on (128: versions before this field)
    max_length: int = Field(default=128, ge=8, le=512)
    # ... and the lower and upper quartile of how far apart its held-out queries' top ten scores were (the highest
    # less the tenth): below the first a search gets twice its budget, from the second on none (None: a flat budget)
    rerank_spreads: tuple[float, float] | None = None
    # ... and whether it skips the searches at or past the upper quartile: only where its check found it gained
    # nothing there (versions before this field skipped them)
    rerank_skips_apart: bool = True
    notes: list[str] = Field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelSwitch(BaseModel):
    """An index moved to another encoder version (Engine.use_model)."""
    version: str | None  # the model version now serving (None: the configured encoder)
    previous: str | None
    products: int = 0
    embedded: int = 0  # encoded now; the rest came from the vector cache (a rollback re-uses it)
    seconds: float = 0.0


class ModelRegistry:
    """Versions under <index>/models; numbered in order of registration."""

    def __init__(self, index_path: Path):
        self.root = Path(index_path) / "models"
        # (version, size, mtime) of graphs already hashed: an 86 MB graph is checked once, not at every load
        self._verified: set[tuple[str, int, int]] = set()

    def versions(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if _VERSION.match(p.name) and (p / "manifest.json").exists())

    def manifest(self, version: str) -> ModelManifest:
        path = self.root / version / "manifest.json"
        if not path.exists():
            known = ", ".join(self.versions()) or "none"
            raise ModelFileError(f"no model version {version!r} under {self.root} (versions: {known})")
        return ModelManifest.model_validate_json(path.read_text())

    def register(self, folder: Path, manifest: ModelManifest) -> ModelManifest:
        """Move a folder holding the model file (and a graph's tokenizer.json) in as the next version (one rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        number = max((int(v[1:]) for v in self.versions()), default=0) + 1
        version = f"v{number:04d}"
        manifest = manifest.model_copy(update={"version": version, "onnx_sha256": sha256_of(folder / manifest.model_file),
                                               "created": datetime.now(UTC).isoformat(timespec="seconds")})
        (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        staging = self.root / f".{version}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(str(folder), staging)
        os.replace(staging, self.root / version)
        return manifest

    def model_path(self, version: str) -> Path:
        """A version's model file, after checking it against its recorded hash."""
        manifest = self.manifest(version)
        path = self.root / version / manifest.model_file
        if not path.exists():
            raise ModelFileError(f"model {version} at {path.parent} is missing {manifest.model_file}")
        stat = path.stat()
        state = (version, stat.st_size, stat.st_mtime_ns)
        if state not in self._verified:
            found = sha256_of(path)
            if found != manifest.onnx_sha256:
                raise ModelFileError(f"model {version}: {manifest.model_file} has SHA-256 {found[:12]}..., its "
                                     f"manifest says {manifest.onnx_sha256[:12]}...: not loaded (copy it again or "
                                     "roll back)")
            self._verified.add(state)
        return path

    def files(self, version: str) -> tuple[Path, Path]:
        """(model.onnx, tokenizer.json) of a graph's version, the graph checked against its recorded hash."""
        tokenizer = self.root / version / "tokenizer.json"
        if not tokenizer.exists():
            raise ModelFileError(f"model {version} at {tokenizer.parent} is missing tokenizer.json")
        return self.model_path(version), tokenizer

    def blend(self, version: str) -> Blend | None:
        """How the ranking profiles weigh meaning while this version serves (blend.py); None: as declared."""
        path = self.root / version / "blend.json"
        return Blend.model_validate_json(path.read_text()) if path.exists() else None

    def save_blend(self, version: str, blend: Blend) -> None:
        self.manifest(version)  # an unknown version fails here
        staging = self.root / version / ".blend.json"
        staging.write_text(blend.model_dump_json(indent=2))
        os.replace(staging, self.root / version / "blend.json")

    def _pointed(self, name: str) -> str | None:
        pointer = self.root / name
        return pointer.read_text().strip() or None if pointer.exists() else None

    def _point(self, name: str, version: str | None, kind: str) -> None:
        """Serve a version of `kind` from the pointer file `name` (None: none); an atomic rename, read by engines
        as they open."""
        if version is not None and self.manifest(version).kind != kind:
            raise ModelFileError(f"model {version} is not a {kind}")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{name}"
        staging.write_text(version or "")
        os.replace(staging, self.root / name)

    def reranker(self) -> str | None:
        """The cross-encoder version the index's searches re-rank with, if any."""
        return self._pointed("RERANKER")

    def use_reranker(self, version: str | None) -> None:
        self._point("RERANKER", version, "cross-encoder")

    def order(self) -> str | None:
        """The learned order version that re-orders the index's searches' top hits, if any."""
        return self._pointed("ORDER")

    def use_order(self, version: str | None) -> None:
        self._point("ORDER", version, "learned-order")

    def encoder_settings(self, version: str, base: EncoderSettings) -> EncoderSettings:
        """Settings that load this version on the ONNX encoder, after checking its file against its hash."""
        if self.manifest(version).kind != "encoder":
            raise ModelFileError(f"model {version} is not a text encoder")
        onnx, tokenizer = self.files(version)
        return base.model_copy(update={"backend": "onnx-minilm", "onnx_path": str(onnx),
                                       "tokenizer_path": str(tokenizer)})
