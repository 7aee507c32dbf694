"""Object pages: ``/objects/`` (find an object), ``/objects/<id>/`` and its JSON twin
``/objects/<id>/json``. The cutouts the page shows come from the API's
``/fits/<sourceId>_cutout<Kind>`` (:mod:`lanner.serve.v1.data`).

Input: the archive through the server's store pool. Output: HTML, JSON. Reads only.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from lanner.batch import OBJECT_ID_COLUMN
from lanner.schema.registry import POSITION_COLUMNS, RECENCY_COLUMN
from lanner.store.ddl import quote
from lanner.store.reading import cone_search
from lanner.web.object_data import json_twin, object_view, page_data
from lanner.web.pages import render, store_session

router = APIRouter()
RECENT = 50


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element."""
    return json.dumps(value).replace("</", "<\\/")


def page_json(view: dict[str, Any]) -> str:
    """The data the object page's scripts need, as JSON for its ``<script>`` element."""
    return _script_json(page_data(view))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse("/objects/", status_code=303)


@router.get("/objects/", response_class=HTMLResponse)
def find_objects(
    request: Request, q: str = "", ra: str = "", dec: str = "", radius: str = "10"
) -> Response:
    """Recent objects, a lookup by id, or a cone search."""
    error = None
    found: list[dict[str, Any]] = []
    with store_session(request) as store:
        survey = store.survey or "ztf"
        oid = OBJECT_ID_COLUMN[survey]
        if q.strip():
            return RedirectResponse(f"/objects/{q.strip()}/", status_code=303)
        if ra.strip() or dec.strip():
            try:
                found = cone_search(store, float(ra), float(dec), float(radius))
            except ValueError as exc:
                error = (
                    str(exc)
                    if "could not convert" not in str(exc)
                    else ("RA, Dec and radius must be numbers (degrees, degrees, arcsec)")
                )
            heading = f"Objects within {radius}″ of {ra}, {dec}"
        else:
            ra_col, dec_col = POSITION_COLUMNS[survey]
            rec = RECENCY_COLUMN[survey]
            cur = store.con.execute(
                f"SELECT {quote(oid)}, {quote(ra_col)}, {quote(dec_col)}, {quote(rec)} "
                f"FROM objects ORDER BY {quote(rec)} DESC LIMIT {RECENT}"
            )
            found = [dict(zip((oid, ra_col, dec_col, rec), r, strict=True)) for r in cur.fetchall()]
            heading = "Latest objects"
    rows = [{"id": str(r[oid]), **{k: v for k, v in r.items() if k != oid}} for r in found]
    return render(
        request,
        "objects.html",
        {
            "rows": rows,
            "heading": heading,
            "error": error,
            "q": q,
            "ra": ra,
            "dec": dec,
            "radius": radius,
        },
    )


def _view(request: Request, object_text: str) -> dict[str, Any]:
    start = time.perf_counter()
    with store_session(request) as store:
        view = object_view(store, object_text)
    if view is None:
        raise HTTPException(404, f"no object {object_text!r} in this archive")
    request.state.object_seconds = time.perf_counter() - start
    return view


@router.get("/objects/{object_text}/", response_class=HTMLResponse)
def object_page(request: Request, object_text: str) -> Response:
    """The object page."""
    start = time.perf_counter()
    view = _view(request, object_text)
    response = render(request, "object.html", {"view": view, "view_json": page_json(view)})
    # db: reading the archive and assembling the page's data; page: that and the HTML.
    page_ms = (time.perf_counter() - start) * 1000
    response.headers["Server-Timing"] = (
        f"db;dur={request.state.object_seconds * 1000:.1f}, page;dur={page_ms:.1f}"
    )
    return response


@router.get("/objects/{object_text}/json")
def object_json(request: Request, object_text: str) -> JSONResponse:
    """The object page's data as JSON."""
    return JSONResponse(json_twin(_view(request, object_text)))
