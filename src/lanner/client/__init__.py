"""Lanner's Python client: the REST API and the filters' Kafka topics.

* :class:`LannerClient` makes every REST call (Lasair's and ``/api/v1``), with typed errors
  (:class:`LannerAuthError`, :class:`LannerNotFound`, :class:`LannerThrottled`,
  :class:`LannerBadRequest`, …) and results as dicts, astropy Tables or pandas frames;
* :class:`LannerConsumer` reads filter topics (poll, consume, commit, no repeats, a clear
  "nothing produced yet" state, SASL credentials from ``~/.lanner/credentials.yml``);
* :class:`lasair_consumer` is a drop-in for the Lasair client's consumer.

Importing this package has no side effects.
"""

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
