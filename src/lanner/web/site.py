"""The web site's router: every group of pages in one :class:`fastapi.APIRouter`.

Output: :data:`router` (``lanner.web.router``). No side effects.
"""

from __future__ import annotations

from fastapi import APIRouter

from lanner.web import account_pages, areas, filters, marshall, objects, status

router = APIRouter(include_in_schema=False)
for _module in (objects, filters, areas, marshall, status, account_pages):
    router.include_router(_module.router)
