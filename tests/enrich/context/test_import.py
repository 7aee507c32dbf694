"""``lanner catalog import``: partitions by HEALPix, streams, and rejects bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as hpn
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import Latitude, Longitude
from astropy.table import Table

from lanner.enrich.context import ContextClassifier
from lanner.enrich.context.catalogue_import import (
    CatalogueImportError,
    ColumnMap,
    ImportOptions,
    import_catalogue,
)
from lanner.enrich.context.catalogue_store import CatalogueStore, partition_path


@pytest.fixture(scope="module")
def gcvs(catalogs: Path) -> pa.Table:
    return pacsv.read_csv(catalogs / "variables_cv/gcvs_positions_types.csv.gz")


def test_partitions_hold_the_rows_of_their_pixel(tmp_path: Path, gcvs: pa.Table) -> None:
    sample = gcvs.slice(0, 5000)
    src = tmp_path / "gcvs.parquet"
    pq.write_table(sample, src)
    cmap = ColumnMap(ra="ra", dec="dec", object_type="var_type")
    root = import_catalogue(
        "gcvs", src, tmp_path / "lib", cmap, ImportOptions("star", max_rows=400)
    )
    store = CatalogueStore(root)
    assert store.n_rows == 5000
    orders = store.index.orders
    assert orders.max() > orders.min()  # adaptive: dense pixels were split
    total = 0
    for i in range(len(store.index)):
        order, pixel = int(store.index.orders[i]), int(store.index.pixels[i])
        part = pq.read_table(partition_path(root, order, pixel))
        assert 0 < part.num_rows <= 400 or order == 8
        lon = Longitude(part["ra"].to_numpy() * u.deg)
        lat = Latitude(part["dec"].to_numpy() * u.deg)
        assert (hpn.lonlat_to_healpix(lon, lat, order) == pixel).all()
        total += part.num_rows
    assert total == 5000
    # A cone query touches only the partitions around it.
    near = store.index.covering(
        np.array([sample["ra"][0].as_py()]), np.array([sample["dec"][0].as_py()]), 3.0
    )
    assert 1 <= near.size < len(store.index)


def test_import_streams_in_batches(
    tmp_path: Path, gcvs: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Importing in 700-row record batches gives the same catalogue as in one batch.
    import lanner.enrich.context.catalogue_import as importer

    src = tmp_path / "gcvs.parquet"
    pq.write_table(gcvs.slice(0, 3000), src)
    cmap = ColumnMap(ra="ra", dec="dec", object_type="var_type")
    whole = import_catalogue("a", src, tmp_path, cmap, ImportOptions("star", max_rows=300))
    monkeypatch.setattr(importer, "BATCH_ROWS", 700)
    streamed = import_catalogue("b", src, tmp_path, cmap, ImportOptions("star", max_rows=300))
    a, b = CatalogueStore(whole), CatalogueStore(streamed)
    assert np.array_equal(a.index.lo, b.index.lo)
    assert a.read_all().equals(b.read_all())


def test_lazy_catalogue_loads_only_needed_partitions(tmp_path: Path, gcvs: pa.Table) -> None:
    src = tmp_path / "gcvs.parquet"
    pq.write_table(gcvs, src)
    cmap = ColumnMap(ra="ra", dec="dec", where="is_cv")
    import_catalogue("cv", src, tmp_path / "lib", cmap, ImportOptions("cv", max_rows=50))
    classifier = ContextClassifier([tmp_path / "lib"], preload_rows=0)
    cv = gcvs.filter(gcvs["is_cv"]).slice(0, 1).to_pylist()[0]
    out = classifier.classify(np.array([cv["ra"]]), np.array([cv["dec"]]))
    assert out["classification"].to_pylist() == ["CV"]
    store = classifier.catalogues[0].store
    assert 0 < store.partitions_read < len(store.index)


def test_csv_and_fits_inputs_give_the_same_catalogue(tmp_path: Path, catalogs: Path) -> None:
    with gzip.open(catalogs / "galaxies/sga2020_ngc_subset.csv.gz") as fh:
        table = Table.read(fh.read().decode(), format="ascii.csv")
    table.write(tmp_path / "sga.fits")
    cmap = ColumnMap(
        ra="RAJ2000", dec="DEJ2000", object_id="Name", z='"z-LEDA"', semi_major="SMASB26"
    )
    a = import_catalogue(
        "a",
        catalogs / "galaxies/sga2020_ngc_subset.csv.gz",
        tmp_path,
        cmap,
        ImportOptions("galaxy"),
    )
    b = import_catalogue("b", tmp_path / "sga.fits", tmp_path, cmap, ImportOptions("galaxy"))
    ta, tb = CatalogueStore(a).read_all(), CatalogueStore(b).read_all()
    assert ta.num_rows == tb.num_rows == len(table)
    assert ta.sort_by("object_id")["semi_major_arcsec"].equals(
        tb.sort_by("object_id")["semi_major_arcsec"]
    )


def test_missing_column_is_a_clear_error(tmp_path: Path, catalogs: Path) -> None:
    src = catalogs / "agn_qso/roma_bzcat5_positions.csv.gz"
    with pytest.raises(
        CatalogueImportError, match=r"no column 'RAJ2000' for ra; the file has: name, ra, dec"
    ):
        import_catalogue(
            "x", src, tmp_path, ColumnMap(ra="RAJ2000", dec="dec"), ImportOptions("agn")
        )
    with pytest.raises(CatalogueImportError, match="unknown role"):
        import_catalogue("x", src, tmp_path, ColumnMap(ra="ra", dec="dec"), ImportOptions("planet"))


def test_impossible_positions_are_rejected(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("name,ra_h,dec\na,10.0,12.0\nb,11.0,123.0\n")
    with pytest.raises(CatalogueImportError, match="impossible positions"):
        import_catalogue(
            "bad", src, tmp_path, ColumnMap(ra="ra_h", dec="dec"), ImportOptions("star")
        )
