"""`vitrina train` (an index's own encoder, from judgments or a tenant's events) and `vitrina models` (its
versions: list, switch, roll back)."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import typer
from rich.console import Console

from vitrina.config import Settings

train_app = typer.Typer(add_completion=False, invoke_without_command=True,
                        help="Fine-tune an index's own text encoder and publish it if it is better.")
models_app = typer.Typer(add_completion=False, help="An index's encoder versions: list, use (switch or roll back).")
err = Console(stderr=True)


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str))


def _write_qrels(source: Path, query_ids: set[str], target: Path) -> None:
    """The rows of a qrels file whose query is in query_ids, in the same format."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, encoding="utf-8") as inp, open(target, "w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(inp, delimiter="\t")
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for row in reader if row["query_id"] in query_ids)


def with_epochs(settings: Settings, epochs: float | None, reranker: bool) -> Settings:
    """`--epochs` is the epochs of the model the run trains: the cross-encoder's with --reranker, else the
    encoder's (the two have their own defaults)."""
    if epochs is None:
        return settings
    chosen = {"rerank_epochs" if reranker else "epochs": epochs}
    return settings.model_copy(update={"tuning": settings.tuning.model_copy(update=chosen)})


@train_app.callback()
def train(ctx: typer.Context,
          index: Path | None = typer.Option(None, help="the index to train for (with --qrels)"),
          qrels: Path | None = typer.Option(None, help="graded judgments, dev-qrels.tsv format (cold start)"),
          tenant: str | None = typer.Option(None, help="train from this tenant's events on the service database"),
          holdout: float = typer.Option(0.0, min=0.0, max=0.9, help="--qrels: keep this share of its queries out"),
          holdout_out: Path | None = typer.Option(None, help="--qrels: write the held-out queries' judgments here"),
          seed: int = typer.Option(0, help="the held-out split's seed"),
          epochs: float | None = typer.Option(None, help="default: settings.tuning.epochs, with --reranker "
                                                         "settings.tuning.rerank_epochs"),
          reranker: bool = typer.Option(False, "--reranker", help="train the index's re-rankers (its learned "
                                                                  "order of the top hits, then its cross-encoder) "
                                                                  "instead of its encoder"),
          data_dir: Path | None = typer.Option(None, help="--tenant: the service's data folder"),
          database_url: str | None = typer.Option(None, help="--tenant: the service database URL")) -> None:
    """`vitrina train --index PATH --qrels FILE` or `vitrina train --tenant NAME`; afterwards search and eval on
    that index use the new model with no other flag (if it beat the serving one on held-out queries)."""
    if ctx.invoked_subcommand is not None:
        return
    from vitrina.learn.tuning.pairs import PairSet, pairs_from_qrels, split_queries
    from vitrina.learn.tuning.train import TrainingRefused, train_encoder, train_reranker

    settings = with_epochs(Settings(), epochs, reranker)
    if (qrels is None) == (tenant is None):
        err.print("[red]give either --qrels FILE (with --index) or --tenant NAME")
        raise typer.Exit(2)
    import vitrina

    pairs: PairSet
    if qrels is not None:
        from vitrina.evaluate.datasets import load_qrels

        if not qrels.exists():
            err.print(f"[red]no judgments file at {qrels}")
            raise typer.Exit(2)
        texts, _ = load_qrels(qrels)
        kept, held = split_queries(list(texts), holdout, seed)
        if holdout_out is not None:
            _write_qrels(qrels, set(held), holdout_out)
            err.print(f"{len(held)} held-out queries written to {holdout_out}")
        pairs = pairs_from_qrels(qrels, set(kept))
        engine = vitrina.open(index or settings.index_path, settings)
    else:
        assert tenant is not None
        from vitrina.events.db import connect
        from vitrina.learn.learner import Learner
        from vitrina.learn.tuning.pairs import pairs_from_window
        from vitrina.learn.window import load_window
        from vitrina.serve.tenants import TenantRegistry

        settings = settings.with_service(data_dir=data_dir, database_url=database_url)
        db = connect(settings.service.database())
        tenants = TenantRegistry(db, settings)
        if not tenants.exists(tenant):
            err.print(f"[red]no tenant {tenant!r} (tenants: {', '.join(tenants.names()) or 'none'})")
            raise typer.Exit(2)
        objective = Learner(db, tenant, settings.learning).objective
        window = load_window(db, tenant, settings.learning.window_searches,
                             settings.learning.max_clicks_per_shopper_product)
        pairs = pairs_from_window(window, objective)
        engine = tenants.engine(tenant)
    err.print(f"training pairs: {pairs.summary()}")
    try:
        run = train_reranker if reranker else train_encoder
        report = run(engine, pairs, settings.tuning, log=lambda line: err.print(line))
    except TrainingRefused as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.close()
    _print(report.model_dump())
    if not report.published:
        raise typer.Exit(1)


@models_app.command("list")
def models_list(index: Path | None = typer.Option(None)) -> None:
    """The versions, their training and checks, and which ones serve."""
    import vitrina

    settings = Settings()
    with vitrina.open(index or settings.index_path, settings) as engine:
        _print({"serving": engine.model_version, "order": engine.models.order(), "reranker": engine.models.reranker(),
                "versions": [engine.models.manifest(v).model_dump() for v in engine.models.versions()]})


def _serve_phase(index: Path | None, version: str, phase: str) -> None:
    """Serve a version of a re-ranking phase ("reranker" or "order") on an index, or none ('none')."""
    import vitrina
    from vitrina.learn.tuning.registry import ModelFileError

    settings = Settings()
    with vitrina.open(index or settings.index_path, settings) as engine:
        use, served = ((engine.use_reranker, engine.models.reranker) if phase == "reranker"
                       else (engine.use_order, engine.models.order))
        try:
            use(None if version == "none" else version)
        except ModelFileError as exc:
            err.print(f"[red]{exc}")
            raise typer.Exit(1) from exc
        _print({phase: served()})


@models_app.command("reranker")
def models_reranker(version: str = typer.Argument(..., help="a cross-encoder version, or 'none'"),
                    index: Path | None = typer.Option(None)) -> None:
    """Re-rank searches' top hits with a cross-encoder version, or stop ('none')."""
    _serve_phase(index, version, "reranker")


@models_app.command("order")
def models_order(version: str = typer.Argument(..., help="a learned order version, or 'none'"),
                 index: Path | None = typer.Option(None)) -> None:
    """Re-order searches' top hits with a learned order version (before the cross-encoder), or stop ('none')."""
    _serve_phase(index, version, "order")


@models_app.command("use")
def models_use(version: str = typer.Argument(..., help="a version (e.g. v0002), or 'base' for the configured one"),
               index: Path | None = typer.Option(None)) -> None:
    """Serve another version (a rollback is this too): the catalog re-embedded into a new generation, vectors
    taken from the cache where that model made them before."""
    import vitrina
    from vitrina.learn.tuning.registry import ModelFileError

    settings = Settings()
    with vitrina.open(index or settings.index_path, settings) as engine:
        try:
            _print(engine.use_model(None if version == "base" else version).model_dump())
        except ModelFileError as exc:
            err.print(f"[red]{exc}")
            raise typer.Exit(1) from exc


@train_app.command("image-encoder")
def train_image(index: Path = typer.Option(..., help="an index of the products (their text vectors are the target)"),
                images: Path = typer.Option(..., help="the products' photos: a folder of <id>.jpg or *.tar shards"),
                out: Path = typer.Option(Path("data/models/image-tower.onnx"), help="the ONNX model to write "
                                         "(and its report beside it, .json)"),
                epochs: float = typer.Option(6.0), seed: int = typer.Option(0),
                holdout: float = typer.Option(0.1, min=0.0, max=0.5, help="share of products kept out of training"),
                width: int = typer.Option(32, help="the CNN's width (32: 2.1M parameters)"),
                limit: int | None = typer.Option(None, help="train on the first N products with photos")) -> None:
    """Train an image tower into the index's text space (contrastive, text side frozen); figures on held-out
    products, measured on the exported graph."""
    import vitrina
    from vitrina.vision.train import ImageTraining, train_image_encoder

    config = ImageTraining(epochs=epochs, seed=seed, holdout=holdout, width=width, limit=limit)
    settings = Settings()
    last, started = [-1], time.perf_counter()

    def tick(progress: float, loss: float) -> None:
        if int(progress * 100) // 5 != last[0]:
            last[0] = int(progress * 100) // 5
            err.print(f"{progress:6.1%}  loss {loss:.4f}  {time.perf_counter() - started:6.0f} s")

    with vitrina.open(index, settings) as engine:
        try:
            report = train_image_encoder(engine, images, out, config, tick)
        except (ValueError, FileNotFoundError) as exc:
            err.print(f"[red]{exc}")
            raise typer.Exit(1) from exc
    _print(report.model_dump())


@train_app.command("photo-readers")
def train_photo_readers(index: Path = typer.Option(..., help="an index of the products (their feed's colours and "
                                                         "types are the labels)"),
                        images: Path = typer.Option(..., help="the products' photos: a folder of <id>.jpg or *.tar "
                                                              "shards"),
                        tower: Path = typer.Option(..., help="the image tower (ONNX) whose vectors the readers read"),
                        seed: int = typer.Option(0), holdout: float = typer.Option(0.1, min=0.0, max=0.5)) -> None:
    """Fit the readers of an image tower, what a photo shows: its colour family and its product type (written
    beside it, <tower>.colour.json and <tower>.type.json); their agreement with the feed on held-out products (the
    tower's own seeded split)."""
    import vitrina
    from vitrina.vision.train import ImageTraining, train_readers

    with vitrina.open(index, Settings()) as engine:
        _print(train_readers(engine, images, tower, ImageTraining(seed=seed, holdout=holdout)))
