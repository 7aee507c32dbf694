"""Watchlists, watchmaps and sky maps on the web: upload, list, hits, flags.

Input: uploaded files (watchlists: CSV, VOTable or FITS tables of cones; watchmaps: MOC
as FITS, ASCII or JSON; sky maps: flat or multi-order FITS, or an LVK notice) and form
posts. Output: pages. Side effects: through :mod:`lanner.sky_areas` only (which stores
and retro-matches); a bad file stores nothing and the page lists every bad line.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lanner.filter.errors import FilterError
from lanner.serve.auth import server_state
from lanner.sky_areas import mma
from lanner.sky_areas import watchlists as wl
from lanner.sky_areas import watchmaps as wm
from lanner.sky_areas.cone_files import ConeFileError, read_cones
from lanner.sky_areas.notices import NoticeError, parse_notice
from lanner.sky_areas.skymap import SkyMapError, read_skymap
from lanner.store.sky_areas import record_rows
from lanner.web.pages import check_csrf, render, require_user, store_session, user_of

router = APIRouter()
#: Largest upload accepted [bytes].
MAX_UPLOAD = 64 * 1024 * 1024
HITS_SHOWN = 500

KINDS = {
    "watchlists": {"module": wl, "title": "Watchlists", "one": "watchlist", "id": "wl_id"},
    "watchmaps": {"module": wm, "title": "Watchmaps", "one": "watchmap", "id": "ar_id"},
}


def _flag(value: str | None) -> bool:
    return value in ("on", "true", "1", "yes")


async def _read(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValueError(f"the file is larger than {MAX_UPLOAD // 2**20} MiB")
    return data


def _owners(store: Any) -> dict[int, str]:
    return {int(r[0]): r[1] for r in store._read("SELECT user_id, username FROM users")}


def _list_page(request: Request, kind: str, **extra: Any) -> Response:
    account = user_of(request)
    meta = KINDS[kind]
    with store_session(request) as store:
        items: list[Any] = (
            wl.list_watchlists(store) if kind == "watchlists" else wm.list_watchmaps(store)
        )
        uid = account.user_id if account else -1
        items = [i for i in items if i.public or i.owner_id == uid]
        owners = _owners(store)
    return render(
        request,
        "areas.html",
        {"kind": kind, "meta": meta, "items": items, "owners": owners, "uid": uid, **extra},
        status=400 if extra.get("problems") or extra.get("error") else 200,
    )


@router.get("/watchlists/", response_class=HTMLResponse)
def watchlists_page(request: Request) -> Response:
    return _list_page(request, "watchlists")


@router.get("/watchmaps/", response_class=HTMLResponse)
def watchmaps_page(request: Request) -> Response:
    return _list_page(request, "watchmaps")


@router.post("/watchlists/", dependencies=[Depends(check_csrf)])
async def upload_watchlist(
    request: Request,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    radius: Annotated[str, Form()] = "2",
    public: Annotated[str | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """Upload a watchlist; every bad line is listed and nothing is stored then."""
    account = require_user(request)
    form = {"name": name, "description": description, "radius": radius}
    try:
        data = await _read(file)
        cones = read_cones(data, file.filename or "")
        r = float(radius)
    except ConeFileError as exc:
        return _list_page(
            request, "watchlists", problems=exc.problems, error=str(exc).split("\n")[0], form=form
        )
    except ValueError as exc:
        return _list_page(request, "watchlists", error=str(exc), form=form)
    with store_session(request) as store:
        try:
            made, hits = wl.add_watchlist(
                store,
                name.strip(),
                cones,
                radius=r,
                owner_id=account.user_id,
                public=_flag(public),
                active=_flag(active),
                description=description,
            )
        except FilterError as exc:
            return _list_page(request, "watchlists", error=exc.message, form=form)
    return RedirectResponse(
        f"/watchlists/{made.wl_id}/?message={len(cones.ra)}+cones,+{hits}+objects+inside",
        status_code=303,
    )


@router.post("/watchmaps/", dependencies=[Depends(check_csrf)])
async def upload_watchmap(
    request: Request,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    public: Annotated[str | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """Upload a watchmap (a MOC)."""
    account = require_user(request)
    form = {"name": name, "description": description}
    try:
        moc = wm.read_moc(await _read(file))
    except (wm.MocError, ValueError) as exc:
        return _list_page(request, "watchmaps", error=str(exc), form=form)
    with store_session(request) as store:
        try:
            made, hits = wm.add_watchmap(
                store,
                name.strip(),
                moc,
                owner_id=account.user_id,
                public=_flag(public),
                active=_flag(active),
                description=description,
            )
        except FilterError as exc:
            return _list_page(request, "watchmaps", error=exc.message, form=form)
    return RedirectResponse(
        f"/watchmaps/{made.ar_id}/?message={hits}+objects+inside", status_code=303
    )


def _one(store: Any, kind: str, item_id: int) -> Any:
    return (
        wl.get_watchlist(store, item_id)
        if kind == "watchlists"
        else wm.get_watchmap(store, item_id)
    )


def _detail(request: Request, kind: str, item_id: int) -> Response:
    account = user_of(request)
    uid = account.user_id if account else -1
    with store_session(request) as store:
        try:
            item = _one(store, kind, item_id)
        except FilterError as exc:
            return render(
                request,
                "message.html",
                {"title": KINDS[kind]["title"], "message": exc.message},
                status=404,
            )
        if not item.public and item.owner_id != uid:
            return render(
                request,
                "message.html",
                {"title": KINDS[kind]["title"], "message": "This one is private."},
                status=404,
            )
        if kind == "watchlists":
            hits = wl.watchlist_hits(store, item, HITS_SHOWN)
            ph = store.backend.placeholder
            cones = store._read(
                f"SELECT cone_id, name, ra, decl, radius FROM watchlist_cones WHERE wl_id = {ph} "
                f"ORDER BY cone_id LIMIT {HITS_SHOWN}",
                (item.wl_id,),
            )
        else:
            hits = wm.watchmap_hits(store, item, HITS_SHOWN)
            cones = []
        owner = _owners(store).get(item.owner_id, str(item.owner_id))
        oid = store.object_id_column
    return render(
        request,
        "area.html",
        {
            "kind": kind,
            "meta": KINDS[kind],
            "item": item,
            "hits": hits,
            "cones": cones,
            "owner": owner,
            "mine": item.owner_id == uid,
            "oid": oid,
            "message": request.query_params.get("message"),
        },
    )


@router.get("/watchlists/{item_id}/", response_class=HTMLResponse)
def watchlist_page(request: Request, item_id: int) -> Response:
    return _detail(request, "watchlists", item_id)


@router.get("/watchmaps/{item_id}/", response_class=HTMLResponse)
def watchmap_page(request: Request, item_id: int) -> Response:
    return _detail(request, "watchmaps", item_id)


@router.post("/{kind}/{item_id}/flags", dependencies=[Depends(check_csrf)])
def set_flags(
    request: Request, kind: str, item_id: int, active: Annotated[str | None, Form()] = None
) -> Response:
    """Activate (renew) or deactivate one's watchlist or watchmap."""
    if kind not in KINDS:
        return render(request, "message.html", {"title": "Not found", "message": kind}, status=404)
    account = require_user(request)
    module: Any = KINDS[kind]["module"]
    with store_session(request) as store:
        try:
            item = _one(store, kind, item_id)
            module.set_active(store, item, _flag(active), owner_id=account.user_id)
            message = "Saved."
        except FilterError as exc:
            message = exc.message
    return RedirectResponse(f"/{kind}/{item_id}/?message={message}", status_code=303)


@router.post("/{kind}/{item_id}/delete", dependencies=[Depends(check_csrf)])
def delete(request: Request, kind: str, item_id: int) -> Response:
    if kind not in KINDS:
        return render(request, "message.html", {"title": "Not found", "message": kind}, status=404)
    account = require_user(request)
    with store_session(request) as store:
        try:
            item = _one(store, kind, item_id)
            deleter = wl.delete_watchlist if kind == "watchlists" else wm.delete_watchmap
            deleter(store, item, owner_id=account.user_id)
        except FilterError as exc:
            return RedirectResponse(f"/{kind}/{item_id}/?message={exc.message}", status_code=303)
    return RedirectResponse(f"/{kind}/", status_code=303)


# -- sky maps ---------------------------------------------------------------------------
@router.get("/skymaps/", response_class=HTMLResponse)
def skymaps_page(request: Request, error: str | None = None) -> Response:
    with store_session(request) as store:
        maps = record_rows(store, "mma_areas")
    maps.sort(key=lambda r: -int(r["mw_id"]))
    return render(
        request, "skymaps.html", {"maps": maps, "error": error}, status=400 if error else 200
    )


@router.post("/skymaps/", dependencies=[Depends(check_csrf)])
async def upload_skymap(
    request: Request,
    file: Annotated[UploadFile, File()],
    event_id: Annotated[str, Form()] = "",
    namespace: Annotated[str, Form()] = "LVK",
) -> Response:
    """Store a sky map (FITS) or an LVK notice (JSON) and match the archive."""
    require_user(request)
    state = server_state(request)
    try:
        data = await _read(file)
        with store_session(request) as store:
            if data.lstrip()[:1] == b"{":
                from lanner.sky_areas.gcn_listener import selection_of

                outcome = mma.receive_notice(
                    store, parse_notice(data), selection_of(state.settings)
                )
                if outcome.mw_id is None:
                    return skymaps_page(request, error=f"notice kept: {outcome.decision}")
                mw_id = outcome.mw_id
            else:
                skymap = read_skymap(data)
                name = event_id.strip() or str(
                    skymap.header.get("OBJECT") or (file.filename or "map").split(".")[0]
                )
                mw_id, _hits = mma.add_skymap(
                    store,
                    skymap,
                    namespace=namespace.strip() or "LVK",
                    other_id=name,
                    event_mjd=skymap.mjd,
                )
    except (NoticeError, SkyMapError, ValueError) as exc:
        return skymaps_page(request, error=str(exc))
    return RedirectResponse(f"/skymaps/{mw_id}/", status_code=303)


def _moc_json(ascii_moc: str | None) -> Any:
    if not ascii_moc:
        return None
    from mocpy import MOC

    return MOC.from_string(ascii_moc, format="ascii").serialize("json")


@router.get("/skymaps/{mw_id}/", response_class=HTMLResponse)
def skymap_page(request: Request, mw_id: int) -> Response:
    """One sky map: its figures, its 50 % and 90 % regions on the sky, and its hits."""
    with store_session(request) as store:
        ph = store.backend.placeholder
        found = record_rows(store, "mma_areas", f"mw_id = {ph}", (mw_id,))
        if not found:
            return render(
                request,
                "message.html",
                {"title": "Sky map", "message": f"no sky map {mw_id}"},
                status=404,
            )
        regions = record_rows(store, "mma_skymaps", f"mw_id = {ph}", (mw_id,))
        hits = record_rows(store, "mma_area_hits", f"mw_id = {ph}", (mw_id,))[:HITS_SHOWN]
        oid = store.object_id_column
    reg = regions[0] if regions else {}
    mocs = {k: _moc_json(reg.get(k)) for k in ("moc50", "moc90")}
    area = found[0]
    return render(
        request,
        "skymap.html",
        {
            "area": area,
            "hits": hits,
            "oid": oid,
            "sky_json": json.dumps(
                {"ra": area.get("ra"), "dec": area.get("decl"), "mocs": mocs}
            ).replace("</", "<\\/"),
        },
    )
