"""The status page and the kinetic display.

Status, from the pipeline's own figures: the archive's (alerts ingested per minute over the
last hour and recent batches, from ``alerts.ingested_at``; deliveries by state; dead
letters set aside by reason; active filters and their matches) and, when
``LANNER_STATUS_METRICS_URL`` names the pipeline's Prometheus endpoint
(:mod:`lanner.observe.metrics`, the same ``/metrics`` Prometheus scrapes), its counters:
alerts and batches, seconds and alerts per minute of each stage, dead letters by reason,
filter errors, time-outs and truncations, Kafka lag. ``/status/`` refreshes itself every
10 s (htmx) from ``/status/panel``; ``/status.json`` is the same as JSON.

Kinetic display: Lasair's 32 × 32 Game of Life seeded by each batch's alert positions
(RA → column, Dec → row); ``/kinetic.json`` gives the newest batch's positions.

Input: the archive and the metrics URL. Output: HTML, JSON. Reads only (one HTTP GET of
the metrics, 2 s at most; a failure is shown, logged and counted in
``lanner_status_metrics_read_failures_total`` of the server's ``/metrics``).
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.request
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client.parser import text_string_to_metric_families

from lanner.filter import saved
from lanner.observe.metrics import STATUS_READ_FAILURES, WEB_REGISTRY
from lanner.serve.auth import server_state
from lanner.store import Store
from lanner.web.pages import render, store_session

router = APIRouter()
log = logging.getLogger("lanner.web.status")
METRICS_TIMEOUT_S = 2.0
RECENT_BATCHES = 10


def _as_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _stamp(value: Any) -> str:
    """A batch's time as ISO text to the second (UTC)."""
    t = _as_time(value)
    return str(value) if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds")


def archive_status(store: Store, now: dt.datetime | None = None) -> dict[str, Any]:
    """The archive's figures: totals, alerts per minute of the last hour, recent batches,
    deliveries, dead letters, active filters."""
    now = now or dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=1)
    try:
        batches = store.con.execute(
            "SELECT ingested_at, count(*), min(mjd), max(mjd) FROM alerts "
            f"GROUP BY ingested_at ORDER BY ingested_at DESC LIMIT {RECENT_BATCHES}"
        ).fetchall()
        per_minute: dict[str, int] = defaultdict(int)
        since_text = since.isoformat() if store.backend.dialect == "sqlite" else since
        for stamp, n in store.con.execute(
            "SELECT ingested_at, count(*) FROM alerts WHERE ingested_at >= "
            f"{store.backend.placeholder} GROUP BY ingested_at",
            (since_text,),
        ).fetchall():
            t = _as_time(stamp)
            if t is not None:
                per_minute[t.strftime("%H:%M")] += int(n)
        totals = {
            "alerts": int(store.con.execute("SELECT count(*) FROM alerts").fetchone()[0]),
            "objects": int(store.con.execute("SELECT count(*) FROM objects").fetchone()[0]),
        }
        latest = store.con.execute("SELECT max(mjd) FROM alerts").fetchone()[0]
        dead = store.con.execute(
            "SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY count(*) DESC"
        ).fetchall()
        match_counts = dict(
            store.con.execute(
                "SELECT filter_id, count(*) FROM filter_matches GROUP BY filter_id"
            ).fetchall()
        )
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    deliveries = store.delivery_counts()
    active = [
        {
            "filter_id": f.filter_id,
            "name": f.name,
            "matches": int(match_counts.get(f.filter_id, 0)),
            "expires": f.expires,
        }
        for f in saved.active_filters(store)
    ]
    latest_mjd = float(latest) if latest is not None else None
    now_mjd = now.timestamp() / 86400.0 + 40587.0
    return {
        "totals": totals,
        "per_minute": [{"minute": k, "alerts": v} for k, v in sorted(per_minute.items())],
        "batches": [
            {"ingested_at": _stamp(b[0]), "alerts": int(b[1]), "first_mjd": b[2], "last_mjd": b[3]}
            for b in batches
        ],
        "deliveries": deliveries,
        "dead_letters": [{"reason": str(r), "count": int(n)} for r, n in dead],
        "active_filters": active,
        "latest_alert_mjd": latest_mjd,
        "behind_days": (now_mjd - latest_mjd) if latest_mjd is not None else None,
    }


def parse_metrics(text: str) -> dict[str, Any]:
    """The pipeline's Prometheus exposition, reduced to what the page shows."""
    out: dict[str, Any] = {
        "alerts": 0.0, "batches": 0.0, "stages": {}, "dead_letters": {}, "filters": {},
        "kafka_lag": {}, "deliveries": {}, "batch_seconds_sum": 0.0, "database_outages": 0.0,
    }  # fmt: skip
    filters: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, float(s.value)
            if name == "lanner_alerts_total":
                out["alerts"] = value
            elif name == "lanner_batches_total":
                out["batches"] = value
            elif name == "lanner_stage_seconds_total":
                out["stages"][labels["stage"]] = value
            elif name == "lanner_dead_letters_total":
                out["dead_letters"][labels["reason"]] = value
            elif name in (
                "lanner_matches_total", "lanner_filter_errors_total",
                "lanner_filter_timeouts_total", "lanner_truncations_total",
            ):  # fmt: skip
                key = name.removeprefix("lanner_").removesuffix("_total")
                filters[labels["filter"]][key] = value
            elif name == "lanner_kafka_lag":
                out["kafka_lag"][f"{labels['topic']}/{labels['partition']}"] = value
            elif name == "lanner_deliveries":
                out["deliveries"][labels["state"]] = value
            elif name == "lanner_batch_seconds_sum":
                out["batch_seconds_sum"] = value
            elif name == "lanner_database_outages_total":
                out["database_outages"] = value
    out["filters"] = dict(filters)
    out["stage_rates"] = {
        stage: (out["alerts"] / sec * 60.0 if sec > 0 else None)
        for stage, sec in out["stages"].items()
    }
    return out


def pipeline_metrics(url: str | None) -> dict[str, Any] | None:
    """The pipeline's metrics from ``url`` (``{"error": …}`` if unreadable, and counted),
    or ``None`` when no URL is set."""
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=METRICS_TIMEOUT_S) as response:
            text = response.read().decode()
        return parse_metrics(text)
    except (OSError, ValueError) as exc:
        STATUS_READ_FAILURES.inc()
        log.warning("status page: cannot read the pipeline's metrics at %s: %s", url, exc)
        return {
            "error": f"cannot read the pipeline's metrics at {url}: {exc}",
            "failed_reads": read_failures(),
        }


def read_failures() -> int:
    """Failed reads of the pipeline's metrics by this server process."""
    got = WEB_REGISTRY.get_sample_value("lanner_status_metrics_read_failures_total")
    return int(got or 0)


def _status(request: Request) -> dict[str, Any]:
    with store_session(request) as store:
        archive = archive_status(store)
    return {
        "archive": archive,
        "pipeline": pipeline_metrics(server_state(request).settings.status_metrics_url),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


@router.get("/status/", response_class=HTMLResponse)
def status_page(request: Request) -> Response:
    return render(request, "status.html", {"s": _status(request)})


@router.get("/status/panel", response_class=HTMLResponse)
def status_panel(request: Request) -> Response:
    return render(request, "_status_panel.html", {"s": _status(request)})


@router.get("/status.json")
def status_json(request: Request) -> JSONResponse:
    return JSONResponse(_status(request))


def latest_batch_positions(store: Store) -> dict[str, Any]:
    """The newest batch's alert positions (RA, Dec in degrees)."""
    try:
        row = store.con.execute("SELECT max(ingested_at) FROM alerts").fetchone()
        stamp = row[0] if row else None
        points: list[list[float]] = []
        if stamp is not None:
            ph = store.backend.placeholder
            points = [
                [float(r[0]), float(r[1])]
                for r in store.con.execute(
                    f"SELECT ra, dec FROM alerts WHERE ingested_at = {ph}", (stamp,)
                ).fetchall()
                if r[0] is not None and r[1] is not None
            ]
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return {"batch": None if stamp is None else str(stamp), "positions": points}


@router.get("/kinetic/", response_class=HTMLResponse)
def kinetic_page(request: Request) -> Response:
    return render(request, "kinetic.html", {})


@router.get("/kinetic.json")
def kinetic_json(request: Request) -> JSONResponse:
    with store_session(request) as store:
        return JSONResponse(latest_batch_positions(store))
