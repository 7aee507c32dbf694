"""Reading TNS public objects files: both column variants, zipped or not, NULLs, rows set
aside, repeated names, files without the timestamp line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.tns.csv_file import HEADER_21, HEADER_23, TnsFormatError, read_tns_bytes
from lanner.tns.recorded import Row, tns_file


@pytest.mark.parametrize("columns", [21, 23])
@pytest.mark.parametrize("zipped", [False, True])
def test_both_column_variants_zipped_or_not(bts: list[Row], columns: int, zipped: bool) -> None:
    data = tns_file(bts, columns=columns, zipped=zipped, timestamp="2022-09-01 00:00:00")
    assert data.startswith(b"PK") == zipped
    rows = read_tns_bytes(data)
    assert rows.timestamp == "2022-09-01 00:00:00"
    assert rows.read == len(bts) == 5417
    # The BTS list has 40 transients without a TNS name and 26 names listed twice.
    assert rows.rejected == {"no name": 40}
    assert rows.repeated == 26
    table = rows.table
    assert table.num_rows == 5417 - 40 - 26
    by_name = {r["tns_name"]: r for r in table.to_pylist()}
    first = by_name["2018bfx"]
    assert (first["tns_prefix"], first["type"], first["disc_int_name"]) == (
        "SN",
        "SN Ia",
        "ZTF18aajpjdi",
    )
    assert first["ra"] == pytest.approx(199.527583)
    assert first["z"] == pytest.approx(0.0746)
    assert first["disc_date"].startswith("2018-06-01T00:00:00")
    assert first["disc_mjd"] == pytest.approx(58270.0)
    # "" is NULL: unclassified transients have neither type nor, often, redshift.
    unclassified = [r for r in table.to_pylist() if r["type"] is None]
    assert len(unclassified) > 1000
    assert any(r["z"] is None for r in unclassified)
    assert first["discovery_ads_bibcode"] is None
    assert set(first["raw"]) >= {"{", "}"} and '"internal_names":"ZTF18aajpjdi"' in first["raw"]
    assert ('"Discovery_ADS_bibcode"' in first["raw"]) == (columns == 23)


def test_headers_are_read_by_name_in_any_order(bts: list[Row]) -> None:
    data = tns_file(bts[:5], columns=21).decode().splitlines()
    header = data[1].split(",")
    # Swap two columns in the header and the rows: values follow their names.
    i, j = header.index('"ra"'), header.index('"name"')
    lines = []
    for line in data[1:]:
        cells = line.split('","')
        cells[0], cells[-1] = cells[0].lstrip('"'), cells[-1].rstrip('"')
        cells[i], cells[j] = cells[j], cells[i]
        lines.append(",".join(f'"{c}"' for c in cells))
    rows = read_tns_bytes("\n".join([data[0], *lines]).encode())
    assert rows.table["tns_name"].to_pylist()[0] == bts[0]["name"]
    assert rows.table["ra"].to_pylist()[0] == pytest.approx(float(bts[0]["ra"]))


def test_a_copy_without_timestamp_and_with_extra_columns(shared_dir: Path) -> None:
    """Fink's copy of three TNS rows: no timestamp line, two columns of Fink's own."""
    path = shared_dir / "data/catalogs/transients/tns_public_objects_schema_sample_fink.csv"
    rows = read_tns_bytes(path.read_bytes())
    assert rows.timestamp is None
    assert rows.table["tns_name"].to_pylist() == ["2026cqa", "2022and", "2018lzf"]
    and_ = rows.table.to_pylist()[1]
    assert (and_["tns_prefix"], and_["type"], and_["z"]) == ("SN", "SN II", 0.043)
    assert and_["sender"] == "ATLAS" and and_["objid"] == 99539
    assert rows.table.to_pylist()[0]["z"] is None


def test_bad_rows_are_set_aside_and_counted(bts: list[Row]) -> None:
    rows = [dict(r) for r in bts[:6]]
    rows[0]["ra"] = "12:30:00"
    rows[1]["declination"] = "95"
    rows[2]["name"] = ""
    read = read_tns_bytes(tns_file(rows))
    assert read.rejected == {
        "ra or declination is not a number": 1,
        "position off the sky": 1,
        "no name": 1,
    }
    assert read.table["tns_name"].to_pylist() == [r["name"] for r in rows[3:]]


def test_not_a_tns_file_says_what_to_give() -> None:
    with pytest.raises(TnsFormatError, match="no column name, name_prefix, ra, declination"):
        read_tns_bytes(b'"2022-09-01 00:00:00"\n"a","b"\n"1","2"\n')
    with pytest.raises(TnsFormatError, match="empty"):
        read_tns_bytes(b"")
    with pytest.raises(TnsFormatError, match="not a readable zip"):
        read_tns_bytes(b"PK\x03\x04broken")
    assert len(HEADER_23) == 23 and len(HEADER_21) == 21
