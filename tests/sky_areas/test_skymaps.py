"""Sky maps: Lasair's fixture numbers, every shared map and notice, the notice life cycle,
hits over the archive and per batch, and a notice arriving through Kafka."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from confluent_kafka import Producer

from lanner.filter.saved import add_filter, lasair_to_sql
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline
from lanner.settings import Settings
from lanner.sky_areas.gcn_listener import GcnListener, gcn_consumer
from lanner.sky_areas.mma import NoticeOutcome, receive_notice
from lanner.sky_areas.notices import Selection, parse_notice
from lanner.sky_areas.skymap import probdens3, read_skymap, values_at
from lanner.store import Store, open_store
from lanner.store.sky_areas import record_rows
from tests.kafka_fixtures import FAST_GROUP
from tests.sky_areas.conftest import moved_id

#: MJD-OBS of the LVK mock event MS181101ab.
MS181101AB_MJD = 58423.93248442635
JD = 2400000.5


def _notice(catalogs: Path, name: str) -> bytes:
    return (catalogs / "gw_notices" / f"{name}.json").read_bytes()


def test_lasair_fixture_numbers(catalogs: Path) -> None:
    """Lasair's skymap test: the MS181101ab map at its four positions."""
    notice = parse_notice(_notice(catalogs, "MS181101ab-preliminary"))
    assert notice.skymap is not None
    skymap = read_skymap(notice.skymap)
    v = values_at(
        skymap.region,
        np.array([188.0, 190.0, 190.0, 194.0]),
        np.array([-9.0, -15.0, -11.0, 19.0 * -1]),
    )
    assert v.inside.tolist() == [False, False, False, True]
    assert v.contour[3] == pytest.approx(66.31, abs=0.005)
    assert v.probdens2[3] == pytest.approx(85.0601, abs=5e-4)
    # Distance moments on that line of sight, and probdens3 at Lasair's host distance.
    assert (v.dist_mean[3], v.dist_std[3]) == pytest.approx((38.96, 8.31), abs=0.01)
    assert probdens3(v.probdens2, np.full(4, 34.784), v.dist_mean, v.dist_std)[3] == pytest.approx(
        74.98, abs=0.01
    )
    # Lasair's older formula used the ansatz parameters (34.78, 8.79) themselves: 85.06.
    raw = probdens3(v.probdens2[3:], np.array([34.784]), np.array([34.7838]), np.array([8.7905]))
    assert raw[0] == pytest.approx(85.06, abs=0.01)
    assert (skymap.ra, skymap.dec) == pytest.approx((194.304, -17.857), abs=1e-3)
    assert skymap.areas[0.9] == pytest.approx(31.0, abs=0.1)


#: 90% areas [deg²] of the shared maps (PROVENANCE.md), and whether they carry distances.
SHARED_MAPS = {
    "F2Y_sim_890025_bayestar.fits.gz": (26, False),
    "G361581_bayestar.multiorder.fits": (53, True),
    "G483432_bayestar.multiorder.fits": (3926, True),
    "G495305_bayestar.multiorder.fits": (34, True),
    "GW150914_G184098_bayestar_gstlal_C01.fits.gz": (398, False),
    "MDC_M351927_bayestar.multiorder.fits": (1079, True),
    "S190425z_LALInference.fits.gz": (7460, True),
    "fermi_gbm_M351932_skymap.fits.gz": (1397, False),
    "swift_bat_skymap.multiorder.fits": (9136, False),
}


@pytest.mark.parametrize("name", sorted(SHARED_MAPS))
def test_every_shared_map(catalogs: Path, name: str) -> None:
    area90, has_distance = SHARED_MAPS[name]
    skymap = read_skymap((catalogs / "gw_skymaps" / name).read_bytes())
    # Within the largest pixel (the Fermi map's NSIDE 8 pixels are 54 deg²).
    assert skymap.areas[0.9] == pytest.approx(area90, abs=max(0.02 * area90, 55))
    assert skymap.areas[0.1] < skymap.areas[0.5] < skymap.areas[0.9]
    for level, moc in skymap.mocs.items():
        assert moc.sky_fraction * 41252.96 == pytest.approx(skymap.areas[level], rel=1e-3)
    assert skymap.mocs[0.1].contains_lonlat(skymap.ra * u.deg, skymap.dec * u.deg)[0]
    assert skymap.has_distance == has_distance
    assert np.all(np.diff(np.sort(skymap.region.level)) >= 0)
    assert skymap.region.level.max() <= 0.9


LASAIR_RULE = Selection()


def _receive(
    store: Store, catalogs: Path, name: str, selection: Selection = LASAIR_RULE
) -> NoticeOutcome:
    return receive_notice(store, parse_notice(_notice(catalogs, name)), selection)


def test_notice_life_cycle_and_retraction(db_url: str, catalogs: Path) -> None:
    store = open_store(db_url, "ztf")
    try:
        stages = ["earlywarning", "preliminary", "initial", "update"]
        outcomes = [_receive(store, catalogs, f"MS181101ab-{s}") for s in stages]
        assert [o.decision for o in outcomes] == ["stored"] * 4
        areas = record_rows(store, "mma_areas")
        assert [a["version"] for a in areas] == [1, 2, 3, 4]
        assert [bool(a["active"]) for a in areas] == [False, False, False, True]
        latest = areas[-1]
        assert latest["alert_type"] == "UPDATE" and latest["classification"] == "BNS"
        assert latest["event_tai"] == pytest.approx(MS181101AB_MJD, abs=1e-6)
        assert latest["area90"] == pytest.approx(31.0, abs=0.1)
        assert latest["distmean"] == pytest.approx(39.77, abs=0.01)
        assert json.loads(latest["params"])["classification"]["BNS"] == 0.95
        retraction = _receive(store, catalogs, "MS181101ab-retraction")
        assert retraction.decision == "retraction: 1 map(s) deactivated"
        assert not any(a["active"] for a in record_rows(store, "mma_areas"))
        # Another event and its retraction; a Burst notice; a real map without distances.
        assert _receive(store, catalogs, "MS230425k-preliminary").decision == "stored"
        assert _receive(store, catalogs, "MS230425k-retraction").decision.startswith("retr")
        burst = _receive(store, catalogs, "MSBURST-initial")
        real = _receive(store, catalogs, "S230528ay-preliminary")
        assert burst.decision == real.decision == "stored"
        notices = record_rows(store, "mma_notices")
        assert len(notices) == 9
        s230528ay = notices[-1]
        assert s230528ay["group"] == "Burst" and s230528ay["classification"] is None
        assert s230528ay["distmean"] is None and s230528ay["mw_id"] == real.mw_id
        # Selection: under a 10 deg² cap only BNS/NSBH maps are kept.
        strict = Selection(max_area=10.0)
        assert _receive(store, catalogs, "S230528ay-preliminary", strict).decision.startswith(
            "not selected: class unknown and 90% area 97"
        )
        assert _receive(store, catalogs, "MS181101ab-update", strict).decision == "stored"
    finally:
        store.close()


def test_hits_over_the_archive_and_per_batch(
    db_url: str, tmp_path: Path, catalogs: Path, moved_ztf: Callable[..., list[RawPacket]]
) -> None:
    store = open_store(db_url, "ztf")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
    event_jd = MS181101AB_MJD + JD
    try:
        # Real alerts moved near Lasair's test position: 4 two days after the event, 3 a
        # month after (too late), 2 before it.
        pipeline.process(
            moved_ztf(4, 194.0, -19.0, event_jd + 2, "a")
            + moved_ztf(3, 194.0, -19.0, event_jd + 30, "b")
            + moved_ztf(2, 194.0, -19.0, event_jd - 1, "c")
        )
        # One of them has a host at a known distance in its sky context.
        ph = store.backend.placeholder
        store.con.execute(
            f'UPDATE sherlock_classifications SET distance = 36.5 WHERE "objectId" = {ph}',
            (moved_id("a", 0),),
        )
        store.con.commit()
        outcome = _receive(store, catalogs, "MS181101ab-preliminary")
        assert outcome.hits == 4
        hits = {h["objectId"]: h for h in record_rows(store, "mma_area_hits")}
        assert sorted(hits) == [moved_id("a", i) for i in range(4)]
        assert all(60 < h["contour"] < 72 and h["probdens2"] > 50 for h in hits.values())
        assert [h["probdens3"] is None for h in hits.values()] == [False, True, True, True]
        host = hits[moved_id("a", 0)]
        obj = record_rows(store, "objects", f'"objectId" = {ph}', (moved_id("a", 0),))[0]
        skymap = read_skymap(parse_notice(_notice(catalogs, "MS181101ab-preliminary")).skymap)
        v = values_at(skymap.region, np.array([obj["ramean"]]), np.array([obj["decmean"]]))
        weight = np.exp(-0.5 * ((v.dist_mean[0] - 36.5) / v.dist_std[0]) ** 2)
        assert host["distance"] == 36.5
        assert host["probdens3"] == pytest.approx(v.probdens2[0] * weight, rel=1e-4)
        # A batch: objects detected a week after the event are hits of the active map.
        report = pipeline.process(moved_ztf(5, 194.0, -19.0, event_jd + 7, "d"))
        assert report.sky_hits["mma_area_hits"] == 5
        assert store.counts()["mma_area_hits"] == 9
    finally:
        store.close()


def test_a_notice_through_kafka_makes_hits_in_the_next_batch(
    db_url: str,
    tmp_path: Path,
    catalogs: Path,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    moved_ztf: Callable[..., list[RawPacket]],
) -> None:
    topic = make_topic("igwn.gwalert")
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "message.max.bytes": 8_000_000})
    for name in ("MS181101ab-preliminary", "S230528ay-preliminary"):
        producer.produce(topic, _notice(catalogs, name))
    producer.produce(topic, b"not a notice")
    assert producer.flush(10) == 0
    store = open_store(db_url, "ztf")
    settings = Settings(gcn_kafka=kafka_bootstrap, gcn_security="plaintext")
    consumer = gcn_consumer(settings, f"t-{topic}", FAST_GROUP)
    listener = GcnListener(store, consumer, topic, Selection())
    try:
        outcomes, rejected = [], []
        for _ in range(30):
            report = listener.poll(timeout_s=1.0)
            outcomes += report.outcomes
            rejected += report.rejected
            if len(outcomes) + len(rejected) == 3:
                break
        assert [o.decision for o in outcomes] == ["stored", "stored"]
        assert len(rejected) == 1 and "not JSON" in rejected[0]
        pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
        sql = lasair_to_sql(
            store,
            "objects.objectId, mma_area_hits.contour, mma_areas.otherId",
            "objects, mma_area_hits, mma_areas",
            "mma_areas.classification = 'BNS' AND mma_area_hits.contour < 90",
            1,
        )
        flt = add_filter(store, "newest BNS", sql, active=True)
        event_jd = MS181101AB_MJD + JD
        report = pipeline.process(moved_ztf(3, 194.0, -19.0, event_jd + 1, "k"))
        assert report.sky_hits["mma_area_hits"] == 3
        assert report.matches[flt.name] == 3
    finally:
        listener.close()
        store.close()


def test_a_map_without_distances_has_no_probdens3(
    db_url: str, tmp_path: Path, catalogs: Path, moved_ztf: Callable[..., list[RawPacket]]
) -> None:
    notice = parse_notice(_notice(catalogs, "S230528ay-preliminary"))
    assert notice.skymap is not None
    skymap = read_skymap(notice.skymap)
    store = open_store(db_url, "ztf")
    try:
        outcome = receive_notice(store, notice, Selection())
        pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
        jd = 60092.46589899137 + JD + 3
        report = pipeline.process(moved_ztf(2, skymap.ra, skymap.dec, jd, "n", spread=5))
        assert report.sky_hits["mma_area_hits"] == 2
        hits = record_rows(store, "mma_area_hits")
        assert {h["mw_id"] for h in hits} == {outcome.mw_id}
        assert all(h["probdens3"] is None and h["probdens2"] > 0 for h in hits)
    finally:
        store.close()


def test_base64_skymap_equals_the_file_map(catalogs: Path) -> None:
    """The notice's embedded map is the multi-order FITS Lasair's fixture was made from."""
    doc = json.loads(_notice(catalogs, "MS181101ab-update"))
    data = base64.b64decode(doc["event"]["skymap"])
    assert data[:6] == b"SIMPLE"


LIGO = json.loads((Path(__file__).parent / "data" / "ligo_skymap_crossmatch.json").read_text())


@pytest.mark.parametrize("name", sorted(LIGO["maps"]))
def test_same_values_as_ligo_skymap(catalogs: Path, name: str) -> None:
    """Contours and densities as ligo.skymap's crossmatch gives them (recorded with
    ligo.skymap 2.5.4; see the file's "about"). Its areas interpolate within the pixel that
    crosses each level; ours count whole pixels (the MOC's area): they differ by at most
    about that pixel."""
    ref = LIGO["maps"][name]
    skymap = read_skymap((catalogs / "gw_skymaps" / name).read_bytes())
    v = values_at(skymap.region, np.array(ref["ra"]), np.array(ref["dec"]))
    searched = np.array(ref["searched_prob"])
    assert v.inside.tolist() == (searched <= 0.9).tolist()
    assert v.inside.sum() > 0
    np.testing.assert_allclose(v.contour[v.inside], 100 * searched[v.inside], atol=0.1)
    np.testing.assert_allclose(
        v.probdens2[v.inside], np.array(ref["probdensity"])[v.inside], rtol=1e-6
    )
    for level, area in zip((0.1, 0.5, 0.9), ref["contour_areas"], strict=True):
        assert skymap.areas[level] <= area + 0.01
        assert skymap.areas[level] == pytest.approx(area, abs=max(0.005 * area, 60))
