"""The agreement: the rendered document, its versions and approvals, its status (twin:
/api/pact)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from leadpact.services.pact_versions import list_versions, pact_status
from leadpact.web.deps import require, workspace
from leadpact.web.pages._render import render
from leadpact.web.security import Permission, Principal

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Language = Literal["en", "da", "nl", "it"]


@router.get("/pact")
def pact(request: Request, _who: Reader, lang: Language = "en") -> Response:
    """The pact page."""
    ws = workspace(request)
    return render(
        request,
        "pact.html",
        {
            "pact": ws.pact,
            "versions": list_versions(ws),
            "status": pact_status(ws),
            "lang": lang,
        },
    )


@router.get("/pact/document")
def document(request: Request, _who: Reader, lang: Language = "en") -> Response:
    """The agreement as the signed document (HTML), shown in the pact page."""
    from leadpact.reports.document import build_document
    from leadpact.reports.document_writer import to_html
    from leadpact.reports.i18n import get_lang

    html = to_html(build_document(workspace(request).pact, get_lang(lang)))
    return HTMLResponse(html, headers={"Content-Security-Policy": "script-src 'none'"})
