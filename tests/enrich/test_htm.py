"""HTM ids against Lasair's own ``htm16`` values and the mesh's definition."""

from __future__ import annotations

import numpy as np
import pytest

from lanner.enrich.htm import htm_id


def test_lasair_htm16_values() -> None:
    # lasair-lsst sample alerts 313637921267122191 and 402778310355976216 (diaObject
    # positions, their _object.json) and lasair4's sample_queries/1r.sql (ZTF18acvrfbh, mean
    # position): Lasair's gkhtm ids.
    ra = np.array([9.057050050707765, 55.791867711436744, 39.9364408])
    dec = np.array([-44.117973609689805, -32.211859925840955, 44.7023597])
    assert htm_id(ra, dec).tolist() == [38173659759, 38577356621, 68546208391]


def test_root_triangles_and_children() -> None:
    # Level 0: the octant centres fall in S0..S3 (south) and N0..N3 (north).
    ra = np.array([45.0, 135.0, 225.0, 315.0, 315.0, 225.0, 135.0, 45.0])
    dec = np.array([-30.0] * 4 + [30.0] * 4)
    assert htm_id(ra, dec, 0).tolist() == list(range(8, 16))
    # A child's id is its parent's id times 4 plus 0..3, at every level.
    rng = np.random.default_rng(3)
    ra, dec = rng.uniform(0, 360, 2000), np.degrees(np.arcsin(rng.uniform(-1, 1, 2000)))
    ids16, ids15 = htm_id(ra, dec, 16), htm_id(ra, dec, 15)
    assert np.array_equal(ids16 // 4, ids15)
    assert ((ids16 >= 8 * 4**16) & (ids16 < 16 * 4**16)).all()


def test_nearby_points_share_a_level16_triangle_and_far_ones_do_not() -> None:
    # Level-16 triangles are ~3.4 arcsec across: 0.01 arcsec apart nearly always share one.
    ra = np.full(2, 150.123456)
    dec = np.array([20.0, 20.0 + 0.01 / 3600])
    assert len(set(htm_id(ra, dec).tolist())) == 1
    assert (
        htm_id(np.array([150.0]), np.array([20.0]))[0]
        != htm_id(np.array([150.0]), np.array([20.01]))[0]
    )


def test_unknown_positions_and_bad_levels() -> None:
    assert htm_id(np.array([np.nan, 10.0]), np.array([0.0, 95.0])).tolist() == [-1, -1]
    with pytest.raises(ValueError, match="between 0 and 25"):
        htm_id(np.array([0.0]), np.array([0.0]), 26)
