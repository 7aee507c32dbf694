"""Read the Transient Name Server's public objects CSV into ``crossmatch_tns`` columns.

Input: the bytes of ``tns_public_objects*.csv`` or of its ``.zip``. The file's first line
is a timestamp (``"2021-03-15 00:00:00"``, or a range for a daily file), the second its
header; columns are found by name, so the documented 21-column file, the current
23-column one (with ``Discovery_ADS_bibcode`` and ``Class_ADS_bibcodes``) and files with
columns unknown here all read. An empty field (``""``) is NULL. A file whose first line
is already the header (a copy without the timestamp) reads too.

Output: a :class:`TnsRows` — an Arrow table with the columns of ``crossmatch_tns`` (Lasair's
names, ``lsst-uk/lasair-lsst services/externalBrokers/TNS``), one row per TNS name (the
last modified wins when a name is repeated), the whole CSV row kept as JSON in ``raw``,
and the rows set aside with their reason (no name, a position that is not a number or
off the sky). No side effects.

The CSV is parsed by Arrow and mapped in DuckDB: no Python loop over rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

#: Columns a TNS file must have (everything else may be missing).
REQUIRED = ("name", "name_prefix", "ra", "declination")

#: The documented header (21 columns) and the current one's two ADS columns.
HEADER_21 = (
    "objid",
    "name_prefix",
    "name",
    "ra",
    "declination",
    "redshift",
    "typeid",
    "type",
    "reporting_groupid",
    "reporting_group",
    "source_groupid",
    "source_group",
    "discoverydate",
    "discoverymag",
    "discmagfilter",
    "filter",
    "reporters",
    "time_received",
    "internal_names",
    "creationdate",
    "lastmodified",
)
ADS_COLUMNS = ("Discovery_ADS_bibcode", "Class_ADS_bibcodes")
HEADER_23 = (*HEADER_21[:19], *ADS_COLUMNS, *HEADER_21[19:])


class TnsFormatError(ValueError):
    """A file that is not a TNS public objects CSV; the message says what to fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(f"{message}: {hint}" if hint else message)
        self.message = message
        self.hint = hint


@dataclass
class TnsRows:
    """The rows of one TNS file, as ``crossmatch_tns`` columns."""

    table: pa.Table
    #: The file's first line (when it is a timestamp), e.g. ``2021-03-15 00:00:00``.
    timestamp: str | None
    #: Rows read from the file (before rejects and repeated names).
    read: int
    #: Rows set aside, by reason.
    rejected: Counter[str] = field(default_factory=Counter)
    #: Rows dropped because a later row of the file has the same name.
    repeated: int = 0


def unzip(data: bytes) -> bytes:
    """The CSV inside a TNS ``.zip`` (its one ``.csv`` member), or ``data`` itself."""
    if not data.startswith(b"PK\x03\x04"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(members) != 1:
                raise TnsFormatError(
                    f"the zip holds {len(members)} CSV files ({', '.join(members) or 'none'})",
                    "give the tns_public_objects .csv.zip as TNS publishes it (one CSV inside)",
                )
            return archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise TnsFormatError(f"not a readable zip file: {exc}") from exc


def _split_lines(data: bytes) -> tuple[str | None, list[str], bytes]:
    """(timestamp line, header names, the bytes from the header on)."""
    first_end = data.find(b"\n")
    first = data[: first_end if first_end >= 0 else len(data)].decode("utf-8", "replace")
    names = next(csv.reader([first.strip("\r\ufeff")]), [])
    if "name" in names and "ra" in names:
        return None, names, data
    if first_end < 0:
        raise TnsFormatError("the file has one line: no header after the timestamp line")
    rest = data[first_end + 1 :]
    second_end = rest.find(b"\n")
    second = rest[: second_end if second_end >= 0 else len(rest)].decode("utf-8", "replace")
    names = next(csv.reader([second.strip("\r\ufeff")]), [])
    stamp = next(csv.reader([first.strip("\r\ufeff")]), [""])
    return ",".join(stamp).strip() or None, names, rest


def read_tns_bytes(data: bytes) -> TnsRows:
    """Parse a TNS public objects file (zipped or not)."""
    text = unzip(data)
    if not text.strip():
        raise TnsFormatError("the file is empty")
    timestamp, names, body = _split_lines(text)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise TnsFormatError(
            f"no column {', '.join(missing)} in the header ({', '.join(names[:6])}, ...)",
            "give the TNS public objects CSV: a timestamp line, then a header with "
            + ", ".join(REQUIRED),
        )
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise TnsFormatError(f"the header repeats {', '.join(repeated)}")
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise TnsFormatError(f"cannot parse the CSV: {exc}") from exc
    return _to_crossmatch(table, timestamp)


def read_tns_file(path: str) -> TnsRows:
    """Parse the TNS file at ``path``."""
    with open(path, "rb") as f:
        return read_tns_bytes(f.read())


def _col(names: set[str], name: str, cast: str | None = None) -> str:
    """SQL for CSV column ``name`` (NULL when the file lacks it), optionally TRY_CAST."""
    if name not in names:
        return f"NULL::{cast or 'VARCHAR'}"
    ref = f'"{name}"'
    return f"TRY_CAST({ref} AS {cast})" if cast else ref


def _stamp(expr: str) -> str:
    """A TIMESTAMP (UTC) as ISO-8601 text with its offset, as the store keeps times."""
    return f"strftime({expr}, '%Y-%m-%dT%H:%M:%S.%f+00:00')"


def _to_crossmatch(csv_rows: pa.Table, timestamp: str | None) -> TnsRows:
    names = set(csv_rows.column_names)
    con = duckdb.connect()
    try:
        con.register("csv_rows", csv_rows)
        ra, dec = _col(names, "ra", "DOUBLE"), _col(names, "declination", "DOUBLE")
        con.execute(
            f"""
            CREATE TEMP TABLE checked AS
            SELECT *, CASE
                WHEN name IS NULL OR trim(name) = '' THEN 'no name'
                WHEN {ra} IS NULL OR {dec} IS NULL THEN 'ra or declination is not a number'
                WHEN NOT ({ra} >= 0 AND {ra} < 360 AND {dec} BETWEEN -90 AND 90)
                    THEN 'position off the sky'
                END AS _reject,
                row_number() OVER () AS _line
            FROM csv_rows
            """
        )
        rejected = Counter(
            {
                str(reason): int(n)
                for reason, n in con.execute(
                    "SELECT _reject, count(*) FROM checked WHERE _reject IS NOT NULL GROUP BY 1"
                ).fetchall()
            }
        )
        modified = _col(names, "lastmodified", "TIMESTAMP")
        disc = _col(names, "discoverydate", "TIMESTAMP")
        raw_cols = ", ".join(f'"{n}"' for n in csv_rows.column_names)
        table = con.sql(
            f"""
            SELECT
                trim(name) AS tns_name,
                {_col(names, "name_prefix")} AS tns_prefix,
                {ra} AS ra,
                {dec} AS decl,
                {_col(names, "type")} AS type,
                {_col(names, "redshift", "DOUBLE")} AS z,
                NULL::DOUBLE AS hostz,
                NULL::VARCHAR AS host_name,
                {_col(names, "discoverymag", "DOUBLE")} AS disc_mag,
                {_col(names, "filter")} AS disc_mag_filter,
                {_col(names, "internal_names")} AS disc_int_name,
                {_stamp(disc)} AS disc_date,
                epoch({disc}) / 86400.0 + 40587.0 AS disc_mjd,
                {_stamp(modified)} AS lastmodified_date,
                {_col(names, "reporting_group")} AS sender,
                {_col(names, "reporters")} AS reporters,
                {_col(names, "source_group")} AS source_group,
                NULL::VARCHAR AS ext_catalogs,
                {_col(names, "objid", "BIGINT")} AS objid,
                {_col(names, "Discovery_ADS_bibcode")} AS discovery_ads_bibcode,
                {_col(names, "Class_ADS_bibcodes")} AS class_ads_bibcodes,
                to_json(struct_pack({raw_cols})) AS raw
            FROM checked
            WHERE _reject IS NULL
            QUALIFY row_number() OVER (
                PARTITION BY trim(name) ORDER BY {modified} DESC NULLS LAST, _line DESC
            ) = 1
            ORDER BY _line
            """
        ).to_arrow_table()
    finally:
        con.close()
    kept = csv_rows.num_rows - sum(rejected.values())
    table = table.cast(_schema(table.schema))
    return TnsRows(table, timestamp, csv_rows.num_rows, rejected, kept - table.num_rows)


def _schema(schema: pa.Schema) -> pa.Schema:
    """Plain Arrow types (DuckDB may return JSON as an extension type)."""
    fields = []
    for f in schema:
        kind = pa.string() if f.name == "raw" else f.type
        fields.append(pa.field(f.name, kind))
    return pa.schema(fields)
