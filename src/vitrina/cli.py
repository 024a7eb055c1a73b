"""The `vitrina` command."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import vitrina
from vitrina.allocator import use_preferred
from vitrina.cli_learn import experiment_app, learn_app
from vitrina.cli_llm import llm_app, llm_settings, warm_engine
from vitrina.cli_train import models_app, train_app
from vitrina.config import Settings
from vitrina.pipeline import SearchResponse


class Dataset(str, Enum):
    fashion = "fashion"
    homedepot = "homedepot"


BenchSize = Enum("BenchSize", {"quick": "quick", "s44k": "44k", "s100k": "100k", "s1m": "1m"}, type=str)

app = typer.Typer(add_completion=False, help="Vitrina: product search that understands shoppers.")
app.add_typer(learn_app, name="learn")
app.add_typer(experiment_app, name="experiment")
app.add_typer(llm_app, name="llm")
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")
console = Console()
err = Console(stderr=True)


def _engine(index: Path | None, llm: bool = False) -> vitrina.Engine:
    settings = Settings()
    if llm:  # asked for on the command line: wait for the model's reading (the endpoint's timeout bounds it)
        settings = llm_settings(settings, budget_ms=settings.llm.timeout_seconds * 1000)
    return vitrina.open(index or settings.index_path, settings)


@contextmanager
def _reading(index: Path | None) -> Iterator[vitrina.Engine]:
    """An engine for one command: a missing index or a bad argument is a clear error (exit 2), never a trace."""
    engine = _engine(index)
    try:
        yield engine
    except (vitrina.engine.EmptyIndexError, ValueError) as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    finally:
        engine.close()


def _json_option(name: str, text: str | None) -> dict | None:
    """A JSON object option; bad JSON is a one-line error naming the option, not a traceback."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        err.print(f"[red]{name} is not valid JSON: {exc.msg} at column {exc.colno}")
        raise typer.Exit(2) from exc
    if not isinstance(value, dict):
        err.print(f"[red]{name} must be a JSON object")
        raise typer.Exit(2)
    return value


@app.command()
def ingest(feed_path: Path = typer.Argument(..., help="JSONL/CSV/Parquet file (optionally .gz)"),
           index: Path | None = typer.Option(None, help="index directory (default: settings.index_path)"),
           feed: str = typer.Option("tabular", help="tabular | myntra | homedepot"),
           mapping: str | None = typer.Option(None, help='JSON: product field -> column, e.g. {"title": "name"}'),
           fresh: bool = typer.Option(False, help="replace the index instead of upserting into it"),
           delete: list[str] = typer.Option([], help="product ids to delete in the same transaction"),
           vectors_later: bool = typer.Option(False, help="publish searchable by words and filters first, then "
                                                          "fill the vectors generation by generation"),
           enrich: bool = typer.Option(False, help="then fill missing attributes with the LLM (searchable meanwhile)"),
           enrich_limit: int | None = typer.Option(None, help="enrich only the first N products"),
           images: Path | None = typer.Option(None, help="then embed the products' photos: a folder of <id>.jpg "
                                                         "or .tar shards of them"),
           feed_images: bool = typer.Option(False, "--feed-images", help="then embed the photos the feed names "
                                                                        "(each product's first image: a URL, or a "
                                                                        "path relative to the feed)")) -> None:
    """Validate a feed row by row, embed it and upsert it into the index (atomically)."""
    if not feed_path.exists():
        err.print(f"[red]no such file: {feed_path}")
        raise typer.Exit(2)
    engine = _engine(index)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} products"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("ingesting", total=None)

        def progress(stage: str, advance: int, total: int | None) -> None:
            bar.update(task, advance=advance, description="optimising index" if stage == "optimize" else "ingesting")

        report = engine.ingest(feed_path, feed=feed, mapping=_json_option("--mapping", mapping), fresh=fresh,
                               delete=delete, progress=progress, vectors="later" if vectors_later else "now")
    for problem in report.rejected[:50]:
        err.print(f"[yellow]rejected[/] {problem}")
    if len(report.rejected) > 50:
        err.print(f"[yellow]... and {len(report.rejected) - 50} more rejected rows")
    console.print(f"rows {report.rows}  upserted {report.upserted}  rejected {len(report.rejected)}  "
                  f"deleted {report.deleted}  newly embedded {report.embedded}  in {report.seconds:.1f}s  "
                  f"-> {engine.count()} products in {engine.path}")
    if report.vectors_later:
        console.print(f"searchable now by words and filters; {report.vectors_later} vectors to fill")
        _fill_vectors(engine)
    if enrich:
        from vitrina.cli_llm import enrich_feed

        enrich_feed(engine, feed_path, feed, _json_option("--mapping", mapping), enrich_limit, batch=50)
    if images is not None or feed_images:
        _attach_images(engine, images, feed_path.parent)
    engine.close()


def _attach_images(engine: vitrina.Engine, images: Path | None, base: Path | None = None) -> None:
    """The products' photos (from a folder, else the ones the feed names) into a new generation, with a bar;
    unreadable photos named, nothing else lost."""
    if images is not None and not images.exists():
        err.print(f"[red]no images at {images}")
        raise typer.Exit(2)
    with Progress(TextColumn("embedding photos"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("", total=engine.count())
        try:
            report = engine.attach_images(images, progress=lambda done, total: bar.update(task, completed=done),
                                          base=base)
        except ValueError as exc:
            err.print(f"[red]{exc}")
            raise typer.Exit(1) from exc
    for problem in report.rejected[:50]:
        err.print(f"[yellow]photo skipped[/] {problem}")
    console.print(f"photos {report.found} of {report.products} products (newly embedded {report.embedded}, "
                  f"skipped {len(report.rejected)}) in {report.seconds:.1f}s by {report.model}")


def _fill_vectors(engine: vitrina.Engine) -> None:
    """The missing vectors, a generation per batch, with a bar and an ETA (Ctrl-C is safe: run it again)."""
    with Progress(TextColumn("filling vectors"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task("", total=engine.missing_vectors())
        report = engine.fill_vectors(progress=lambda done, total: bar.update(task, completed=done))
    console.print(f"vectors filled {report.filled} (encoded {report.embedded}) in {report.generations} "
                  f"generations, {report.seconds:.1f}s")


@app.command("fill-vectors")
def fill_vectors(index: Path | None = typer.Option(None)) -> None:
    """Give the products an ingest published without vectors (--vectors-later) theirs; resumes where it stopped."""
    engine = _engine(index)
    _fill_vectors(engine)
    engine.close()


def _print_response(response: SearchResponse, reasons: bool = True) -> None:
    u = response.understanding
    said = [f"intent={u.intent.value}"]
    if u.types:
        said.append("types=" + ",".join(t for t, g in u.types.items() if g >= 1))
    said += [f"{'NOT ' if c.negated else ''}{c.vocabulary}={c.term}" for c in u.constraints]
    said += [f"NOT {w!r}" for w in u.excluded]
    if u.price and (u.price.catalog_min or u.price.catalog_max):
        said.append(f"price {u.price.catalog_min or ''}..{u.price.catalog_max or ''}")
    if u.carried:
        said.append("carried: " + ", ".join(u.carried))
    console.print(f"[bold]{response.query}[/]  [dim]{'; '.join(said)}[/]")
    if u.llm is not None:
        note = u.llm
        console.print(f"[cyan]LLM ({note.model}, {note.status}{', ' + note.intent if note.intent else ''}):[/] "
                      f"added {', '.join(note.added) or 'nothing'}"
                      + (f"  [dim]not taken: {'; '.join(note.ignored)}[/]" if note.ignored else "")
                      + (f"  [dim]facets: {', '.join(note.facets)}[/]" if note.facets else "")
                      + (f"  [red]{note.error}[/]" if note.error else ""))
    table = Table(show_lines=False)
    for col in ("#", "score", "product", "price", "why"):
        table.add_column(col)
    for rank, hit in enumerate(response.hits, start=(response.page - 1) * response.size + 1):
        p, e = hit.product, hit.explanation
        why = "; ".join(e.matches[:4])
        if e.penalties:
            why += "  [red]- " + "; ".join(e.penalties[:2]) + "[/]"
        price = f"{p.get('price') or '-'} {p.get('currency', '')}"
        table.add_row(str(rank), f"{hit.score:.3f}", f"{p.get('title')} [dim]({p.get('id')})[/]", price,
                      why if reasons else "")
    console.print(table)
    if response.facets:
        console.print("[dim]facets: " + " | ".join(
            f"{f.label}: " + ", ".join(f"{v.value} ({v.count})" for v in f.values[:4]) for f in response.facets))
    if response.message:
        console.print(f"[yellow]{response.message}")
    more = "+" if response.total_relation == "gte" else ""
    console.print(f"[dim]{response.total}{more} matching  ·  confidence {response.confidence}  ·  "
                  f"{response.timings.get('total', 0):.1f} ms  ·  search_id {response.search_id}")


def _print_photo_hits(response) -> None:
    table = Table(title=response.query)
    for col in ("#", "score", "product", "price", "why"):
        table.add_column(col)
    for rank, hit in enumerate(response.hits, start=1):
        p = hit.product
        table.add_row(str(rank), f"{hit.score:.4f}", f"{p.get('title')} [dim]({p.get('id')})[/]",
                      f"{p.get('price') or '-'} {p.get('currency', '')}", "; ".join(hit.explanation.matches))
    console.print(table)
    if response.read_as:
        console.print("[dim]the photo reads as " + ", ".join(
            f"{field} {read.label} ({read.probability:.0%})" for field, read in response.read_as.items()))
    console.print(f"[dim]{response.timings.get('total', 0):.1f} ms  ·  search_id {response.search_id}")


@app.command()
def similar(product_id: str, index: Path | None = typer.Option(None), size: int = typer.Option(10),
            filters: str | None = typer.Option(None, help='JSON, e.g. {"price": {"lte": 1500}}'),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Products that look like one of the catalog's: its photo (its text without one), its type first."""
    with _reading(index) as engine:
        response = engine.similar(product_id, _json_option("--filters", filters), size)
    if response is None:
        err.print(f"[red]no product {product_id!r} in the index")
        raise typer.Exit(1)
    print(response.model_dump_json(indent=2)) if as_json else _print_photo_hits(response)


@app.command()
def search(query: str = typer.Argument("", help="the shopper's words (or --image FILE)"),
           image: Path | None = typer.Option(None, help="search by a photo instead of words"),
           index: Path | None = typer.Option(None), size: int = typer.Option(10),
           page: int = typer.Option(1), history: list[str] = typer.Option([], help="earlier turns, oldest first"),
           filters: str | None = typer.Option(None, help='JSON, e.g. {"brand": "nike", "in_stock": true}'),
           profile: str | None = typer.Option(None, help="ranking profile (rules/<domain>/ranking.json)"),
           llm: bool = typer.Option(False, "--llm", help="with the LLM's reading (settings.llm), shown beside the rules'"),
           as_json: bool = typer.Option(False, "--json", help="print the whole response as JSON")) -> None:
    """Search the index; shows what was understood and why each hit ranks where it does."""
    if image is not None:
        _search_image(image, index, size, filters, as_json)
        return
    engine = _engine(index, llm)
    try:
        response = engine.search(query, history=list(history), filters=_json_option("--filters", filters),
                                 size=size, page=page, profile=profile)
    except (vitrina.engine.EmptyIndexError, ValueError) as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(response.model_dump_json(indent=2))
    else:
        _print_response(response)
    engine.close()


def _search_image(image: Path, index: Path | None, size: int, filters: str | None, as_json: bool) -> None:
    if not image.is_file():
        err.print(f"[red]no such file: {image}")
        raise typer.Exit(2)
    with _reading(index) as engine:  # an unreadable photo is an ImageError, a ValueError
        response = engine.search_image(image.read_bytes(), _json_option("--filters", filters), size)
    print(response.model_dump_json(indent=2)) if as_json else _print_photo_hits(response)


@app.command()
def outfit(query: str = typer.Argument("", help='e.g. "an outfit for a beach wedding under 5000"'),
           product: str | None = typer.Option(None, help="build the look around this product id"),
           budget: float | None = typer.Option(None, help="for the products the look adds (else the query's price)"),
           index: Path | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")) -> None:
    """Complete the look: one real product per slot (top and bottom or a one-piece, shoes, an accessory)."""
    with _reading(index) as engine:
        try:
            look = engine.outfit(query, product, budget)
        except KeyError as exc:
            err.print(f"[red]no product {product!r} in the index")
            raise typer.Exit(1) from exc
    if look is None:
        err.print("[red]this domain's rules define no outfits (rules/<domain>/outfits.json)")
        raise typer.Exit(1)
    if as_json:
        print(look.model_dump_json(indent=2))
        return
    table = Table(title=f"{' + '.join(look.look)}  total {look.total}" + (f" of {look.budget}" if look.budget else ""))
    for col in ("slot", "product", "price", "why"):
        table.add_column(col)
    for item in look.items:
        p = item.product
        table.add_row(item.slot, f"{p.get('title')} [dim]({p.get('id')})[/]", str(p.get("price")), "; ".join(item.reasons))
    console.print(table)
    if look.missing:
        console.print(f"[yellow]no product fits: {', '.join(look.missing)}")


@app.command()
def explain(query: str, product_id: str, index: Path | None = typer.Option(None),
            history: list[str] = typer.Option([])) -> None:
    """Every signal, match and penalty of one product for one query."""
    engine = _engine(index)
    hit = engine.explain(query, product_id, history=list(history))
    if hit is None:
        err.print(f"[yellow]{product_id} is not among the candidates for {query!r} "
                  "(filtered out by a hard constraint, or not retrieved)")
        raise typer.Exit(1)
    print(json.dumps({"product": hit.product.get("title"), "score": hit.score,
                      "explanation": hit.explanation.model_dump()}, indent=2))
    engine.close()


@app.command()
def demo(index: Path = typer.Option(Path("data/demo-index")),
         queries: list[str] = typer.Option([], help="queries to run instead of the built-in session"),
         sample: bool = typer.Option(False, "--sample", help="the generated sample even where the real data is"),
         serve_it: bool = typer.Option(True, "--serve/--no-serve", help="then serve the storefront over it"),
         port: int = typer.Option(8000)) -> None:
    """Index a demo catalog (real fashion products with thumbnails when ../shared/datasets is there, else the
    generated sample), run the built-in search session, then serve the storefront over it."""
    from vitrina.catalog.demo import REAL_QUERIES, SAMPLE_QUERIES, real_selection
    from vitrina.catalog.sample import write_sample_catalog

    shared = Settings().datasets_path / "fashion"
    engine = vitrina.open(index)
    if (shared / "catalog.jsonl.gz").exists() and not sample:
        products = real_selection(shared / "catalog.jsonl.gz")
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                      TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task(f"indexing {len(products)} real fashion products", total=len(products))
            report = engine.ingest(products, fresh=True, progress=lambda stage, n, _: bar.update(
                task, advance=n, description="optimising index" if stage == "optimize" else None))
        if (shared / "images-00.tar").exists():  # their photos too: search by photo and "similar" work
            _attach_images(engine, shared)
        built, images, what = REAL_QUERIES, shared, "real fashion products (Myntra, with thumbnails)"
    else:
        feed_path = index.parent / "sample-catalog.jsonl"
        write_sample_catalog(feed_path)
        report = engine.ingest(feed_path, fresh=True)
        built, images, what = SAMPLE_QUERIES, None, "generated sample products"
    console.print(f"{report.upserted} {what} indexed, {len(report.rejected)} rejected, {report.seconds:.1f}s ({index})")
    session: list[tuple[str, list[str]]] = [(q, []) for q in queries] or [(d.query, d.history) for d in built]
    for query, history in session:
        _print_response(engine.search(query, history=history, size=5))
    engine.close()
    if serve_it:
        _serve(index, "127.0.0.1", port, None, None, images)


def _service_settings(data_dir: Path | None, database_url: str | None, images: Path | None) -> Settings:
    return Settings().with_service(data_dir=data_dir, database_url=database_url, images_path=images)


@app.command()
def serve(index: Path | None = typer.Option(None, help="serve this index as tenant 'default'"),
          host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000),
          data_dir: Path | None = typer.Option(None, help="service database and tenants' indexes"),
          database_url: str | None = typer.Option(None, help="e.g. postgresql+psycopg://user@host/db"),
          images: Path | None = typer.Option(None, help="folder of product images or of .tar shards of them"),
          workers: int | None = typer.Option(None, min=1, max=64,
                                             help="processes serving the API (default 1; one per core to use them "
                                                  "all)")) -> None:
    """The HTTP API, the storefront page at / and the pixel at /pixel.js."""
    _serve(index, host, port, data_dir, database_url, images, workers)


def _serve(index: Path | None, host: str, port: int, data_dir: Path | None, database_url: str | None,
           images: Path | None, workers: int | None = None) -> None:
    import uvicorn

    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    settings = _service_settings(data_dir, database_url, images).with_service(workers=workers)
    service = Service.build(settings)
    keys = service.bootstrap(index)
    if not settings.service.admin_key:
        err.print(f"admin key (generated; set VITRINA_SERVICE__ADMIN_KEY to choose one): {keys.admin}",
                  soft_wrap=True)
    if not settings.api_key:
        err.print(f"tenant 'default' key (generated; set VITRINA_API_KEY to choose one): {keys.default_full}",
                  soft_wrap=True)
    err.print(f"storefront: http://{host}:{port}/   API docs: http://{host}:{port}/docs")
    with _local_llm(settings):
        if settings.service.workers == 1:  # the app opens (and warms) every tenant's engine before it listens
            uvicorn.run(create_app(service), host=host, port=port, log_level="warning")
            return
        from vitrina.serve.workers import serve_workers

        err.print(f"{settings.service.workers} worker processes")
        service.start_learning(for_workers=True)
        try:
            serve_workers(service, host, port, settings.service.workers)
        finally:
            service.close()


@contextmanager
def _local_llm(settings: Settings):
    """The local model server for the service's lifetime, when the LLM is on and set to start it."""
    if not (settings.llm.enabled and settings.llm.local.autostart):
        yield
        return
    from vitrina.llm.local import LocalModelError, LocalServer

    server = LocalServer(settings.llm.local, settings.llm.model)
    try:
        err.print(f"LLM: {server.start()} ({settings.llm.local.model})")
    except LocalModelError as exc:  # searches go on with the rules; the client's breaker stops asking
        err.print(f"[yellow]LLM not started: {exc}")
    try:
        yield
    finally:
        server.stop()


@app.command()
def analytics(report: str = typer.Argument("summary", help="summary | queries | products | positions | search"),
              search_id: str | None = typer.Option(None, help="for `search`: the search_id"),
              tenant: str = typer.Option("default"), limit: int = typer.Option(20),
              data_dir: Path | None = typer.Option(None), database_url: str | None = typer.Option(None)) -> None:
    """Attribution from the search log and events: per search, query text, product or position."""
    from vitrina.events.analytics import Analytics
    from vitrina.events.db import connect

    settings = _service_settings(data_dir, database_url, None)
    reports = Analytics(connect(settings.service.database()))
    if report == "search":
        if not search_id:
            err.print("[red]give --search-id")
            raise typer.Exit(2)
        found = reports.search(tenant, search_id)
        if found is None:
            err.print(f"[yellow]no search {search_id} for tenant {tenant}")
            raise typer.Exit(1)
        print(found.model_dump_json(indent=2))
        return
    runs: dict[str, Callable[[], Any]] = {
        "summary": lambda: reports.summary(tenant), "queries": lambda: reports.queries(tenant, limit),
            "products": lambda: reports.products(tenant, limit), "positions": lambda: reports.positions(tenant, limit)}
    if report not in runs:
        err.print(f"[red]unknown report {report!r}: {', '.join([*runs, 'search'])}")
        raise typer.Exit(2)
    result = runs[report]()
    rows = [r.model_dump() for r in result] if isinstance(result, list) else result.model_dump()
    print(json.dumps(rows, indent=2, default=str))




@contextmanager
def _ticker(label: str):
    """A progress line per query scored, naming the ablation being run."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} queries"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task(label, total=None)
        yield lambda mode: bar.update(task, advance=1, description=f"{label}: {mode}")


def _eval_engine(dataset: str, feed_file: Path, feed: str, also_needed: list[Path], settings: Settings,
                 index: Path | None, phases: dict | None = None) -> vitrina.Engine:
    from vitrina.evaluate.runner import eval_engine

    for needed in (feed_file, *also_needed):
        if not needed.exists():
            err.print(f"[yellow]{needed} is absent: the {dataset} set lives in {settings.datasets_path}")
            raise typer.Exit(2)
    return eval_engine(dataset, feed_file, feed, settings, index, phases)


@app.command("eval")
def evaluate(dataset: Dataset = typer.Option(Dataset.fashion),
             index: Path | None = typer.Option(None, help="index to build or reuse (default: cached by content)"),
             modes: str = typer.Option("bm25s,bm25,vector,rrf,full", help="ablations; bm25s is the reference BM25"),
             queries: Path | None = typer.Option(None, help="fashion: a queries file in the dev.jsonl format"),
             qrels: Path | None = typer.Option(None, help="homedepot: a qrels file in the dev-qrels.tsv format"),
             limit: int | None = typer.Option(None, help="homedepot: only the first N queries"),
             run_file: Path | None = typer.Option(None, help="write the full pipeline's ranking per query"),
             llm: bool = typer.Option(False, "--llm", help="with the LLM layer, its cache warmed first as a shop's"),
             images: Path | None = typer.Option(None, help="fashion: the products' photos (the `image` mode and the "
                                                           "full pipeline's image list need them)"),
             out: Path = typer.Option(Path("bench/results"), help="folder for the JSON results")) -> None:
    """Index a real dataset (once, cached by content) and score the engine on it, per ablation."""
    name = dataset.value
    from vitrina.evaluate.datasets import load_qrels
    from vitrina.evaluate.runner import eval_fashion, eval_homedepot

    chosen = tuple(m for m in modes.split(",") if m)
    settings = llm_settings(Settings(), budget_ms=0) if llm else Settings()
    shared = settings.datasets_path
    if name == "fashion":
        catalog = shared / "fashion" / "catalog.jsonl.gz"
        queries = queries or shared / "fashion-queries" / "dev.jsonl"
        engine = _eval_engine(name, catalog, "myntra", [queries], settings, index)
        if images is not None and engine.photo_count() == 0:
            _attach_images(engine, images)
        if "image" in chosen and engine.photo_count() == 0:
            err.print("[red]the image mode needs the products' photos: --images DIR")
            raise typer.Exit(2)
        if llm:
            warm_engine(engine, [json.loads(line)["turns"][-1] for line in queries.read_text().splitlines() if line.strip()])
        with _ticker(f"scoring {name}") as tick:
            report = eval_fashion(engine, catalog, queries, chosen, run_file, shared / "fashion-queries" / "judge.py",
                                  tick)
    else:
        products = shared / "homedepot" / "products.jsonl"
        qrels = qrels or shared / "homedepot" / "dev-qrels.tsv"
        engine = _eval_engine(name, products, "homedepot", [qrels],
                              settings.model_copy(update={"domain": "generic"}), index)
        if llm:
            texts = load_qrels(qrels)[0]
            warm_engine(engine, [texts[q] for q in sorted(texts)[:limit]])
        with _ticker(f"scoring {name}") as tick:
            report = eval_homedepot(engine, qrels, products, chosen, limit, run_file, tick)
    from vitrina.evaluate.machine import machine
    from vitrina.evaluate.runner import summary_markdown

    out.mkdir(parents=True, exist_ok=True)
    where = machine()
    stem = f"eval-{name}{'-llm' if llm else ''}{'-images' if engine.photo_count() else ''}"
    (out / f"{stem}.json").write_text(json.dumps({"machine": where, "modes": report}, indent=2))
    (out / f"{stem}.md").write_text(summary_markdown(name, report, where))
    table = Table(title=f"{name} relevance")
    metrics = [k for k in next(iter(report.values())) if k != "per_category"]
    table.add_column("mode")
    for m in metrics:
        table.add_column(m)
    for mode, row in report.items():
        table.add_row(mode, *[str(row[m]) for m in metrics])
    console.print(table)
    engine.close()


class ObjectiveChoice(str, Enum):
    clicks = "clicks"
    conversion = "conversion"
    revenue = "revenue"
    margin = "margin"


@app.command()
def simulate(dataset: Dataset = typer.Option(Dataset.homedepot),
             searches: int = typer.Option(20_000, min=1, help="simulated searches (page 1; page 2 views come on top)"),
             seed: int = typer.Option(0),
             objective: ObjectiveChoice = typer.Option(ObjectiveChoice.conversion),
             qrels: Path | None = typer.Option(None, help="homedepot: graded judgments in the dev-qrels.tsv format"),
             queries: Path | None = typer.Option(None, help="fashion: queries in the dev.jsonl format"),
             index: Path | None = typer.Option(None, help="index to build or reuse (default: cached by content)"),
             checkpoint: int = typer.Option(1000, min=1, help="searches per point of the learning curve"),
             update_every: int = typer.Option(200, min=1, help="new events between learner updates"),
             heldout_sample: int = typer.Option(500, min=1, help="held-out queries scored at the end"),
             zipf: float = typer.Option(1.0, help="Zipf exponent of query popularity"),
             out: Path = typer.Option(Path("bench/results"), help="folder for JSON, markdown and the PNG plot"),
             name: str | None = typer.Option(None, help="file name (default: simulate-<dataset>-<objective>-s<seed>)"),
             work: Path = typer.Option(Path("data/simulate"), help="where the simulation's event database goes"),
             ab: str | None = typer.Option(None, help="an A/B test of ranking profiles, control first: "
                                                      "'full,learned' (or 'full,full' for an A/A test)"),
             learn: bool = typer.Option(True, help="--no-learn: no learner updates (an A/A test of static)"),
             ) -> None:
    """Simulated shoppers search a real index; the learner learns from their events as the service's does."""
    from vitrina.evaluate.machine import machine
    from vitrina.evaluate.shoppers import Traffic
    from vitrina.evaluate.simulate import Simulation, judged_fashion, judged_homedepot
    from vitrina.evaluate.simulation_files import write
    from vitrina.events.db import connect
    from vitrina.learn.objective import Objective
    from vitrina.learn.worker import Learners

    settings = Settings()
    shared = settings.datasets_path
    label = name or f"simulate-{dataset.value}-{objective.value}-s{seed}"
    database = work / f"{label}.db"
    database.unlink(missing_ok=True)
    for extra in ("-wal", "-shm"):
        Path(f"{database}{extra}").unlink(missing_ok=True)
    db = connect(f"sqlite:///{database}")
    learners = Learners(db, settings.learning, logging.getLogger("vitrina.learn"))
    learner = learners.get("simulated")
    learner.set_objective(Objective.named(objective.value))
    phases = learners.phases("simulated")
    if dataset == Dataset.fashion:
        catalog = shared / "fashion" / "catalog.jsonl.gz"
        queries = queries or shared / "fashion-queries" / "dev.jsonl"
        engine = _eval_engine("fashion", catalog, "myntra", [queries], settings, index, phases)
        judged, currency = judged_fashion(queries, catalog), "INR"
    else:
        products = shared / "homedepot" / "products.jsonl"
        qrels = qrels or shared / "homedepot" / "dev-qrels.tsv"
        engine = _eval_engine("homedepot", products, "homedepot", [qrels],
                              settings.model_copy(update={"domain": "generic"}), index, phases)
        judged, currency = judged_homedepot(qrels), "USD"
    experiment = None
    if ab:
        from vitrina.experiments.models import Experiment, Variant

        profiles = ab.split(",")
        experiment = Experiment(name="simulated", variants=[Variant(name=f"{n}-{p}", profile=p)
                                                            for n, p in enumerate(profiles)])
    simulation = Simulation(engine, db, learner, judged, dataset.value, seed, traffic=Traffic(zipf_exponent=zipf),
                            currency=currency, experiment=experiment, learners=learners)
    if not learn:
        update_every = 10**12
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("simulated searches", total=searches)
        report = simulation.run(searches, checkpoint, update_every, heldout_sample,
                                tick=lambda n: bar.update(task, completed=n))
    for path in write(report, out, label, machine()):
        err.print(f"wrote {path}")
    engine.close()
    db.dispose()
    print(json.dumps({"static_ndcg": report.static_ndcg, "learned_ndcg": report.learned_ndcg,
                      "traffic_static_ndcg": report.traffic_static_ndcg,
                      "traffic_learned_ndcg": report.traffic_learned_ndcg,
                      "heldout_static_ndcg": report.heldout_static_ndcg,
                      "heldout_learned_ndcg": report.heldout_learned_ndcg, "searches": report.searches,
                      "revenue_per_search": report.revenue_per_search, "margin_per_search": report.margin_per_search,
                      "conversion": report.conversion, "seconds": report.seconds,
                      "experiment": report.experiment.model_dump() if report.experiment else None}))


@app.command()
def bench(size: BenchSize = typer.Option(BenchSize.s44k),
          queries: int = typer.Option(1000, help="real queries to time (fashion dev turns + Home Depot)"),
          work: Path = typer.Option(Path("data/bench"), help="where the bench indexes and the vector cache live"),
          out: Path = typer.Option(Path("bench/results"), help="folder for the JSON and markdown results"),
          reuse: bool = typer.Option(False, help="keep an index an earlier run built (and its ingest figures)")) -> None:
    """Ingest throughput, index size, RSS, per-stage latency and 2-client throughput, beside bm25s."""
    label = size.value
    from vitrina.evaluate.bench import markdown, run_bench

    shared = Settings().datasets_path
    catalog = shared / "fashion" / "catalog.jsonl.gz"
    if not catalog.exists():
        err.print(f"[yellow]{catalog} is absent: the fashion set lives in ../shared/datasets")
        raise typer.Exit(2)
    if label == "quick":
        queries = min(queries, 100)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("ingesting", total=None)

        def tick(stage: str, advance: int, total: int | None) -> None:
            bar.update(task, advance=advance, total=total,
                       description="building HNSW and publishing" if stage == "optimize" else "ingesting")

        result = run_bench(label, catalog, "myntra", shared, work, queries, tick=tick, reuse=reuse)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench-{label}.json").write_text(json.dumps(result, indent=2))
    (out / f"bench-{label}.md").write_text(markdown(result))
    console.print(markdown(result))


if __name__ == "__main__":  # python -m vitrina.cli: on the preferred allocator too (vitrina.allocator)
    use_preferred()
    app()
