"""Accounts on the web site: sign up, log in, log out, and the API token page.

Input: form posts (each with its CSRF token). Output: pages and redirects. Side effects:
new users (``users`` and ``api_accounts``, the password hashed by
:mod:`lanner.serve.accounts`), sessions (the cookie set by :func:`lanner.serve.auth.login`),
API tokens (shown once, stored as hashes).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lanner.filter.errors import FilterError
from lanner.filter.users import create_user
from lanner.serve import accounts
from lanner.serve.auth import login, logout
from lanner.web.pages import check_csrf, render, require_user, store_session

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site (no open redirect)."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not (parts.path or "/").startswith("/"):
        return "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(check_csrf)])
def login_post(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if login(request, response, username.strip(), password) is None:
        return render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": "Wrong user name or password.",
                "username": username,
            },
            status=401,
        )
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout_post(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    logout(request, response)
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> Response:
    return render(request, "signup.html", {"error": None})


@router.post("/signup", dependencies=[Depends(check_csrf)])
def signup_post(
    request: Request,
    username: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password2: Annotated[str, Form()] = "",
) -> Response:
    """Make an account and log in."""
    error = None
    if password != password2:
        error = "The two passwords differ."
    elif len(password) < 8:
        error = "A password needs at least 8 characters."
    else:
        with store_session(request) as store:
            try:
                user, _key = create_user(store, username.strip(), email.strip() or None)
                accounts.set_password(store, user.user_id, password)
            except (FilterError, ValueError) as exc:
                error = exc.message if isinstance(exc, FilterError) else str(exc)
    if error:
        return render(
            request,
            "signup.html",
            {"error": error, "username": username, "email": email},
            status=400,
        )
    response = RedirectResponse("/account/", status_code=303)
    login(request, response, username.strip(), password)
    return response


@router.get("/account/", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    account = require_user(request)
    return render(request, "account.html", {"account": account, "token": None})


@router.post("/account/token", dependencies=[Depends(check_csrf)])
def new_token(request: Request) -> Response:
    """Make an API token, shown on this page only."""
    account = require_user(request)
    with store_session(request) as store:
        token = accounts.issue_token(store, account.user_id)
    return render(request, "account.html", {"account": account, "token": token})


@router.post("/account/revoke", dependencies=[Depends(check_csrf)])
def revoke(request: Request) -> Response:
    account = require_user(request)
    with store_session(request) as store:
        n = accounts.revoke_tokens(store, account.user_id)
    return render(request, "account.html", {"account": account, "token": None, "revoked": n})
