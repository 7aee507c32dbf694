"""Lanner's own REST API, versioned under ``/api/v1/``: watchlists and watchmaps
(:mod:`.sky_areas`), filters (:mod:`.filters`), annotators, light curves, cutouts, the
schema and status (:mod:`.data`); and Lasair's ``/fits/…`` cutout URLs.

Output: :data:`router`, included by :func:`lanner.serve.app.create_app`. Routes take the
caller from :func:`lanner.serve.auth.api_user` (throttled, one count per request) and the
archive from the server's store pool. Errors have the shapes of the Lasair-compatible
routes (:mod:`lanner.serve.v1.common`).
"""

from __future__ import annotations

from fastapi import APIRouter

from lanner.serve.v1 import data, filters, sky_areas

#: The versioned routes' prefix.
PREFIX = "/api/v1"

router = APIRouter()
_v1 = APIRouter(prefix=PREFIX, tags=["lanner"])
_v1.include_router(sky_areas.router)
_v1.include_router(filters.router)
_v1.include_router(data.router)
router.include_router(_v1)
router.include_router(data.fits_router)
