"""Builders of AlertBatch objects from real and hand-made Rubin alerts, for the tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from lanner.batch import AlertBatch, mag_from_flux
from lanner.enrich.base import Enricher


def _light_curve_table(points: list[dict[str, Any]], kind: str) -> pa.Table:
    fields: dict[str, pa.DataType] = {
        "row": pa.int32(),
        "object_id": pa.int64(),
        "source_id": pa.int64(),
        "mjd": pa.float64(),
        "band": pa.string(),
        "ra": pa.float64(),
        "dec": pa.float64(),
        "flux": pa.float64(),
        "flux_err": pa.float64(),
        "mag": pa.float64(),
        "mag_err": pa.float64(),
        "reliability": pa.float64(),
        "is_positive": pa.bool_(),
    }
    if kind == "forced":
        fields = {k: fields[k] for k in ("row", "object_id", "mjd", "band", "flux", "flux_err")}
    points = sorted(points, key=lambda p: (p["row"], p["mjd"]))
    flux = np.array([np.nan if p.get("flux") is None else p["flux"] for p in points], float)
    cols: dict[str, Any] = {k: [p.get(k) for p in points] for k in fields}
    if "mag" in fields:
        cols["mag"] = mag_from_flux(flux)
        cols["mag_err"] = [None] * len(points)
        cols["is_positive"] = [bool(f > 0) for f in flux]
    schema = pa.schema(list(fields.items()))
    return pa.table(
        {k: pa.array(cols[k], type=t, from_pandas=True) for k, t in fields.items()}, schema=schema
    )


def batch_from_rubin_records(records: Sequence[dict[str, Any]]) -> AlertBatch:
    """Build an AlertBatch from decoded Rubin alert records (diaSource, prvDiaSources, ...)."""
    alerts, dets, frc = [], [], []
    for row, rec in enumerate(records):
        src = rec["diaSource"]
        obj = rec.get("diaObject") or {}
        alerts.append(
            {
                "row": row,
                "alert_id": src["diaSourceId"],
                "object_id": src["diaObjectId"],
                "mjd": src["midpointMjdTai"],
                "ra": src["ra"],
                "dec": src["dec"],
                "band": src["band"],
                "flux": src["psfFlux"],
                "flux_err": src["psfFluxErr"],
                "reliability": src.get("reliability"),
                "diaObject_ra": obj.get("ra"),
                "diaObject_dec": obj.get("dec", obj.get("decl")),
            }
        )
        seen: set[int] = set()
        for s in [src, *(rec.get("prvDiaSources") or [])]:
            if s["diaSourceId"] in seen:
                continue
            seen.add(s["diaSourceId"])
            dets.append(
                {
                    "row": row,
                    "object_id": s["diaObjectId"],
                    "source_id": s["diaSourceId"],
                    "mjd": s["midpointMjdTai"],
                    "band": s["band"],
                    "ra": s["ra"],
                    "dec": s["dec"],
                    "flux": s["psfFlux"],
                    "flux_err": s["psfFluxErr"],
                    "reliability": s.get("reliability"),
                }
            )
        for f in rec.get("prvDiaForcedSources") or []:
            frc.append(
                {
                    "row": row,
                    "object_id": f["diaObjectId"],
                    "mjd": f["midpointMjdTai"],
                    "band": f["band"],
                    "flux": f["psfFlux"],
                    "flux_err": f["psfFluxErr"],
                }
            )
    alerts_table = pa.Table.from_pylist(
        alerts,
        schema=pa.schema(
            [
                ("row", pa.int32()),
                ("alert_id", pa.int64()),
                ("object_id", pa.int64()),
                ("mjd", pa.float64()),
                ("ra", pa.float64()),
                ("dec", pa.float64()),
                ("band", pa.string()),
                ("flux", pa.float64()),
                ("flux_err", pa.float64()),
                ("reliability", pa.float64()),
                ("diaObject_ra", pa.float64()),
                ("diaObject_dec", pa.float64()),
            ]
        ),
    ).drop_columns(["row"])
    empty = pa.table({"row": pa.array([], pa.int32())})
    return AlertBatch(
        survey="lsst",
        alerts=alerts_table,
        detections=_light_curve_table(dets, "detections"),
        forced=_light_curve_table(frc, "forced"),
        upper_limits=empty,
        cutouts=empty,
    )


def run(batch: AlertBatch, enrichers: Iterable[Enricher]) -> pa.Table:
    """Run ``enrichers`` in order as the pipeline does; return the objects table."""
    for enricher in enrichers:
        out = enricher(batch)
        assert out.schema == pa.schema([(c.name, c.arrow_type) for c in enricher.columns])
        batch.add_columns(enricher.table, out)
    return batch.enriched["objects"]


def synthetic_batch(
    light_curves: Sequence[Sequence[tuple[float, str, float | None, float | None, float | None]]],
    forced: Sequence[Sequence[tuple[float, str, float, float]]] = (),
    positions: Sequence[tuple[float, float]] | None = None,
) -> AlertBatch:
    """A batch from ``(mjd, band, flux, flux_err, reliability)`` detections per alert."""
    records = []
    for i, lc in enumerate(light_curves):
        ra, dec = positions[i] if positions else (150.0, 2.0)
        sources = [
            {
                "diaSourceId": 1000 * i + j,
                "diaObjectId": i + 1,
                "midpointMjdTai": mjd,
                "ra": ra,
                "dec": dec,
                "band": band,
                "psfFlux": flux,
                "psfFluxErr": err,
                "reliability": rel,
            }
            for j, (mjd, band, flux, err, rel) in enumerate(lc)
        ]
        last = max(sources, key=lambda s: s["midpointMjdTai"]) if sources else None
        if last is None:
            raise ValueError("every alert has at least its triggering detection")
        records.append(
            {
                "diaSource": last,
                "prvDiaSources": [s for s in sources if s is not last],
                "prvDiaForcedSources": [
                    {
                        "diaObjectId": i + 1,
                        "midpointMjdTai": m,
                        "band": b,
                        "psfFlux": f,
                        "psfFluxErr": e,
                    }
                    for (m, b, f, e) in (forced[i] if i < len(forced) else ())
                ],
                "diaObject": {"ra": ra, "dec": dec},
            }
        )
    return batch_from_rubin_records(records)
