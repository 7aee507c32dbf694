"""Lanner's own REST API, versioned under ``/api/v1/``: watchlists, watchmaps, filters,
annotators, cutouts, light curves, the schema and status.

Output: :data:`router`, included by :func:`lanner.serve.app.create_app`. Routes take the
caller from :func:`lanner.serve.auth.api_user` (throttled) or
:func:`~lanner.serve.auth.current_user`, and the archive from
``lanner.serve.auth.server_state(request).stores.session()``.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["lanner"])
