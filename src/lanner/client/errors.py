"""Typed errors of :class:`lanner.client.LannerClient`, one per kind of answer.

Input: an HTTP status and body. Output: a :class:`LannerError` subclass carrying
``status``, ``message`` and ``body`` (the decoded JSON, or the text). Side effects: none.

======  ==========================  ==========================================
status  class                       extra
======  ==========================  ==========================================
400     :class:`LannerBadRequest`   ``fields``: ``{field: [messages]}``
401     :class:`LannerAuthError`
403     :class:`LannerForbidden`
404     :class:`LannerNotFound`
429     :class:`LannerThrottled`    ``retry_after`` (seconds, from the header)
5xx     :class:`LannerServerError`
—       :class:`LannerConnectionError` (no answer: refused, timed out)
======  ==========================  ==========================================
"""

from __future__ import annotations

from typing import Any


class LannerError(Exception):
    """Base class: the server refused the call, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class LannerBadRequest(LannerError):  # noqa: N818 - the names users catch
    """400: ``fields`` maps each bad field to its messages (``"error"`` for the request)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message, status, body)
        fields: dict[str, list[str]] = {}
        if isinstance(body, dict):
            for key, value in body.items():
                fields[str(key)] = (
                    [str(v) for v in value] if isinstance(value, list) else [str(value)]
                )
        self.fields = fields


class LannerAuthError(LannerError):
    """401: no token, a wrong token, or an expired session."""


class LannerForbidden(LannerError):  # noqa: N818 - the names users catch
    """403: the item is visible to you but not yours to change."""


class LannerNotFound(LannerError):  # noqa: N818 - the names users catch
    """404: no such object, item or route (or another user's private item)."""


class LannerThrottled(LannerError):  # noqa: N818 - the names users catch
    """429: the hourly limit of your tier is reached; retry after ``retry_after`` s."""

    def __init__(
        self, message: str, status: int | None = None, body: Any = None, retry_after: float = 0
    ) -> None:
        super().__init__(message, status, body)
        self.retry_after = retry_after


class LannerServerError(LannerError):
    """5xx: the server failed; the body says what it could."""


class LannerConnectionError(LannerError):
    """The server could not be reached or did not answer in time."""


def error_for(status: int, body: Any, retry_after: str | None = None) -> LannerError:
    """The error for a non-2xx answer."""
    message = _message(status, body)
    if status == 400:
        return LannerBadRequest(message, status, body)
    if status == 401:
        return LannerAuthError(message, status, body)
    if status == 403:
        return LannerForbidden(message, status, body)
    if status == 404:
        return LannerNotFound(message, status, body)
    if status == 429:
        try:
            wait = float(retry_after) if retry_after is not None else 0.0
        except ValueError:
            wait = 0.0
        return LannerThrottled(message, status, body, retry_after=wait)
    if status >= 500:
        return LannerServerError(message, status, body)
    return LannerError(message, status, body)


def _message(status: int, body: Any) -> str:
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if isinstance(body.get(key), str):
                return f"{status}: {body[key]}"
        parts = [
            f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()
        ]
        return f"{status}: " + "; ".join(parts)
    text = str(body or "").strip()
    return f"{status}: {text[:500]}" if text else f"HTTP {status}"
