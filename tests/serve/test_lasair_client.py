"""The unmodified ``lasair`` client (0.1.4) against a live ``lanner serve``: every call,
on the Rubin and the ZTF archive (ZTF also on PostgreSQL), and its error paths."""

from __future__ import annotations

import json
import re

import pytest
from lasair import LasairError, lasair_client

from tests.serve.archive_facts import busiest_object, detection_count, rows, within
from tests.serve.conftest import Instance


def client(instance: Instance, who: str = "power") -> lasair_client:
    return lasair_client(instance.people[who].token, endpoint=instance.api)


# -- cone --------------------------------------------------------------------------------
def test_cone_rubin(lsst: Instance) -> None:
    object_id, ra, dec = busiest_object(lsst.db_url, "lsst")
    expected = within(lsst.db_url, "lsst", ra, dec, 600.0)
    c = client(lsst)
    every = c.cone(ra, dec, radius=600.0, requestType="all")
    assert [o["object"] for o in every["objects"]] == expected
    assert every["count"] == len(expected) and every["objects"][0]["object"] == object_id
    assert isinstance(every["objects"][0]["object"], int)  # exact 64-bit ids
    assert every["nearest"] == every["objects"][0]
    assert c.cone(ra, dec, radius=600.0, requestType="nearest") == {"nearest": every["nearest"]}
    assert c.cone(ra, dec, radius=600.0, requestType="count") == {"count": len(expected)}
    empty = c.cone((ra + 180) % 360, -dec, radius=1.0, requestType="all")
    assert empty == {"objects": [], "count": 0, "nearest": {}}
    assert c.cone((ra + 180) % 360, -dec, radius=1.0, requestType="nearest") == {}


def test_cone_ztf(ztf_any: Instance) -> None:
    object_id, ra, dec = busiest_object(ztf_any.db_url, "ztf")
    expected = within(ztf_any.db_url, "ztf", ra, dec, 900.0)
    c = client(ztf_any)
    every = c.cone(ra, dec, radius=900.0, requestType="all")
    assert isinstance(every, list)  # lasair4's bare list, string ids
    assert [o["object"] for o in every] == expected and every[0]["object"] == object_id
    assert every[0]["separation"] < 1.0
    assert c.cone(ra, dec, radius=900.0, requestType="nearest") == every[0]
    assert c.cone(ra, dec, radius=900.0, requestType="count") == {"count": len(expected)}


def test_cone_errors(lsst: Instance) -> None:
    c = client(lsst)
    with pytest.raises(LasairError) as err:
        c.cone(-29.2368, 200.0, radius=20, requestType="all")
    assert str(err.value) == (
        'Bad Request:{"ra":["ra must be between 0 and 360"],'
        '"dec":["dec must be between -90 and 90"]}'
    )
    with pytest.raises(LasairError, match=r"Max radius is 1000 arcsec\."):
        c.cone(10.0, 10.0, radius=1001, requestType="all")
    with pytest.raises(LasairError, match=r'"requestType":\["\\"x\\" is not a valid choice'):
        c.cone(10.0, 10.0, radius=10, requestType="x")


# -- query -------------------------------------------------------------------------------
def test_query(lsst: Instance) -> None:
    c = client(lsst)
    got = c.query("diaObjectId, nDiaSources", "objects", "nDiaSources > 10", limit=7)
    truth = rows(lsst.db_url, "SELECT count(*) FROM objects WHERE nDiaSources > 10")[0][0]
    assert len(got) == min(7, truth) and truth > 7
    assert all(set(r) == {"diaObjectId", "nDiaSources"} and r["nDiaSources"] > 10 for r in got)
    page2 = c.query("diaObjectId", "objects", "nDiaSources > 10", limit=7, offset=7)
    assert not {r["diaObjectId"] for r in page2} & {r["diaObjectId"] for r in got}
    with pytest.raises(LasairError, match=r"Bad Request:.*users"):
        c.query("*", "users", "")  # not a filter table: the validator refuses it
    with pytest.raises(LasairError, match="Bad Request:"):
        c.query("diaObjectId", "objects", "1=1; DROP TABLE objects")
    assert rows(lsst.db_url, "SELECT count(*) FROM objects")[0][0] > 0


def test_query_ztf(ztf_any: Instance) -> None:
    got = client(ztf_any).query("objectId, ncand", "objects", "ncand >= 3", limit=1000)
    truth = rows(ztf_any.db_url, "SELECT count(*) FROM objects WHERE ncand >= 3")[0][0]
    assert len(got) == truth > 0 and all(r["objectId"].startswith("ZTF") for r in got)


# -- object ------------------------------------------------------------------------------
def test_object_rubin(lsst: Instance) -> None:
    object_id, ra, _ = busiest_object(lsst.db_url, "lsst")
    n = detection_count(lsst.db_url, "lsst", object_id)
    c = client(lsst)
    full = c.object(object_id, lite=False, lasair_added=True)
    assert set(full) == {
        "diaObjectId", "diaObject", "lasairData", "diaSourcesList", "diaForcedSourcesList"
    }  # fmt: skip
    assert full["diaObjectId"] == object_id and full["diaObject"]["ra"] == pytest.approx(ra)
    assert len(full["diaSourcesList"]) == n
    times = [s["midpointMjdTai"] for s in full["diaSourcesList"]]
    assert times == sorted(times, reverse=True)  # newest first
    data = full["lasairData"]
    assert {"rasex", "decsex", "g_lon", "discMjd", "latestMjd", "peakMag", "sherlock"} <= set(data)
    assert data["latestMjd"] == times[0] and data["discMjd"] == times[-1]
    assert "ra" not in data and "nDiaSources" in data and "u_psfFluxMean" in data
    lite = c.object(object_id, lite=True, lasair_added=True)
    assert set(lite["lasairData"]) >= {"nDiaSources", "glat", "ebv"}
    assert "u_psfFluxMean" not in lite["lasairData"]
    assert set(lite["diaSourcesList"][0]) == {
        "diaSourceId", "midpointMjdTai", "band", "psfFlux", "psfFluxErr", "reliability"
    }  # fmt: skip
    bare = c.object(object_id, lite=True, lasair_added=False)
    assert set(bare) == {"diaObjectId", "diaSourcesList", "diaForcedSourcesList"}
    raw = c.object(object_id, lite=False, lasair_added=False)
    assert set(raw) == {"diaObjectId", "diaObject", "diaSourcesList", "diaForcedSourcesList"}
    assert raw["diaObject"]["diaObjectId"] == object_id


def test_object_rubin_unknown_and_malformed(lsst: Instance) -> None:
    c = client(lsst)
    with pytest.raises(LasairError, match="HTTP return code 404"):
        c.object(-99, lasair_added=True)
    assert c.object(-99, lite=False, lasair_added=False) == {
        "diaObjectId": -99, "diaObject": None, "diaSourcesList": [], "diaForcedSourcesList": []
    }  # fmt: skip
    # Lasair's object/ declares objectId a string and answers a bad one with {"error": …}
    # (its SQL error); Lanner says why, before any query
    body = {"error": "Invalid objectId 'xyz': A valid integer is required."}
    expected = "^" + re.escape("Bad Request:" + json.dumps(body, separators=(",", ":"))) + "$"
    with pytest.raises(LasairError, match=expected):
        c.object("xyz")
    with pytest.raises(LasairError, match=r'^Bad Request:\{"error":"Invalid objectId \'1 OR 1=1\''):
        c.object("1 OR 1=1")


def test_object_ztf(ztf_any: Instance) -> None:
    object_id, ra, _ = busiest_object(ztf_any.db_url, "ztf")
    got = client(ztf_any).object(object_id, lite=False)
    assert got["objectId"] == object_id and got["objectData"]["ramean"] == pytest.approx(ra)
    n = detection_count(ztf_any.db_url, "ztf", object_id)
    assert got["count_all_candidates"] == n == sum(1 for c in got["candidates"] if "candid" in c)
    mjds = [c["mjd"] for c in got["candidates"]]
    assert mjds == sorted(mjds, reverse=True)
    with pytest.raises(LasairError, match=r'^Bad Request:\{"error":"Invalid objectId .*ZTF18'):
        client(ztf_any).object("ZTF18'; --")


# -- sherlock ----------------------------------------------------------------------------
def test_sherlock(ztf: Instance) -> None:
    (object_id, cls, ra, dec) = rows(
        ztf.db_url,
        "SELECT s.objectId, s.classification, o.ramean, o.decmean FROM sherlock_classifications s "
        "JOIN objects o ON o.objectId = s.objectId WHERE s.classification = 'SN' "
        "ORDER BY s.objectId LIMIT 1",
    )[0]
    c = client(ztf)
    by_object = c.sherlock_object(object_id, lite=True)
    assert by_object["classifications"][object_id][0] == cls == "SN"
    assert by_object["crossmatches"][0]["catalogue_object_id"]
    by_position = c.sherlock_position(ra, dec, lite=False)
    assert by_position["classifications"]["query0"][0] == "SN"
    assert (
        by_position["crossmatches"][0]["catalogue_object_id"]
        == by_object["crossmatches"][0]["catalogue_object_id"]
    )
    with pytest.raises(LasairError, match="HTTP return code 404"):
        c.sherlock_object("ZTF99zzzzzzz")


def test_sherlock_rubin_needs_integer(lsst: Instance) -> None:
    with pytest.raises(LasairError, match=r'\{"objectId":\["A valid integer is required\."\]\}'):
        client(lsst).sherlock_object("thisisnotanobjectid")


# -- auth and limits ---------------------------------------------------------------------
def test_unauthorized(lsst: Instance) -> None:
    bad = lasair_client("0000000011111111222222223333333344444444", endpoint=lsst.api)
    with pytest.raises(LasairError, match=r"^Unauthorized$"):
        bad.cone(10.0, 10.0, radius=10, requestType="count")


def test_throttled_after_the_tier_limit(lsst: Instance) -> None:
    """The anon tier's 10 calls an hour: the 11th is refused (each call counts once)."""
    c = client(lsst, "anon")
    for _ in range(10):
        c.cone(10.0, 10.0, radius=10, requestType="count")
    with pytest.raises(LasairError, match=r"^Request limit exceeded"):
        c.cone(10.0, 10.0, radius=10, requestType="count")
