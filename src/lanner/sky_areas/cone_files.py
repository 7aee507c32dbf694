"""Reading a watchlist's cones from an uploaded file: CSV, VOTable or FITS table.

Input: the file's bytes and name. Output: :class:`Cones` (arrays of centres, names and
optional radii). No side effects. Every bad row is reported with its line (CSV) or row
(tables) number, all at once, in a :class:`ConeFileError`; nothing is returned then, so
nothing is half-stored.

CSV follows Lasair: one cone per line, ``RA, Dec, ID[, radius]`` with RA and Dec in decimal
degrees (or sexagesimal ``hh:mm:ss``, ``dd:mm:ss``) and the radius in arcsec, separated by
commas or ``|``; blank lines and lines starting with ``#`` are skipped. A first line whose
RA is not a number is a header: then the columns are found by name (``ra``, ``dec``/``decl``,
``name``/``id``, ``radius``/``radius_arcsec``) and other columns are ignored. VOTable and
FITS tables name their columns the same way (case-insensitive; ``RAJ2000``/``DEJ2000`` too).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Largest cone radius Lasair accepts [arcsec].
MAX_RADIUS = 1800.0
#: Most cones in one watchlist.
MAX_CONES = 1_000_000
#: Longest cone name (Lasair's ``watchlist_cones.name``).
MAX_NAME = 32
#: Errors listed in full before the rest are counted.
SHOWN_ERRORS = 20

_RA_NAMES = ("ra", "raj2000", "ra_deg", "_raj2000")
_DEC_NAMES = ("dec", "decl", "dej2000", "dec_deg", "_dej2000")
_NAME_NAMES = ("name", "id", "objname", "object", "main_id")
_RADIUS_NAMES = ("radius", "radius_arcsec", "rad")


class ConeFileError(ValueError):
    """A watchlist file that cannot be used, with every problem found."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems
        n = total if total is not None else len(problems)
        shown = "\n".join(problems[:SHOWN_ERRORS])
        more = f"\n... and {n - SHOWN_ERRORS} more" if n > SHOWN_ERRORS else ""
        super().__init__(f"{n} problem(s) in the watchlist file, nothing stored:\n{shown}{more}")


@dataclass(frozen=True)
class Cones:
    """Cones read from a file: centres [deg], names, and radii [arcsec] (NaN: default)."""

    ra: np.ndarray
    dec: np.ndarray
    name: list[str]
    radius: np.ndarray

    def __len__(self) -> int:
        return len(self.ra)


def read_cones(data: bytes, filename: str = "") -> Cones:
    """Cones from a CSV, VOTable or FITS file's bytes (format from the name or content)."""
    lower = filename.lower()
    head = data[:512].lstrip()
    if head.startswith(b"SIMPLE") or lower.endswith((".fits", ".fit", ".fits.gz", ".fts")):
        return _from_table(data, "fits")
    if head.startswith((b"<?xml", b"<VOTABLE")) or lower.endswith((".xml", ".vot", ".votable")):
        return _from_table(data, "votable")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConeFileError([f"the file is not UTF-8 text, a VOTable or FITS: {exc}"]) from exc
    return _from_csv(text)


def _angle(text: str, hours: bool) -> float:
    if ":" in text or " " in text.strip():
        from astropy.coordinates import Angle

        return float(Angle(text, unit="hourangle" if hours else "deg").degree)
    return float(text)


_SPLIT = re.compile(r"\s*[,|]\s*")


def _from_csv(text: str) -> Cones:
    fast = _fast_csv(text)
    if fast is not None:
        return fast
    lines = text.splitlines()
    cols = {"ra": 0, "dec": 1, "name": 2, "radius": 3}
    problems: list[str] = []
    ra: list[float] = []
    dec: list[float] = []
    names: list[str] = []
    radius: list[float] = []
    numbers: list[int] = []
    first = True
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _SPLIT.split(line.strip("|"))
        if first:
            first = False
            header = _header(fields)
            if header is not None:
                cols = header
                continue
        row = _csv_row(fields, cols, number)
        if isinstance(row, str):
            problems.append(row)
            continue
        ra.append(row[0])
        dec.append(row[1])
        names.append(row[2])
        radius.append(row[3])
        numbers.append(number)
    return _checked(ra, dec, names, radius, problems, "line", numbers)


def _fast_csv(text: str) -> Cones | None:
    """Cones of a clean file (decimal degrees, one separator, no comments), read in
    columns by Arrow; ``None`` sends the file to the line-by-line reader, which says what
    is wrong where."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    head = text.lstrip()[:4096]
    if not head or "#" in text or ":" in head:
        return None
    sep = "|" if "|" in head.splitlines()[0] else ","
    first = _SPLIT.split(head.splitlines()[0].strip().strip("|"))
    try:
        header = _header(first)
    except ConeFileError:
        return None
    if sep == "|" or header is not None or len(first) not in (3, 4):
        return None
    names = ["ra", "dec", "name", "radius"][: len(first)]
    try:
        table = csv.read_csv(
            pa.py_buffer(text.encode()),
            read_options=csv.ReadOptions(column_names=names),
            parse_options=csv.ParseOptions(delimiter=sep),
            convert_options=csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        ra = pc.cast(pc.utf8_trim_whitespace(table["ra"]), pa.float64())
        dec = pc.cast(pc.utf8_trim_whitespace(table["dec"]), pa.float64())
        radius = (
            pc.cast(pc.utf8_trim_whitespace(table["radius"]), pa.float64())
            if "radius" in names
            else pa.nulls(table.num_rows, pa.float64())
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    if ra.null_count or dec.null_count:
        return None
    cone_names = pc.utf8_trim_whitespace(table["name"]).to_pylist()
    rad = radius.to_numpy(zero_copy_only=False).astype(np.float64)
    numbers = list(range(1, table.num_rows + 1))
    return _checked(
        ra.to_numpy(), dec.to_numpy(), [n or "" for n in cone_names], rad, [], "line", numbers
    )


def _header(fields: list[str]) -> dict[str, int] | None:
    """Column positions if ``fields`` is a header line (its RA is not a number)."""
    try:
        _angle(fields[0], hours=True)
        return None
    except ValueError:
        pass
    lower = [f.strip().lower() for f in fields]
    found: dict[str, int] = {}
    for key, options in (
        ("ra", _RA_NAMES),
        ("dec", _DEC_NAMES),
        ("name", _NAME_NAMES),
        ("radius", _RADIUS_NAMES),
    ):
        for option in options:
            if option in lower:
                found[key] = lower.index(option)
                break
    if "ra" not in found or "dec" not in found:
        raise ConeFileError(
            [f"line 1: {fields[0]!r} is not an RA and the header names no ra and dec columns"]
        )
    return found


def _csv_row(
    fields: list[str], cols: dict[str, int], number: int
) -> tuple[float, float, str, float] | str:
    def get(key: str) -> str:
        i = cols.get(key)
        return fields[i].strip() if i is not None and i < len(fields) else ""

    if len(fields) < 2 or not get("ra") or not get("dec"):
        return f"line {number}: expected 'RA, Dec, ID[, radius]', got {fields!r}"
    try:
        r = _angle(get("ra"), hours=":" in get("ra"))
        d = _angle(get("dec"), hours=False)
    except ValueError:
        return f"line {number}: RA {get('ra')!r} or Dec {get('dec')!r} is not an angle"
    text = get("radius")
    try:
        rad = float(text) if text else np.nan
    except ValueError:
        return f"line {number}: radius {text!r} is not a number of arcsec"
    return r, d, get("name"), rad


def _column(names: list[str], options: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    for option in options:
        if option in lower:
            return lower[option]
    return None


def _from_table(data: bytes, fmt: str) -> Cones:
    from astropy.table import Table

    try:
        table = Table.read(io.BytesIO(data), format=fmt)
    except Exception as exc:  # astropy raises many kinds for a broken file
        raise ConeFileError([f"cannot read the {fmt} table: {exc}"]) from exc
    ra_col = _column(table.colnames, _RA_NAMES)
    dec_col = _column(table.colnames, _DEC_NAMES)
    if ra_col is None or dec_col is None:
        raise ConeFileError([f"the {fmt} table has no ra and dec columns: {table.colnames}"])
    name_col = _column(table.colnames, _NAME_NAMES)
    radius_col = _column(table.colnames, _RADIUS_NAMES)
    n = len(table)

    def values(col: str | None) -> np.ndarray:
        if col is None:
            return np.full(n, np.nan)
        c = table[col]
        arr = np.ma.filled(np.ma.asarray(c, dtype=np.float64), np.nan)
        return np.asarray(arr, dtype=np.float64)

    names = (
        [""] * n
        if name_col is None
        else ["" if np.ma.is_masked(v) else str(v).strip() for v in table[name_col]]
    )
    ra, dec = values(ra_col), values(dec_col)
    problems = [f"row {i + 1}: RA or Dec is missing" for i in np.flatnonzero(np.isnan(ra + dec))]
    rows = list(range(1, n + 1))
    return _checked(list(ra), list(dec), names, list(values(radius_col)), problems, "row", rows)


def _checked(
    ra: Sequence[float] | np.ndarray,
    dec: Sequence[float] | np.ndarray,
    names: list[str],
    radius: Sequence[float] | np.ndarray,
    problems: list[str],
    unit: str,
    numbers: list[int],
) -> Cones:
    """Range checks on whole columns; raise with every problem, or return the cones."""
    a_ra = np.asarray(ra, dtype=np.float64)
    a_dec = np.asarray(dec, dtype=np.float64)
    a_rad = np.asarray(radius, dtype=np.float64)
    for i in np.flatnonzero(~((a_ra >= 0) & (a_ra < 360))):
        if np.isfinite(a_ra[i]):
            problems.append(f"{unit} {numbers[i]}: RA {a_ra[i]} is not in [0, 360) deg")
    for i in np.flatnonzero(~((a_dec >= -90) & (a_dec <= 90))):
        if np.isfinite(a_dec[i]):
            problems.append(f"{unit} {numbers[i]}: Dec {a_dec[i]} is not in [-90, 90] deg")
    bad_r = ~np.isnan(a_rad) & ~((a_rad > 0) & (a_rad <= MAX_RADIUS))
    for i in np.flatnonzero(bad_r):
        problems.append(
            f"{unit} {numbers[i]}: radius {a_rad[i]} arcsec is not in (0, {MAX_RADIUS:g}]"
        )
    for k, name in enumerate(names):
        if len(name) > MAX_NAME:
            problems.append(f"{unit} {numbers[k]}: name {name[:40]!r}... is longer than {MAX_NAME}")
    if len(a_ra) > MAX_CONES:
        problems.append(f"{len(a_ra)} cones: a watchlist holds at most {MAX_CONES:,}")
    if not len(a_ra) and not problems:
        problems.append("the file holds no cones")
    if problems:
        raise ConeFileError(sorted(problems, key=_line_of))
    return Cones(a_ra, a_dec, names, a_rad)


def _line_of(problem: str) -> int:
    """The line or row number a problem message starts with (0 for the whole file)."""
    head = problem.split(":", 1)[0].split()
    return int(head[1]) if len(head) == 2 and head[1].isdigit() else 0
