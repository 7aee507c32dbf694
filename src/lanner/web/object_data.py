"""Everything the object page shows, read from the archive: the page's data and its JSON twin.

Input: an open :class:`~lanner.store.Store` and an object id as written in a URL. Output:
:func:`object_view`, a JSON-ready dict (ids of Rubin objects as strings, so JavaScript keeps
them exact), or ``None`` for an unknown object. Reads only.

Sections: the ``objects`` row grouped by producer with units and descriptions (from the one
schema declaration), the light curve (detections, forced photometry, upper limits, with the
Bazin × blackbody model drawn from the stored fit when there is one), cutouts of every
detection, the sky context (``sherlock_classifications``), the TNS entry (through the hits of
a watchlist whose cone name is a TNS name, as Lasair), annotations and their history,
watchlist / watchmap / GW-map memberships, and links to the same object elsewhere. A section
whose table holds nothing for the object is an empty list, never absent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lanner.batch import OBJECT_ID_COLUMN
from lanner.schema.columns import Table
from lanner.schema.registry import POSITION_COLUMNS
from lanner.store import Store
from lanner.store.ddl import quote

#: Headings of the groups of ``objects`` columns, by producer (others keep their name).
GROUP_TITLES = {
    "objects": "Identity, position, times and counts",
    "dia_object": "Rubin diaObject statistics",
    "ztf_magnitudes": "Magnitudes and rates",
    "ztf_moving_averages": "Moving averages",
    "lightcurve_package_ztf": "Light-curve features",
    "lightcurve_package_lsst": "Light-curve features",
    "milky_way_ztf": "Milky Way",
    "milky_way_lsst": "Milky Way",
    "counts": "Counts",
    "jump": "Jumps",
    "pair_colours": "Colours",
    "bazin_blackbody": "Bazin × blackbody fit",
    "absolute_magnitude": "Absolute magnitude",
}
CUTOUT_KINDS = ("Science", "Template", "Difference")
LIGHT_CURVE_TABLES = ("detections", "forced_photometry", "upper_limits")
#: Time span of the drawn model curve past the observed points [day].
MODEL_MARGIN_DAYS = 10.0


def parse_object_id(store: Store, text: str) -> Any:
    """The object id of a URL in the survey's type (Rubin ids are integers), or ``None``."""
    if store.survey == "lsst":
        return int(text) if text.isdigit() and len(text) < 20 else None
    return text if 0 < len(text) <= 64 else None


def _rows(store: Store, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _json(value: Any) -> Any:
    """A value as JSON carries it: big ints as text, NaN as null, times as ISO text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > 2**53 else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | memoryview):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def page_data(view: dict[str, Any]) -> dict[str, Any]:
    """What the page's scripts draw (light curve, sky view); the light-curve tables stay
    by column, about half the bytes of rows (``LannerLC.rows`` turns them into rows)."""
    return {
        "object_id": view["object_id"],
        "ra": view["ra"],
        "dec": view["dec"],
        "sky_marks": view["sky_marks"],
        "light_curve": view["light_curve"],
    }


def json_twin(view: dict[str, Any]) -> dict[str, Any]:
    """The object's JSON twin: every section, the light-curve tables as lists of rows."""
    lc = view["light_curve"]
    return {
        **view,
        "light_curve": {**lc, **{t: rows_of(lc[t]) for t in LIGHT_CURVE_TABLES}},
    }


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _json(v) for k, v in row.items()}


Layout = tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...]
#: Layouts by id of the table declaration (kept with it, so a reused id cannot match).
_LAYOUTS: dict[int, tuple[Table, Layout]] = {}


def _group_layout(table: Table) -> Layout:
    """The table's columns grouped by producer: (producer, title, ((name, unit,
    description), …)), worked out once per table declaration."""
    known = _LAYOUTS.get(id(table))
    if known is not None and known[0] is table:
        return known[1]
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for col in table.columns:
        groups.setdefault(col.producer, []).append((col.name, col.unit or "", col.description))
    layout = tuple(
        (p, GROUP_TITLES.get(p, p.replace("_", " ").capitalize()), tuple(c))
        for p, c in groups.items()
    )
    _LAYOUTS[id(table)] = (table, layout)
    return layout


def column_groups(table: Table, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The row's columns grouped by producer, each with unit and description."""
    return [
        {
            "producer": producer,
            "title": title,
            "columns": [
                {"name": n, "value": _json(row.get(n)), "unit": u or None, "description": d}
                for n, u, d in cols
            ],
        }
        for producer, title, cols in _group_layout(table)
    ]


def bbb_model_curve(
    obj: dict[str, Any], bands: list[str], mjd: list[float]
) -> list[dict[str, Any]]:
    """Model flux [nJy] per band from the stored Bazin × blackbody fit, or ``[]``.

    The stored fit gives rates, temperature, and the peak flux and time in the brightest
    band (extinction corrected, as fitted); the other bands follow the blackbody's shape.
    The exponential model stores no amplitude, so only Bazin fits are drawn.
    """
    if obj.get("BBBModel") != "bazin" or not mjd:
        return []
    from lanner.enrich.features.bazin_model import blackbody_shape
    from lanner.enrich.features.light_curve import RUBIN_BANDS, RUBIN_WAVELENGTH_UM

    try:
        kr, kf = float(obj["BBBRiseRate"]), float(obj["BBBFallRate"])
        temp, peak = float(obj["BBBTemp"]), float(obj["BBBPeakFlux"])
        t_peak, peak_band = float(obj["BBBPeakMJD"]), str(obj["BBBPeakBand"])
    except (KeyError, TypeError, ValueError):
        return []
    if not (kr > kf > 0) or peak_band not in RUBIN_BANDS:
        return []
    # The Bazin peak: d/dt = 0 at t0 + ln(kr/kf - 1)/kr.
    t0 = t_peak - math.log(kr / kf - 1.0) / kr
    t = np.linspace(min(mjd) - MODEL_MARGIN_DAYS, max(mjd) + MODEL_MARGIN_DAYS, 200).round(5)

    def shape(tt: np.ndarray | float) -> np.ndarray:
        tau = np.asarray(tt, dtype=np.float64) - t0
        return np.exp(-kf * tau) / (1.0 + np.exp(np.minimum(-kr * tau, 300.0)))

    time_factor = shape(t) / shape(t_peak)
    lam = np.asarray(RUBIN_WAVELENGTH_UM, dtype=np.float64)
    colour = blackbody_shape(lam, temp)
    ref = colour[RUBIN_BANDS.index(peak_band)]
    curves = []
    for band in bands:
        if band not in RUBIN_BANDS:
            continue
        scale = peak * colour[RUBIN_BANDS.index(band)] / ref
        curves.append({"band": band, "mjd": t.tolist(), "flux": (scale * time_factor).tolist()})
    return curves


def bbb_state(obj: dict[str, Any], drawn: bool) -> dict[str, Any] | None:
    """What the page says of the object's Bazin × blackbody fit: the model, its figures and
    whether it is drawn, or why there is none; ``None`` for a survey without the fit."""
    if "BBBModel" not in obj and "BBBNoFitReason" not in obj:
        return None
    model = obj.get("BBBModel")
    if model is None:
        reason = obj.get("BBBNoFitReason") or "not fitted"
        return {"model": None, "drawn": False, "text": f"No Bazin × blackbody fit: {reason}."}
    figures = {k: _json(obj.get(k)) for k in ("BBBTemp", "BBBRiseRate", "BBBFallRate",
               "BBBChi2Dof", "BBBNdata", "BBBPeakFlux", "BBBPeakBand", "BBBPeakMJD")}  # fmt: skip

    def fmt(name: str, spec: str) -> str:
        value = figures[name]
        return "?" if value is None else format(value, spec)

    fit = (
        f"T = {fmt('BBBTemp', '.1f')} kK, rise rate {fmt('BBBRiseRate', '.3f')}/day, "
        f"χ²/dof {fmt('BBBChi2Dof', '.2f')} over {figures['BBBNdata']} points"
    )
    if model == "bazin":
        text = (
            f"Bazin × blackbody fit ({fit}, fall rate {fmt('BBBFallRate', '.3f')}/day; "
            f"peak {fmt('BBBPeakFlux', '.0f')} nJy in {figures['BBBPeakBand']} at MJD "
            f"{fmt('BBBPeakMJD', '.2f')}): "
            + ("drawn dashed, extinction-corrected as fitted." if drawn else "not drawn.")
        )
    else:
        text = (
            f"Exponential rise × blackbody fit ({fit}): not drawn, as the exponential "
            "model stores no amplitude."
        )
    return {"model": model, "drawn": drawn, "text": text, **figures}


#: The light-curve columns the page shows and its JSON twin gives.
LIGHT_CURVE_KEYS = ("source_id", "mjd", "band", "flux", "flux_err", "mag", "mag_err",
                    "reliability", "limit_mag", "limit_flux")  # fmt: skip


def _json_column(values: list[Any]) -> list[Any]:
    """One light-curve column as JSON carries it (NaN as null, big ids as text), without a
    function call per value for the usual floats and text."""
    if any(v.__class__ is not float and v.__class__ is not str and v is not None
           for v in values):  # fmt: skip
        return [_json(v) for v in values]
    return [v if v.__class__ is not float or math.isfinite(v) else None for v in values]


def light_curve_columns(store: Store, object_id: Any) -> dict[str, dict[str, list[Any]]]:
    """Detections, forced photometry and upper limits of an object in time order, by
    column (the columns of :data:`LIGHT_CURVE_KEYS` each table has), JSON-ready."""
    oid = quote(OBJECT_ID_COLUMN[store.survey or "ztf"])
    ph = store.backend.placeholder
    out: dict[str, dict[str, list[Any]]] = {}
    for table in LIGHT_CURVE_TABLES:
        have = store.tables[table].column_names
        keys = [k for k in LIGHT_CURVE_KEYS if k in have]
        cur = store.con.execute(
            f"SELECT {', '.join(quote(k) for k in keys)} FROM {quote(table)} "
            f"WHERE {oid} = {ph} ORDER BY mjd",
            (object_id,),
        )
        columns = list(zip(*cur.fetchall(), strict=True)) or [()] * len(keys)
        out[table] = {k: _json_column(list(c)) for k, c in zip(keys, columns, strict=True)}
    return out


def rows_of(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """A table by column as a list of rows."""
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _light_curve_view(store: Store, object_id: Any, obj: dict[str, Any]) -> dict[str, Any]:
    tables = light_curve_columns(store, object_id)
    bands = sorted({b for t in tables.values() for b in t.get("band", []) if b})
    mjd = [float(m) for m in tables["detections"]["mjd"] if m is not None]
    model = bbb_model_curve(obj, bands, mjd)
    return {
        **tables,
        "counts": {t: len(tables[t]["mjd"]) for t in LIGHT_CURVE_TABLES},
        "model": model,
        "fit": bbb_state(obj, bool(model)),
        "bands": bands,
    }


def _cutouts(store: Store, detections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Detections (newest first) that have stored cutouts, with the kinds stored."""
    ids = [d["source_id"] for d in detections if d.get("source_id") is not None]
    if not ids:
        return []
    ph = store.backend.placeholder
    found: dict[int, set[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        marks = ", ".join([ph] * len(chunk))
        cur = store.con.execute(
            f"SELECT alert_id, kind FROM cutouts WHERE alert_id IN ({marks})",
            tuple(chunk),
        )
        for alert_id, kind in cur.fetchall():
            found.setdefault(int(alert_id), set()).add(str(kind))
    by_id = {int(d["source_id"]): d for d in detections if d.get("source_id") is not None}
    out = []
    for alert_id in sorted(found, key=lambda i: -float(by_id[i]["mjd"] or 0)):
        d = by_id[alert_id]
        kinds = [k for k in CUTOUT_KINDS if k in found[alert_id] or k.lower() in found[alert_id]]
        out.append(
            {
                "source_id": str(alert_id),
                "mjd": d["mjd"],
                "band": d["band"],
                "kinds": kinds,
                "stored_kinds": sorted(found[alert_id]),
            }
        )
    return out


def _where_object(
    store: Store, table: str, object_id: Any, order: str = ""
) -> list[dict[str, Any]]:
    oid = OBJECT_ID_COLUMN[store.survey or "ztf"]
    ph = store.backend.placeholder
    return _rows(
        store, f"SELECT * FROM {quote(table)} WHERE {quote(oid)} = {ph} {order}", (object_id,)
    )


def _memberships(store: Store, object_id: Any) -> dict[str, list[dict[str, Any]]]:
    oid = quote(OBJECT_ID_COLUMN[store.survey or "ztf"])
    ph = store.backend.placeholder
    watchlists = _rows(
        store,
        f"SELECT h.wl_id, w.name AS watchlist, w.public, h.cone_id, h.name AS cone, h.arcsec "
        f"FROM watchlist_hits h JOIN watchlists w ON w.wl_id = h.wl_id "
        f"WHERE h.{oid} = {ph} ORDER BY h.wl_id, h.cone_id",
        (object_id,),
    )
    watchmaps = _rows(
        store,
        f"SELECT a.ar_id, w.name AS watchmap, w.public, w.area FROM area_hits a "
        f"JOIN watchmaps w ON w.ar_id = a.ar_id WHERE a.{oid} = {ph} ORDER BY a.ar_id",
        (object_id,),
    )
    gw = _rows(
        store,
        f'SELECT h.*, m.namespace, m."otherId", m.version, m.classification AS event_class, '
        f"m.area90, m.event_date FROM mma_area_hits h JOIN mma_areas m ON m.mw_id = h.mw_id "
        f"WHERE h.{oid} = {ph} ORDER BY h.mw_id",
        (object_id,),
    )
    return {
        "watchlists": [_clean(r) for r in watchlists],
        "watchmaps": [_clean(r) for r in watchmaps],
        "gw": [_clean(r) for r in gw],
    }


def _tns(store: Store, object_id: Any) -> list[dict[str, Any]]:
    oid = quote(OBJECT_ID_COLUMN[store.survey or "ztf"])
    ph = store.backend.placeholder
    rows = _rows(
        store,
        f"SELECT t.*, h.arcsec FROM watchlist_hits h JOIN crossmatch_tns t "
        f"ON t.tns_name = h.name WHERE h.{oid} = {ph} ORDER BY h.arcsec",
        (object_id,),
    )
    return [_clean(r) for r in rows]


def _annotations(store: Store, object_id: Any) -> dict[str, list[dict[str, Any]]]:
    current = [_clean(r) for r in _where_object(store, "annotations", object_id, "ORDER BY topic")]
    history: list[dict[str, Any]] = []
    oid = OBJECT_ID_COLUMN[store.survey or "ztf"]
    for name, table in store.tables.items():
        if name.startswith("annotation") and name != "annotations" and oid in table.column_names:
            order = "ORDER BY timestamp DESC" if "timestamp" in table.column_names else ""
            history += [
                {**_clean(r), "table": name} for r in _where_object(store, name, object_id, order)
            ]
    return {"current": current, "history": history}


def other_brokers(survey: str, object_id: Any, ra: float, dec: float) -> list[dict[str, str]]:
    """Links to the same object in other brokers and to its position in sky surveys."""
    oid = str(object_id)
    if survey == "ztf":
        brokers = [
            ("Lasair (ZTF)", f"https://lasair-ztf.lsst.ac.uk/objects/{oid}/"),
            ("ALeRCE", f"https://alerce.online/object/{oid}"),
            ("Fink", f"https://fink-portal.org/{oid}"),
            ("ANTARES", f"https://antares.noirlab.edu/loci?query=ztf_object_id%3D{oid}"),
        ]
    else:
        brokers = [
            ("Lasair (LSST)", f"https://lasair.lsst.ac.uk/objects/{oid}/"),
            ("Fink (LSST)", f"https://lsst.fink-portal.org/{oid}"),
            ("ALeRCE", f"https://alerce.online/object/{oid}"),
        ]
    pos = f"{ra:.6f}%20{dec:+.6f}"
    surveys = [
        ("TNS search", f"https://www.wis-tns.org/search?ra={ra:.6f}&decl={dec:.6f}&radius=5"),
        ("SIMBAD", f"https://simbad.cds.unistra.fr/simbad/sim-coo?Coord={pos}&Radius=10"),
        ("NED", f"https://ned.ipac.caltech.edu/conesearch?coordinates={pos}&radius=0.17"),
        (
            "Legacy Surveys",
            f"https://www.legacysurvey.org/viewer?ra={ra:.6f}&dec={dec:.6f}&zoom=16",
        ),
    ]
    return [{"name": n, "url": u, "kind": "broker"} for n, u in brokers] + [
        {"name": n, "url": u, "kind": "survey"} for n, u in surveys
    ]


def sky_marks(obj_pos: tuple[float, float], context: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points for the sky view: the object and each catalogue match of its context."""
    marks = [{"ra": obj_pos[0], "dec": obj_pos[1], "label": "object", "kind": "object"}]
    for c in context:
        if c.get("catalogue_ra") is not None and c.get("catalogue_dec") is not None:
            marks.append(
                {
                    "ra": c["catalogue_ra"],
                    "dec": c["catalogue_dec"],
                    "label": f"{c.get('catalogue_table_name')} {c.get('catalogue_object_id')}",
                    "kind": "match",
                }
            )
    return marks


def object_view(store: Store, object_text: str) -> dict[str, Any] | None:
    """Every section of an object's page, or ``None`` if there is no such object."""
    survey = store.survey
    if survey is None:
        return None
    object_id = parse_object_id(store, object_text)
    if object_id is None:
        return None
    try:
        found = _where_object(store, "objects", object_id)
        if not found:
            return None
        obj = found[0]
        tables = store.tables
        ra_col, dec_col = POSITION_COLUMNS[survey]
        ra, dec = float(obj[ra_col]), float(obj[dec_col])
        context = [_clean(r) for r in _where_object(store, "sherlock_classifications", object_id)]
        lc = _light_curve_view(store, object_id, obj)
        view = {
            "survey": survey,
            "object_id": _json(object_id),
            "object_id_column": OBJECT_ID_COLUMN[survey],
            "ra": ra,
            "dec": dec,
            "groups": column_groups(tables["objects"], obj),
            "light_curve": lc,
            "cutouts": _cutouts(store, rows_of(lc["detections"])),
            "sky_context": context,
            "sky_marks": sky_marks((ra, dec), context),
            "tns": _tns(store, object_id),
            "annotations": _annotations(store, object_id),
            "memberships": _memberships(store, object_id),
            "links": other_brokers(survey, object_id, ra, dec),
        }
        store.con.commit()  # end the read transaction (PostgreSQL)
    except BaseException:
        store.con.rollback()
        raise
    return view
