"""Product images from a folder, or straight out of .tar shards (the fashion thumbnails), never copied; and the
drawn silhouettes of the generated sample."""

from __future__ import annotations

import mimetypes
import re
import tarfile
import threading
from pathlib import Path

from vitrina.serve.drawn import drawn_image

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


class ImageStore:
    def __init__(self, root: Path | None):
        self.root = root
        self._members: dict[str, tuple[Path, int, int]] | None = None  # name -> (tar, offset, size)
        self._guard = threading.Lock()

    def _tar_index(self) -> dict[str, tuple[Path, int, int]]:
        with self._guard:
            if self._members is None:
                members: dict[str, tuple[Path, int, int]] = {}
                for shard in sorted(self.root.glob("*.tar")) if self.root and self.root.is_dir() else []:
                    with tarfile.open(shard) as tar:
                        for info in tar:
                            if info.isfile():
                                members[Path(info.name).name] = (shard, info.offset_data, info.size)
                self._members = members
            return self._members

    def read(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, media type) of an image by file name, or None."""
        if not SAFE_NAME.match(name):
            return None
        drawn = drawn_image(name)
        if drawn is not None:
            return drawn, "image/svg+xml"
        if self.root is None:
            return None
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        plain = self.root / name
        if plain.is_file():
            return plain.read_bytes(), media
        found = self._tar_index().get(name)
        if found is None:
            return None
        shard, offset, size = found
        with open(shard, "rb") as handle:
            handle.seek(offset)
            return handle.read(size), media
