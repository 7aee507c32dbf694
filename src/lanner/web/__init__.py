"""Lanner's web site: server-rendered pages over the archive, with small progressive
JavaScript (htmx, Plotly, Aladin Lite, a canvas FITS viewer).

Output: :data:`router`, included by :func:`lanner.serve.app.create_app`; static files
(``lanner/web/static/``, the front-end libraries under ``vendor/``) are served at
``/static/``. Pages take the signed-in user from :func:`lanner.serve.auth.optional_user`
and log in with :func:`lanner.serve.auth.login`. One module per group of pages:
:mod:`.objects`, :mod:`.filters`, :mod:`.areas` (watchlists, watchmaps, sky maps),
:mod:`.marshall`, :mod:`.status` (status and kinetic display), :mod:`.account_pages`.
"""

from __future__ import annotations

from fastapi import APIRouter

from lanner.web import account_pages, areas, filters, marshall, objects, status

router = APIRouter(include_in_schema=False)
for _module in (objects, filters, areas, marshall, status, account_pages):
    router.include_router(_module.router)
