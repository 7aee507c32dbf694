"""Lanner's web site: server-rendered pages over the archive, with small progressive
JavaScript (htmx, Plotly, Aladin Lite, a canvas FITS viewer).

Output: :data:`router` (made on first use by :mod:`lanner.web.site`, so that the schema
registry can read :mod:`lanner.web.tables` without importing the pages), included by
:func:`lanner.serve.app.create_app`; static files (``lanner/web/static/``, the front-end
libraries under ``vendor/``) are served at ``/static/``. Pages take the signed-in user from
:func:`lanner.serve.auth.optional_user` and log in with :func:`lanner.serve.auth.login`.
One module per group of pages: :mod:`.objects`, :mod:`.filters`, :mod:`.areas`
(watchlists, watchmaps, sky maps), :mod:`.marshall`, :mod:`.status` (status and kinetic
display), :mod:`.account_pages`.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "router":
        from lanner.web.site import router

        return router
    raise AttributeError(name)
