"""Filters as things people own: save, edit, share, copy, activate, renew, expire, delete.

Input/output: rows of ``filters`` and ``filter_notices``, read and written through
:class:`lanner.store.accounts.AccountsStore` (ids from the database; deleting a filter
deletes its matches and notices). Every change of a
filter's SQL re-validates it for its owner (tables, columns, functions, and the watchlists
and watchmaps that owner may see), so a stored filter always compiles. An active filter
must select the object id (matches are delivered per object) and expires
:data:`ACTIVE_DAYS` after it was activated or last renewed; an expired filter stops and its
owner gets a notice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lanner.distribute.base import OUTPUTS
from lanner.filter.errors import FilterError
from lanner.filter.users import ensure_local_user
from lanner.store import Store

if TYPE_CHECKING:
    from lanner.filter.compile import CompiledFilter

#: Active filters stop after this long unless renewed.
ACTIVE_DAYS = 180


@dataclass(frozen=True)
class SavedFilter:
    """One row of ``filters``."""

    filter_id: int
    owner_id: int
    name: str
    sql: str
    active: bool
    public: bool
    description: str
    output: str
    output_options: str | None
    created: str | None
    expires: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _row(values: dict[str, Any]) -> SavedFilter:
    return SavedFilter(
        filter_id=int(values["filter_id"]),
        owner_id=int(values["owner_id"]),
        name=values["name"],
        sql=values["sql"],
        active=bool(values["active"]),
        public=bool(values["public"]),
        description=values["description"] or "",
        output=values["output"] or "none",
        output_options=values["output_options"],
        created=None if values["created"] is None else str(values["created"]),
        expires=None if values["expires"] is None else str(values["expires"]),
    )


def compile_for(store: Store, sql: str, owner_id: int) -> CompiledFilter:
    """Validate ``sql`` as ``owner_id``'s filter on this database."""
    from lanner.filter.archive import filter_context
    from lanner.filter.compile import compile_sql  # the SQL parser: only where it is needed

    return compile_sql(sql, filter_context(store, owner_id))


def lasair_to_sql(store: Store, selected: str, tables: str, conditions: str, owner_id: int) -> str:
    """The full SELECT of a filter given in Lasair's three parts (validated)."""
    from lanner.filter.archive import filter_context
    from lanner.filter.compile import compile_lasair

    return compile_lasair(selected, tables, conditions, filter_context(store, owner_id)).display_sql


def _check(
    store: Store, sql: str, owner_id: int, active: bool, output: str, output_options: str | None
) -> None:
    from lanner.filter.stream import check_per_batch

    compiled = compile_for(store, sql, owner_id)
    check_per_batch(compiled, compiled.context.catalog if compiled.context else {})
    oid = store.object_id_column
    if active and oid not in compiled.columns:
        raise FilterError(
            f"an active filter must select `{oid}`",
            "selected",
            f"add objects.{oid} to the SELECT list: matches are sent per object",
        )
    if output not in OUTPUTS:
        raise FilterError(f"unknown output {output!r}", None, f"use one of {', '.join(OUTPUTS)}")
    from lanner.distribute.router import output_options as parse_options
    from lanner.distribute.webhook_url import UnsafeURLError, check_webhook_url

    try:
        options = parse_options(output, output_options)
    except ValueError as exc:
        raise FilterError(str(exc), "output options") from exc
    if options.webhook_url is not None:
        try:
            check_webhook_url(options.webhook_url)
        except UnsafeURLError as exc:
            raise FilterError(str(exc), "webhook_url", exc.hint) from exc


def add_filter(
    store: Store,
    name: str,
    sql: str,
    *,
    active: bool = False,
    owner_id: int | None = None,
    description: str = "",
    public: bool = False,
    output: str = "none",
    output_options: str | None = None,
) -> SavedFilter:
    """Validate and save a filter; raise :class:`FilterError` saying what to fix."""
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    if not name.strip():
        raise FilterError("a filter needs a name")
    _check(store, sql, owner, active, output, output_options)
    now = _now()
    expires = (now + dt.timedelta(days=ACTIVE_DAYS)).isoformat() if active else None
    filter_id = store.add_filter_row(
        {
            "owner_id": owner,
            "name": name,
            "sql": sql,
            "active": active,
            "public": public,
            "description": description,
            "output": output,
            "output_options": output_options,
            "created": now.isoformat(),
            "expires": expires,
        }
    )
    if filter_id is None:
        raise FilterError(
            f"you already have a filter named {name!r}",
            None,
            "choose another name, or edit that one",
        )
    return get_filter(store, filter_id)


def get_filter(store: Store, filter_id: int) -> SavedFilter:
    rows = store.filter_rows(filter_id=filter_id)
    if not rows:
        raise FilterError(f"no filter with id {filter_id}")
    return _row(rows[0])


def find_filter(store: Store, ref: str, owner_id: int | None = None) -> SavedFilter:
    """A filter by id, or by name among ``owner_id``'s (default: the local user's)."""
    if ref.isdigit():
        return get_filter(store, int(ref))
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    rows = store.filter_rows(owner_id=owner, name=ref)
    if not rows:
        raise FilterError(f"no filter named {ref!r}", None, "see: lanner filter list")
    return _row(rows[0])


def find_copyable(store: Store, ref: str, owner_id: int) -> SavedFilter:
    """A filter to copy: by id, one of ``owner_id``'s by name, else the public filter of
    another user with that name (an error names the ids when several users share it)."""
    if ref.isdigit():
        return get_filter(store, int(ref))
    named = [f for f in list_filters(store, owner_id) if f.name == ref]
    own = [f for f in named if f.owner_id == owner_id]
    if own:
        return own[0]
    if len(named) == 1:
        return named[0]
    if not named:
        raise FilterError(
            f"no filter named {ref!r} of yours or public", None, "see: lanner filter list --all"
        )
    ids = ", ".join(str(f.filter_id) for f in named)
    raise FilterError(
        f"several public filters are named {ref!r}", None, f"copy one by its id: {ids}"
    )


def list_filters(
    store: Store, owner_id: int | None = None, include_public: bool = True
) -> list[SavedFilter]:
    """Filters of ``owner_id`` (and public ones), or all when ``owner_id`` is None."""
    filters = [_row(r) for r in store.filter_rows()]
    if owner_id is None:
        return filters
    return [f for f in filters if f.owner_id == owner_id or (include_public and f.public)]


def active_filters(store: Store) -> list[SavedFilter]:
    return [_row(r) for r in store.filter_rows(active=True)]


def _owned(flt: SavedFilter, owner_id: int | None) -> None:
    if owner_id is not None and flt.owner_id != owner_id:
        raise FilterError(
            f"filter {flt.name!r} is not yours", None, "copy it if it is public: lanner filter copy"
        )


def edit_filter(
    store: Store,
    flt: SavedFilter,
    *,
    owner_id: int | None = None,
    sql: str | None = None,
    description: str | None = None,
    public: bool | None = None,
    output: str | None = None,
    output_options: str | None = None,
) -> SavedFilter:
    """Change a filter; new SQL or output settings are validated first."""
    _owned(flt, owner_id)
    new_sql = flt.sql if sql is None else sql
    new_output = flt.output if output is None else output
    new_options = flt.output_options if output_options is None else output_options
    _check(store, new_sql, flt.owner_id, flt.active, new_output, new_options)
    new: dict[str, Any] = {
        "sql": new_sql,
        "description": flt.description if description is None else description,
        "public": flt.public if public is None else public,
        "output": new_output,
        "output_options": new_options,
    }
    store.update_filter(flt.filter_id, new)
    return get_filter(store, flt.filter_id)


def set_active(
    store: Store, flt: SavedFilter, active: bool, *, owner_id: int | None = None
) -> SavedFilter:
    """Activate (or renew) for :data:`ACTIVE_DAYS`, or deactivate, a filter."""
    _owned(flt, owner_id)
    if active:
        _check(store, flt.sql, flt.owner_id, True, flt.output, flt.output_options)
    expires = (_now() + dt.timedelta(days=ACTIVE_DAYS)).isoformat() if active else None
    store.update_filter(flt.filter_id, {"active": active, "expires": expires})
    return get_filter(store, flt.filter_id)


def copy_filter(
    store: Store, flt: SavedFilter, new_name: str, owner_id: int | None = None
) -> SavedFilter:
    """Copy a public filter (or one's own) under a new name, inactive."""
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    if not flt.public and flt.owner_id != owner:
        raise FilterError(
            f"filter {flt.name!r} is private", None, "only public filters can be copied"
        )
    return add_filter(
        store, new_name, flt.sql, owner_id=owner, description=flt.description, output="none"
    )


def delete_filter(store: Store, flt: SavedFilter, *, owner_id: int | None = None) -> None:
    """Delete a filter with its matches and notices (ids are never given again, so no later
    filter can see them)."""
    _owned(flt, owner_id)
    store.delete_filter_rows(flt.filter_id)


def add_notice(store: Store, filter_id: int, kind: str, message: str, daily: bool = False) -> bool:
    """Tell a filter's owner something (shown by ``lanner filter show``); with ``daily``, at
    most once per UTC day for this filter and kind. Returns whether it was added."""
    return store.add_notice(filter_id, kind, message, daily)


def notices(store: Store, filter_id: int, limit: int = 20) -> list[tuple[str, str, str]]:
    """The latest notices of a filter: (time, kind, message), newest first."""
    return store.notice_rows(filter_id, limit)


def expire_filters(store: Store, now: dt.datetime | None = None) -> list[SavedFilter]:
    """Stop active filters whose time is up; each owner gets a notice. Returns them."""
    moment = now or _now()
    expired = [
        f
        for f in active_filters(store)
        if f.expires is not None and dt.datetime.fromisoformat(f.expires) <= moment
    ]
    for flt in expired:
        store.update_filter(flt.filter_id, {"active": False})
        add_notice(
            store,
            flt.filter_id,
            "expired",
            f"filter {flt.name!r} expired on {flt.expires} after {ACTIVE_DAYS} days and "
            "stopped; renew it with: lanner filter activate " + flt.name,
        )
    return expired
