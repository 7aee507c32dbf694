"""Lanner's Python client: the REST API and the filters' Kafka topics.

* :class:`LannerConsumer` reads filter topics (poll, consume, commit, no repeats, a clear
  "nothing produced yet" state, SASL credentials from ``~/.lanner/credentials.yml``);
* :class:`lasair_consumer` is a drop-in for the Lasair client's consumer.

Importing this package has no side effects.
"""

from lanner.client.consumer import ConsumerError, LannerConsumer, Message, State, TopicStatus
from lanner.client.credentials import Credentials, CredentialsError, load_credentials
from lanner.client.lasair_compat import lasair_consumer

__all__ = [
    "ConsumerError",
    "Credentials",
    "CredentialsError",
    "LannerConsumer",
    "Message",
    "State",
    "TopicStatus",
    "lasair_consumer",
    "load_credentials",
]
