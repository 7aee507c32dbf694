"""TNS public objects files in the real format, made from public data: for tests and the
benchmark, which never reach the TNS.

Input: the ZTF Bright Transient Survey list (``ZTFID, IAUID, ra_deg, dec_deg, type,
redshift, peakmag, peakfilt, ...``; 5,417 TNS-named transients), or a row count.
Output: the bytes of a ``tns_public_objects`` file (a timestamp line, then the quoted
header and rows as TNS writes them; 21 or 23 columns; zipped or not). No side effects.

Each BTS row becomes a TNS row: ``IAUID`` ``SN2018bfx`` gives ``name_prefix`` ``SN`` and
``name`` ``2018bfx``; the ZTF id is the internal name; a ``-`` type or redshift is empty
(``""``). :func:`synthetic_rows` repeats the BTS rows with new names and positions spread
over the sky, to reach the TNS's size (about 170,000 entries).
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lanner.tns.csv_file import HEADER_21, HEADER_23

Row = dict[str, str]


def _empty(value: str) -> str:
    return "" if value in ("-", "") or value.startswith(">") else value


def bts_rows(path: Path) -> list[Row]:
    """TNS rows of the BTS list at ``path`` (``.csv`` or ``.csv.gz``)."""
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if path.suffix == ".gz" else raw.decode()
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(text))):
        iau = r["IAUID"]
        prefix = iau[:2] if iau[:2] in ("SN", "AT") else iau[:3]
        name = iau[len(prefix) :]
        year = name[:4]
        out.append(
            {
                "objid": str(100000 + i),
                "name_prefix": prefix,
                "name": name,
                "ra": r["ra_deg"],
                "declination": r["dec_deg"],
                "redshift": _empty(r["redshift"]),
                "typeid": "",
                "type": _empty(r["type"]),
                "reporting_groupid": "48",
                "reporting_group": "ZTF",
                "source_groupid": "48",
                "source_group": "ZTF",
                "discoverydate": f"{year}-06-01 00:00:00.000",
                "discoverymag": _empty(r["peakmag"]),
                "discmagfilter": "",
                "filter": r["peakfilt"],
                "reporters": "ZTF Bright Transient Survey",
                "time_received": f"{year}-06-01 12:00:00",
                "internal_names": r["ZTFID"],
                "Discovery_ADS_bibcode": "",
                "Class_ADS_bibcodes": "",
                "creationdate": f"{year}-06-01 12:00:00",
                "lastmodified": "2022-09-01 00:00:00",
            }
        )
    return out


def synthetic_rows(template: Sequence[Row], n: int, seed: int = 12) -> list[Row]:
    """``n`` rows copied from ``template`` with unique names and positions uniform on the
    sky."""
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0.0, 360.0, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    out = []
    for i in range(n):
        row = dict(template[i % len(template)])
        year = 2016 + i % 10
        row.update(
            objid=str(1_000_000 + i),
            name=f"{year}{_letters(i // 10)}",
            ra=f"{ra[i]:.7f}",
            declination=f"{dec[i]:.7f}",
        )
        out.append(row)
    return out


def _letters(k: int) -> str:
    """TNS-style suffix: a..z, aa..zz, aaa... (distinct for every k >= 0)."""
    size, k = 1, k
    while k >= 26**size:
        k -= 26**size
        size += 1
    chars = []
    for _ in range(size):
        k, r = divmod(k, 26)
        chars.append(chr(ord("a") + r))
    return "".join(reversed(chars))


def tns_file(
    rows: Sequence[Row],
    *,
    columns: int = 23,
    zipped: bool = False,
    timestamp: str = "2022-09-01 00:00:00",
    name: str = "tns_public_objects.csv",
) -> bytes:
    """The bytes of a TNS public objects file holding ``rows``."""
    header = HEADER_23 if columns == 23 else HEADER_21
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([timestamp])
    writer.writerow(header)
    writer.writerows([[r.get(c, "") for c in header] for r in rows])
    data = buf.getvalue().encode()
    if not zipped:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()
