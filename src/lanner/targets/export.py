"""Target lists out: CSV, JSON, a TOM Toolkit import file, and a TNS AT-report draft.

Input: ranked :class:`~lanner.targets.lists.Target` rows (and, for the TNS draft, the
archive's light curves). Output: text. No side effects.

- ``csv`` / ``json``: rank, name, ra, dec, priority, reason (JSON: a list of objects).
- ``tom``: the TOM Toolkit's target import CSV (``tom_targets.utils.import_targets``): the
  Target fields ``name``, ``type`` (``SIDEREAL``), ``ra``, ``dec`` [deg], and ``priority``,
  ``rank``, ``reason`` as target extras.
- TNS: a bulk AT-report draft (``{"at_report": {"0": {...}}}``, the TNS bulk-report JSON)
  for the targets not yet on the TNS (no ``crossmatch_tns`` entry within 3″): position,
  internal name, discovery date and magnitude (first detection), last non-detection before it,
  ``at_type`` 1 (PSN). The reporting group, reporter and instrument codes are left for the
  sender to fill (``reporting_group_id``, ``reporter``: empty strings).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from astropy.time import Time

from lanner.store import Store
from lanner.store.reading import light_curve
from lanner.targets.lists import Target

COLUMNS = ("rank", "name", "ra", "dec", "priority", "reason")
TOM_COLUMNS = ("name", "type", "ra", "dec", "priority", "rank", "reason")
#: TNS filter and instrument values are TNS codes the sender chooses; the band is kept in
#: the remarks. TNS flux units code 1 = AB magnitude.
TNS_AB_MAG = "1"
TNS_RADIUS_ARCSEC = 3.0


def _row(t: Target) -> dict[str, Any]:
    return {
        "rank": t.rank,
        "name": t.name,
        "ra": t.ra,
        "dec": t.dec,
        "priority": t.priority,
        "reason": t.reason,
    }


def to_csv(targets: Sequence[Target]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    w.writeheader()
    for t in targets:
        w.writerow(_row(t))
    return out.getvalue()


def to_json(targets: Sequence[Target]) -> str:
    return json.dumps([_row(t) for t in targets], indent=1)


def to_tom(targets: Sequence[Target]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, TOM_COLUMNS, lineterminator="\n")
    w.writeheader()
    for t in targets:
        w.writerow({**_row(t), "type": "SIDEREAL", "ra": f"{t.ra:.7f}", "dec": f"{t.dec:.7f}"})
    return out.getvalue()


def on_tns(store: Store, ra: float, dec: float) -> str | None:
    """The TNS name (prefix and name) of an entry within 3″, if any."""
    r = TNS_RADIUS_ARCSEC / 3600.0
    dra = r / max(math.cos(math.radians(dec)), 1e-6)
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT tns_prefix, tns_name, ra, decl FROM crossmatch_tns "
        f"WHERE decl BETWEEN {ph} AND {ph} AND ra BETWEEN {ph} AND {ph}",
        (dec - r, dec + r, ra - dra, ra + dra),
    ).fetchall()
    store.con.commit()
    for prefix, name, tra, tdec in rows:
        d = math.degrees(
            math.acos(
                min(
                    1.0,
                    math.sin(math.radians(dec)) * math.sin(math.radians(tdec))
                    + math.cos(math.radians(dec))
                    * math.cos(math.radians(tdec))
                    * math.cos(math.radians(ra - tra)),
                )
            )
        )
        if d * 3600 <= TNS_RADIUS_ARCSEC:
            return f"{prefix or ''} {name}".strip()
    return None


def _utc(mjd: float) -> str:
    return str(Time(mjd, format="mjd", scale="utc").strftime("%Y-%m-%d %H:%M:%S"))


def tns_report(store: Store, targets: Sequence[Target]) -> dict[str, Any]:
    """The TNS AT-report draft of the targets not on the TNS (see the module docstring)."""
    reports: dict[str, Any] = {}
    for t in targets:
        if on_tns(store, t.ra, t.dec) is not None:
            continue
        lc = light_curve(store, t.name)
        detections = [d for d in lc["detections"] if d.get("mag") is not None]
        if not detections:
            continue
        first = detections[0]
        limits = [u for u in lc["upper_limits"] if u["mjd"] < first["mjd"]]
        report: dict[str, Any] = {
            "ra": {"value": t.ra, "error": 0.5, "units": "arcsec"},
            "dec": {"value": t.dec, "error": 0.5, "units": "arcsec"},
            "reporting_group_id": "",
            "discovery_data_source_id": "",
            "reporter": "",
            "discovery_datetime": _utc(first["mjd"]),
            "at_type": "1",
            "internal_name": str(t.name),
            "remarks": f"rank {t.rank}: {t.reason}",
            "photometry": {
                "photometry_group": {
                    "0": {
                        "obsdate": _utc(first["mjd"]),
                        "flux": round(float(first["mag"]), 3),
                        "flux_error": round(float(first.get("mag_err") or 0.0), 3),
                        "flux_units": TNS_AB_MAG,
                        "filter_value": "",
                        "instrument_value": "",
                        "comments": f"band {first['band']}",
                    }
                }
            },
        }
        if limits:
            last = limits[-1]
            report["non_detection"] = {
                "obsdate": _utc(last["mjd"]),
                "limiting_flux": round(float(last["limit_mag"]), 3),
                "flux_units": TNS_AB_MAG,
                "filter_value": "",
                "instrument_value": "",
                "comments": f"band {last['band']}",
            }
        else:
            report["non_detection"] = {
                "archiveid": "0",
                "archival_remarks": "no non-detection in the alert history",
            }
        reports[str(len(reports))] = report
    return {"at_report": reports}
