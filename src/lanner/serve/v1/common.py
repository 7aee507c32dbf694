"""What every ``/api/v1`` route shares: the caller, the archive, and errors.

Input: a request and the caller's :class:`~lanner.serve.accounts.Account`. Output: a store
session and :class:`~lanner.serve.errors.ApiError` responses in the shapes of the
Lasair-compatible routes: ``{"error": …}`` (400, with ``{"field": [...]}`` for a named
field), ``{"detail": "Not found."}`` (404, also for another user's private item: ids are
not an oracle), and 403 ``{"detail": …}`` when a user may see but not change an item.
Side effects: none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from lanner.serve.accounts import Account
from lanner.serve.auth import api_user, server_state
from lanner.serve.errors import ApiError, bad_request, not_found
from lanner.store import Store, StoreError

#: The most an item id in a path may be.
MAX_ITEM_ID = 2**63 - 1
#: An item id in a path: a non-negative 64-bit integer (larger ones are a 400).
ItemId = Annotated[int, Path(ge=0, le=MAX_ITEM_ID)]
#: The caller of a v1 route, counted against their hourly limit.
API_USER = Depends(api_user)
FORBIDDEN = "You do not have permission to perform this action."
#: Where a :class:`~lanner.filter.errors.FilterError` happened → the request field.
_WHERE_FIELDS = ("selected", "tables", "conditions", "sql", "webhook_url", "output_options")

_ERROR = {"type": "object", "additionalProperties": True}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Invalid request: ``{error: …}`` or ``{field: [message]}``",
        "content": {"application/json": {"schema": _ERROR}},
    },
    401: {"description": "No or wrong credentials (``{detail: …}``)"},
    403: {"description": "Visible to you but not yours to change (``{detail: …}``)"},
    404: {"description": "No such item visible to you (``{detail: …}``)"},
    429: {"description": "Hourly limit reached (``{message: …}``, ``Retry-After``)"},
}


@contextmanager
def archive(request: Request) -> Iterator[Store]:
    """The calling thread's store; store and user errors become 400s."""
    from lanner.annotations.model import AnnotationError, AnnotatorNotFoundError
    from lanner.filter.errors import FilterError

    with server_state(request).stores.session() as store:
        try:
            yield store
        except AnnotatorNotFoundError:
            raise not_found() from None
        except AnnotationError as exc:
            raise bad_request(str(exc)) from None
        except FilterError as exc:
            raise user_error(exc) from None
        except (StoreError, ValueError) as exc:  # as the CLI: a value the user gave
            raise bad_request(str(exc)) from None


def user_error(exc: Any) -> ApiError:
    """400 for a refused filter or area: ``{field: [message]}`` when the part is known."""
    where = str(getattr(exc, "where", None) or "")
    field = next((f for f in _WHERE_FIELDS if where.startswith(f)), None)
    if field is not None:
        return ApiError(400, {field: [str(exc)]})
    return bad_request(str(exc))


def forbidden() -> ApiError:
    return ApiError(403, {"detail": FORBIDDEN})


def visible(owner_id: int, public: bool, user_id: int) -> None:
    """404 unless the item is the caller's or public."""
    if owner_id != user_id and not public:
        raise not_found()


def owned(owner_id: int, public: bool, user_id: int) -> None:
    """404 for another user's private item, 403 for another user's public one."""
    visible(owner_id, public, user_id)
    if owner_id != user_id:
        raise forbidden()


#: Summaries of the activate and deactivate routes of watchlists and watchmaps.
AREA_SUMMARIES = ("Match on every batch for 180 days", "Stop matching incoming batches")
#: ``set_state(item_id, active, request, account)``: the item after (de)activating it.
SetState = Callable[[int, bool, Request, Account], dict[str, Any]]


def activation_routes(
    router: APIRouter,
    noun: str,
    path: str,
    set_state: SetState,
    summaries: tuple[str, str] = AREA_SUMMARIES,
) -> None:
    """``POST <path>activate/`` and ``POST <path>deactivate/`` (``path`` ends with the id
    parameter, e.g. ``/filters/{filter_id}/``), named ``activate_<noun>`` and
    ``deactivate_<noun>``, both calling ``set_state``, which checks that the caller owns
    the item. Each action is its own route: an ``{action}`` parameter there would also
    match ``hits/``."""
    id_name = path.rstrip("/").rsplit("{", 1)[1].rstrip("}")

    def make(active: bool) -> Callable[..., dict[str, Any]]:
        def endpoint(
            request: Request,
            item_id: int = Path(ge=0, le=MAX_ITEM_ID, alias=id_name),
            account: Account = API_USER,
        ) -> dict[str, Any]:
            return set_state(item_id, active, request, account)

        return endpoint

    for action, active, summary in (
        ("activate", True, summaries[0]),
        ("deactivate", False, summaries[1]),
    ):
        router.add_api_route(
            f"{path}{action}/",
            make(active),
            methods=["POST"],
            name=f"{action}_{noun}",
            summary=summary,
        )
