"""Lasair's REST API under ``/api/``: the routes, fields, answers and errors of
lasair-lsst (Rubin) and lasair4 (ZTF), so the ``lasair`` client and TOM Toolkit work
unchanged.

Input: requests (GET query strings; POST forms or JSON; the trailing slash as Lasair).
Output: JSON (``NaN`` → ``null``, exact 64-bit ids). Side effects: each call is counted
against the caller's hourly limit (:func:`lanner.serve.auth.api_user`); ``auth-token/``
makes a token; ``annotate/`` and ``annotatelist/`` store annotations. Queries go through
the filter validator and its read-only, time-limited engines, with the caller's row cap
and time limit.

Routes: ``cone/``, ``query/``, ``object/``, ``sherlock/object/``, ``sherlock/position/``,
``annotate/``, ``annotatelist/``, ``auth-token/``; on ZTF instances also lasair4's
``objects/`` and ``lightcurves/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from lanner.serve import objects as shapes
from lanner.serve.accounts import Account
from lanner.serve.auth import api_user, query_timeout, row_cap, server_state
from lanner.serve.errors import ApiError, bad_request, field_errors, not_found
from lanner.serve.fields import Field, fields_of, openapi, request_data, validate

router = APIRouter(prefix="/api", tags=["lasair"])
#: lasair4's calls, served by ZTF instances only.
lasair4_router = APIRouter(prefix="/api", tags=["lasair4"])

MAX_CONE_RADIUS = 1000.0
#: Most ids in one lasair4 ``objects/`` or ``lightcurves/`` call.
MAX_OBJECT_IDS = 1000

_ERROR_SCHEMA = {"type": "object", "additionalProperties": True}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Success", "content": {"application/json": {"schema": {}}}},
    400: {
        "description": "Invalid fields (``{field: [message]}``) or request (``{error: …}``)",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    401: {
        "description": "No or wrong credentials (``{detail: …}``)",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    404: {
        "description": "Not found (``{detail: …}``)",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    429: {
        "description": "Hourly limit reached (``{message: …}``, ``Retry-After``)",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
}

Handler = Callable[[Request, Account], Awaitable[Any]]
#: The caller of a data route, counted against their hourly limit.
API_USER = Depends(api_user)


def lasair_route(
    path: str,
    fields: Sequence[Field],
    summary: str,
    *,
    get: bool = True,
    json_only: bool = False,
    on: APIRouter = router,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for POST (and GET) at ``/api/<path>``, with ``fields`` in the
    OpenAPI document."""

    def register(handler: Handler) -> Handler:
        async def endpoint(request: Request, account: Account = API_USER) -> Any:
            return await handler(request, account)

        name = handler.__name__
        if get:
            on.add_api_route(
                path,
                endpoint,
                methods=["GET"],
                summary=summary,
                operation_id=f"{name}_get",
                openapi_extra=openapi(fields, get=True),
                responses=RESPONSES,
            )
        on.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            summary=summary,
            operation_id=f"{name}_post",
            openapi_extra=openapi(fields, get=False, json_only=json_only),
            responses=RESPONSES,
        )
        return handler

    return register


def _base_url(request: Request) -> str:
    public = server_state(request).settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def _object_id(request: Request, raw: Any, *, as_field: bool = True) -> int | str:
    """The validated ``objectId``; a malformed one is 400 ``{"objectId": [message]}`` where
    Lasair's serializer declares the field an integer (``sherlock/object/``, ``annotate/``
    on Rubin), else (``as_field`` false: ``object/``, whose field is a string) 400
    ``{"error": message}``, as Lasair answers there."""
    try:
        return shapes.parse_object_id(server_state(request).survey, raw)
    except ValueError as exc:
        if as_field:
            raise field_errors({"objectId": [str(exc)]}) from None
        raise bad_request(f"Invalid objectId {str(raw)[:64]!r}: {exc}") from None


def _object_field(description: str) -> Field:
    return Field("objectId", "str", description, required=True, max_length=64)


# -- cone/ ---------------------------------------------------------------------------------
RA = Field(
    "ra", "float", "Right ascension [deg], 0 to 360", required=True, minimum=0, maximum=360,
    range_message="ra must be between 0 and 360",
)  # fmt: skip
DEC = Field(
    "dec", "float", "Declination [deg], -90 to 90", required=True, minimum=-90, maximum=90,
    range_message="dec must be between -90 and 90",
)  # fmt: skip
CONE = (
    RA,
    DEC,
    Field("radius", "float", "Radius [arcsec], at most 1000", required=True, minimum=0),
    Field(
        "requestType",
        "choice",
        "all (every object), nearest or count",
        required=True,
        choices=("all", "nearest", "count"),
    ),
)


@lasair_route("/cone/", CONE, "Objects within a radius of a position")
async def cone(request: Request, account: Account) -> Any:
    values = await fields_of(request, CONE)
    if values["radius"] > MAX_CONE_RADIUS:
        raise bad_request("Max radius is 1000 arcsec.")
    return await run_in_threadpool(_cone, request, values)


def _cone(request: Request, v: dict[str, Any]) -> Any:
    from lanner.store.reading import cone_search

    state = server_state(request)
    ra = v["ra"] % 360.0
    with state.stores.session() as store:
        found = (
            cone_search(store, ra, v["dec"], v["radius"], limit=10**9) if v["radius"] > 0 else []
        )
        oid = store.object_id_column
    hits = [{"object": r[oid], "separation": r["separation_arcsec"]} for r in found]
    kind = v["requestType"]
    nearest = hits[0] if hits else {}
    if kind == "count":
        return {"count": len(hits)}
    if state.survey == "ztf":  # lasair4's shapes
        return hits if kind == "all" else nearest
    if kind == "nearest":
        return {"nearest": nearest} if hits else {}
    return {"objects": hits, "count": len(hits), "nearest": nearest}


# -- query/ --------------------------------------------------------------------------------
QUERY = (
    Field("selected", "str", "SELECT list", required=True, max_length=4096),
    Field("tables", "str", "Tables, comma-separated", required=True, max_length=1024),
    Field(
        "conditions",
        "str",
        "WHERE clause (may be empty)",
        required=True,
        max_length=4096,
        allow_blank=True,
    ),
    Field(
        "limit",
        "int",
        "Most rows (clamped to the tier's cap)",
        default=1000,
        minimum=0,
        maximum=1_000_000,
    ),
    Field("offset", "int", "Rows to skip", default=0, minimum=0, maximum=10**12),
)


@lasair_route("/query/", QUERY, "Run a filter (selected, tables, conditions) on the archive")
async def query(request: Request, account: Account) -> Any:
    values = await fields_of(request, QUERY)
    return await run_in_threadpool(_query, request, account, values)


def _query(request: Request, account: Account, v: dict[str, Any]) -> Any:
    from lanner.filter.archive import filter_context, run_compiled
    from lanner.filter.compile import compile_lasair
    from lanner.filter.errors import FilterError
    from lanner.filter.execute import Limits
    from lanner.store import StoreError

    state = server_state(request)
    cap = row_cap(request, account)
    limits = Limits(timeout_s=query_timeout(request, account), row_cap=cap)
    try:
        with state.stores.session() as store:
            ctx = filter_context(store, account.user_id)
        compiled = compile_lasair(v["selected"], v["tables"], v["conditions"], ctx)
        result = run_compiled(
            state.settings.db_url, compiled, limits, min(v["limit"], cap), v["offset"]
        )
    except (FilterError, StoreError) as exc:
        raise bad_request(str(exc)) from None
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


# -- object/ -------------------------------------------------------------------------------
OBJECT = (
    _object_field("Object id (Rubin diaObjectId, an integer; ZTF objectId)"),
    Field("lite", "bool", "Fewer columns", default=False),
    Field("lasair_added", "bool", "Add Lanner's data (objects row, context, TNS…)", default=True),
    Field(
        "reliabilityThreshold",
        "float",
        "Drop detections of reliability at or below it",
        default=0.0,
    ),
)


@lasair_route("/object/", OBJECT, "An object: its data and light curve")
async def object_(request: Request, account: Account) -> Any:
    values = await fields_of(request, OBJECT)
    object_id = _object_id(request, values["objectId"], as_field=False)
    return await run_in_threadpool(_object, request, account, object_id, values)


def _object(request: Request, account: Account, object_id: Any, v: dict[str, Any]) -> Any:
    state = server_state(request)
    base = _base_url(request)
    with state.stores.session() as store:
        if state.survey == "lsst":
            answer = shapes.lsst_object(
                store,
                object_id,
                lite=v["lite"],
                lasair_added=v["lasair_added"],
                reliability_threshold=v["reliabilityThreshold"],
                base_url=base,
                user_id=account.user_id,
            )
        else:
            answer = shapes.ztf_object(
                store, object_id, lite=v["lite"], base_url=base, user_id=account.user_id
            )
    if answer is None:
        raise not_found()
    return answer


# -- sherlock/ -----------------------------------------------------------------------------
SHERLOCK_OBJECT = (
    _object_field("Object id (Rubin diaObjectId, an integer; ZTF objectId)"),
    Field("lite", "bool", "Fewer crossmatch columns", default=False),
)
SHERLOCK_POSITION = (RA, DEC, Field("lite", "bool", "Fewer crossmatch columns", default=False))


@lasair_route("/sherlock/object/", SHERLOCK_OBJECT, "Sky context of a stored object")
async def sherlock_object(request: Request, account: Account) -> Any:
    values = await fields_of(request, SHERLOCK_OBJECT)
    object_id = _object_id(request, values["objectId"])
    return await run_in_threadpool(_sherlock_object, request, object_id, values["lite"])


def _sherlock_object(request: Request, object_id: Any, lite: bool) -> Any:
    state = server_state(request)
    with state.stores.session() as store:
        row = shapes.sherlock_of(store, state.survey, object_id)
    if not row:
        raise not_found()
    return shapes.sherlock_answer(str(object_id), row, lite)


@lasair_route("/sherlock/position/", SHERLOCK_POSITION, "Sky context of any position")
async def sherlock_position(request: Request, account: Account) -> Any:
    values = await fields_of(request, SHERLOCK_POSITION)
    return await run_in_threadpool(_sherlock_position, request, values)


def _sherlock_position(request: Request, v: dict[str, Any]) -> Any:
    from lanner.enrich.context.classifier import classify_positions

    survey = server_state(request).survey
    try:
        row = classify_positions(v["ra"] % 360.0, v["dec"], survey=survey).to_pylist()[0]
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return shapes.sherlock_answer("query0", row, v["lite"])


# -- lasair4 (ZTF): objects/ and lightcurves/ ----------------------------------------------
OBJECT_IDS = (
    Field("objectIds", "str", "ZTF object ids, comma-separated", required=True, max_length=20_000),
)


def _ztf_ids(request: Request, text: str) -> list[str]:
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if len(ids) > MAX_OBJECT_IDS:
        raise field_errors({"objectIds": [f"Give at most {MAX_OBJECT_IDS} ids."]})
    bad = [i for i in ids if not shapes.ZTF_ID.match(i)]
    if bad or not ids:
        raise field_errors({"objectIds": [f"Not valid ZTF object ids: {', '.join(bad[:5])}"]})
    return list(dict.fromkeys(ids))


@lasair_route(
    "/objects/", OBJECT_IDS, "ZTF objects (lasair4, as TOM Toolkit calls it)", on=lasair4_router
)
async def objects(request: Request, account: Account) -> Any:
    values = await fields_of(request, OBJECT_IDS)
    ids = _ztf_ids(request, values["objectIds"])
    return await run_in_threadpool(_objects, request, account, ids)


def _objects(request: Request, account: Account, ids: list[str]) -> Any:
    state = server_state(request)
    base = _base_url(request)
    out = []
    with state.stores.session() as store:
        for object_id in ids:
            answer = shapes.ztf_object(
                store, object_id, lite=False, base_url=base, user_id=account.user_id
            )
            if answer is not None:
                out.append(answer)
    return out


@lasair_route("/lightcurves/", OBJECT_IDS, "ZTF light curves (lasair4)", on=lasair4_router)
async def lightcurves(request: Request, account: Account) -> Any:
    values = await fields_of(request, OBJECT_IDS)
    ids = _ztf_ids(request, values["objectIds"])
    return await run_in_threadpool(_lightcurves, request, ids)


def _lightcurves(request: Request, ids: list[str]) -> Any:
    state = server_state(request)
    base = _base_url(request)
    with state.stores.session() as store:
        return [{"objectId": i, "candidates": shapes.ztf_candidates(store, i, base)} for i in ids]


# -- annotate/ and annotatelist/ ----------------------------------------------------------
ANNOTATE = (
    Field("topic", "str", "Annotator topic (yours, or one you may write to)", required=True,
          max_length=255),
    _object_field("Object id (Rubin diaObjectId, an integer; ZTF objectId)"),
    Field("classification", "str", "Short classification", required=True, max_length=80),
    Field("version", "str", "Version of the annotator", required=True, max_length=80),
    Field("explanation", "str", "Explanation", required=True, max_length=1024, allow_blank=True),
    Field("classdict", "str", "Details: a JSON object, as text", required=True),
    Field("url", "str", "Link to more information", required=True, max_length=1024,
          allow_blank=True),
)  # fmt: skip
ANNOTATE_LIST = (Field("annotations", "list", "Annotations, each with the annotate/ fields",
                       required=True),)  # fmt: skip
#: What Lasair's reply names as the topic annotations go through.
ANNOTATION_TOPIC = "fast_annotations"


def _annotation(request: Request, data: Any) -> tuple[str, Any, dict[str, Any]]:
    """(topic, Annotation, Lasair's message) of one item; 400 with its field errors."""
    import json

    from lanner.annotations import Annotation

    if not isinstance(data, dict):
        raise field_errors({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    v = validate(data, ANNOTATE)
    object_id = _object_id(request, v["objectId"])
    try:
        classdict = json.loads(v["classdict"])
    except ValueError:
        raise field_errors({"classdict": ["Not valid JSON."]}) from None
    if not isinstance(classdict, dict):
        raise field_errors({"classdict": ["Must be a JSON object."]})
    item = Annotation(
        object_id=object_id,
        classification=v["classification"],
        version=v["version"],
        explanation=v["explanation"],
        classdict=classdict,
        url=v["url"],
    )
    oid = "diaObjectId" if server_state(request).survey == "lsst" else "objectId"
    message = {oid: object_id, "topic": v["topic"], **{k: v[k] for k in v if k not in (
        "topic", "objectId")}}  # fmt: skip
    return v["topic"], item, message


@lasair_route("/annotate/", ANNOTATE, "Annotate an object (as an annotator you may write)",
              get=False)  # fmt: skip
async def annotate(request: Request, account: Account) -> Any:
    import json

    topic, item, message = _annotation(request, await request_data(request))
    await run_in_threadpool(_write, request, account, [(topic, item)])
    return {
        "status": "success",
        "annotation_topic": ANNOTATION_TOPIC,
        "message": json.dumps(message),
    }


@lasair_route(
    "/annotatelist/", ANNOTATE_LIST, "Annotate many objects, all or nothing", get=False,
    json_only=True,
)  # fmt: skip
async def annotatelist(request: Request, account: Account) -> Any:
    values = validate(await request_data(request), ANNOTATE_LIST)
    items = []
    for n, data in enumerate(values["annotations"]):
        try:
            topic, item, _ = _annotation(request, data)
        except ApiError as exc:
            if isinstance(exc.body, dict) and "error" not in exc.body:
                exc.body = {"annotations": {str(n): exc.body}}
            raise
        items.append((topic, item))
    written = await run_in_threadpool(_write, request, account, items)
    return {"status": "success", "n": written}


def _write(request: Request, account: Account, items: list[tuple[str, Any]]) -> int:
    """Validate every item (per topic) before writing any; then write each topic's."""
    from lanner.annotations import AnnotationError
    from lanner.annotations.api import check_annotations, write_checked
    from lanner.annotations.counts import annotation_counts

    by_topic: dict[str, list[Any]] = {}
    for topic, item in items:
        by_topic.setdefault(topic, []).append(item)
    written = 0
    with server_state(request).stores.session() as store:
        checked = {}
        for topic, batch in by_topic.items():
            try:
                checked[topic] = check_annotations(store, topic, batch, user_id=account.user_id)
            except AnnotationError as exc:
                annotation_counts.rejected(topic, len(batch))
                raise bad_request(f"Annotator error: {exc}") from None
        for topic, rows in checked.items():
            written += write_checked(store, topic, rows)
    return written


# -- auth-token/ ---------------------------------------------------------------------------
AUTH = (
    Field("username", "str", "User name", required=True, max_length=150),
    Field("password", "str", "Password", required=True, max_length=1024),
)


@router.post(
    "/auth-token/",
    summary="A new API token for a user name and password (shown once)",
    operation_id="auth_token_post",
    openapi_extra=openapi(AUTH, get=False),
    responses=RESPONSES,
)
async def auth_token(request: Request) -> Any:
    data = await request_data(request)
    values = validate(data, AUTH)
    return await run_in_threadpool(_auth_token, request, values)


def _auth_token(request: Request, v: dict[str, Any]) -> Any:
    from lanner.serve import accounts

    with server_state(request).stores.session() as store:
        user = accounts.check_password(store, v["username"], v["password"])
        if user is None:
            raise ApiError(
                400, {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        return {"token": accounts.issue_token(store, user.user_id)}
