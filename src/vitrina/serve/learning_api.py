"""The /v1/{tenant}/learning routes: the tenant's objective, its learned model versions, update, roll back."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vitrina.learn.learner import UpdateReport
from vitrina.learn.objective import Objective, ObjectiveName
from vitrina.learn.store import NoModelToRestore
from vitrina.serve.api import FULL, ServiceDep

router = APIRouter()


class ObjectiveRequest(BaseModel):
    """A preset by name; "mix" (or any preset) takes weights for click, add_to_cart, purchase, revenue, margin."""
    model_config = ConfigDict(extra="forbid")
    name: ObjectiveName
    weights: dict[str, float] = Field(default_factory=dict)


class LearningStatus(BaseModel):
    tenant: str
    enabled: bool
    objective: Objective
    paused: bool
    version: int  # 0: the static ranking
    pending_events: int
    model: dict | None = None
    # Learners toward a fixed objective, for experiments' `learned-<objective>` variants: objective -> version
    variant_versions: dict[str, int] = Field(default_factory=dict)


def _status(service, tenant: str) -> LearningStatus:
    learner = service.learners.get(tenant)
    model = learner.model
    return LearningStatus(tenant=tenant, enabled=service.settings.learning.enabled, objective=learner.objective,
                          paused=learner.paused, version=learner.version, pending_events=learner.pending(),
                          model=model.info.model_dump(mode="json") if model else None,
                          variant_versions={o: v.version for o, v in service.learners.of_variants(tenant).items()})


@router.get("/v1/{tenant}/learning", response_model=LearningStatus, dependencies=FULL)
def learning_status(tenant: str, service: ServiceDep):
    return _status(service, tenant)


@router.put("/v1/{tenant}/learning/objective", response_model=LearningStatus, dependencies=FULL)
def set_objective(tenant: str, body: ObjectiveRequest, service: ServiceDep):
    """What the tenant's ranking learns toward, from the next update on."""
    unknown = set(body.weights) - {"click", "add_to_cart", "purchase", "revenue", "margin"}
    if unknown:
        raise HTTPException(422, f"unknown objective weights {sorted(unknown)}: click, add_to_cart, purchase, "
                                 "revenue, margin")
    try:
        objective = Objective.named(body.name, **body.weights)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    service.learners.get(tenant).set_objective(objective)
    return _status(service, tenant)


@router.post("/v1/{tenant}/learning/update", response_model=UpdateReport, dependencies=FULL)
async def update_now(tenant: str, service: ServiceDep):
    """Learn from the log now, instead of waiting for the background worker."""
    return await run_in_threadpool(service.learners.get(tenant).update)


@router.get("/v1/{tenant}/learning/versions", dependencies=FULL)
def versions(tenant: str, service: ServiceDep):
    return service.learners.get(tenant).store.versions()


@router.post("/v1/{tenant}/learning/rollback", response_model=LearningStatus, dependencies=FULL)
def roll_back(tenant: str, service: ServiceDep):
    """Serve the version before the current one and pause updates until /resume."""
    try:
        service.learners.get(tenant).roll_back()
    except NoModelToRestore as exc:
        raise HTTPException(409, str(exc)) from exc
    return _status(service, tenant)


@router.post("/v1/{tenant}/learning/resume", response_model=LearningStatus, dependencies=FULL)
def resume(tenant: str, service: ServiceDep):
    service.learners.get(tenant).resume()
    return _status(service, tenant)
