"""``/api/v1`` routes against a live ``lanner serve`` over the bundled real Rubin alerts, on
SQLite and PostgreSQL: uploads, hits, filters (run, edit, activate, backtest, matches with
why), light curves, cutouts, schema and status, and their error bodies."""

from __future__ import annotations

import csv
import io
import json
import uuid

import astropy.units as u
import httpx
import numpy as np
import pytest
from astropy.coordinates import Latitude, Longitude
from astropy.io import fits
from mocpy import MOC

from tests.serve_v1.conftest import BRIGHT, V1, archive_rows, lanner

pytestmark = pytest.mark.postgres


def objects(v1: V1, n: int = 3) -> list[tuple[int, float, float]]:
    rows = archive_rows(
        v1.db_url, f'SELECT "diaObjectId", ra, decl FROM objects ORDER BY "diaObjectId" LIMIT {n}'
    )
    return [(int(a), float(b), float(c)) for a, b, c in rows]  # type: ignore[arg-type]


def name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def test_watchlist_upload_list_hits_and_state(v1: V1) -> None:
    found = objects(v1, 3)
    lines = "\n".join(f"{ra}, {dec}, src{i}" for i, (_, ra, dec) in enumerate(found))
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        reply = http.post(
            "/api/v1/watchlists/",
            data={"name": (n := name()), "radius": "2", "description": "three"},
            files={"file": ("cones.csv", lines.encode())},
        )
        assert reply.status_code == 201, reply.text
        made = reply.json()
        assert (made["name"], made["ncones"], made["radius"], made["active"]) == (n, 3, 2.0, False)
        assert made["hits"] >= 3
        wl_id = made["wl_id"]
        assert wl_id in [w["wl_id"] for w in http.get("/api/v1/watchlists/").json()]
        assert http.get(f"/api/v1/watchlists/{wl_id}/").json()["description"] == "three"
        hits = http.get(f"/api/v1/watchlists/{wl_id}/hits/").json()
        assert {o for o, _, _ in found} <= {h["diaObjectId"] for h in hits}
        assert all(h["arcsec"] <= 2.0 for h in hits)
        assert len(http.get(f"/api/v1/watchlists/{wl_id}/hits/", params={"limit": 1}).json()) == 1
        active = http.post(f"/api/v1/watchlists/{wl_id}/activate/").json()
        assert active["active"] is True and active["expires"]
        assert http.post(f"/api/v1/watchlists/{wl_id}/deactivate/").json()["active"] is False
        assert http.delete(f"/api/v1/watchlists/{wl_id}/").json() == {"deleted": wl_id}
        assert http.get(f"/api/v1/watchlists/{wl_id}/").status_code == 404


def test_bad_watchlist_files_say_what_to_fix(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        reply = http.post(
            "/api/v1/watchlists/",
            data={"name": name()},
            files={"file": ("c.csv", b"12.0, 95.0, bad\nxx, 1, b\n")},
        )
        assert reply.status_code == 400
        (message,) = reply.json()["file"]
        assert "problem(s) in the watchlist file, nothing stored" in message
        assert "line 1" in message and "line 2" in message
        reply = http.post(
            "/api/v1/watchlists/",
            data={"name": name(), "radius": "5000"},
            files={"file": ("c.csv", b"1, 2, a\n")},
        )
        assert reply.status_code == 400 and "radius" in reply.json()
        reply = http.post("/api/v1/watchlists/", data={"name": name()})
        assert reply.status_code == 400 and "file" in reply.json()


def test_watchmap_upload_and_hits(v1: V1) -> None:
    (oid, ra, dec), *_ = objects(v1, 1)
    moc = MOC.from_cone(
        lon=Longitude(ra * u.deg), lat=Latitude(dec * u.deg), radius=30 * u.arcsec, max_depth=14
    )
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        reply = http.post(
            "/api/v1/watchmaps/",
            data={"name": name(), "active": "true"},
            files={"file": ("m.txt", moc.to_string("ascii").encode())},
        )
        assert reply.status_code == 201, reply.text
        made = reply.json()
        assert made["active"] is True and made["hits"] >= 1 and 0 < made["area"] < 1e-3
        hits = http.get(f"/api/v1/watchmaps/{made['ar_id']}/hits/").json()
        assert oid in [h["diaObjectId"] for h in hits]
        bad = http.post(
            "/api/v1/watchmaps/", data={"name": name()}, files={"file": ("m", b"not a moc")}
        )
        assert bad.status_code == 400 and "MOC" in bad.json()["file"][0]


def test_filter_lifecycle(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice"), timeout=60) as http:
        reply = http.post("/api/v1/filters/", json={"name": (n := name()), "sql": BRIGHT})
        assert reply.status_code == 201, reply.text
        flt = reply.json()
        fid = flt["filter_id"]
        assert (flt["name"], flt["active"], flt["output"]) == (n, False, "none")
        assert flt["topic"].startswith(f"lanner_{v1.people['alice'].user_id}_")
        run = http.post(f"/api/v1/filters/{fid}/run/", json={"limit": 1000}).json()
        expected = archive_rows(
            v1.db_url, 'SELECT COUNT(*) FROM objects WHERE "latest_psfFlux" > 10000'
        )[0][0]
        assert len(run["rows"]) == expected > 0 and run["columns"] == [
            "diaObjectId",
            "latest_psfFlux",
        ]
        assert all(r["latest_psfFlux"] > 10000 for r in run["rows"])
        assert len(http.post(f"/api/v1/filters/{fid}/run/", json={"limit": 2}).json()["rows"]) == 2
        edited = http.patch(
            f"/api/v1/filters/{fid}/",
            json={"sql": BRIGHT.replace("10000", "20000"), "description": "brighter"},
        ).json()
        assert "20000" in edited["sql"] and edited["description"] == "brighter"
        fewer = http.post(f"/api/v1/filters/{fid}/run/").json()["rows"]
        assert len(fewer) < expected
        assert http.post(f"/api/v1/filters/{fid}/activate/").json()["active"] is True
        back = http.post(f"/api/v1/filters/{fid}/backtest/", json={"since": "60000"}).json()
        cli = json.loads(
            lanner("filter", "backtest", n, "--since", "60000", "--json", "--user", "alice",
                   "--db", v1.db_url)
        )  # fmt: skip
        assert back["batches"] == cli  # what the command reports, batch by batch
        assert back["alerts"] == sum(b["alerts"] for b in cli) > 0
        assert back["matches"] >= 1 and back["batches"][0]["first_mjd"] >= 60000
        dated = http.post(f"/api/v1/filters/{fid}/backtest/", json={"since": "2100-01-01"})
        assert dated.json()["alerts"] == 0
        assert http.delete(f"/api/v1/filters/{fid}/").json() == {"deleted": fid}
        assert http.get(f"/api/v1/filters/{fid}/").status_code == 404


def test_lasair_form_filter_and_refusals(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        reply = http.post(
            "/api/v1/filters/",
            json={"name": name(), "selected": "diaObjectId, nDiaSources", "tables": "objects",
                  "conditions": "nDiaSources >= 1"},
        )  # fmt: skip
        assert reply.status_code == 201, reply.text
        assert "nDiaSources" in reply.json()["sql"]
        bad = http.post(
            "/api/v1/filters/",
            json={"name": name(), "sql": "SELECT diaObjectId FROM objects WHERE gmagg > 1"},
        )
        assert bad.status_code == 400
        text = str(bad.json())
        assert "gmagg" in text
        drop = http.post("/api/v1/filters/", json={"name": name(), "sql": "DROP TABLE objects"})
        assert drop.status_code == 400
        assert http.post("/api/v1/filters/", json={"name": name()}).json() == {
            "sql": ["give sql, or selected and tables"]
        }
        wrong = http.post("/api/v1/filters/", json={"name": "", "sql": BRIGHT})
        assert wrong.status_code == 400 and "name" in wrong.json()
        since = http.post(f"/api/v1/filters/{v1.bright_id}/backtest/", json={"since": "soon"})
        assert since.status_code == 400 and "since" in since.json()


def test_matches_say_why_they_fired(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        rows = http.get(f"/api/v1/filters/{v1.bright_id}/matches/", params={"limit": 500}).json()
    stored = archive_rows(
        v1.db_url, f"SELECT COUNT(*) FROM filter_matches WHERE filter_id = {v1.bright_id}"
    )[0][0]
    assert len(rows) == stored > 0
    for row in rows:
        assert row["state"] == "none" and row["values"]["diaObjectId"] == row["diaObjectId"]
        assert row["why"]["objects.latest_psfFlux"] > 10000


def test_light_curve_json_and_csv(v1: V1) -> None:
    (oid, _, _), *_ = objects(v1, 1)
    n = archive_rows(v1.db_url, f'SELECT COUNT(*) FROM detections WHERE "diaObjectId" = {oid}')
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob")) as http:
        curve = http.get(f"/api/v1/objects/{oid}/lightcurve/").json()
        assert curve["diaObjectId"] == oid and len(curve["detections"]) == n[0][0] > 0
        mjds = [d["mjd"] for d in curve["detections"]]
        assert mjds == sorted(mjds)
        text = http.get(f"/api/v1/objects/{oid}/lightcurve/", params={"format": "csv"})
        assert text.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(text.text)))
        assert sum(r["kind"] == "detections" for r in table) == n[0][0]
        assert {r["diaObjectId"] for r in table} == {str(oid)}
        assert http.get("/api/v1/objects/12345/lightcurve/").json() == {"detail": "Not found."}
        assert http.get("/api/v1/objects/xyz/lightcurve/").json() == {
            "objectId": ["A valid integer is required."]
        }


def test_cutouts_fits_and_png(v1: V1) -> None:
    ((source, kind),) = archive_rows(v1.db_url, "SELECT alert_id, kind FROM cutouts LIMIT 1")
    label = str(kind).capitalize()
    with httpx.Client(base_url=v1.url) as http:
        reply = http.get(f"/fits/{source}_cutout{label}")  # no token, as on Lasair
        assert reply.status_code == 200 and reply.headers["content-type"] == "image/fits"
        with fits.open(io.BytesIO(reply.content)) as hdus:
            image = next(h.data for h in hdus if h.data is not None)
        assert image.ndim == 2
        assert http.get(f"/fits/1_cutout{label}").status_code == 404
        assert http.get(f"/fits/{source}_cutoutNope").status_code in (400, 404)
        png = http.get(f"/api/v1/cutouts/{source}/{label}.png", headers=v1.auth("bob"))
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = np.frombuffer(png.content[16:24], dtype=">u4")
        assert (height, width) == image.shape
        assert http.get(f"/api/v1/cutouts/{source}/{label}.png").status_code == 401


def test_schema_has_every_column_described(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob")) as http:
        schema = http.get("/api/v1/schema/").json()
        one = http.get("/api/v1/schema/objects/").json()
        assert http.get("/api/v1/schema/nope/").status_code == 404
    assert schema["survey"] == "lsst"
    names = {t["name"] for t in schema["tables"]}
    assert {"objects", "detections", "sherlock_classifications", "watchlist_hits"} <= names
    for table in schema["tables"]:
        assert table["description"] and table["columns"]
        assert all(c["description"] and c["type"] for c in table["columns"])
    columns = {c["name"]: c for c in one["columns"]}
    assert columns["ra"]["unit"] == "deg" and one["filterable"] is True
    stored = archive_rows(v1.db_url, "SELECT * FROM objects LIMIT 1")
    assert len(stored[0]) == len(columns)


def test_status(v1: V1) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob")) as http:
        status = http.get("/api/v1/status/").json()
    assert status["survey"] == "lsst"
    assert status["objects"] == archive_rows(v1.db_url, "SELECT COUNT(*) FROM objects")[0][0]
    assert status["alerts"] == archive_rows(v1.db_url, "SELECT COUNT(*) FROM alerts")[0][0]
    assert status["active_filters"] >= 1 and 60000 < status["newest_alert_mjd"] < 70000


def test_v1_needs_credentials_and_is_documented(v1: V1) -> None:
    with httpx.Client(base_url=v1.url) as http:
        reply = http.get("/api/v1/filters/")
        assert reply.status_code == 401
        assert reply.json() == {"detail": "Authentication credentials were not provided."}
        wrong = http.get("/api/v1/filters/", headers={"Authorization": "Token " + "0" * 40})
        assert wrong.json() == {"detail": "Invalid token."}
        paths = http.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/watchlists/", "/api/v1/watchmaps/{ar_id}/hits/",
        "/api/v1/filters/{filter_id}/run/",
        "/api/v1/filters/{filter_id}/backtest/", "/api/v1/filters/{filter_id}/matches/",
        "/api/v1/annotators/", "/api/v1/objects/{object_id}/lightcurve/", "/api/v1/schema/",
        "/api/v1/status/", "/fits/{source_id}_cutout{kind}",
    ):  # fmt: skip
        assert path in paths, path
