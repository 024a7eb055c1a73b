import contextlib
import gzip
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy

import vitrina
from vitrina.catalog.sample import write_sample_catalog
from vitrina.config import EncoderSettings, Settings
from vitrina.embed.registry import make_encoder
from vitrina.engine import Engine

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FASHION = SHARED / "fashion" / "catalog.jsonl.gz"
HOMEDEPOT = SHARED / "homedepot"


def need(path: Path):
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live in ../shared/datasets (see its README)")


@pytest.fixture(scope="session")
def encoder():
    """One encoder for the session, as the service shares one per process."""
    return make_encoder(EncoderSettings())


@pytest.fixture(scope="session")
def sample_feed(tmp_path_factory):
    return write_sample_catalog(tmp_path_factory.mktemp("sample-feed") / "catalog.jsonl")


@pytest.fixture(scope="session")
def vector_cache(tmp_path_factory):
    """A vector cache every sample engine shares: a fresh index of the sample encodes nothing twice."""
    return tmp_path_factory.mktemp("vectors") / "vectors.sqlite"


def sample_settings(index: Path, vector_cache: Path, **overrides) -> Settings:
    return Settings(index_path=index, encoder={"cache_path": vector_cache}, **overrides)


@pytest.fixture(scope="session")
def sample_engine(tmp_path_factory, sample_feed, encoder, vector_cache):
    """The shared sample engine, for tests that only read. No response cache, so no test sees another's answers."""
    settings = sample_settings(tmp_path_factory.mktemp("sample") / "index", vector_cache, response_cache_size=0)
    engine = Engine(settings, encoder=encoder)
    report = engine.ingest(sample_feed, fresh=True)
    assert report.upserted == 360 and not report.rejected
    yield engine
    engine.close()


@pytest.fixture
def fresh_engine(tmp_path, sample_feed, encoder, vector_cache):
    """A new engine over its own sample index (response cache on, as by default): for tests that write or
    depend on what an engine has seen before."""
    engine = Engine(sample_settings(tmp_path / "index", vector_cache), encoder=encoder)
    engine.ingest(sample_feed, fresh=True)
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


FASHION_PHOTOS = SHARED / "fashion"  # images-00.tar ... images-08.tar


@pytest.fixture(scope="session")
def photo_engine(fashion_slice, fashion_engine, tmp_path_factory):
    """The fashion slice with its real thumbnails, embedded by the packaged image tower (its own index; the text
    vectors come from fashion_engine's cache)."""
    need(FASHION_PHOTOS / "images-00.tar")
    settings = Settings(index_path=tmp_path_factory.mktemp("photo-index") / "index",
                        encoder={"cache_path": fashion_engine.path / "vectors.sqlite"})
    engine = vitrina.open(settings=settings)
    engine.ingest(fashion_slice, feed="myntra", fresh=True)
    engine.attach_images(FASHION_PHOTOS)
    yield engine
    engine.close()


def homedepot_slice(root: Path, queries: int) -> Path:
    """The judged products of the first `queries` Home Depot dev queries (products.jsonl) and their qrels.tsv."""
    import csv

    need(HOMEDEPOT / "products.jsonl")
    with open(HOMEDEPOT / "dev-qrels.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    first = set(sorted({r["query_id"] for r in rows})[:queries])
    kept = [r for r in rows if r["query_id"] in first]
    wanted = {r["product_uid"] for r in kept}
    with open(root / "qrels.tsv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(kept)
    with open(HOMEDEPOT / "products.jsonl", encoding="utf-8") as src, open(root / "products.jsonl", "w") as out:
        out.writelines(line for line in src if str(json.loads(line)["product_uid"]) in wanted)
    return root


@pytest.fixture(scope="session")
def homedepot_small(tmp_path_factory):
    """The judged products of 120 Home Depot dev queries (a real slice) and their qrels, for the training tests of
    every module: the slice's vector cache (hd_settings in test_tuning) then encodes its products once a session."""
    return homedepot_slice(tmp_path_factory.mktemp("hd"), 120)


def first_rows(path: Path, n: int) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(next(handle)) for _ in range(n)]


# --- system services the tests start themselves (PostgreSQL, Chromium); `make test` installs them ---
def need_system(what: str, found: bool, how: str):
    """Skip where a system package is missing, except under `make test`, where missing is a failure."""
    if found:
        return
    message = f"{what} is not installed ({how}); scripts/system-packages.sh installs it"
    if os.environ.get("VITRINA_REQUIRE_SYSTEM_TESTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen, seconds: float = 120) -> None:
    """Until the server process at `base` answers /healthz; fails if it exits first or takes longer."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer /healthz within {seconds:.0f} s")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (Debian's package) in a temporary folder, on a free loopback port."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    need_system("PostgreSQL", bool(bins), "Debian package postgresql")
    bindir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="vitrina-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = root / "data"
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
                    "start"], check=True, capture_output=True)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty service database: a SQLite file, or a new database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory):
    """The real embedded LLM: llama-cpp-python's server over the packaged Qwen2.5-Coder-0.5B, on a free port."""
    from vitrina.config import LocalModelSettings
    from vitrina.llm.local import LocalServer, server_available

    need_system("llama-cpp-python", server_available(), "pip install 'vitrina[llm]'")
    log = tmp_path_factory.mktemp("llm") / "server.log"
    server = LocalServer(LocalModelSettings(port=free_port(), threads=2), "qwen2.5-coder-0.5b", log_path=log)
    server.start()
    yield server
    server.stop()


# --- the browser (Debian's Chromium driven by Playwright) ---
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags a locked-down, offline machine needs (no sandbox as root, no background calls home).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    need_system("Chromium", Path(CHROMIUM).exists(), "Debian package chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


# --- a stand-in chat-completions endpoint, for the LLM client's fault paths (the real server is `local_llm`) ---
class Scripted(ThreadingHTTPServer):
    """Answers each POST with the next scripted (status, content) and records what it was sent."""
    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple[int, object]] = []
        self.received: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self):  # noqa: N802 (the http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        status, content = self.server.script.pop(0) if self.server.script else (500, "no script left")
        if status == 200:
            payload = {"choices": [{"message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 30, "completion_tokens": 12}}
        else:
            payload = {"error": content}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted_llm():
    server = Scripted()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def running_app(service):
    """The service's app under a real uvicorn server on a free loopback port; yields its base URL."""
    import uvicorn

    from vitrina.serve.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
