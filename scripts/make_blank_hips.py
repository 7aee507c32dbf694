"""Write the blank HiPS the web site's sky views can use without network access.

Output: ``src/lanner/web/static/hips/blank/`` — a HiPS ``properties`` file, its whole-sky
MOC, the order-3 ``Allsky`` preview and 60 tiles (orders 0 and 1, 64 × 64 PNG of one dark
grey), about 20 kB in all. Point
``LANNER_SKY_SURVEY`` at ``/static/hips/blank`` on a machine without network access (the
tests do): the sky view then starts, draws its marks and regions, and asks nothing of
other hosts. Run once; the files are committed.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "lanner" / "web" / "static" / "hips" / "blank"
WIDTH = 64
GREY = 24

PROPERTIES = f"""creator_did = ivo://lanner/P/blank
obs_title = Blank sky (no survey: offline)
obs_description = A uniform dark sky, for sky views without network access
dataproduct_type = image
hips_version = 1.4
hips_release_date = 2026-01-01T00:00Z
hips_status = public master unclonable
hips_frame = equatorial
hips_order = 1
hips_order_min = 0
hips_tile_width = {WIDTH}
hips_tile_format = png
hips_initial_fov = 180
"""


def png(width: int, grey: int, height: int | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height = width if height is None else height
    rows = b"".join(b"\x00" + bytes([grey]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    tile = png(WIDTH, GREY)
    (OUT / "Norder3").mkdir(parents=True, exist_ok=True)
    (OUT / "properties").write_text(PROPERTIES)
    for order in (0, 1):
        folder = OUT / f"Norder{order}" / "Dir0"
        folder.mkdir(parents=True, exist_ok=True)
        for npix in range(12 * 4**order):
            (folder / f"Npix{npix}.png").write_bytes(tile)
    # The whole-sky preview Aladin Lite reads first (768 order-3 thumbnails, 27 a row).
    (OUT / "Norder3" / "Allsky.png").write_bytes(png(27 * WIDTH, GREY, 29 * WIDTH))
    from mocpy import MOC

    MOC.from_string("0/0-11", format="ascii").save(OUT / "Moc.fits", format="fits", overwrite=True)


if __name__ == "__main__":
    main()
