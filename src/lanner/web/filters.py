"""The filter builder: write SQL beside the schema, validate as you type, run on demand
(paged), save, share, activate, copy, backtest per night, and see an active filter's
matches with why they fired.

Input: form posts and the archive. Output: pages and htmx fragments. Side effects: rows of
``filters`` (through :mod:`lanner.filter.saved`, which validates for the owner), nothing
else; running and backtesting read only. Every piece of SQL goes through the one validator
(:func:`lanner.filter.compile.compile_sql` with the user's :class:`FilterContext`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lanner.batch import OBJECT_ID_COLUMN
from lanner.filter import saved
from lanner.filter.access import require_owner, require_readable
from lanner.filter.archive import filter_context, run_compiled
from lanner.filter.backtest import backtest
from lanner.filter.compile import compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import Limits
from lanner.filter.functions import ALLOWED_FUNCTIONS, CUSTOM_FUNCTIONS
from lanner.filter.validate import function_name_of
from lanner.schema.registry import filterable_tables
from lanner.serve.auth import server_state
from lanner.store import Store
from lanner.web.pages import check_csrf, render, require_user, store_session, user_of

router = APIRouter()
PAGE_ROWS = 25
#: Most nights one backtest replays (each night is one pass over its alerts).
MAX_BACKTEST_NIGHTS = 62
#: An observing night is labelled by the UTC date 12 h before (Rubin's dayObs).
NIGHT_OFFSET_DAYS = 0.5
MATCHES_SHOWN = 100


def schema_of(survey: str) -> list[dict[str, Any]]:
    """The tables users may filter on, with their columns, units and descriptions."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "columns": [
                {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description}
                for c in t.columns
            ],
        }
        for t in filterable_tables(survey).values()  # type: ignore[arg-type]
    ]


def function_names() -> list[str]:
    """The SQL functions filters may call (the validator's list)."""
    return sorted({function_name_of(k) for k in ALLOWED_FUNCTIONS} | set(CUSTOM_FUNCTIONS))


def _error_view(exc: FilterError) -> dict[str, Any]:
    return {"message": exc.message, "problem": exc.problem, "where": exc.where, "hint": exc.hint}


def _check(store: Store, sql: str, user_id: int) -> tuple[Any, dict[str, Any] | None]:
    """The compiled filter, or ``None`` and what is wrong."""
    try:
        return compile_sql(sql, filter_context(store, user_id)), None
    except FilterError as exc:
        return None, _error_view(exc)


def _default_sql(survey: str) -> str:
    if survey == "lsst":
        return (
            "SELECT objects.diaObjectId, objects.ra, objects.decl, objects.nDiaSources\n"
            "FROM objects\nWHERE objects.nDiaSources >= 3\nORDER BY objects.nDiaSources DESC"
        )
    return (
        "SELECT objects.objectId, objects.ramean, objects.decmean, objects.gmag, objects.rmag\n"
        "FROM objects\nWHERE objects.ncand >= 3"
    )


@router.get("/filters/", response_class=HTMLResponse)
def filter_list(request: Request) -> Response:
    """The user's filters and everyone's public ones, and the builder."""
    account = user_of(request)
    with store_session(request) as store:
        survey = store.survey or "ztf"
        filters = saved.list_filters(store, account.user_id if account else -1)
        if account is None:
            filters = [f for f in filters if f.public]
        owners = {r[0]: r[1] for r in store._read("SELECT user_id, username FROM users")}
    return render(
        request,
        "filters.html",
        {
            "filters": filters,
            "owners": owners,
            "schema": schema_of(survey),
            "functions": function_names(),
            "sql": request.query_params.get("sql") or _default_sql(survey),
            "flt": None,
        },
    )


@router.get("/filters/schema.json")
def filter_schema(request: Request) -> dict[str, Any]:
    """Tables, columns and functions, for the builder's autocompletion."""
    survey = server_state(request).survey
    return {"tables": schema_of(survey), "functions": function_names()}


@router.post("/filters/validate", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def validate_sql(request: Request, sql: Annotated[str, Form()] = "") -> Response:
    """The validator's verdict on the SQL typed so far (an htmx fragment)."""
    account = user_of(request)
    with store_session(request) as store:
        compiled, error = _check(store, sql, account.user_id if account else 1)
    columns = (
        list(compiled.columns) if compiled is not None and hasattr(compiled, "columns") else []
    )
    return render(
        request,
        "_validation.html",
        {"error": error, "ok": compiled is not None, "columns": columns},
    )


@router.post("/filters/run", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def run_sql(
    request: Request, sql: Annotated[str, Form()] = "", page: Annotated[int, Form()] = 1
) -> Response:
    """Run the SQL on the archive: one page of results (an htmx fragment)."""
    account = user_of(request)
    state = server_state(request)
    page = max(1, page)
    with store_session(request) as store:
        compiled, error = _check(store, sql, account.user_id if account else 1)
    result = None
    if compiled is not None:
        limits = Limits(timeout_s=state.settings.query_timeout, row_cap=state.settings.max_rows)
        try:
            result = run_compiled(
                state.settings.db_url, compiled, limits, PAGE_ROWS + 1, (page - 1) * PAGE_ROWS
            )
        except FilterError as exc:
            error = _error_view(exc)
    rows = result.rows[:PAGE_ROWS] if result else []
    oid = OBJECT_ID_COLUMN[state.survey]
    return render(
        request,
        "_results.html",
        {
            "error": error,
            "result": result,
            "rows": rows,
            "columns": result.columns if result else [],
            "page": page,
            "more": bool(result and len(result.rows) > PAGE_ROWS),
            "oid_index": (result.columns.index(oid) if result and oid in result.columns else -1),
            "elapsed_ms": (result.elapsed_s * 1000 if result else 0),
        },
    )


def _flag(value: str | None) -> bool:
    return value in ("on", "true", "1", "yes")


@router.post("/filters/", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def save_filter(
    request: Request,
    name: Annotated[str, Form()] = "",
    sql: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    public: Annotated[str | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """Save a new filter of the signed-in user."""
    account = require_user(request)
    with store_session(request) as store:
        try:
            flt = saved.add_filter(
                store,
                name.strip(),
                sql,
                owner_id=account.user_id,
                description=description,
                public=_flag(public),
                active=_flag(active),
            )
        except FilterError as exc:
            survey = store.survey or "ztf"
            return render(
                request,
                "filters.html",
                {
                    "filters": saved.list_filters(store, account.user_id),
                    "owners": {},
                    "schema": schema_of(survey),
                    "functions": function_names(),
                    "sql": sql,
                    "name": name,
                    "description": description,
                    "save_error": exc.message,
                    "flt": None,
                },
                status=400,
            )
    return RedirectResponse(f"/filters/{flt.filter_id}/", status_code=303)


def _readable(store: Store, filter_id: int, user_id: int) -> saved.SavedFilter:
    return require_readable(saved.get_filter(store, filter_id), user_id)


@router.get("/filters/{filter_id}/", response_class=HTMLResponse)
def filter_page(request: Request, filter_id: int) -> Response:
    """One filter: its SQL (editable by its owner), flags, backtest and matches."""
    account = user_of(request)
    uid = account.user_id if account else -1
    with store_session(request) as store:
        try:
            flt = _readable(store, filter_id, uid)
        except FilterError as exc:
            return render(
                request, "message.html", {"title": "Filter", "message": exc.message}, status=404
            )
        owner = store.user_where("user_id", flt.owner_id)
        matches = _matches(store, flt) if flt.owner_id == uid else []
        notices = saved.notices(store, flt.filter_id) if flt.owner_id == uid else []
        survey = store.survey or "ztf"
    return render(
        request,
        "filter.html",
        {
            "flt": flt,
            "owner": owner[1] if owner else "?",
            "mine": flt.owner_id == uid,
            "matches": matches,
            "notices": notices,
            "schema": schema_of(survey),
            "functions": function_names(),
            "sql": flt.sql,
            "message": request.query_params.get("message"),
        },
    )


def _matches(store: Store, flt: saved.SavedFilter) -> list[dict[str, Any]]:
    """The latest matches of a filter with the values that made it fire."""
    oid = OBJECT_ID_COLUMN[store.survey or "ztf"]
    ph = store.backend.placeholder
    rows = store._read(
        f'SELECT "{oid}", alert_id, matched_at, why, state FROM filter_matches '
        f"WHERE filter_id = {ph} ORDER BY matched_at DESC LIMIT {MATCHES_SHOWN}",
        (flt.filter_id,),
    )
    out = []
    for r in rows:
        try:
            why = json.loads(r[3]) if r[3] else {}
        except ValueError:
            why = {"why": r[3]}
        out.append(
            {
                "object_id": str(r[0]),
                "alert_id": str(r[1]),
                "matched_at": str(r[2]),
                "why": why,
                "state": r[4],
            }
        )
    return out


@router.post("/filters/{filter_id}/edit", dependencies=[Depends(check_csrf)])
def edit(
    request: Request,
    filter_id: int,
    sql: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    public: Annotated[str | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """Change a filter's SQL, description and flags (owner only)."""
    account = require_user(request)
    with store_session(request) as store:
        try:
            flt = require_owner(saved.get_filter(store, filter_id), account.user_id, "change")
            flt = saved.edit_filter(
                store,
                flt,
                owner_id=account.user_id,
                sql=sql,
                description=description,
                public=_flag(public),
            )
            if _flag(active) != flt.active:
                saved.set_active(store, flt, _flag(active), owner_id=account.user_id)
            message = "Saved."
        except FilterError as exc:
            message = exc.message
    return RedirectResponse(f"/filters/{filter_id}/?message={_q(message)}", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@router.post("/filters/{filter_id}/copy", dependencies=[Depends(check_csrf)])
def copy(request: Request, filter_id: int, name: Annotated[str, Form()] = "") -> Response:
    """Copy a public filter (or one's own) under a new name."""
    account = require_user(request)
    with store_session(request) as store:
        try:
            flt = _readable(store, filter_id, account.user_id)
            new = saved.copy_filter(
                store, flt, name.strip() or f"{flt.name} (copy)", owner_id=account.user_id
            )
        except FilterError as exc:
            return RedirectResponse(
                f"/filters/{filter_id}/?message={_q(exc.message)}", status_code=303
            )
    return RedirectResponse(f"/filters/{new.filter_id}/?message=Copied.", status_code=303)


@router.post("/filters/{filter_id}/delete", dependencies=[Depends(check_csrf)])
def delete(request: Request, filter_id: int) -> Response:
    account = require_user(request)
    with store_session(request) as store:
        try:
            flt = require_owner(saved.get_filter(store, filter_id), account.user_id, "delete")
            saved.delete_filter(store, flt, owner_id=account.user_id)
        except FilterError as exc:
            return RedirectResponse(
                f"/filters/{filter_id}/?message={_q(exc.message)}", status_code=303
            )
    return RedirectResponse("/filters/", status_code=303)


def _mjd(day: str) -> float:
    """MJD of 00:00 UTC of an ISO date."""
    d = dt.date.fromisoformat(day)
    return float((d - dt.date(1858, 11, 17)).days)


def nights_with_alerts(store: Store, since: float, until: float) -> list[int]:
    """Observing nights (MJD of their dayObs) with archived alerts in [since, until)."""
    ph = store.backend.placeholder
    rows = store._read(
        f"SELECT DISTINCT mjd FROM alerts WHERE mjd >= {ph} AND mjd < {ph}", (since, until)
    )
    return sorted({math.floor(float(r[0]) - NIGHT_OFFSET_DAYS) for r in rows})


@router.post(
    "/filters/{filter_id}/backtest", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
def run_backtest(
    request: Request,
    filter_id: int,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    """Would-be deliveries per night over a date range (owner only): an htmx fragment."""
    account = require_user(request)
    error = None
    nights: list[dict[str, Any]] = []
    with store_session(request) as store:
        try:
            flt = require_owner(saved.get_filter(store, filter_id), account.user_id, "backtest")
            lo, hi = _mjd(since), _mjd(until) + 1.0
            if hi <= lo:
                raise FilterError("the end date is before the start date")
            found = nights_with_alerts(store, lo + NIGHT_OFFSET_DAYS, hi + NIGHT_OFFSET_DAYS)
            if len(found) > MAX_BACKTEST_NIGHTS:
                raise FilterError(
                    f"{len(found)} nights with alerts in that range",
                    None,
                    f"backtest at most {MAX_BACKTEST_NIGHTS} nights at a time",
                )
            for night in found:
                start = night + NIGHT_OFFSET_DAYS
                batches = list(backtest(store, flt, start, start + 1.0))
                nights.append(
                    {
                        "night": (dt.date(1858, 11, 17) + dt.timedelta(days=night)).isoformat(),
                        "alerts": sum(b.alerts for b in batches),
                        "matches": sum(b.matches for b in batches),
                        "objects": [str(i) for b in batches for i in b.object_ids][:10],
                        "errors": [b.error for b in batches if b.error],
                    }
                )
        except ValueError:
            error = "give both dates as YYYY-MM-DD"
        except FilterError as exc:
            error = exc.message
    return render(
        request,
        "_backtest.html",
        {"nights": nights, "error": error, "since": since, "until": until},
    )


def filter_json(flt: saved.SavedFilter) -> dict[str, Any]:
    return asdict(flt)
