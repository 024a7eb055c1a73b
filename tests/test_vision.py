"""Photos: reading them, the packaged image tower in the engine (attach, search by photo, similar, the image
list for text queries), the HTTP routes, and a tiny real training of a tower."""

import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import vitrina
from conftest import FASHION_PHOTOS
from vitrina.cli import app
from vitrina.config import Settings
from vitrina.vision.colour import colour_family
from vitrina.vision.images import HEIGHT, WIDTH, ImageError, pixels, read_images
from vitrina.vision.readers import PhotoReader, Reading, label_of, load_readers, reader_file


def png(size, colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def photo_of(pid: str) -> bytes:
    return next(data for _, data in read_images(FASHION_PHOTOS, {pid}))


@pytest.mark.fast
def test_photos_are_fitted_onto_one_white_grid():
    grid = pixels(png((100, 50), (200, 0, 0)))  # wide: scaled to 60 wide, centred
    assert grid.shape == (HEIGHT, WIDTH, 3) and grid.dtype == np.uint8
    assert tuple(grid[HEIGHT // 2, WIDTH // 2]) == (200, 0, 0)
    assert tuple(grid[0, 0]) == (255, 255, 255)  # the padding is white, like catalog backgrounds
    with pytest.raises(ImageError, match="p7: not a readable image"):
        pixels(b"GIF89a not really", "p7")


@pytest.mark.fast
def test_photos_are_read_from_folders_and_tar_shards(tmp_path):
    (tmp_path / "a.jpg").write_bytes(png((6, 8), "blue"))
    (tmp_path / "notes.txt").write_text("not a photo")
    with tarfile.open(tmp_path / "shard.tar", "w") as shard:
        data = png((6, 8), "red")
        info = tarfile.TarInfo("photos/b.png")
        info.size = len(data)
        shard.addfile(info, io.BytesIO(data))
    assert sorted(pid for pid, _ in read_images(tmp_path)) == ["a", "b"]
    assert [pid for pid, _ in read_images(tmp_path, {"b"})] == ["b"]
    with pytest.raises(FileNotFoundError):
        list(read_images(tmp_path / "absent"))


@pytest.mark.fast
def test_colour_families():
    assert colour_family("Navy Blue") == "blue" and colour_family("off white") == "white"
    assert colour_family("Multi") is None and colour_family(None) is None


@pytest.mark.fast
def test_a_reader_gives_each_label_its_chance_and_a_guess_to_labels_it_does_not_know(tmp_path):
    reader = PhotoReader("type", ["shirts", "watches"], np.array([[4.0, -4.0], [0.0, 0.0]], np.float32),
                         np.zeros(2, np.float32), "image:t")
    reading = reader.read(np.array([1.0, 0.0], np.float32))
    assert reading.best[0] == "shirts" and reading.chance("shirts") > 0.99 and reading.chance("watches") < 0.01
    assert reading.chance("sarees") == reading.chance(None) == 0.5  # unknown to the reader: a guess among two
    assert Reading.certain("colour", "blue").chance("red") == 0.0
    assert label_of({"product_type": " Tshirts "}, "type") == "tshirts" and label_of({}, "type") is None
    assert label_of({"primary_color": "Navy Blue"}, "colour") == "blue"
    tower = tmp_path / "t.onnx"
    reader.save(reader_file(tower, "type"))
    (tmp_path / "t.colour.json").write_text(json.dumps({  # a colour reader from before readers had fields
        "families": ["black", "white"], "tower": "image:t", "weights": [[1, -1], [0, 0]], "bias": [0, 0]}))
    loaded = load_readers(tower, "image:t")
    assert sorted(loaded) == ["colour", "type"] and loaded["colour"].labels == ["black", "white"]
    assert load_readers(tower, "image:another-tower") == {}  # fitted on another tower's vectors: not used


@pytest.mark.fast
def test_a_field_labelled_too_thinly_gets_no_reader_and_the_others_still_fit(tmp_path):
    pytest.importorskip("sklearn")
    from vitrina.vision.train import ImageSet, fit_readers

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors[20:, 0] += 4  # the second type's photos differ along one axis
    data = ImageSet(ids=[str(i) for i in range(40)], grids=np.zeros((40, HEIGHT, WIDTH, 3), np.uint8),
                    vectors=vectors, types=["Shirts"] * 20 + ["Watches"] * 20,
                    families=["blue"] * 38 + [None, None], digest="")  # one colour family: nothing to tell apart
    agreement = fit_readers(data, np.arange(0, 40, 2), np.arange(1, 40, 2), vectors, "image:t", tmp_path / "t.onnx")
    assert set(agreement) == {"type_from_pixels_agreement"} and agreement["type_from_pixels_agreement"] > 0.8
    assert set(load_readers(tmp_path / "t.onnx", "image:t")) == {"type"}


@pytest.mark.slow
def test_search_by_photo_puts_what_the_photo_shows_first(photo_engine):
    """The packaged tower's readers name a photo's type and colour; products that are both rank above look-alikes
    that are not, and say so."""
    assert set(photo_engine.photos.readers) == {"colour", "type"}
    records = photo_engine.records(photo_engine.ids())
    shirts = sorted(pid for pid, r in records.items()
                    if r.get("product_type") == "Tshirts" and label_of(r, "colour") == "blue")
    pid = shirts[0]
    response = photo_engine.search_image(photo_of(pid), size=6)
    assert set(response.read_as) == {"colour", "type"} and 0 < response.read_as["type"].probability <= 1
    assert response.read_as["type"].label in photo_engine.photos.readers["type"].labels
    hits = response.hits
    assert hits[0].product["id"] == pid and "the same photo" in hits[0].explanation.matches
    others = hits[1:]
    assert sum(label_of(h.product, "type") == "tshirts" and label_of(h.product, "colour") == "blue"
               for h in others) >= 4, [(h.product["product_type"], h.product.get("primary_color")) for h in others]
    reasons = [m for h in others for m in h.explanation.matches]
    assert any(m.startswith("of the photo's type (tshirts") for m in reasons)
    assert any(m.startswith("in the photo's colour (blue") for m in reasons)


@pytest.mark.slow
def test_photos_attach_to_a_new_generation(photo_engine):
    assert photo_engine.photo_count() == photo_engine.count() > 1000  # every product of the slice has a photo
    meta = photo_engine.store.meta()
    assert meta.image_model == photo_engine.photos.encoder.model_id and meta.image_model.startswith("image:")


@pytest.mark.slow
def test_the_photo_list_is_searched_only_where_there_are_photos(photo_engine, fashion_engine):
    """A generation without photos leaves the photo list out (it would find nothing, slowly, under a filter)."""
    assert "image" in photo_engine.profiles.get("full").retrievers
    assert "image" in photo_engine.pipeline("full").retriever.weights
    assert fashion_engine.photo_count() == 0 and "image" not in fashion_engine.pipeline("full").retriever.weights
    assert fashion_engine.search("navy shirt for men under 2000", size=5).hits


@pytest.mark.slow
def test_a_products_own_photo_finds_it_first_and_filters_hold(photo_engine):
    pid = sorted(photo_engine.ids())[5]
    record = photo_engine.get(pid)
    response = photo_engine.search_image(photo_of(pid), size=10)
    assert response.hits[0].product["id"] == pid
    assert "its photo looks alike" in response.hits[0].explanation.matches[0]
    gender = record["gender"]
    filtered = photo_engine.search_image(photo_of(pid), {"gender": gender}, size=10)
    assert filtered.hits and all(h.product["gender"] == gender for h in filtered.hits)
    with pytest.raises(ImageError):
        photo_engine.search_image(b"not a photo")


@pytest.mark.slow
def test_similar_products_share_the_type_and_leave_the_product_out(photo_engine):
    shirts = [pid for pid, r in photo_engine.records(photo_engine.ids()).items() if r.get("product_type") == "Tshirts"]
    response = photo_engine.similar(shirts[0], size=10)
    ids = [h.product["id"] for h in response.hits]
    assert shirts[0] not in ids and len(ids) == 10
    assert all(h.product["product_type"] == "Tshirts" for h in response.hits)
    assert photo_engine.similar("no-such-product") is None


@pytest.mark.slow
def test_text_queries_find_products_by_their_photos_alone(photo_engine):
    """The image-only ablation: the query's text vector against photo vectors, no product text at all."""
    for query, kind in (("watch", "Watches"), ("sports shoes", "Sports Shoes"), ("handbag", "Handbags")):
        hits = photo_engine.search(query, size=10, profile="image").hits
        assert sum(h.product["product_type"] == kind for h in hits) >= 5, (query, [h.product["product_type"]
                                                                                    for h in hits])


@pytest.mark.slow
def test_a_text_querys_photo_list_looks_for_the_type_and_colour_it_asks_for(photo_engine):
    """The photo list searches the query's vector moved along the readers' directions for what it asks for."""
    query = "blue shirts for men"
    parsed = photo_engine.parser().parse(query)
    steer = photo_engine.photo_query
    assert steer.asked(parsed) == {"type": ["shirts"], "colour": ["blue"]}
    vector = photo_engine.encoder.encode_query(parsed.semantic_text)
    moved = steer.vector(parsed, vector)
    shirts = steer.directions["type"]["shirts"]
    assert abs(float(np.linalg.norm(moved)) - 1) < 1e-5 and float(moved @ shirts) > float(vector @ shirts)
    plain = photo_engine.parser().parse("something nice")
    assert steer.asked(plain) == {"type": [], "colour": []} and steer.vector(plain, vector) is vector

    def fits(engine) -> int:
        hits = engine.search(query, size=10, profile="image").hits
        return sum(h.product["product_type"] == "Shirts" and label_of(h.product, "colour") == "blue" for h in hits)

    bare = vitrina.open(photo_engine.path, images={"query_reading_weight": 0.0})
    assert bare.photo_query is None
    assert fits(photo_engine) >= 6 and fits(photo_engine) > fits(bare)
    bare.close()


@pytest.mark.slow
def test_photos_survive_a_reingest_and_bad_photos_are_named(tmp_path, fashion_slice, fashion_engine):
    lines = fashion_slice.read_text().splitlines()[:30]
    rows = [json.loads(line) for line in lines]
    black = next(r for r in rows[3:] if r.get("baseColour") == "Black")
    black.update(baseColour="", colour1="", colour2="")  # the feed names no colour: the photo's fills it
    lines = [json.dumps(r) for r in rows]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n")
    ids = [str(r["id"]) for r in rows]
    photos = tmp_path / "photos"
    photos.mkdir()
    for pid in ids[1:]:
        (photos / f"{pid}.jpg").write_bytes(photo_of(pid))
    (photos / f"{ids[0]}.jpg").write_bytes(b"\x89PNG broken")
    engine = vitrina.open(settings=Settings(index_path=tmp_path / "index",
                                            encoder={"cache_path": fashion_engine.path / "vectors.sqlite"}))
    engine.ingest(feed, feed="myntra", fresh=True)
    report = engine.attach_images(photos)
    assert report.found == 30 and len(report.rejected) == 1 and report.rejected[0].startswith(f"{ids[0]}:")
    assert engine.photo_count() == 29
    assert report.colour_checked >= 20 and report.colour_agreed >= report.colour_checked // 2
    filled = engine.get(str(black["id"]))
    assert report.colour_filled == 1 and filled["primary_color"] == "Black"
    assert filled["attributes"]["colour_from_photo"] == "black" and engine.photo_count() == 29
    changed = json.loads(lines[1])
    changed["price"] = 123
    feed.write_text(json.dumps(changed) + "\n")
    engine.ingest(feed, feed="myntra")  # an upsert replaces the product: its photo's vector stays
    assert engine.photo_count() == 29 and engine.get(ids[1])["price"] == 123
    assert engine.search_image(photo_of(ids[1]), size=1).hits[0].product["id"] == ids[1]
    again = engine.attach_images(photos)
    assert again.embedded == 0  # the same bytes are never encoded twice
    engine.close()


@pytest.mark.slow
def test_photo_routes(photo_engine, tmp_path):
    import base64

    from fastapi.testclient import TestClient

    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    service = Service.build(Settings(service={"data_dir": tmp_path, "admin_key": "admin"}, api_key="key"))
    service.bootstrap(photo_engine.path)
    pid = sorted(photo_engine.ids())[7]
    with TestClient(create_app(service), headers={"Authorization": "Bearer key"}) as client:
        raw = client.post("/v1/default/search/image?size=5", content=photo_of(pid),
                          headers={"Content-Type": "image/jpeg"})
        assert raw.status_code == 200 and raw.json()["hits"][0]["product"]["id"] == pid
        as_json = client.post("/v1/default/search/image", json={"image": base64.b64encode(photo_of(pid)).decode(),
                                                               "size": 3, "filters": {"price": {"lte": 10 ** 6}}})
        assert as_json.status_code == 200 and len(as_json.json()["hits"]) == 3
        assert client.post("/v1/default/search/image", content=b"plain text").status_code == 422
        bad = client.post("/v1/default/search/image?filters=" + json.dumps({"price": "abc"}), content=photo_of(pid))
        assert bad.status_code == 422
        similar = client.get(f"/v1/default/products/{pid}/similar?size=4")
        assert similar.status_code == 200 and pid not in [h["product"]["id"] for h in similar.json()["hits"]]
        assert client.get("/v1/default/products/nope/similar").status_code == 404
        logged = client.get(f"/v1/default/analytics/searches/{raw.json()['search_id']}")
        assert logged.status_code == 200
    service.close()


@pytest.mark.slow
def test_a_tiny_tower_trains_exports_and_serves(photo_engine, tmp_path):
    """A real (tiny) training on real photos: the report, the ONNX graph faithful to torch, and the engine
    loading it as its image model."""
    pytest.importorskip("torch")
    out = tmp_path / "tower.onnx"
    result = CliRunner().invoke(app, ["train", "image-encoder", "--index", str(photo_engine.path), "--images",
                                      str(FASHION_PHOTOS), "--out", str(out), "--epochs", "1", "--limit", "300",
                                      "--width", "8"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["products"] == 300 and report["held_out"] == 30 and report["trained_on"] == 270
    assert report["export_max_diff"] < 1e-4 and out.exists() and out.with_suffix(".json").exists()
    assert set(report["metrics"]) >= {"image_to_product_p@10_type_and_colour", "text_to_own_image_recall@10",
                                      "colour_from_pixels_agreement", "type_from_pixels_agreement"}
    engine = vitrina.open(tmp_path / "index", images={"model_path": out})
    assert set(engine.photos.readers) == {"colour", "type"}  # fitted beside the new tower, on its vectors
    vector = engine.photos.embed_one(photo_of(sorted(photo_engine.ids())[0]))
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    engine.close()


@pytest.mark.slow
def test_photos_the_feed_names_by_url_or_path(tmp_path, fashion_slice, fashion_engine):
    """A shop's feed names its photos: URLs it serves (a real local HTTP server here) and paths beside the feed;
    a URL that fails is named with its product, the rest land."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    rows = [json.loads(line) for line in fashion_slice.read_text().splitlines()[:4]]
    served = tmp_path / "served"
    served.mkdir()
    for row in rows[:2]:
        (served / f"p{row['id']}.jpg").write_bytes(photo_of(str(row["id"])))
    (tmp_path / "local.jpg").write_bytes(photo_of(str(rows[2]["id"])))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        products = [{"id": str(r["id"]), "title": r["productDisplayName"], "price": 100} for r in rows]
        for product, ref in zip(products, [f"{url}/p{rows[0]['id']}.jpg", f"{url}/p{rows[1]['id']}.jpg",
                                           "local.jpg", f"{url}/missing.jpg"], strict=True):
            product["images"] = [ref]
        feed = tmp_path / "feed.jsonl"
        feed.write_text("".join(json.dumps(p) + "\n" for p in products))
        result = CliRunner().invoke(app, ["ingest", str(feed), "--index", str(tmp_path / "index"), "--feed-images"])
        assert result.exit_code == 0, result.output
        assert "photos 3 of 4 products" in result.output and f"{rows[3]['id']}: photo" in result.output
    finally:
        server.shutdown()
    engine = vitrina.open(tmp_path / "index")
    assert engine.photo_count() == 3
    hit = engine.search_image(photo_of(str(rows[2]["id"])), size=1).hits[0]
    assert hit.product["id"] == str(rows[2]["id"])
    engine.close()
