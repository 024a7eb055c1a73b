"""`vitrina llm ...`: the local model server, and reading a shop's queries with the LLM ahead of traffic."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vitrina.config import Settings
from vitrina.understand.llm import WarmReport

llm_app = typer.Typer(add_completion=False, help="The LLM layer: the local model server, warming its cache.")
err = Console(stderr=True)


def llm_settings(settings: Settings, budget_ms: float | None = None) -> Settings:
    """These settings with the LLM layer on (and a search budget, if given)."""
    llm = settings.llm.model_copy(update={"enabled": True, **({"budget_ms": budget_ms} if budget_ms is not None else {})})
    return settings.model_copy(update={"llm": llm})


@llm_app.command("serve")
def serve(port: int | None = typer.Option(None, help="default: settings.llm.local.port"),
          model: str | None = typer.Option(None, help="a packaged model name or a .gguf path"),
          threads: int | None = typer.Option(None)) -> None:
    """Start the local llama.cpp server (OpenAI-compatible) and keep it up until Ctrl-C."""
    from vitrina.llm.local import LocalModelError, LocalServer

    settings = Settings()
    given = {"port": port, "model": model, "threads": threads}
    local = settings.llm.local.model_copy(update={k: v for k, v in given.items() if v is not None})
    server = LocalServer(local, settings.llm.model)
    err.print(f"starting {local.model} on {server.base_url} ({local.threads} threads) ...")
    try:
        server.start()
    except LocalModelError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    err.print(f"[green]serving {settings.llm.model} at {server.base_url}[/] (Ctrl-C stops it)")
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def warm_engine(engine, queries: list[str]) -> WarmReport:
    """Every query read by the LLM now (as a shop warms its top queries), with a bar; searches then hit the cache."""
    reader = engine.query_reader()
    assert reader is not None, "the LLM layer is off"
    with Progress(TextColumn("LLM reading queries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err) as bar:
        task = bar.add_task("", total=len(set(queries)))
        report = reader.warm(queries, lambda q: bar.update(task, advance=1, description=q[:40]))
    err.print(f"LLM: {report.read} read, {report.cached} cached, {len(report.failed)} failed, {report.seconds} s")
    for failure in report.failed[:5]:
        err.print(f"[yellow]  {failure}")
    return report


def _queries(file: Path | None, tenant: str | None, limit: int, settings: Settings) -> list[str]:
    if file is not None:
        lines = [line.strip() for line in file.read_text().splitlines() if line.strip()]
        # dev.jsonl (a conversation's "turns" per line; or {"query": ...}) or plain text, a query per line
        return [turn for line in lines for turn in _turns(line)][:limit]
    from vitrina.events.analytics import Analytics
    from vitrina.events.db import connect

    return [q.query for q in Analytics(connect(settings.service.database())).queries(tenant or "default", limit)]


def _turns(line: str) -> list[str]:
    if not line.startswith("{"):
        return [line]
    record = json.loads(line)
    return list(record["turns"]) if "turns" in record else [record["query"]]


@llm_app.command("warm")
def warm(index: Path | None = typer.Option(None, help="the index whose catalog the readings are for"),
         queries: Path | None = typer.Option(None, help="a file of queries (a line each, or dev.jsonl)"),
         tenant: str | None = typer.Option(None, help="else: this tenant's most searched queries"),
         limit: int = typer.Option(500, min=1),
         data_dir: Path | None = typer.Option(None, help="the service's data folder (with --tenant)")) -> None:
    """Read the top queries with the LLM now, so searches find them cached."""
    import vitrina

    settings = llm_settings(Settings().with_service(data_dir=data_dir))
    asked = _queries(queries, tenant, limit, settings)
    engine = vitrina.open(index or settings.index_path, settings)
    report = warm_engine(engine, asked)
    engine.close()
    print(report.model_dump_json(indent=2))
    if report.failed and not report.read and not report.cached:
        raise typer.Exit(1)


def enrich_feed(engine, feed_path: Path, feed: str, mapping: dict | None, limit: int | None, batch: int) -> None:
    """Enrich a feed's products (already ingested, so searchable now) and publish each batch; prints the report."""
    from itertools import islice

    from vitrina.catalog.product import Product
    from vitrina.catalog.registry import make_feed
    from vitrina.catalog.validate import validate_rows

    products = (p for p in validate_rows(make_feed(feed, mapping).rows(feed_path)) if isinstance(p, Product))
    chosen = list(islice(products, limit)) if limit else list(products)
    enricher = engine.enricher()
    with Progress(TextColumn("enriching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("ETA"), TextColumn("{task.fields[eta]}"), console=err) as bar:
        task = bar.add_task("", total=len(chosen), eta="-")
        started = time.perf_counter()

        def advance(_: str) -> None:
            bar.update(task, advance=1)
            done = bar.tasks[0].completed
            left = (time.perf_counter() - started) / done * (len(chosen) - done)
            bar.update(task, eta=f"{left / 60:.1f} min")
        report = enricher.enrich(chosen, engine.update, batch, advance)
    print(report.model_dump_json(indent=2))


@llm_app.command("enrich")
def enrich(feed_path: Path = typer.Argument(..., help="the feed the index was built from"),
           index: Path | None = typer.Option(None), feed: str = typer.Option("tabular", help="tabular | myntra | homedepot"),
           limit: int | None = typer.Option(None, min=1, help="only the first N products"),
           batch: int = typer.Option(50, min=1, help="products per published generation")) -> None:
    """Fill the attributes a feed left out with the LLM (resumable: answers are cached by product content)."""
    import vitrina

    settings = Settings()
    engine = vitrina.open(index or settings.index_path, settings)
    enrich_feed(engine, feed_path, feed, None, limit, batch)
    engine.close()
