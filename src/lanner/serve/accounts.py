"""Web accounts: passwords, tiers, API tokens and sessions of the users of ``users``.

Input: an open :class:`~lanner.store.Store` and a user's id, name, password or secret.
Output: users and freshly made secrets (a token or session id is returned once, when made,
and never again). Side effects: rows of ``api_accounts``, ``api_tokens``, ``api_sessions``,
each call in one committed transaction.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters, re-hashed on login
when those change). Tokens and session ids are random (160 and 256 bits), so a fast hash
(SHA-256) is enough to make a leaked database useless for logging in. A user's key made by
``lanner user add`` (``users.api_key_hash``) is a token too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lanner.filter.users import User, user_by_key
from lanner.store import Store
from lanner.store.accounts import utc_now

Tier = Literal["anon", "user", "power"]
TIERS: tuple[Tier, ...] = ("anon", "user", "power")
#: The cookie carrying a web session's id.
SESSION_COOKIE = "lanner_session"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """A user as the server sees them: who, their tier and their query time limit."""

    user_id: int
    username: str
    tier: Tier
    query_timeout: float | None


def secret_hash(secret: str) -> str:
    """SHA-256 (hex) of a token or session id: what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _run(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """One statement in its own committed transaction; the rows it returns."""
    try:
        cur = store.con.execute(sql, params)
        rows = list(cur.fetchall()) if cur.description else []
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return rows


def _stamp(store: Store) -> Any:
    now = utc_now()
    return now.isoformat(timespec="microseconds") if store.backend.dialect == "sqlite" else now


def _ensure_account(store: Store, user_id: int) -> None:
    ph = store.backend.placeholder
    _run(
        store,
        f"INSERT INTO api_accounts (user_id, tier) VALUES ({ph}, 'user') ON CONFLICT DO NOTHING",
        (user_id,),
    )


def set_password(store: Store, user_id: int, password: str) -> None:
    """Give a user a password (8 characters or more)."""
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    _ensure_account(store, user_id)
    ph = store.backend.placeholder
    _run(
        store,
        f"UPDATE api_accounts SET password_hash = {ph} WHERE user_id = {ph}",
        (_hasher.hash(password), user_id),
    )


def set_tier(store: Store, user_id: int, tier: str, query_timeout: float | None = None) -> None:
    """Put a user in a tier (anon, user, power), optionally with their own query time
    limit in seconds."""
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not one of {', '.join(TIERS)}")
    if query_timeout is not None and not query_timeout > 0:
        raise ValueError("a query time limit must be more than 0 seconds")
    _ensure_account(store, user_id)
    ph = store.backend.placeholder
    _run(
        store,
        f"UPDATE api_accounts SET tier = {ph}, query_timeout = {ph} WHERE user_id = {ph}",
        (tier, query_timeout, user_id),
    )


def account_of(store: Store, user: User) -> Account:
    """The tier and query time limit of ``user`` (tier ``user`` when none was set)."""
    ph = store.backend.placeholder
    rows = _run(
        store,
        f"SELECT tier, query_timeout FROM api_accounts WHERE user_id = {ph}",
        (user.user_id,),
    )
    tier, timeout = (rows[0][0], rows[0][1]) if rows else ("user", None)
    return Account(user.user_id, user.username, tier if tier in TIERS else "user", timeout)


def _user(store: Store, user_id: int) -> User | None:
    row = store.user_where("user_id", user_id)
    return None if row is None else User(*row)


def check_password(store: Store, username: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else ``None`` (unknown names cost the same
    time as wrong passwords)."""
    ph = store.backend.placeholder
    rows = _run(
        store,
        "SELECT u.user_id, a.password_hash FROM users u JOIN api_accounts a "
        f"ON a.user_id = u.user_id WHERE u.username = {ph}",
        (username,),
    )
    stored = rows[0][1] if rows and rows[0][1] else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    user_id = int(rows[0][0])
    if _hasher.check_needs_rehash(stored):
        _run(
            store,
            f"UPDATE api_accounts SET password_hash = {ph} WHERE user_id = {ph}",
            (_hasher.hash(password), user_id),
        )
    return _user(store, user_id)


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def issue_token(store: Store, user_id: int, label: str = "auth-token") -> str:
    """A new API token of ``user_id`` (40 hex digits, as Lasair's); shown only now."""
    token = secrets.token_hex(20)
    ph = store.backend.placeholder
    _run(
        store,
        f"INSERT INTO api_tokens (token_hash, user_id, created, label) "
        f"VALUES ({ph}, {ph}, {ph}, {ph})",
        (secret_hash(token), user_id, _stamp(store), label),
    )
    return token


def user_by_token(store: Store, token: str) -> User | None:
    """The user a token (made here or by ``lanner user add``) belongs to, or ``None``."""
    ph = store.backend.placeholder
    rows = _run(
        store, f"SELECT user_id FROM api_tokens WHERE token_hash = {ph}", (secret_hash(token),)
    )
    if rows:
        return _user(store, int(rows[0][0]))
    return user_by_key(store, token)


def revoke_tokens(store: Store, user_id: int) -> int:
    """Delete every token made here for ``user_id``; how many there were."""
    ph = store.backend.placeholder
    rows = _run(
        store, f"DELETE FROM api_tokens WHERE user_id = {ph} RETURNING token_hash", (user_id,)
    )
    return len(rows)


def start_session(store: Store, username: str, password: str, hours: float) -> str | None:
    """Log a user in: a new session id for the cookie, or ``None`` if the name or password
    is wrong."""
    user = check_password(store, username, password)
    if user is None:
        return None
    session = secrets.token_urlsafe(32)
    ph = store.backend.placeholder
    _run(
        store,
        f"INSERT INTO api_sessions (session_hash, user_id, created, expires) "
        f"VALUES ({ph}, {ph}, {ph}, {ph})",
        (secret_hash(session), user.user_id, _stamp(store), time.time() + hours * 3600.0),
    )
    return session


def user_by_session(store: Store, session: str) -> User | None:
    """The user of a live session id, or ``None`` (unknown or expired)."""
    ph = store.backend.placeholder
    rows = _run(
        store,
        f"SELECT user_id FROM api_sessions WHERE session_hash = {ph} AND expires > {ph}",
        (secret_hash(session), time.time()),
    )
    return _user(store, int(rows[0][0])) if rows else None


def end_session(store: Store, session: str) -> None:
    """Log out: the session id no longer works (expired sessions are removed too)."""
    ph = store.backend.placeholder
    _run(
        store,
        f"DELETE FROM api_sessions WHERE session_hash = {ph} OR expires <= {ph}",
        (secret_hash(session), time.time()),
    )
