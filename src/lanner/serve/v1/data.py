"""Archive data under ``/api/v1/``: light curves (JSON, CSV), cutouts as PNG, annotators,
the schema, and the broker's status; and Lasair's cutout URLs ``/fits/<sourceId>_cutout
{Science,Template,Difference}`` (FITS, ``image/fits``) outside ``/api/v1``.

Input: object and source ids (checked before any query), table names. Output: JSON, CSV,
FITS or PNG. Side effects: none (reads only). The FITS cutouts need no credentials, as on
Lasair (the object API links to them and browsers load them into JS9); every other route
takes the caller's token or session and counts against their limit.
"""

from __future__ import annotations

import csv
import io
import struct
import zlib
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lanner.serve.accounts import Account
from lanner.serve.auth import server_state
from lanner.serve.errors import ApiError, not_found
from lanner.serve.objects import CUTOUT_KINDS, parse_object_id
from lanner.serve.v1.common import API_USER, RESPONSES, archive

router = APIRouter(responses=RESPONSES)
#: Outside ``/api/v1``: Lasair's cutout URLs.
fits_router = APIRouter(tags=["lanner"])
Kind = Literal["Science", "Template", "Difference"]
_KIND = dict(CUTOUT_KINDS)
LIGHT_CURVE_TABLES = ("detections", "forced_photometry", "upper_limits")
FITS_MEDIA = "image/fits"


def _object_id(request: Request, raw: str) -> int | str:
    try:
        return parse_object_id(server_state(request).survey, raw)
    except ValueError as exc:
        raise ApiError(400, {"objectId": [str(exc)]}) from None


def _source_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 2**63:
        raise ApiError(400, {"sourceId": ["A valid integer is required."]})
    return int(raw)


# -- light curves --------------------------------------------------------------------------


@router.get(
    "/objects/{object_id}/lightcurve/",
    summary="An object's light curve: detections, forced photometry, upper limits",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def light_curve(
    object_id: str,
    request: Request,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
    account: Account = API_USER,
) -> Any:
    from lanner.store.reading import light_curve as read

    oid = _object_id(request, object_id)
    with archive(request) as store:
        curves = read(store, oid)
        id_column = store.object_id_column
    if not any(curves.values()):
        raise not_found()
    if format == "json":
        return {id_column: oid, **curves}
    return Response(_csv(curves), media_type="text/csv; charset=utf-8")


def _csv(curves: dict[str, list[dict[str, Any]]]) -> str:
    """One CSV of all three tables, the first column ``kind`` naming the table; the
    columns are the union of the tables' in order of appearance."""
    names: dict[str, None] = {"kind": None}
    for rows in curves.values():
        for row in rows[:1]:
            names.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, list(names), restval="", extrasaction="ignore")
    writer.writeheader()
    for kind, rows in curves.items():
        for row in rows:
            writer.writerow({"kind": kind, **{k: _cell(v) for k, v in row.items()}})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return ""
    if isinstance(value, (bytes, memoryview)):
        return ""
    return value


# -- cutouts -------------------------------------------------------------------------------


def _cutout_bytes(request: Request, source_id: int, kind: str) -> bytes:
    from lanner.store.reading import cutout

    with server_state(request).stores.session() as store:
        data = cutout(store, source_id, _KIND[kind])
    if data is None:
        raise not_found()
    return data


@fits_router.get(
    "/fits/{source_id}_cutout{kind}",
    summary="A cutout as FITS (Lasair's URL form)",
    responses={
        200: {"content": {FITS_MEDIA: {}}},
        400: {"description": "Not a source id or cutout kind (``{field: [message]}``)"},
        404: {"description": "No such cutout (``{detail: …}``)"},
    },
)
def fits_cutout(source_id: str, kind: Kind, request: Request) -> Response:
    data = _cutout_bytes(request, _source_id(source_id), kind)
    name = f"{source_id}_cutout{kind}.fits"
    return Response(
        data, media_type=FITS_MEDIA, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get(
    "/cutouts/{source_id}/{kind}.png",
    summary="A cutout as a PNG image (z-scaled, north up as stored)",
    responses={200: {"content": {"image/png": {}}}},
)
def png_cutout(
    source_id: str, kind: Kind, request: Request, account: Account = API_USER
) -> Response:
    data = _cutout_bytes(request, _source_id(source_id), kind)
    try:
        image = fits_image(data)
    except (ValueError, OSError, TypeError) as exc:  # astropy's errors for a broken file
        raise ApiError(400, {"error": f"the cutout cannot be drawn: {exc}"}) from None
    return Response(png_bytes(scaled(image)), media_type="image/png")


def fits_image(data: bytes) -> np.ndarray:
    """The first 2-D image of a FITS file."""
    from astropy.io import fits

    with fits.open(io.BytesIO(data)) as hdus:
        for hdu in hdus:
            if hdu.data is not None and np.ndim(hdu.data) == 2:
                return np.asarray(hdu.data, dtype=float)
    raise ValueError("no 2-D image in the FITS file")


def scaled(image: np.ndarray) -> np.ndarray:
    """8-bit grey levels by astropy's z-scale (NaN → black), first row at the bottom."""
    from astropy.visualization import ZScaleInterval

    finite = np.isfinite(image)
    if not finite.any():
        return np.zeros(image.shape, dtype=np.uint8)
    low, high = ZScaleInterval().get_limits(image[finite])
    span = high - low if high > low else 1.0
    grey = np.clip((np.where(finite, image, low) - low) / span, 0.0, 1.0)
    return np.flipud((grey * 255).round().astype(np.uint8))


def png_bytes(grey: np.ndarray) -> bytes:
    """A grey-scale 8-bit PNG of ``grey`` (rows top to bottom)."""
    height, width = grey.shape
    rows = np.hstack([np.zeros((height, 1), dtype=np.uint8), grey]).tobytes()

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


# -- annotators ----------------------------------------------------------------------------


def _annotator(a: Any, user_id: int) -> dict[str, Any]:
    out = {
        "topic": a.topic,
        "owner_id": a.owner_id,
        "description": a.description,
        "public": a.public,
        "active": a.active,
        "may_write": a.may_write(user_id),
    }
    if a.owner_id == user_id:
        out["writers"] = sorted(a.writers)
    return out


@router.get("/annotators/", summary="Annotators you may see (public, or yours to write)")
def list_annotators(request: Request, account: Account = API_USER) -> list[dict[str, Any]]:
    from lanner.annotations.api import list_annotators as listed

    with archive(request) as store:
        return [_annotator(a, account.user_id) for a in listed(store, user_id=account.user_id)]


@router.get("/annotators/{topic}/", summary="An annotator")
def show_annotator(topic: str, request: Request, account: Account = API_USER) -> dict[str, Any]:
    from lanner.annotations.api import get_annotator

    with archive(request) as store:
        return _annotator(get_annotator(store, topic, user_id=account.user_id), account.user_id)


# -- schema and status ---------------------------------------------------------------------


def _table(table: Any) -> dict[str, Any]:
    return {
        "name": table.name,
        "description": table.description,
        "filterable": table.filterable,
        "primary_key": list(table.primary_key),
        "columns": [
            {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description}
            for c in table.columns
        ],
    }


@router.get("/schema/", summary="Every table and column: type, unit, description")
def schema(request: Request, account: Account = API_USER) -> dict[str, Any]:
    from lanner.schema.registry import tables_for

    survey = server_state(request).survey
    return {"survey": survey, "tables": [_table(t) for t in tables_for(survey).values()]}


@router.get("/schema/{table}/", summary="One table's columns")
def schema_table(table: str, request: Request, account: Account = API_USER) -> dict[str, Any]:
    from lanner.schema.registry import tables_for

    found = tables_for(server_state(request).survey).get(table)
    if found is None:
        raise not_found()
    return _table(found)


@router.get("/status/", summary="The broker: survey, archive size, newest alert, activity")
def status(request: Request, account: Account = API_USER) -> dict[str, Any]:
    from lanner.serve.app import _version
    from lanner.store.ddl import quote

    state = server_state(request)

    def scalar(store: Any, sql: str) -> Any:
        row = store.con.execute(sql).fetchone()
        return None if row is None else row[0]

    with archive(request) as store:
        t = quote
        return {
            "version": _version(),
            "survey": state.survey,
            "objects": scalar(store, f"SELECT COUNT(*) FROM {t('objects')}"),
            "alerts": scalar(store, f"SELECT COUNT(*) FROM {t('alerts')}"),
            "newest_alert_mjd": scalar(store, f"SELECT MAX({t('mjd')}) FROM {t('alerts')}"),
            "active_filters": scalar(
                store, f"SELECT COUNT(*) FROM {t('filters')} WHERE {t('active')} = TRUE"
            ),
            "active_watchlists": scalar(
                store, f"SELECT COUNT(*) FROM {t('watchlists')} WHERE {t('active')} = TRUE"
            ),
            "active_watchmaps": scalar(
                store, f"SELECT COUNT(*) FROM {t('watchmaps')} WHERE {t('active')} = TRUE"
            ),
        }
