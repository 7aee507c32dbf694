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
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile

from lanner.serve.accounts import Account
from lanner.serve.errors import ApiError, not_found
from lanner.serve.v1 import common
from lanner.serve.v1.common import API_USER, MAX_ITEM_ID, RESPONSES, archive, owned, visible
from lanner.sky_areas import watchlists as wl
from lanner.sky_areas import watchmaps as wm
from lanner.sky_areas.cone_files import ConeFileError, read_cones

router = APIRouter(responses=RESPONSES)
#: Largest upload accepted (bytes).
MAX_UPLOAD = 50 * 1024 * 1024


def _read_upload(upload: UploadFile) -> bytes:
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiError(400, {"file": [f"the file is over {MAX_UPLOAD // 2**20} MB"]})
    if not data:
        raise ApiError(400, {"file": ["the file is empty"]})
    return data


def area_routes(noun: str, id_name: str, module: ModuleType, what: str, parts: str) -> None:
    """The routes of one kind of sky area, ``/<noun>s/…``: list, show, hits, activate,
    deactivate and delete. ``module`` has ``list_<noun>s``, ``get_<noun>``,
    ``<noun>_hits``, ``set_active`` and ``delete_<noun>`` (as the CLI's commands use it);
    ``what`` names the area in summaries ("watchlist's cones"), ``parts`` what deleting it
    also deletes."""
    list_all = getattr(module, f"list_{noun}s")
    get = getattr(module, f"get_{noun}")
    hits_of = getattr(module, f"{noun}_hits")
    delete = getattr(module, f"delete_{noun}")
    base = f"/{noun}s/"
    item = f"{base}{{{id_name}}}/"

    def find(store: Any, item_id: int, account: Account) -> Any:
        try:
            found = get(store, item_id)
        except wl.WatchlistError:
            raise not_found() from None
        visible(found.owner_id, found.public, account.user_id)
        return found

    def listing(request: Request, account: Account = API_USER) -> list[dict[str, Any]]:
        with archive(request) as store:
            return [asdict(a) for a in list_all(store, account.user_id)]

    def show(
        request: Request,
        item_id: int = Path(ge=0, le=MAX_ITEM_ID, alias=id_name),
        account: Account = API_USER,
    ) -> dict[str, Any]:
        with archive(request) as store:
            return asdict(find(store, item_id, account))

    def hits(
        request: Request,
        item_id: int = Path(ge=0, le=MAX_ITEM_ID, alias=id_name),
        limit: int = Query(1000, ge=1, le=100_000, description="Most hits returned"),
        account: Account = API_USER,
    ) -> list[dict[str, Any]]:
        with archive(request) as store:
            return hits_of(store, find(store, item_id, account), limit)

    def set_state(item_id: int, active: bool, request: Request, account: Account) -> dict[str, Any]:
        with archive(request) as store:
            found = find(store, item_id, account)
            owned(found.owner_id, found.public, account.user_id)
            return asdict(module.set_active(store, found, active, owner_id=account.user_id))

    def remove(
        request: Request,
        item_id: int = Path(ge=0, le=MAX_ITEM_ID, alias=id_name),
        account: Account = API_USER,
    ) -> dict[str, Any]:
        with archive(request) as store:
            found = find(store, item_id, account)
            owned(found.owner_id, found.public, account.user_id)
            delete(store, found, owner_id=account.user_id)
        return {"deleted": item_id}

    add = router.add_api_route
    add(base, listing, methods=["GET"], name=f"list_{noun}s",
        summary=f"Your {noun}s and the public ones")  # fmt: skip
    add(item, show, methods=["GET"], name=f"show_{noun}", summary=f"A {noun}")
    add(f"{item}hits/", hits, methods=["GET"], name=f"{noun}_hits",
        summary=f"Objects inside a {what}")  # fmt: skip
    common.activation_routes(router, noun, item, set_state)
    add(item, remove, methods=["DELETE"], name=f"delete_{noun}",
        summary=f"Delete a {noun}{parts}")  # fmt: skip


# -- uploads -------------------------------------------------------------------------------


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


area_routes("watchlist", "wl_id", wl, "watchlist's cones", ", its cones and hits")
area_routes("watchmap", "ar_id", wm, "watchmap", " and its hits")
