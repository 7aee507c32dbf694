"""What every page shares: templates, the signed-in user, the store, and CSRF protection.

Input: a request. Output: rendered HTML (:func:`render`), the caller's account
(:func:`user_of`, :func:`require_user`), the thread's store (:func:`store_session`).
Side effects: sets the CSRF cookie on pages that need it.

CSRF: a random token in a cookie (``lanner_csrf``, ``SameSite=Strict``) that every form
repeats in a hidden field ``csrf_token`` and every htmx request in the ``X-CSRF-Token``
header (set once on ``<body hx-headers>``); :func:`check_csrf` refuses a state-changing
request whose token is missing or different (403), and one whose ``Origin`` is another
site's. A cross-site page can neither read the cookie nor set the header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lanner.serve.accounts import Account
from lanner.serve.auth import optional_user, server_state
from lanner.serve.errors import ApiError
from lanner.store import Store

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSRF_COOKIE = "lanner_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def user_of(request: Request) -> Account | None:
    """The signed-in user, or ``None`` (a bad session cookie counts as signed out)."""
    try:
        return optional_user(request)
    except ApiError:
        return None


def require_user(request: Request) -> Account:
    """The signed-in user; otherwise a redirect (303) to the login page, back here after."""
    account = user_of(request)
    if account is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            here = request.headers.get("referer", "/") or "/"
            here = urlsplit(here).path or "/"
        raise HTTPException(
            303, "log in first", headers={"Location": f"/login?next={url_quote(here, safe='')}"}
        )
    return account


@contextmanager
def store_session(request: Request) -> Iterator[Store]:
    """The calling thread's store (see :class:`lanner.serve.stores.StorePool`)."""
    with server_state(request).stores.session() as store:
        yield store


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one (set by :func:`render`)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 43:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) a POST whose CSRF token does not match its cookie, or whose origin is
    another site."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin and origin != "null" and urlsplit(origin).netloc != host:
        raise HTTPException(403, "cross-site request refused")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page (or fragment) rendered with the user, CSRF token and settings it needs."""
    state = server_state(request)
    token = csrf_token(request)
    ctx = {
        "user": user_of(request),
        "csrf_token": token,
        "survey": state.survey,
        "settings": state.settings,
        "sky_survey": state.settings.sky_survey,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    if getattr(request.state, "new_csrf", None):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
