"""Users and their API keys.

Input/output: rows of the ``users`` table. An API key is shown once, when it is made; only
its SHA-256 is stored, so a leaked database does not leak keys. The embedded mode has one
user, ``local`` (id 1), created on first use. Rows are read and written through
:class:`lanner.store.accounts.AccountsStore`; ids come from the database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from lanner.filter.errors import FilterError
from lanner.store import Store

LOCAL_USER_ID = 1


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    email: str | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_local_user(store: Store) -> int:
    """The embedded mode's single user (the first user, id 1 on a new database), created on
    first use."""
    return store.local_user_id()


def create_user(store: Store, username: str, email: str | None = None) -> tuple[User, str]:
    """Make a user; returns the user and their API key (shown only this once)."""
    if not username or not username.replace("_", "").replace("-", "").isalnum():
        raise FilterError(
            f"invalid user name {username!r}", None, "use letters, digits, '-' and '_'"
        )
    ensure_local_user(store)
    key = secrets.token_urlsafe(32)
    user_id = store.add_user(username, email, _hash(key))
    if user_id is None:
        raise FilterError(f"user {username!r} exists already", None, "choose another name")
    return User(user_id, username, email), key


def _user_where(
    store: Store, column: Literal["api_key_hash", "username", "user_id"], value: object
) -> User | None:
    """The user whose ``column`` is ``value``, or ``None``."""
    row = store.user_where(column, value)
    return None if row is None else User(*row)


def user_by_key(store: Store, key: str) -> User | None:
    """The user an API key belongs to, or ``None``."""
    return _user_where(store, "api_key_hash", _hash(key))


def user_by_name(store: Store, username: str) -> User:
    user = _user_where(store, "username", username)
    if user is None:
        raise FilterError(f"no user {username!r}", None, "make one with: lanner user add NAME")
    return user


def get_user(store: Store, user_id: int) -> User:
    user = _user_where(store, "user_id", user_id)
    if user is None:
        raise FilterError(f"no user with id {user_id}")
    return user
