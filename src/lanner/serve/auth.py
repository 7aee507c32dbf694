"""Who is calling: FastAPI dependencies for the API and the web site.

Input: the request's ``Authorization: Token <key>`` header, its ``?token=<key>`` query
parameter or its session cookie (:data:`~lanner.serve.accounts.SESSION_COOKIE`), tried in
that order as Lasair's DRF views do. Output: an :class:`~lanner.serve.accounts.Account`.
Side effects: :func:`api_user` counts the request against the caller's hourly limit.

* :func:`optional_user` — the caller, or ``None`` without credentials (a wrong token is
  still a 401: a typo must not silently turn into anonymous access);
* :func:`current_user` — the caller, or 401 ``{"detail": …}``;
* :func:`api_user` — :func:`current_user`, throttled by tier (429 with ``Retry-After``).

:func:`login` and :func:`logout` are what the web site's login form calls; they set and
clear the cookie (``HttpOnly``, ``SameSite=Lax``; ``Secure`` behind HTTPS).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import Request, Response

from lanner.serve import accounts, throttle
from lanner.serve.accounts import SESSION_COOKIE, Account
from lanner.serve.errors import (
    INVALID_TOKEN,
    INVALID_TOKEN_FORMAT,
    NO_CREDENTIALS,
    throttled,
    unauthorized,
)

if TYPE_CHECKING:
    from lanner.serve.app import ServerState

#: What a token in the query string may look like (Lasair: ``^\w+$``; ``-`` too, for the
#: URL-safe keys of ``lanner user add``).
TOKEN_FORMAT = re.compile(r"^[\w-]+$")
TIER_INDEX = {"anon": 0, "user": 1, "power": 2}


def server_state(request: Request) -> ServerState:
    """The application's shared state (settings, store pool, metrics)."""
    state: ServerState = request.app.state.lanner
    return state


def _authenticate(request: Request) -> Account | None:
    state = server_state(request)
    header = request.headers.get("authorization", "")
    parts = header.split()
    key: str | None = None
    if parts and parts[0].lower() == "token":
        if len(parts) == 1:
            raise unauthorized("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise unauthorized("Invalid token header. Token string should not contain spaces.")
        key = parts[1]
    elif "token" in request.query_params:
        key = request.query_params["token"]
        if not TOKEN_FORMAT.match(key):
            raise unauthorized(INVALID_TOKEN_FORMAT)
    with state.stores.session() as store:
        if key is not None:
            user = accounts.user_by_token(store, key)
            if user is None:
                raise unauthorized(INVALID_TOKEN)
        else:
            session = request.cookies.get(SESSION_COOKIE)
            user = accounts.user_by_session(store, session) if session else None
            if user is None:
                return None
        account = accounts.account_of(store, user)
    request.state.account = account
    return account


def optional_user(request: Request) -> Account | None:
    """The caller if they gave credentials, else ``None``; 401 for credentials that are
    wrong."""
    cached: Account | None = getattr(request.state, "account", None)
    return cached if cached is not None else _authenticate(request)


def current_user(request: Request) -> Account:
    """The caller; 401 without (valid) credentials."""
    account = optional_user(request)
    if account is None:
        raise unauthorized(NO_CREDENTIALS)
    return account


def api_user(request: Request) -> Account:
    """The caller, with this request counted against their tier's hourly limit."""
    account = current_user(request)
    if getattr(request.state, "counted", False):
        return account  # one count per request, however many routes depend on it
    state = server_state(request)
    limit = state.settings.api_rates[TIER_INDEX[account.tier]]
    with state.stores.session() as store:
        wait = throttle.take(store, account.user_id, limit)
    request.state.counted = True
    if wait is not None:
        state.metrics.throttled.labels(account.tier).inc()
        raise throttled(int(wait))
    return account


def row_cap(request: Request, account: Account) -> int:
    """Most rows one query of ``account`` may return."""
    return server_state(request).settings.api_row_caps[TIER_INDEX[account.tier]]


def query_timeout(request: Request, account: Account) -> float:
    """Time limit (s) of one query of ``account``: their own, else the server's."""
    if account.query_timeout:
        return float(account.query_timeout)
    return float(server_state(request).settings.query_timeout)


def login(request: Request, response: Response, username: str, password: str) -> Account | None:
    """Check a user's name and password; on success set the session cookie on
    ``response`` and return the account, else ``None`` (the caller says "wrong name or
    password" without telling which)."""
    state = server_state(request)
    with state.stores.session() as store:
        session = accounts.start_session(store, username, password, state.settings.session_hours)
        if session is None:
            return None
        user = accounts.user_by_session(store, session)
        assert user is not None
        account = accounts.account_of(store, user)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(state.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return account


def logout(request: Request, response: Response) -> None:
    """End the caller's session (if any) and clear its cookie."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        with server_state(request).stores.session() as store:
            accounts.end_session(store, session)
    response.delete_cookie(SESSION_COOKIE)
