"""Hierarchical Triangular Mesh (HTM) ids of sky positions, as Lasair's ``htm16`` column.

Input: right ascension and declination [deg] as numpy arrays. Output: int64 HTM ids at a
given level. No side effects.

The HTM (Kunszt, Szalay & Thakar 2001, "The Hierarchical Triangular Mesh", in Mining the
Sky, ESO Astrophysics Symposia, 631; the SDSS ``htmid`` and Lasair's ``gkhtm.htmID``)
divides the sphere into 8 spherical triangles, the faces of an octahedron with vertices on
the axes, and each triangle recursively into 4 by the midpoints of its sides. With
``v0 = +z``, ``v1 = +x``, ``v2 = +y``, ``v3 = -x``, ``v4 = -y``, ``v5 = -z`` the roots, in
counter-clockwise vertex order, are

====  ================  ==
name  vertices          id
====  ================  ==
S0    v1, v5, v2        8
S1    v2, v5, v3        9
S2    v3, v5, v4        10
S3    v4, v5, v1        11
N0    v1, v0, v4        12
N1    v4, v0, v3        13
N2    v3, v0, v2        14
N3    v2, v0, v1        15
====  ================  ==

A triangle ``(a, b, c)`` with side midpoints ``w0 = mid(b, c)``, ``w1 = mid(a, c)``,
``w2 = mid(a, b)`` (normalised to the sphere) has the children ``0: (a, w2, w1)``,
``1: (b, w0, w2)``, ``2: (c, w1, w0)``, ``3: (w0, w1, w2)``; a child's id is its parent's id
times 4 plus its number. A level-``L`` id therefore lies in ``[8·4^L, 16·4^L)``. A point lies
in a triangle when it is on the inner side of the three great circles of its sides (a point on
a side goes to the first triangle tested). Every level is one vectorised step over all points.
"""

from __future__ import annotations

import numpy as np

#: Octahedron vertices v0 … v5.
_V = np.array(
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0],
     [0.0, 0.0, -1.0]]
)  # fmt: skip
#: Root triangles (vertex indices into ``_V``) in id order 8 … 15.
_ROOTS = np.array(
    [[1, 5, 2], [2, 5, 3], [3, 5, 4], [4, 5, 1], [1, 0, 4], [4, 0, 3], [3, 0, 2], [2, 0, 1]]
)
#: Tolerance of the inside test: points on a side (rounding) count as inside.
_EPS = -1e-15
#: Vertices of each child among (a, b, c, w0, w1, w2) of its parent, child 0 … 3.
_CHILDREN = np.array([[0, 5, 4], [1, 3, 5], [2, 4, 3], [3, 4, 5]])


def _side(p: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether each point ``p`` (rows) is on the inner (left) side of the great circle
    ``u → v``: the triple product ``p · (u × v) >= 0``."""
    cross = np.stack(
        [
            u[:, 1] * v[:, 2] - u[:, 2] * v[:, 1],
            u[:, 2] * v[:, 0] - u[:, 0] * v[:, 2],
            u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0],
        ],
        axis=1,
    )
    return np.asarray((p * cross).sum(axis=1) >= _EPS)


def htm_id(ra_deg: np.ndarray, dec_deg: np.ndarray, level: int = 16) -> np.ndarray:
    """HTM id [int64] of each position at ``level`` (0 … 25); -1 where ra or dec is not finite.

    Parameters
    ----------
    ra_deg, dec_deg
        Right ascension and declination [deg], any shape (broadcast together).
    level
        Depth of the mesh: 16 gives triangles of about 3.4 arcsec (Lasair's ``htm16``).

    Notes
    -----
    Inside a parent triangle, children 0-2 each share two sides with it, so one triple
    product per child (its side between two midpoints) decides: three per level.
    """
    if not 0 <= level <= 25:
        raise ValueError(f"HTM level must be between 0 and 25, not {level}")
    ra, dec = np.broadcast_arrays(
        np.asarray(ra_deg, dtype=np.float64), np.asarray(dec_deg, dtype=np.float64)
    )
    shape = ra.shape
    ra, dec = ra.ravel(), dec.ravel()
    out = np.full(ra.size, -1, dtype=np.int64)
    ok = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
    if not ok.any():
        return out.reshape(shape)
    r, d = np.radians(ra[ok]), np.radians(dec[ok])
    p = np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=1)
    n = len(p)
    ids = np.full(n, -1, dtype=np.int64)
    # tri[i] holds the corners (a, b, c) of point i's current triangle, shape (n, 3, 3).
    tri = np.zeros((n, 3, 3))
    for k in range(len(_ROOTS) - 1, -1, -1):  # the first root that holds a point wins
        corners = _V[_ROOTS[k]]
        u = [np.broadcast_to(v, (n, 3)) for v in corners]
        hit = _side(p, u[0], u[1]) & _side(p, u[1], u[2]) & _side(p, u[2], u[0])
        ids[hit] = 8 + k
        tri[hit] = corners
    rows = np.arange(n)[:, None]
    for _ in range(level):
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        mids = np.stack([b + c, a + c, a + b], axis=1)
        mids /= np.linalg.norm(mids, axis=2, keepdims=True)
        w0, w1, w2 = mids[:, 0], mids[:, 1], mids[:, 2]
        in0 = _side(p, w2, w1)
        in1 = _side(p, w0, w2)
        in2 = _side(p, w1, w0)
        child = np.where(in0, 0, np.where(in1, 1, np.where(in2, 2, 3)))
        ids = ids * 4 + child
        tri = np.concatenate([tri, mids], axis=1)[rows, _CHILDREN[child]]
    out[ok] = ids
    return out.reshape(shape)
