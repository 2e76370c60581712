"""The agreement as JSON (twin of /pact): the pact, its versions and approvals, its status."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder

from leadpact.services.pact_versions import list_versions, pact_status
from leadpact.web.deps import CurrentPrincipal, workspace

router = APIRouter(prefix="/api", tags=["pact"])


def pact_overview(request: Request) -> dict[str, Any]:
    """The pact in force in the workspace file, its recorded versions and its status."""
    ws = workspace(request)
    versions = [asdict(v) for v in list_versions(ws)]
    return {
        "pact": ws.pact.model_dump(mode="json"),
        "versions": jsonable_encoder(versions),
        "status": jsonable_encoder(asdict(pact_status(ws))),
    }


@router.get("/pact")
def pact(request: Request, _who: CurrentPrincipal) -> dict[str, Any]:
    """The agreement (pact.yaml as data), every recorded version with its approvals, and
    where it stands: version in force, validity, reviews, consequences."""
    return pact_overview(request)
