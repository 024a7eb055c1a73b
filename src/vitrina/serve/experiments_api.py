"""The /v1/{tenant}/experiments routes: A/B tests of ranking profiles, and their per-variant report."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from vitrina.experiments.models import Experiment
from vitrina.experiments.report import ExperimentReport, experiment_report
from vitrina.experiments.store import ExperimentError
from vitrina.serve.api import FULL, EngineDep, ServiceDep

router = APIRouter()


@router.post("/v1/{tenant}/experiments", status_code=201, response_model=Experiment, dependencies=FULL)
def create_experiment(tenant: str, body: Experiment, engine: EngineDep, service: ServiceDep):
    """Start an A/B test: searches with a user (or session) id are split between the variants' profiles."""
    unknown = [v.profile for v in body.variants if v.profile not in engine.profiles.profiles]
    if unknown:
        raise HTTPException(422, f"unknown ranking profiles {unknown}; known: {sorted(engine.profiles.profiles)}")
    try:
        service.experiments.create(tenant, body.model_copy(update={"status": "running"}))
    except ExperimentError as exc:
        raise HTTPException(409, str(exc)) from exc
    return service.experiments.get(tenant, body.name)


@router.get("/v1/{tenant}/experiments", response_model=list[Experiment], dependencies=FULL)
def list_experiments(tenant: str, service: ServiceDep):
    return service.experiments.all(tenant)


@router.get("/v1/{tenant}/experiments/{name}", response_model=ExperimentReport, dependencies=FULL)
def report(tenant: str, name: str, service: ServiceDep):
    try:
        experiment = service.experiments.get(tenant, name)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    return experiment_report(service.db, tenant, experiment)


@router.post("/v1/{tenant}/experiments/{name}/stop", response_model=Experiment, dependencies=FULL)
def stop(tenant: str, name: str, service: ServiceDep):
    try:
        return service.experiments.stop(tenant, name)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
