"""Watchmaps: both FITS MOC serialisations, MOC strings, retroactive and per-batch hits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from mocpy import MOC

from lanner.filter.saved import add_filter
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline
from lanner.sky_areas.watchlists import WatchlistError
from lanner.sky_areas.watchmaps import (
    MocError,
    add_watchmap,
    find_watchmap,
    read_moc,
    set_active,
    watchmap_hits,
)
from lanner.store import Store
from lanner.store.sky_areas import expire_active
from tests.sky_areas.conftest import positions


@pytest.mark.parametrize(
    ("name", "area"), [("lasair_sample_area", 10.1), ("lasair_ar_1_range", 53.3)]
)
def test_both_fits_serialisations_and_strings(catalogs: Path, name: str, area: float) -> None:
    data = (catalogs / "mocs" / f"{name}.moc.fits").read_bytes()
    moc = read_moc(data)
    assert moc.sky_fraction * 41252.96 == pytest.approx(area, abs=0.05)
    ascii_moc = read_moc(moc.to_string(format="ascii").encode())
    json_moc = read_moc(moc.to_string(format="json").encode())
    assert ascii_moc == moc == json_moc
    # The RANGE file and its NUNIQ re-serialisation hold the same cells.
    assert json.loads(moc.to_string(format="json"))


def test_not_a_moc_is_refused() -> None:
    with pytest.raises(MocError):
        read_moc(b"this is not a MOC")


def test_retro_and_batch_hits_in_filters(
    archive: tuple[Store, Pipeline],
    survey: str,
    ztf_packets: list[RawPacket],
    lsst_packets: list[RawPacket],
) -> None:
    store, pipeline = archive
    oid = store.object_id_column
    ids, ra, dec = positions(store)
    # A MOC of three 1-arcmin discs on stored objects, given as an ASCII string.
    discs = [
        MOC.from_cone(ra[i] * u.deg, dec[i] * u.deg, radius=1 * u.arcmin, max_depth=14)
        for i in range(3)
    ]
    moc = discs[0].union(discs[1], discs[2])
    wm, retro = add_watchmap(store, "three", read_moc(moc.to_string("ascii").encode()))
    inside = {
        ids[i] for i in range(len(ids)) if moc.contains_lonlat(ra[i] * u.deg, dec[i] * u.deg)[0]
    }
    assert {ids[0], ids[1], ids[2]} <= inside
    assert retro == len(inside)
    assert {h[oid] for h in watchmap_hits(store, wm)} == inside
    flt = add_filter(
        store,
        "in area",
        f"SELECT objects.{oid} FROM objects, area_hits WHERE "
        f"objects.{oid} = area_hits.{oid} AND area_hits.ar_id = {wm.ar_id}",
        active=True,
    )
    packets = ztf_packets if survey == "ztf" else lsst_packets
    assert pipeline.process(packets).matches[flt.name] == 0  # not active yet
    set_active(store, wm, True)
    report = pipeline.process(packets)
    assert report.sky_hits["area_hits"] == len(inside) == report.matches[flt.name]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=181)
    assert expire_active(store, "watchmaps", "ar_id", later) == [wm.ar_id]
    assert not find_watchmap(store, "three").active


def test_a_lasair_watchmap_over_the_archive(
    archive: tuple[Store, Pipeline], catalogs: Path
) -> None:
    store, _ = archive
    moc = read_moc((catalogs / "mocs" / "SDSS9_r.moc.fits").read_bytes())
    wm, retro = add_watchmap(store, "sdss", moc, public=True)
    _, ra, dec = positions(store)
    expected = int(moc.contains_lonlat(ra * u.deg, dec * u.deg).sum())
    assert retro == expected == len(watchmap_hits(store, wm))
    assert wm.area == pytest.approx(14951.6, abs=1)
    with pytest.raises(WatchlistError, match="already have"):
        add_watchmap(store, "sdss", moc)
    assert np.isfinite(wm.area)
