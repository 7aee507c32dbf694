"""The full-resolution SFD (1998) reddening maps, read from their two Lambert-projection files.

Input: a folder holding ``SFD_dust_4096_ngp.fits`` and ``SFD_dust_4096_sgp.fits`` (directly
or in an ``sfd/`` sub-folder: the layout of the ``dustmaps`` package's data directory; the
``sfdmap`` package's folder works as it is). Output: E(B-V) [mag] at Galactic positions. No
side effects; the maps are memory-mapped, so only the pixels asked for are read.

Format (Schlegel, Finkbeiner & Davis 1998, ApJ 500, 525, appendix C): one 4096 × 4096
float image per Galactic hemisphere, in a zenithal equal-area (Lambert) projection about
the pole, with the keywords ``LAM_NSGP`` (+1 north, -1 south), ``LAM_SCAL`` (pixels from the
pole to the equator) and ``CRPIX1``/``CRPIX2`` (the pole's pixel, 1-based). Galactic
``(l, b)`` falls at the 0-based pixel

    x = CRPIX1 - 1 + LAM_SCAL · sqrt(1 - n sin b) · cos l
    y = CRPIX2 - 1 - n · LAM_SCAL · sqrt(1 - n sin b) · sin l

of the hemisphere ``n`` (north for ``b >= 0``). Values are interpolated bilinearly between
the four surrounding pixel centres, edges clamped (as ``dustmaps``' default ``order=1``
query and SFD's own ``interp`` option).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

#: File name of each hemisphere's E(B-V) map.
SFD_FILES = {1: "SFD_dust_4096_ngp.fits", -1: "SFD_dust_4096_sgp.fits"}


def find_sfd_files(folder: Path) -> dict[int, Path] | None:
    """The two map files in ``folder`` or ``folder/sfd``; ``None`` if either is missing."""
    for where in (folder, folder / "sfd"):
        paths = {n: where / name for n, name in SFD_FILES.items()}
        if all(p.is_file() for p in paths.values()):
            return paths
    return None


class _Hemisphere:
    def __init__(self, path: Path, expected_sign: int) -> None:
        with fits.open(path, memmap=True) as hdul:
            header = hdul[0].header
            # np.asarray keeps the memory map open after the file object is closed.
            self.data = np.asarray(hdul[0].data)
        missing = [k for k in ("LAM_NSGP", "LAM_SCAL", "CRPIX1", "CRPIX2") if k not in header]
        if missing or self.data.ndim != 2:
            raise ValueError(f"{path}: not an SFD Lambert map (missing {', '.join(missing)})")
        self.sign = int(header["LAM_NSGP"])
        if self.sign != expected_sign:
            raise ValueError(f"{path}: LAM_NSGP is {self.sign}, expected {expected_sign}")
        self.scale = float(header["LAM_SCAL"])
        self.x0 = float(header["CRPIX1"]) - 1.0
        self.y0 = float(header["CRPIX2"]) - 1.0

    def pixel(self, glon_rad: np.ndarray, glat_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel coordinates (x, y) of Galactic positions [rad] of this hemisphere."""
        rho = self.scale * np.sqrt(np.clip(1.0 - self.sign * np.sin(glat_rad), 0.0, 2.0))
        return self.x0 + rho * np.cos(glon_rad), self.y0 - self.sign * rho * np.sin(glon_rad)

    def bilinear(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ny, nx = self.data.shape
        x = np.clip(x, 0.0, nx - 1.0)
        y = np.clip(y, 0.0, ny - 1.0)
        ix = np.minimum(np.floor(x).astype(np.int64), nx - 2)
        iy = np.minimum(np.floor(y).astype(np.int64), ny - 2)
        fx, fy = x - ix, y - iy
        d = self.data
        return np.asarray(
            (1 - fy) * ((1 - fx) * d[iy, ix] + fx * d[iy, ix + 1])
            + fy * ((1 - fx) * d[iy + 1, ix] + fx * d[iy + 1, ix + 1]),
            dtype=np.float64,
        )


class SfdLambertMap:
    """E(B-V) from the full SFD maps in ``folder`` (see the module docstring).

    Raises
    ------
    FileNotFoundError
        If the folder lacks either map file.
    """

    def __init__(self, folder: Path) -> None:
        paths = find_sfd_files(folder)
        if paths is None:
            names = " and ".join(SFD_FILES.values())
            raise FileNotFoundError(f"{folder}: no {names} (nor in {folder / 'sfd'})")
        self.paths = paths
        self._hemispheres = {n: _Hemisphere(p, n) for n, p in paths.items()}

    @property
    def description(self) -> str:
        return f"SFD (1998) full-resolution Lambert maps in {self.paths[1].parent}"

    def ebv(self, glon_deg: np.ndarray, glat_deg: np.ndarray) -> np.ndarray:
        """E(B-V) [mag] at Galactic ``(glon, glat)`` [deg]; NaN where a coordinate is NaN."""
        glon = np.asarray(glon_deg, dtype=np.float64)
        glat = np.asarray(glat_deg, dtype=np.float64)
        out = np.full(glon.shape, np.nan)
        ok = np.isfinite(glon) & np.isfinite(glat) & (np.abs(glat) <= 90)
        for sign, hemi in self._hemispheres.items():
            sel = ok & ((glat >= 0) if sign == 1 else (glat < 0))
            if sel.any():
                x, y = hemi.pixel(np.radians(glon[sel]), np.radians(glat[sel]))
                out[sel] = hemi.bilinear(x, y)
        return out
