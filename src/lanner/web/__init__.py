"""Lanner's web site: server-rendered pages over the archive.

Output: :data:`router`, included by :func:`lanner.serve.app.create_app`; static files
(``lanner/web/static/``) are served at ``/static/``. Pages take the logged-in user from
:func:`lanner.serve.auth.optional_user` and log in with :func:`lanner.serve.auth.login`.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
