"""`vitrina learn ...` and `vitrina experiment ...`: a tenant's learned ranking and its A/B tests, from the
command line, on the service database (the same one `vitrina serve` uses)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine as Database

from vitrina.config import Settings

learn_app = typer.Typer(add_completion=False, help="The learned ranking of a tenant: status, update, objective, "
                                                   "rollback.")
experiment_app = typer.Typer(add_completion=False, help="A/B and interleaving experiments of ranking profiles.")
err = Console(stderr=True)
DataDir = typer.Option(None, help="the service's data folder (default: settings)")
DatabaseUrl = typer.Option(None, help="the service database URL (default: SQLite in the data folder)")


def _database(data_dir: Path | None, database_url: str | None) -> tuple[Settings, Database]:
    from vitrina.events.db import connect

    settings = Settings().with_service(data_dir=data_dir, database_url=database_url)
    return settings, connect(settings.service.database())


def _learner(tenant: str, data_dir: Path | None, database_url: str | None):
    from vitrina.learn.learner import Learner

    settings, db = _database(data_dir, database_url)
    return Learner(db, tenant, settings.learning)


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str))


@learn_app.command("status")
def learn_status(tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                 database_url: str | None = DatabaseUrl) -> None:
    """The served version, its weights and check, the objective, and events waiting to be learned from."""
    learner = _learner(tenant, data_dir, database_url)
    _print({"tenant": tenant, "version": learner.version, "paused": learner.paused,
            "objective": learner.objective.model_dump(), "pending_events": learner.pending(),
            "versions": learner.store.versions()})


@learn_app.command("update")
def learn_update(tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                 database_url: str | None = DatabaseUrl) -> None:
    """Learn from the log now (a running service does this by itself as events arrive)."""
    _print(_learner(tenant, data_dir, database_url).update().model_dump())


@learn_app.command("objective")
def learn_objective(name: str = typer.Argument(..., help="clicks | conversion | revenue | margin | mix"),
                    weights: str | None = typer.Option(None, help='JSON, e.g. {"purchase": 1, "margin": 0.5}'),
                    tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                    database_url: str | None = DatabaseUrl) -> None:
    """What the tenant's ranking learns toward, from the next update on."""
    from pydantic import ValidationError

    from vitrina.learn.objective import Objective

    try:
        objective = Objective.named(name, **json.loads(weights or "{}"))  # type: ignore[arg-type]
    except (KeyError, ValueError, ValidationError, TypeError) as exc:
        err.print(f"[red]not an objective: {exc}")
        raise typer.Exit(2) from exc
    learner = _learner(tenant, data_dir, database_url)
    learner.set_objective(objective)
    _print(objective.model_dump())


@learn_app.command("rollback")
def learn_rollback(tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                   database_url: str | None = DatabaseUrl) -> None:
    """Serve the version before the current one and pause updates (`vitrina learn resume` ends the pause).
    A running service picks the change up when it restarts; the API's rollback acts at once."""
    from vitrina.learn.store import NoModelToRestore

    learner = _learner(tenant, data_dir, database_url)
    try:
        previous = learner.roll_back()
    except NoModelToRestore as exc:
        err.print(f"[yellow]{exc}")
        raise typer.Exit(1) from exc
    _print({"tenant": tenant, "serving": previous or "the static ranking", "paused": True})


@learn_app.command("resume")
def learn_resume(tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                 database_url: str | None = DatabaseUrl) -> None:
    learner = _learner(tenant, data_dir, database_url)
    learner.resume()
    _print({"tenant": tenant, "paused": False})


@experiment_app.command("create")
def experiment_create(name: str, variants: str = typer.Option(..., help='JSON list: [{"name": "static", '
                                                                        '"profile": "full"}, ...], the first is '
                                                                        'the control'),
                      kind: str = typer.Option("ab", help="ab | interleave"), unit: str = typer.Option("user"),
                      tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                      database_url: str | None = DatabaseUrl) -> None:
    from pydantic import ValidationError

    from vitrina.experiments.models import Experiment
    from vitrina.experiments.store import ExperimentError, ExperimentStore
    from vitrina.rank.profiles import load_profiles

    try:
        experiment = Experiment.model_validate({"name": name, "variants": json.loads(variants), "kind": kind,
                                                "unit": unit})
        settings, db = _database(data_dir, database_url)
        known = load_profiles(settings.domain, settings.rules_path).profiles
        unknown = [v.profile for v in experiment.variants if v.profile not in known]
        if unknown:
            raise ValueError(f"unknown ranking profiles {unknown}; known: {sorted(known)}")
        ExperimentStore(db).create(tenant, experiment)
    except (ValidationError, ValueError, ExperimentError) as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    _print(experiment.model_dump())


@experiment_app.command("report")
def experiment_report_command(name: str, tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                              database_url: str | None = DatabaseUrl) -> None:
    """Per-variant CTR, conversion, revenue and margin per search, intervals and tests against the control."""
    from vitrina.experiments.report import experiment_report
    from vitrina.experiments.store import ExperimentStore

    _, db = _database(data_dir, database_url)
    try:
        experiment = ExperimentStore(db).get(tenant, name)
    except LookupError as exc:
        err.print(f"[yellow]{exc}")
        raise typer.Exit(1) from exc
    print(experiment_report(db, tenant, experiment).model_dump_json(indent=2))


@experiment_app.command("stop")
def experiment_stop(name: str, tenant: str = typer.Option("default"), data_dir: Path | None = DataDir,
                    database_url: str | None = DatabaseUrl) -> None:
    from vitrina.experiments.store import ExperimentStore

    _, db = _database(data_dir, database_url)
    try:
        _print(ExperimentStore(db).stop(tenant, name).model_dump())
    except LookupError as exc:
        err.print(f"[yellow]{exc}")
        raise typer.Exit(1) from exc
