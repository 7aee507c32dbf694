"""Webhook URLs that are safe to call: checked when a filter is saved and again at each POST.

Input: a URL a user gave. Output: the URL's parts and the addresses its host resolves to
(:class:`CheckedURL`), or :class:`UnsafeURLError` saying why not. :func:`post` sends one
request to a checked URL. Side effects: DNS look-ups; :func:`post` opens one connection.

Rules: the scheme is ``http`` or ``https``; the host resolves, and every address it resolves
to is public — unless the operator sets ``LANNER_WEBHOOK_ALLOW_PRIVATE=1``, which also
allows private and loopback ranges (a broker inside a laboratory network, tests).
Link-local (cloud metadata services), multicast, unspecified and reserved addresses are
never called. :func:`post` connects to the address it has just checked, not to a second
look-up of the name (so a name cannot be re-pointed in between), and follows no redirect (a
3xx is reported as a failure: a redirect could lead to an internal address).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Most bytes of a response read (the body is not used).
MAX_RESPONSE_BYTES = 65536


class UnsafeURLError(ValueError):
    """A webhook URL Lanner will not call; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class CheckedURL:
    """A webhook URL that passed :func:`check_webhook_url`."""

    scheme: str
    host: str
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]


def _allow_private_default() -> bool:
    from lanner.settings import Settings

    return Settings().webhook_allow_private


def check_webhook_url(url: str, allow_private: bool | None = None) -> CheckedURL:
    """Check ``url`` and resolve its host.

    Parameters
    ----------
    url
        The URL as the user gave it.
    allow_private
        Allow private and loopback addresses; default: ``LANNER_WEBHOOK_ALLOW_PRIVATE``.

    Raises
    ------
    UnsafeURLError
        For a malformed URL, another scheme than http/https, a host that does not resolve,
        or one that resolves to an address not allowed.
    """
    allow = _allow_private_default() if allow_private is None else allow_private
    parts = urlsplit(url.strip())
    if not parts.scheme or any(c.isspace() for c in url.strip()):
        raise UnsafeURLError(
            f"webhook_url {url!r} is not a URL", "give one like https://example.org/hook"
        )
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(
            f"webhook_url {url!r}: scheme {parts.scheme or '(none)'!r} is not allowed",
            "give an http:// or https:// URL",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURLError(f"webhook_url {url!r}: {exc}", "check the port number") from exc
    host = parts.hostname
    if not host:
        raise UnsafeURLError(
            f"webhook_url {url!r} is not a URL", "give one like https://example.org/hook"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURLError(
            f"webhook_url {url!r}: host {host!r} does not resolve ({exc})",
            "check the host name",
        ) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        problem = _address_problem(ipaddress.ip_address(address.split("%")[0]), allow)
        if problem:
            raise UnsafeURLError(
                f"webhook_url {url!r}: {host} resolves to {address}, {problem}",
                "give a public address"
                + ("" if allow else " (an operator may allow private ones)"),
            )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return CheckedURL(parts.scheme, host, port, target, addresses)


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: bool) -> str:
    """Why ``ip`` may not be called, or ``""``."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback:
        return "" if allow else "a private or loopback address"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return "an address Lanner never calls (link-local, multicast or unspecified)"
    if ip.is_global:
        return ""
    if ip.is_private:
        return "" if allow else "a private or loopback address"
    return "an address Lanner never calls (reserved)"


def post(
    checked: CheckedURL, body: bytes, headers: dict[str, str], timeout_s: float
) -> tuple[int | None, str | None]:
    """POST ``body`` to a checked URL, at its checked address, without redirects.

    Returns
    -------
    tuple
        (HTTP status or ``None`` if no answer, problem or ``None`` for a 2xx answer).
    """
    connection: http.client.HTTPConnection
    if checked.scheme == "https":
        connection = _PinnedHTTPS(checked, timeout_s)
    else:
        connection = _PinnedHTTP(checked, timeout_s)
    try:
        connection.request("POST", checked.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = int(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return None, f"connection failed: {exc or type(exc).__name__}"
    finally:
        connection.close()
    if 200 <= status < 300:
        return status, None
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirects are not followed; give the final URL"
    return status, f"HTTP {status} {response.reason}"


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the checked address (Host header: the URL's host)."""

    def __init__(self, checked: CheckedURL, timeout_s: float) -> None:
        super().__init__(checked.host, checked.port, timeout=timeout_s)
        self._address = checked.addresses[0]

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address, verifying the URL's host name."""

    def __init__(self, checked: CheckedURL, timeout_s: float) -> None:
        super().__init__(
            checked.host, checked.port, timeout=timeout_s, context=ssl.create_default_context()
        )
        self._address = checked.addresses[0]

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]
