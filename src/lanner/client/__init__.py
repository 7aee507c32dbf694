"""Lanner's Python client: the REST API and the filters' Kafka topics.

* :class:`LannerClient` makes every REST call (Lasair's and ``/api/v1``), with typed errors
  (:class:`LannerAuthError`, :class:`LannerNotFound`, :class:`LannerThrottled`,
  :class:`LannerBadRequest`, …) and results as dicts, astropy Tables or pandas frames;
* :class:`LannerConsumer` reads filter topics (poll, consume, commit, no repeats, a clear
  "nothing produced yet" state, SASL credentials from ``~/.lanner/credentials.yml``);
* :class:`lasair_consumer` is a drop-in for the Lasair client's consumer.

Importing this package has no side effects and loads nothing else: each name is imported
on first use, so the REST client needs only httpx (and PyYAML for a credentials file), the
consumer confluent-kafka.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lanner.client.consumer import ConsumerError, LannerConsumer, Message, State, TopicStatus
    from lanner.client.credentials import Credentials, CredentialsError, load_credentials
    from lanner.client.errors import (
        LannerAuthError,
        LannerBadRequest,
        LannerConnectionError,
        LannerError,
        LannerForbidden,
        LannerNotFound,
        LannerServerError,
        LannerThrottled,
    )
    from lanner.client.lasair_compat import lasair_consumer
    from lanner.client.rest import LannerClient, tabulate

_WHERE = {
    "consumer": ("ConsumerError", "LannerConsumer", "Message", "State", "TopicStatus"),
    "credentials": ("Credentials", "CredentialsError", "load_credentials"),
    "errors": (
        "LannerAuthError",
        "LannerBadRequest",
        "LannerConnectionError",
        "LannerError",
        "LannerForbidden",
        "LannerNotFound",
        "LannerServerError",
        "LannerThrottled",
    ),
    "lasair_compat": ("lasair_consumer",),
    "rest": ("LannerClient", "tabulate"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = [
    "ConsumerError",
    "Credentials",
    "CredentialsError",
    "LannerAuthError",
    "LannerBadRequest",
    "LannerClient",
    "LannerConnectionError",
    "LannerConsumer",
    "LannerError",
    "LannerForbidden",
    "LannerNotFound",
    "LannerServerError",
    "LannerThrottled",
    "Message",
    "State",
    "TopicStatus",
    "lasair_consumer",
    "load_credentials",
    "tabulate",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'lanner.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lanner.client.{module}"), name)
    globals()[name] = value
    return value
