"""``POST /api/policy/check``: the policy decision for a prompt, nothing generated or logged."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.deps import Services, require, services
from governance.service.api.routes.common import ERRORS, decision_out
from governance.service.api.schemas import DecisionOut, PromptCheckIn

router = APIRouter(prefix="/api/policy", tags=["policy"])


@router.post("/check", response_model=DecisionOut, responses=ERRORS, dependencies=[Depends(require(Role.generator))])
async def check(body: PromptCheckIn, svc: Services = Depends(services)) -> DecisionOut:
    """Stage 1 of generation alone (consent registry consulted)."""
    from governance.flows import check_prompt

    decision = await run_in_threadpool(check_prompt, svc.ctx, body.prompt, jurisdiction=body.jurisdiction)
    return decision_out(decision)
