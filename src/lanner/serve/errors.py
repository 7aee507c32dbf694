"""Error responses shaped as Lasair's (Django REST framework) ones.

Input: an :class:`ApiError` raised anywhere in a request. Output: its JSON body and status.
Bodies are what DRF sends: ``{"field": ["message", …]}`` for invalid fields, ``{"error":
"…"}`` for domain errors, ``{"detail": "…"}`` for authentication and not-found, and
Lasair's ``{"message": …}`` for 429. Side effects: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOT_FOUND = {"detail": "Not found."}
NO_CREDENTIALS = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
INVALID_TOKEN_FORMAT = "Invalid token format."
THROTTLED = (
    "Request limit exceeded. Either wait an hour, or see API documentation to increase your limits."
)


class ApiError(Exception):
    """A response other than 200: status, JSON body and extra headers."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """400 ``{"error": message}``: the request is well formed but cannot be served."""
    return ApiError(400, {"error": message})


def field_errors(errors: Mapping[str, list[str]]) -> ApiError:
    """400 ``{field: [messages]}``: fields that are missing or invalid."""
    return ApiError(400, dict(errors))


def unauthorized(detail: str) -> ApiError:
    """401 ``{"detail": …}`` with the challenge DRF's token authentication sends."""
    return ApiError(401, {"detail": detail}, {"WWW-Authenticate": "Token"})


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND)


def throttled(retry_after: int) -> ApiError:
    """429 with ``Retry-After`` (whole seconds, at least 1)."""
    return ApiError(429, {"message": THROTTLED}, {"Retry-After": str(max(1, retry_after))})
