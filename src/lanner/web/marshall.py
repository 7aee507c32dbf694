"""The marshall: scan a filter's results one object at a time (light curve, cutouts and
context in one view), mark favourite / veto, comment; keyboard shortcuts; state per user.

Input: a filter the user may read, run on the archive (through the one validator), and
form posts. Output: pages and htmx fragments. Side effects: rows of ``marshall_marks``
and ``marshall_comments`` (:mod:`lanner.web.tables`) of the signed-in user only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from lanner.batch import OBJECT_ID_COLUMN
from lanner.filter import saved
from lanner.filter.access import require_readable
from lanner.filter.archive import filter_context, run_compiled
from lanner.filter.compile import compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import Limits
from lanner.serve.auth import server_state
from lanner.store import Store
from lanner.store.accounts import utc_now
from lanner.store.ddl import quote
from lanner.web.object_data import object_view, parse_object_id
from lanner.web.objects import page_json
from lanner.web.pages import check_csrf, render, require_user, store_session

router = APIRouter()


def marks_of(store: Store, user_id: int, object_id: Any) -> dict[str, Any]:
    """The user's marks on one object and their comments, newest first."""
    oid = quote(OBJECT_ID_COLUMN[store.survey or "ztf"])
    ph = store.backend.placeholder
    row = store._read(
        f"SELECT favourite, veto, comment, updated FROM marshall_marks "
        f"WHERE user_id = {ph} AND {oid} = {ph}",
        (user_id, object_id),
    )
    comments = store._read(
        f"SELECT comment, created FROM marshall_comments WHERE user_id = {ph} AND {oid} = {ph} "
        "ORDER BY comment_id DESC",
        (user_id, object_id),
    )
    base: dict[str, Any] = {"favourite": False, "veto": False, "comment": None, "updated": None}
    if row:
        base = {
            "favourite": bool(row[0][0]),
            "veto": bool(row[0][1]),
            "comment": row[0][2],
            "updated": str(row[0][3]),
        }
    return {**base, "comments": [{"comment": c[0], "created": str(c[1])} for c in comments]}


def set_mark(
    store: Store,
    user_id: int,
    object_id: Any,
    *,
    filter_id: int | None,
    favourite: bool | None = None,
    veto: bool | None = None,
    comment: str | None = None,
) -> None:
    """Change the user's marks of one object (and add a comment), in one transaction."""
    current = marks_of(store, user_id, object_id)
    fav = current["favourite"] if favourite is None else favourite
    vet = current["veto"] if veto is None else veto
    note = current["comment"] if comment is None else comment
    oid = quote(OBJECT_ID_COLUMN[store.survey or "ztf"])
    ph = store.backend.placeholder
    now = store._stamp(utc_now())
    try:
        store.con.execute(
            f"INSERT INTO marshall_marks (user_id, {oid}, favourite, veto, comment, filter_id, "
            f"updated) VALUES ({', '.join([ph] * 7)}) ON CONFLICT (user_id, {oid}) DO UPDATE SET "
            "favourite = excluded.favourite, veto = excluded.veto, comment = excluded.comment, "
            "filter_id = excluded.filter_id, updated = excluded.updated",
            (user_id, object_id, fav, vet, note, filter_id, now),
        )
        if comment:
            store.con.execute(
                f"INSERT INTO marshall_comments (user_id, {oid}, comment, created) "
                f"VALUES ({ph}, {ph}, {ph}, {ph})",
                (user_id, object_id, comment, now),
            )
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise


@router.get("/marshall/", response_class=HTMLResponse)
def marshall_home(request: Request) -> Response:
    """Choose a filter to scan; the user's favourites."""
    account = require_user(request)
    with store_session(request) as store:
        filters = saved.list_filters(store, account.user_id)
        oid = OBJECT_ID_COLUMN[store.survey or "ztf"]
        ph = store.backend.placeholder
        favs = store._read(
            f"SELECT {quote(oid)}, comment, updated FROM marshall_marks WHERE user_id = {ph} "
            "AND favourite ORDER BY updated DESC LIMIT 200",
            (account.user_id,),
        )
    return render(request, "marshall_home.html", {"filters": filters, "favourites": favs})


def _result_ids(
    request: Request, store: Store, flt: saved.SavedFilter, user_id: int, index: int
) -> tuple[Any, bool]:
    """The object id at ``index`` of the filter's results, and whether there is a next."""
    state = server_state(request)
    compiled = compile_sql(flt.sql, filter_context(store, user_id))
    oid = OBJECT_ID_COLUMN[store.survey or "ztf"]
    if oid not in compiled.columns:
        raise FilterError(f"the filter does not select {oid}", None, f"add objects.{oid}")
    limits = Limits(timeout_s=state.settings.query_timeout, row_cap=state.settings.max_rows)
    result = run_compiled(state.settings.db_url, compiled, limits, 2, index)
    if not result.rows:
        return None, False
    return result.rows[0][result.columns.index(oid)], len(result.rows) > 1


@router.get("/marshall/{filter_id}/", response_class=HTMLResponse)
def scan(request: Request, filter_id: int, i: int = 0) -> Response:
    """Object number ``i`` of a filter's results, with the user's marks."""
    account = require_user(request)
    i = max(0, i)
    with store_session(request) as store:
        try:
            flt = require_readable(saved.get_filter(store, filter_id), account.user_id)
            object_id, more = _result_ids(request, store, flt, account.user_id, i)
        except FilterError as exc:
            return render(
                request, "message.html", {"title": "Marshall", "message": exc.message}, status=400
            )
        view = object_view(store, str(object_id)) if object_id is not None else None
        marks = marks_of(store, account.user_id, object_id) if view else None
    return render(
        request,
        "marshall.html",
        {
            "flt": flt,
            "i": i,
            "more": more,
            "view": view,
            "marks": marks,
            "view_json": page_json(view) if view else "null",
        },
    )


@router.post(
    "/marshall/{filter_id}/mark", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
def mark(
    request: Request,
    filter_id: int,
    object_id: Annotated[str, Form()],
    action: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Favourite / unfavourite, veto / unveto, or comment on an object (htmx fragment)."""
    account = require_user(request)
    with store_session(request) as store:
        oid = parse_object_id(store, object_id)
        if oid is None:
            raise HTTPException(400, "bad object id")
        current = marks_of(store, account.user_id, oid)
        changes: dict[str, Any] = {}
        if action == "favourite":
            changes["favourite"] = not current["favourite"]
        elif action == "veto":
            changes["veto"] = not current["veto"]
        elif action == "comment" and comment.strip():
            changes["comment"] = comment.strip()
        elif action != "comment":
            raise HTTPException(400, "action is favourite, veto or comment")
        set_mark(store, account.user_id, oid, filter_id=filter_id, **changes)
        marks = marks_of(store, account.user_id, oid)
    return render(
        request, "_marks.html", {"marks": marks, "object_id": object_id, "flt_id": filter_id}
    )
