"""``/api/v1/watchlists/`` and ``/api/v1/watchmaps/``: upload, list, show, (de)activate,
delete, and read the hits of cone lists and sky areas (MOCs).

Input: multipart uploads (a watchlist file: CSV ``RA, Dec, ID[, radius]`` with ``,`` or
``|``, VOTable or FITS; a watchmap: a FITS MOC or an ASCII/JSON MOC string) and ids.
Output: JSON records as ``lanner watchlist|watchmap show`` prints them, and hits. Side
effects: rows of ``watchlists``/``watchlist_cones``/``watchlist_hits`` and
``watchmaps``/``area_hits`` (an upload is matched against the archive at once, as the CLI
does). A user sees their own and the public areas; another user's private ones are 404.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from lanner.serve.accounts import Account
from lanner.serve.errors import ApiError, not_found
from lanner.serve.v1.common import API_USER, RESPONSES, ItemId, archive, owned, visible
from lanner.sky_areas import watchlists as wl
from lanner.sky_areas import watchmaps as wm
from lanner.sky_areas.cone_files import ConeFileError, read_cones

router = APIRouter(responses=RESPONSES)
#: Largest upload accepted (bytes).
MAX_UPLOAD = 50 * 1024 * 1024
HitsLimit = Annotated[int, Query(ge=1, le=100_000, description="Most hits returned")]


def _read_upload(upload: UploadFile) -> bytes:
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiError(400, {"file": [f"the file is over {MAX_UPLOAD // 2**20} MB"]})
    if not data:
        raise ApiError(400, {"file": ["the file is empty"]})
    return data


def _watchlist(store: Any, wl_id: ItemId, account: Account) -> wl.Watchlist:
    try:
        found = wl.get_watchlist(store, wl_id)
    except wl.WatchlistError:
        raise not_found() from None
    visible(found.owner_id, found.public, account.user_id)
    return found


def _watchmap(store: Any, ar_id: ItemId, account: Account) -> wm.Watchmap:
    try:
        found = wm.get_watchmap(store, ar_id)
    except wl.WatchlistError:
        raise not_found() from None
    visible(found.owner_id, found.public, account.user_id)
    return found


# -- watchlists ----------------------------------------------------------------------------


@router.get("/watchlists/", summary="Your watchlists and the public ones")
def list_watchlists(request: Request, account: Account = API_USER) -> list[dict[str, Any]]:
    with archive(request) as store:
        return [asdict(w) for w in wl.list_watchlists(store, account.user_id)]


@router.post("/watchlists/", status_code=201, summary="Upload a watchlist (cones)")
def add_watchlist(
    request: Request,
    name: Annotated[str, Form(min_length=1, max_length=256)],
    file: Annotated[UploadFile, File(description="CSV 'RA, Dec, ID[, radius]', VOTable or FITS")],
    radius: Annotated[
        float, Form(gt=0, le=wl.MAX_RADIUS, description="Default radius [arcsec]")
    ] = (wl.DEFAULT_RADIUS),
    public: Annotated[bool, Form()] = False,
    active: Annotated[bool, Form()] = False,
    description: Annotated[str, Form(max_length=4096)] = "",
    account: Account = API_USER,
) -> dict[str, Any]:
    data = _read_upload(file)
    try:
        cones = read_cones(data, file.filename or "")
    except ConeFileError as exc:
        raise ApiError(400, {"file": [str(exc)]}) from None
    except (ValueError, OSError, TypeError, KeyError, IndexError, UnicodeError) as exc:
        # A file named .fits/.xml that astropy cannot read: say so, whatever the reader raised.
        raise ApiError(400, {"file": [f"cannot read the file as a watchlist: {exc}"]}) from None
    with archive(request) as store:
        watchlist, hits = wl.add_watchlist(
            store, name, cones, radius=radius, owner_id=account.user_id,
            public=public, active=active, description=description,
        )  # fmt: skip
    return {**asdict(watchlist), "hits": hits}


@router.get("/watchlists/{wl_id}/", summary="A watchlist")
def show_watchlist(wl_id: ItemId, request: Request, account: Account = API_USER) -> dict[str, Any]:
    with archive(request) as store:
        return asdict(_watchlist(store, wl_id, account))


@router.get("/watchlists/{wl_id}/hits/", summary="Objects inside a watchlist's cones")
def watchlist_hits(
    wl_id: ItemId, request: Request, limit: HitsLimit = 1000, account: Account = API_USER
) -> list[dict[str, Any]]:
    with archive(request) as store:
        return wl.watchlist_hits(store, _watchlist(store, wl_id, account), limit)


@router.post("/watchlists/{wl_id}/activate/", summary="Match on every batch for 180 days")
def activate_watchlist(
    wl_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    return _watchlist_state(wl_id, True, request, account)


@router.post("/watchlists/{wl_id}/deactivate/", summary="Stop matching incoming batches")
def deactivate_watchlist(
    wl_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    return _watchlist_state(wl_id, False, request, account)


def _watchlist_state(
    wl_id: ItemId, active: bool, request: Request, account: Account
) -> dict[str, Any]:
    # Each action its own route: a path parameter there would also match ``hits/``.
    with archive(request) as store:
        found = _watchlist(store, wl_id, account)
        owned(found.owner_id, found.public, account.user_id)
        return asdict(wl.set_active(store, found, active, owner_id=account.user_id))


@router.delete("/watchlists/{wl_id}/", summary="Delete a watchlist, its cones and hits")
def delete_watchlist(
    wl_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    with archive(request) as store:
        found = _watchlist(store, wl_id, account)
        owned(found.owner_id, found.public, account.user_id)
        wl.delete_watchlist(store, found, owner_id=account.user_id)
    return {"deleted": wl_id}


# -- watchmaps -----------------------------------------------------------------------------


@router.get("/watchmaps/", summary="Your watchmaps and the public ones")
def list_watchmaps(request: Request, account: Account = API_USER) -> list[dict[str, Any]]:
    with archive(request) as store:
        return [asdict(m) for m in wm.list_watchmaps(store, account.user_id)]


@router.post("/watchmaps/", status_code=201, summary="Upload a watchmap (a MOC)")
def add_watchmap(
    request: Request,
    name: Annotated[str, Form(min_length=1, max_length=256)],
    file: Annotated[UploadFile, File(description="FITS MOC (NUNIQ or RANGE), ASCII or JSON MOC")],
    public: Annotated[bool, Form()] = False,
    active: Annotated[bool, Form()] = False,
    description: Annotated[str, Form(max_length=4096)] = "",
    account: Account = API_USER,
) -> dict[str, Any]:
    data = _read_upload(file)
    try:
        moc = wm.read_moc(data)
    except wm.MocError as exc:
        raise ApiError(400, {"file": [str(exc)]}) from None
    with archive(request) as store:
        watchmap, hits = wm.add_watchmap(
            store, name, moc, owner_id=account.user_id, public=public, active=active,
            description=description,
        )  # fmt: skip
    return {**asdict(watchmap), "hits": hits}


@router.get("/watchmaps/{ar_id}/", summary="A watchmap")
def show_watchmap(ar_id: ItemId, request: Request, account: Account = API_USER) -> dict[str, Any]:
    with archive(request) as store:
        return asdict(_watchmap(store, ar_id, account))


@router.get("/watchmaps/{ar_id}/hits/", summary="Objects inside a watchmap")
def watchmap_hits(
    ar_id: ItemId, request: Request, limit: HitsLimit = 1000, account: Account = API_USER
) -> list[dict[str, Any]]:
    with archive(request) as store:
        return wm.watchmap_hits(store, _watchmap(store, ar_id, account), limit)


@router.post("/watchmaps/{ar_id}/activate/", summary="Match on every batch for 180 days")
def activate_watchmap(
    ar_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    return _watchmap_state(ar_id, True, request, account)


@router.post("/watchmaps/{ar_id}/deactivate/", summary="Stop matching incoming batches")
def deactivate_watchmap(
    ar_id: ItemId, request: Request, account: Account = API_USER
) -> dict[str, Any]:
    return _watchmap_state(ar_id, False, request, account)


def _watchmap_state(
    ar_id: ItemId, active: bool, request: Request, account: Account
) -> dict[str, Any]:
    with archive(request) as store:
        found = _watchmap(store, ar_id, account)
        owned(found.owner_id, found.public, account.user_id)
        return asdict(wm.set_active(store, found, active, owner_id=account.user_id))


@router.delete("/watchmaps/{ar_id}/", summary="Delete a watchmap and its hits")
def delete_watchmap(ar_id: ItemId, request: Request, account: Account = API_USER) -> dict[str, Any]:
    with archive(request) as store:
        found = _watchmap(store, ar_id, account)
        owned(found.owner_id, found.public, account.user_id)
        wm.delete_watchmap(store, found, owner_id=account.user_id)
    return {"deleted": ar_id}
