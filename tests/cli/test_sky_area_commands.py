"""``lanner watchlist``, ``lanner watchmap`` and ``lanner skymap`` on the bundled Rubin
sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lanner.settings import Settings
from lanner.store import open_store
from lanner.store.sky_areas import object_chunks


@pytest.fixture()
def first_object(cli: Callable[..., str]) -> tuple[int, float, float]:
    store = open_store(Settings().db_url)
    try:
        chunk = next(object_chunks(store))
        return int(chunk.ids[0]), float(chunk.ra[0]), float(chunk.dec[0])
    finally:
        store.close()


def test_watchlist_commands(
    cli: Callable[..., str], first_object: tuple[int, float, float], tmp_path: Path
) -> None:
    oid, ra, dec = first_object
    csv = tmp_path / "targets.csv"
    csv.write_text(f"{ra} | {dec} | target | 3\n10 | 10 | elsewhere\n")
    out = cli("watchlist", "add", "mine", str(csv), "--radius", "10", "--description", "x")
    assert "2 cones, 1 archived objects inside (use watchlist:1 in filters)" in out
    hits = json.loads(cli("watchlist", "hits", "mine", "--format", "json"))
    assert [(h["diaObjectId"], h["name"]) for h in hits] == [(oid, "target")]
    assert "active=True" in cli("watchlist", "activate", "mine")
    listed = json.loads(cli("watchlist", "list", "--format", "json"))
    assert listed[0]["name"] == "mine" and listed[0]["active"] is True
    assert json.loads(cli("watchlist", "show", "1", "--format", "json"))[0]["radius"] == 10.0
    assert "active=False" in cli("watchlist", "deactivate", "mine")
    bad = tmp_path / "bad.csv"
    bad.write_text("1, 2, a\n1, 200, b\n")
    assert "line 2: Dec 200.0 is not in [-90, 90] deg" in cli(
        "watchlist", "add", "bad", str(bad), ok=False
    )
    assert "deleted" in cli("watchlist", "delete", "mine")
    assert "no watchlist named 'mine'" in cli("watchlist", "show", "mine", ok=False)


def test_watchmap_and_skymap_commands(
    cli: Callable[..., str],
    first_object: tuple[int, float, float],
    tmp_path: Path,
    shared_dir: Path,
) -> None:
    from astropy import units as u
    from mocpy import MOC

    oid, ra, dec = first_object
    moc = MOC.from_cone(ra * u.deg, dec * u.deg, radius=2 * u.arcmin, max_depth=13)
    path = tmp_path / "area.txt"
    path.write_text(moc.to_string(format="ascii"))
    assert "1 archived objects inside" in cli("watchmap", "add", "area", str(path), "--public")
    hits = json.loads(cli("watchmap", "hits", "area", "--format", "json"))
    assert hits == [{"diaObjectId": oid, "ar_id": 1}]
    fits = shared_dir / "data" / "catalogs" / "mocs" / "lasair_ar_1_range.moc.fits"
    assert "53.35 deg2" in cli("watchmap", "add", "lasair", str(fits))
    assert "active=True" in cli("watchmap", "activate", "lasair")
    notices = shared_dir / "data" / "catalogs" / "gw_notices"
    out = cli("skymap", "add", str(notices / "MS181101ab-preliminary.json"))
    assert out.startswith("notice 1: stored as map 1")
    gbm = shared_dir / "data" / "catalogs" / "gw_skymaps" / "fermi_gbm_M351932_skymap.fits.gz"
    assert "map 2 of Fermi 1354291851: 90% area 1342.9 deg2" in cli(
        "skymap", "add", str(gbm), "--namespace", "Fermi"
    )
    assert "retraction: 1 map(s) deactivated" in cli(
        "skymap", "add", str(notices / "MS181101ab-retraction.json")
    )
    maps = json.loads(cli("skymap", "list", "--format", "json"))
    assert [(m["otherId"], m["active"]) for m in maps] == [
        ("MS181101ab", False),
        ("1354291851", True),
    ]
    assert "RETRACTION" in cli("skymap", "notices")
    assert "no hits" in cli("skymap", "hits", "1")
