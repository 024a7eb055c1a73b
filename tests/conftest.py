import gzip
import json
from pathlib import Path

import pytest

import vitrina
from vitrina.catalog.sample import write_sample_catalog

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FASHION = SHARED / "fashion" / "catalog.jsonl.gz"
HOMEDEPOT = SHARED / "homedepot"


def need(path: Path):
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live in ../shared/datasets (see its README)")


@pytest.fixture(scope="session")
def sample_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    feed = write_sample_catalog(root / "catalog.jsonl")
    engine = vitrina.open(root / "index")
    report = engine.ingest(feed, fresh=True)
    assert report.upserted == 360 and not report.rejected
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def fashion_slice(tmp_path_factory):
    """A real slice of the Myntra feed: every 40th product (about 1,100), with its messy values."""
    need(FASHION)
    root = tmp_path_factory.mktemp("fashion")
    path = root / "slice.jsonl"
    with gzip.open(FASHION, "rt", encoding="utf-8") as src, open(path, "w") as out:
        for i, line in enumerate(src):
            if i % 40 == 0:
                out.write(line)
    return path


@pytest.fixture(scope="session")
def fashion_engine(fashion_slice, tmp_path_factory):
    engine = vitrina.open(tmp_path_factory.mktemp("fashion-index") / "index")
    engine.ingest(fashion_slice, feed="myntra", fresh=True)
    yield engine
    engine.close()


def first_rows(path: Path, n: int) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(next(handle)) for _ in range(n)]
