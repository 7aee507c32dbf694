"""Kafka credentials for :class:`~lanner.client.consumer.LannerConsumer` from a YAML file.

Input: a YAML mapping (default ``~/.lanner/credentials.yml``; any path may be given)::

    servers: kafka.example.org:9093        # bootstrap servers, comma-separated
    group_id: my-group                      # consumer group
    username: alice                         # SASL user (optional)
    password: s3cret                        # SASL password (optional)
    mechanism: SCRAM-SHA-512                # default when a username is given
    security_protocol: sasl_ssl             # default sasl_plaintext with a username
    ssl_ca: /etc/ssl/certs/ca.pem           # optional CA file
    offset_reset: earliest                  # or latest
    topics: [lanner_1_bright_0c1d2e3f]      # optional default topics
    token: 0123abcd…                        # optional REST API token
    api_url: https://lanner.example.org/api # optional REST endpoint

Output: a :class:`Credentials`. Side effects: reads the file; logs a warning when other
users may read it (it holds a password). Unknown keys are refused with their names.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("~/.lanner/credentials.yml")
_KEYS = {
    "servers",
    "group_id",
    "username",
    "password",
    "mechanism",
    "security_protocol",
    "ssl_ca",
    "offset_reset",
    "topics",
    "token",
    "api_url",
}


class CredentialsError(ValueError):
    """The credentials file is missing or malformed; the message says what to fix."""


@dataclass(frozen=True)
class Credentials:
    """What a consumer (and the REST client) needs to reach a Lanner deployment."""

    servers: str
    group_id: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mechanism: str = "SCRAM-SHA-512"
    security_protocol: str | None = None
    ssl_ca: str | None = None
    offset_reset: str = "earliest"
    topics: tuple[str, ...] = ()
    token: str | None = field(default=None, repr=False)
    api_url: str | None = None

    def kafka_config(self) -> dict[str, Any]:
        """librdkafka settings: bootstrap servers and, with a username, SASL."""
        config: dict[str, Any] = {"bootstrap.servers": self.servers}
        if self.username is not None:
            config["security.protocol"] = self.security_protocol or "sasl_plaintext"
            config["sasl.mechanism"] = self.mechanism
            config["sasl.username"] = self.username
            config["sasl.password"] = self.password or ""
        elif self.security_protocol is not None:
            config["security.protocol"] = self.security_protocol
        if self.ssl_ca is not None:
            config["ssl.ca.location"] = self.ssl_ca
        return config


def default_path() -> Path:
    """``~/.lanner/credentials.yml`` of the current user."""
    return DEFAULT_PATH.expanduser()


def load_credentials(path: str | Path | None = None) -> Credentials:
    """Read and check a credentials file.

    Raises
    ------
    CredentialsError
        If the file is missing, not a YAML mapping, has unknown keys, lacks ``servers``,
        has a password without a username, or an ``offset_reset`` other than
        ``earliest``/``latest``.
    """
    file = Path(path).expanduser() if path is not None else default_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CredentialsError(f"credentials file {file} not found") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CredentialsError(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CredentialsError(f"{file} must be a YAML mapping (key: value lines)")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise CredentialsError(f"{file}: unknown keys {unknown}; allowed: {sorted(_KEYS)}")
    if not data.get("servers"):
        raise CredentialsError(f"{file}: 'servers' (bootstrap HOST:PORT) is required")
    if data.get("password") is not None and data.get("username") is None:
        raise CredentialsError(f"{file}: 'password' given without 'username'")
    offset_reset = str(data.get("offset_reset", "earliest"))
    if offset_reset not in ("earliest", "latest"):
        raise CredentialsError(f"{file}: offset_reset must be 'earliest' or 'latest'")
    topics = data.get("topics") or ()
    if isinstance(topics, str):
        topics = (topics,)
    if os.name == "posix" and data.get("password") is not None:
        mode = file.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            log.warning("credentials file %s is readable by other users: chmod 600 it", file)

    def text_or_none(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    return Credentials(
        servers=str(data["servers"]),
        group_id=text_or_none("group_id"),
        username=text_or_none("username"),
        password=text_or_none("password"),
        mechanism=str(data.get("mechanism") or "SCRAM-SHA-512"),
        security_protocol=text_or_none("security_protocol"),
        ssl_ca=text_or_none("ssl_ca"),
        offset_reset=offset_reset,
        topics=tuple(str(t) for t in topics),
        token=text_or_none("token"),
        api_url=text_or_none("api_url"),
    )
