"""``lanner.client.LannerClient`` against a live ``lanner serve`` on loopback: every call
(Lasair's and v1), results as dicts, astropy Tables and pandas frames, and typed errors
for 400, 401, 403, 404, 429 and an unreachable server."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table

from lanner.client import (
    LannerAuthError,
    LannerBadRequest,
    LannerClient,
    LannerConnectionError,
    LannerForbidden,
    LannerNotFound,
    LannerThrottled,
    tabulate,
)
from lanner.testing.server import free_port
from tests.serve.conftest import PASSWORD
from tests.serve_v1.conftest import BRIGHT, V1, archive_rows


@pytest.fixture(scope="module")
def alice(v1_sqlite: V1) -> Iterator[LannerClient]:
    with LannerClient(v1_sqlite.people["alice"].token, f"{v1_sqlite.url}/api") as client:
        yield client


@pytest.fixture(scope="module")
def bob(v1_sqlite: V1) -> Iterator[LannerClient]:
    with LannerClient(v1_sqlite.people["bob"].token, f"{v1_sqlite.url}/api") as client:
        yield client


def first_object(v1: V1) -> tuple[int, float, float]:
    ((oid, ra, dec),) = archive_rows(
        v1.db_url, 'SELECT "diaObjectId", ra, decl FROM objects ORDER BY "diaObjectId" LIMIT 1'
    )
    return int(oid), float(ra), float(dec)  # type: ignore[arg-type]


def test_lasair_calls(v1_sqlite: V1, alice: LannerClient) -> None:
    oid, ra, dec = first_object(v1_sqlite)
    cone = alice.cone(ra, dec, 2.0)
    assert cone["nearest"]["object"] == oid and cone["count"] >= 1
    assert alice.cone(ra, dec, 2.0, requestType="count") == {"count": cone["count"]}
    rows = alice.query("diaObjectId, nDiaSources", "objects", f"diaObjectId = {oid}")
    assert rows == [{"diaObjectId": oid, "nDiaSources": rows[0]["nDiaSources"]}]
    full = alice.object(oid, lite=False)
    assert full["diaObjectId"] == oid and full["diaSourcesList"]
    assert set(alice.object(oid, lasair_added=False)) == {
        "diaObjectId",
        "diaSourcesList",
        "diaForcedSourcesList",
    }
    assert str(oid) in alice.sherlock_object(oid)["classifications"]
    assert "query0" in alice.sherlock_position(ra, dec)["classifications"]


def test_annotate_calls(v1_sqlite: V1, alice: LannerClient) -> None:
    oid, _, _ = first_object(v1_sqlite)
    done = alice.annotate("alice_public", oid, "SN Ia", "1", "by test", {"p": 0.9})
    assert done["status"] == "success"
    listed = alice.annotate_list(
        [{"topic": "alice_public", "objectId": oid, "classification": "SN II"}]
    )
    assert listed == {"status": "success", "n": 1}
    notes = alice.object(oid)["lasairData"]["annotations"]
    assert [n["classification"] for n in notes if n["topic"] == "alice_public"] == ["SN II"]


def test_tables_and_frames(v1_sqlite: V1, alice: LannerClient) -> None:
    table = alice.query("diaObjectId, ra, decl", "objects", "", limit=5, format="astropy")
    assert isinstance(table, Table) and len(table) == 5
    assert table["diaObjectId"].dtype == np.int64  # 64-bit ids stay exact
    ids = {int(r[0]) for r in archive_rows(v1_sqlite.db_url, 'SELECT "diaObjectId" FROM objects')}
    assert {int(i) for i in table["diaObjectId"]} <= ids
    frame = alice.query("diaObjectId, ra", "objects", "", limit=3, format="pandas")
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["diaObjectId", "ra"]
    assert frame["diaObjectId"].dtype == np.int64
    masked = tabulate([{"a": 1, "b": None}, {"a": None, "b": "x"}, {"a": 3, "c": [1]}], "astropy")
    assert list(masked["a"].mask) == [False, True, False] and masked["a"][2] == 3
    assert masked["c"][2] == "[1]" and bool(masked["c"].mask[0])


def test_v1_calls(v1_sqlite: V1, alice: LannerClient, bob: LannerClient) -> None:
    oid, ra, dec = first_object(v1_sqlite)
    made = alice.add_watchlist(f"wl {uuid.uuid4().hex[:6]}", f"{ra}, {dec}, here\n", radius=3)
    assert made["hits"] >= 1
    assert oid in alice.watchlist_hits(made["wl_id"], format="astropy")["diaObjectId"]
    assert alice.set_watchlist_active(made["wl_id"])["active"] is True
    assert made["wl_id"] in [w["wl_id"] for w in alice.watchlists()]
    alice.delete_watchlist(made["wl_id"])
    with pytest.raises(LannerNotFound):
        alice.watchlist(made["wl_id"])
    area = alice.add_watchmap(f"wm {uuid.uuid4().hex[:6]}", "9/0-10")
    assert alice.watchmap(area["ar_id"])["area"] == pytest.approx(area["area"])
    flt = alice.add_filter(f"f {uuid.uuid4().hex[:6]}", BRIGHT)
    rows = alice.run_filter(flt["filter_id"], format="pandas")
    assert (rows["latest_psfFlux"] > 10000).all() and len(rows) > 0
    assert alice.edit_filter(flt["filter_id"], description="d")["description"] == "d"
    assert alice.set_filter_active(flt["filter_id"])["active"] is True
    report = alice.backtest(flt["filter_id"], since=60000)
    assert report["matches"] == len(rows)  # each bright object's newest alert
    matches = alice.filter_matches(v1_sqlite.bright_id, format="astropy")
    assert len(matches) > 0 and "why" in matches.colnames
    alice.delete_filter(flt["filter_id"])
    assert {"alice_private", "alice_public"} <= {a["topic"] for a in alice.annotators()}
    assert bob.annotator("alice_public")["may_write"] is False
    curve = bob.lightcurve(oid, format="astropy")
    assert set(curve["kind"]) >= {"detections"} and set(curve["diaObjectId"]) == {oid}
    assert bob.lightcurve(oid, format="csv").startswith("kind,")
    assert bob.lightcurve(oid)["diaObjectId"] == oid
    ((source, kind),) = archive_rows(v1_sqlite.db_url, "SELECT alert_id, kind FROM cutouts LIMIT 1")
    label = str(kind).capitalize()
    data = bob.cutout(int(source), label, format="fits")  # type: ignore[arg-type]
    assert fits.open(io.BytesIO(data))[0].header["SIMPLE"] is True
    assert isinstance(bob.cutout(int(source), label, format="hdulist"), fits.HDUList)  # type: ignore[arg-type]
    assert bob.cutout(int(source), label, format="png")[:4] == b"\x89PNG"  # type: ignore[arg-type]
    assert bob.schema("objects")["name"] == "objects"
    assert len(bob.schema()["tables"]) > 5
    assert bob.status()["survey"] == "lsst"


def test_typed_errors(v1_sqlite: V1, alice: LannerClient, bob: LannerClient) -> None:
    with pytest.raises(LannerBadRequest) as bad:
        alice.cone(-29.2, 200.0, 20)
    assert bad.value.status == 400
    assert bad.value.fields == {
        "ra": ["ra must be between 0 and 360"],
        "dec": ["dec must be between -90 and 90"],
    }
    with pytest.raises(LannerBadRequest) as sql:
        alice.add_filter("bad", "SELECT diaObjectId FROM objects WHERE gmagg > 1")
    assert "gmagg" in str(sql.value)
    with pytest.raises(LannerBadRequest, match="classification"):
        alice.annotate("alice_public", 1, "")
    with (
        LannerClient("0" * 40, f"{v1_sqlite.url}/api") as wrong,
        pytest.raises(LannerAuthError) as auth,
    ):
        wrong.status()
    assert auth.value.status == 401 and auth.value.body == {"detail": "Invalid token."}
    with LannerClient(None, f"{v1_sqlite.url}/api") as nobody, pytest.raises(LannerAuthError):
        nobody.filters()
    with pytest.raises(LannerNotFound) as missing:
        alice.object(12345)
    assert missing.value.body == {"detail": "Not found."}
    public = alice.add_filter(f"pub {uuid.uuid4().hex[:6]}", BRIGHT, public=True)
    with pytest.raises(LannerForbidden):
        bob.delete_filter(public["filter_id"])
    with pytest.raises(LannerNotFound):
        bob.filter(v1_sqlite.bright_id)  # alice's private filter
    with (
        LannerClient("x", f"http://127.0.0.1:{free_port()}/api") as gone,
        pytest.raises(LannerConnectionError, match="cannot reach"),
    ):
        gone.status()


def test_throttled_carries_retry_after(v1_sqlite: V1) -> None:
    with (
        LannerClient(v1_sqlite.people["anon"].token, f"{v1_sqlite.url}/api") as anon,
        pytest.raises(LannerThrottled) as info,
    ):
        for _ in range(20):  # the anon tier allows 10 calls per hour
            anon.status()
    assert info.value.status == 429 and 0 < info.value.retry_after <= 3600
    assert "Request limit exceeded" in info.value.message


def test_login_makes_a_token(v1_sqlite: V1) -> None:
    with LannerClient.login("bob", PASSWORD, f"{v1_sqlite.url}/api") as client:
        assert client.status()["survey"] == "lsst"
    with pytest.raises(LannerBadRequest) as wrong:
        LannerClient.login("bob", "not it", f"{v1_sqlite.url}/api")
    assert "non_field_errors" in wrong.value.fields
