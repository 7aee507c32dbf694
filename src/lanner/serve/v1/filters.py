"""``/api/v1/filters/``: create, edit, show, run on demand, (de)activate, backtest and
delete SQL filters, and read their matches with the values that made them fire.

Input: JSON bodies (:class:`FilterIn`, :class:`FilterEdit`, :class:`RunIn`,
:class:`BacktestIn`) and filter ids. Output: JSON. Each route does what the matching
``lanner filter …`` command does, through the same functions (:mod:`lanner.filter.saved`,
:mod:`lanner.filter.backtest`, :mod:`lanner.filter.archive`): SQL is validated before it
is saved, on-demand runs go through the read-only, time-limited engines with the caller's
row cap and time limit. Side effects: rows of ``filters``; activating a Kafka filter
creates its topic when a broker is configured.

Visibility: a user sees their own filters and the public ones; only the owner edits,
activates, backtests, deletes or reads the matches of a filter (others get 403 for a public
filter, 404 for a private one), and only the owner sees its output options (URLs masked)
and topic.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from lanner.filter.errors import FilterError
from lanner.filter.saved import SavedFilter
from lanner.serve.accounts import Account
from lanner.serve.auth import query_timeout, row_cap, server_state
from lanner.serve.errors import ApiError, not_found
from lanner.serve.v1.common import (
    API_USER,
    RESPONSES,
    ItemId,
    activation_routes,
    archive,
    owned,
    visible,
)

router = APIRouter(responses=RESPONSES)
MJD_EPOCH = dt.datetime(1858, 11, 17)
Output = Literal["none", "kafka", "email", "webhook"]


class FilterIn(BaseModel):
    """A new filter: one SELECT statement in ``sql``, or Lasair's three parts."""

    name: str = Field(min_length=1, max_length=256)
    sql: str | None = Field(None, max_length=16384, description="One SELECT statement")
    selected: str | None = Field(None, max_length=4096, description="Lasair form: SELECT list")
    tables: str | None = Field(None, max_length=1024, description="Lasair form: tables")
    conditions: str = Field("", max_length=4096, description="Lasair form: WHERE clause")
    description: str = Field("", max_length=4096)
    public: bool = False
    active: bool = False
    output: Output = "none"
    output_options: dict[str, Any] | None = Field(
        None,
        description="payload (plain|lite|full), email, email_mode, webhook_url, "
        "webhook_body, daily_quota_bytes",
    )


class FilterEdit(BaseModel):
    """Changes to a filter; fields left out stay as they are."""

    sql: str | None = Field(None, max_length=16384)
    description: str | None = Field(None, max_length=4096)
    public: bool | None = None
    output: Output | None = None
    output_options: dict[str, Any] | None = None


class RunIn(BaseModel):
    limit: int = Field(
        default=1000, ge=0, le=1_000_000, description="Most rows (clamped to your cap)"
    )
    offset: int = Field(default=0, ge=0)


class BacktestIn(BaseModel):
    since: str = Field(description="Start: MJD or ISO date/time (UTC)", max_length=64)
    until: str | None = Field(None, description="End: MJD or ISO date (UTC); default now")
    batch_size: int = Field(1000, ge=1, le=100_000)


def to_mjd(text: str, field: str) -> float:
    """An MJD given as a number or an ISO date/time (UTC); 400 naming ``field`` if neither."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, {field: [f"{text!r} is neither an MJD nor an ISO date"]}) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return (moment - MJD_EPOCH).total_seconds() / 86400.0


def _record(store: Any, flt: SavedFilter, user_id: int) -> dict[str, Any]:
    from lanner.distribute.topic_names import topic_name
    from lanner.filter.access import mask_options

    out: dict[str, Any] = {
        "filter_id": flt.filter_id,
        "owner_id": flt.owner_id,
        "name": flt.name,
        "sql": flt.sql,
        "description": flt.description,
        "public": flt.public,
        "active": flt.active,
        "expires": flt.expires,
        "created": flt.created,
    }
    if flt.owner_id == user_id:
        options = mask_options(flt.output_options)
        out["output"] = flt.output
        out["output_options"] = json.loads(options) if options else {}
        out["topic"] = topic_name(flt.owner_id, flt.name)
        out["matches"] = store.match_count(flt.filter_id)
    return out


def _filter(store: Any, filter_id: ItemId, account: Account) -> SavedFilter:
    from lanner.filter.saved import get_filter

    try:
        flt = get_filter(store, filter_id)
    except FilterError:
        raise not_found() from None
    visible(flt.owner_id, flt.public, account.user_id)
    return flt


def _mine(store: Any, filter_id: ItemId, account: Account) -> SavedFilter:
    flt = _filter(store, filter_id, account)
    owned(flt.owner_id, flt.public, account.user_id)
    return flt


def _ensure_topic(flt: SavedFilter) -> list[str]:
    """Make an active Kafka filter's topic now (consumers then find it, empty); the
    warnings to show when that cannot be done."""
    from lanner.settings import Settings

    if flt.output != "kafka":
        return []
    settings = Settings()
    if not settings.kafka:
        return [
            "no Kafka broker configured on the server: matches are kept as pending until "
            "one is (see the filter's matches)"
        ]
    if not flt.active:
        return []
    from lanner.distribute.kafka import KafkaDelivery, TopicError
    from lanner.distribute.router import filter_target

    try:
        KafkaDelivery(settings.kafka, extra=settings.kafka_config()).ensure_topic(
            filter_target(flt, "objectId")
        )
    except TopicError as exc:
        return [f"{exc}; it is made when the first match is sent"]
    return []


@router.get("/filters/", summary="Your filters and the public ones")
def list_filters(request: Request, account: Account = API_USER) -> list[dict[str, Any]]:
    from lanner.filter.saved import list_filters as listed

    with archive(request) as store:
        return [_record(store, f, account.user_id) for f in listed(store, account.user_id)]


@router.post("/filters/", status_code=201, summary="Save a filter (validated first)")
def add_filter(body: FilterIn, request: Request, account: Account = API_USER) -> dict[str, Any]:
    from lanner.filter.saved import add_filter as add
    from lanner.filter.saved import lasair_to_sql

    with archive(request) as store:
        sql = body.sql
        if sql is None:
            if not (body.selected and body.tables):
                raise ApiError(400, {"sql": ["give sql, or selected and tables"]})
            sql = lasair_to_sql(store, body.selected, body.tables, body.conditions, account.user_id)
        flt = add(
            store, body.name, sql, active=body.active, owner_id=account.user_id,
            public=body.public, description=body.description, output=body.output,
            output_options=None if body.output_options is None else json.dumps(body.output_options),
        )  # fmt: skip
        return {**_record(store, flt, account.user_id), "warnings": _ensure_topic(flt)}


@router.get("/filters/{filter_id}/", summary="A filter (its outputs and topic: owner only)")
def show_filter(filter_id: ItemId, request: Request, account: Account = API_USER) -> dict[str, Any]:
    with archive(request) as store:
        return _record(store, _filter(store, filter_id, account), account.user_id)


@router.patch("/filters/{filter_id}/", summary="Change a filter (its SQL is re-validated)")
def edit_filter(
    filter_id: ItemId, body: FilterEdit, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    from lanner.filter.saved import edit_filter as edit

    with archive(request) as store:
        flt = edit(
            store, _mine(store, filter_id, account), owner_id=account.user_id, sql=body.sql,
            description=body.description, public=body.public, output=body.output,
            output_options=None if body.output_options is None else json.dumps(body.output_options),
        )  # fmt: skip
        warnings = _ensure_topic(flt) if body.output is not None else []
        return {**_record(store, flt, account.user_id), "warnings": warnings}


def _set_active(
    filter_id: ItemId, active: bool, request: Request, account: Account
) -> dict[str, Any]:
    from lanner.filter.saved import set_active

    with archive(request) as store:
        flt = set_active(store, _mine(store, filter_id, account), active, owner_id=account.user_id)
        warnings = _ensure_topic(flt) if active else []
        return {**_record(store, flt, account.user_id), "warnings": warnings}


activation_routes(
    router,
    "filter",
    "/filters/{filter_id}/",
    _set_active,
    ("Run on every batch for 180 days", "Stop running on incoming batches"),
)


@router.post("/filters/{filter_id}/run/", summary="Run a filter on the archive now")
def run_filter(
    filter_id: ItemId, request: Request, body: RunIn | None = None, account: Account = API_USER
) -> dict[str, Any]:
    from lanner.filter.archive import run_compiled
    from lanner.filter.execute import Limits
    from lanner.filter.saved import compile_for

    body = body or RunIn()
    cap = row_cap(request, account)
    limits = Limits(timeout_s=query_timeout(request, account), row_cap=cap)
    with archive(request) as store:
        flt = _filter(store, filter_id, account)
        compiled = compile_for(store, flt.sql, flt.owner_id)
    try:
        result = run_compiled(
            server_state(request).settings.db_url, compiled, limits, min(body.limit, cap),
            body.offset,
        )  # fmt: skip
    except FilterError as exc:
        from lanner.serve.v1.common import user_error

        raise user_error(exc) from None
    return {
        "columns": result.columns,
        "rows": [dict(zip(result.columns, row, strict=True)) for row in result.rows],
        "truncated": result.truncated,
        "elapsed_s": result.elapsed_s,
    }


@router.post("/filters/{filter_id}/backtest/", summary="Replay the archive through a filter")
def backtest_filter(
    filter_id: ItemId, body: BacktestIn, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    from lanner.filter.backtest import backtest

    since = to_mjd(body.since, "since")
    until = to_mjd(body.until, "until") if body.until else 1e9
    with archive(request) as store:
        flt = _mine(store, filter_id, account)
        batches = [b.__dict__ for b in backtest(store, flt, since, until, body.batch_size)]
    return {
        "filter_id": filter_id,
        "batches": batches,
        "alerts": sum(b["alerts"] for b in batches),
        "matches": sum(b["matches"] for b in batches),
    }


@router.get("/filters/{filter_id}/matches/", summary="Matches, newest first, with why")
def filter_matches(
    filter_id: ItemId,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    account: Account = API_USER,
) -> list[dict[str, Any]]:
    with archive(request) as store:
        flt = _mine(store, filter_id, account)
        oid = store.object_id_column
        rows = store.match_states(flt.filter_id, oid, limit)
    names = [oid, "alert_id", "matched_at", "state", "attempts", "last_error", "sent_at"]
    out = []
    for row in rows:
        record = dict(zip(names, row[:7], strict=True))
        record["matched_at"] = _text(record["matched_at"])
        record["sent_at"] = _text(record["sent_at"])
        record["values"] = _json(row[7])
        record["why"] = _json(row[8])
        out.append(record)
    return out


@router.delete("/filters/{filter_id}/", summary="Delete a filter, its matches and notices")
def delete_filter(
    filter_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    from lanner.filter.saved import delete_filter as delete

    with archive(request) as store:
        delete(store, _mine(store, filter_id, account), owner_id=account.user_id)
    return {"deleted": filter_id}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
