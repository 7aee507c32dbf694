"""Lanner's settings: one typed object, its fields declared once with their default,
environment variable and help text.

Input: the environment (``LANNER_*``; a secret may instead be read from the file named by
``LANNER_<NAME>_FILE``). Output: a frozen :class:`Settings`. The command line reads each
field's help and variable from :func:`setting_info` for its options, and the operations
guide's table is :func:`settings_table` (a test keeps the two in step). Side effects: none
(secret files are read when the settings are made).

A command-line option overrides the environment (:meth:`Settings.with_overrides`); a secret
is never taken only from the command line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A setting's value cannot be used (the message names the variable)."""


@dataclass(frozen=True)
class SettingInfo:
    """What the CLI and the docs know of one setting."""

    name: str
    env: str
    default: str
    help: str
    secret: bool


def _read(env: str, secret: bool) -> str | None:
    value = os.environ.get(env)
    if value:
        return value
    if secret:
        path = os.environ.get(f"{env}_FILE")
        if path:
            try:
                return Path(path).read_text().strip()
            except OSError as exc:
                raise SettingsError(f"{env}_FILE={path}: cannot read it ({exc})") from exc
    return None


def _setting(
    env: str,
    default: Any,
    help: str,
    parse: Callable[[str], Any] = str,
    *,
    secret: bool = False,
    shown: str | None = None,
) -> Any:
    """A dataclass field read from ``env`` (or ``env_FILE`` for a secret)."""

    def make() -> Any:
        text = _read(env, secret)
        if text is None:
            return default
        try:
            return parse(text)
        except ValueError as exc:
            raise SettingsError(f"{env}={text!r} is not valid: {exc}") from exc

    doc = shown if shown is not None else ("none" if default is None else str(default))
    return field(
        default_factory=make,
        repr=not secret,
        metadata={"env": env, "help": help, "secret": secret, "shown": doc},
    )


def _optional(text: str) -> str | None:
    return text or None


def _three_ints(text: str) -> tuple[int, int, int]:
    values = [int(v) for v in text.split(",")]
    if len(values) != 3 or min(values) < 1:
        raise ValueError("give three positive integers, e.g. 10,100,10000")
    return values[0], values[1], values[2]


def _port(text: str) -> int | None:
    port = int(text)
    if not 0 <= port < 65536:
        raise ValueError("a TCP port is 0-65535")
    return port


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default."""

    home: Path = _setting(
        "LANNER_HOME",
        Path("lanner-data"),
        "Folder of the embedded database and dead letters.",
        Path,
    )
    db_url: str = _setting(
        "LANNER_DB",
        "",
        "Database URL, sqlite:///file.db or postgresql://user@host:port/dbname "
        "(a password in PGPASSWORD or the URL).",
        secret=True,
        shown="SQLite file in LANNER_HOME",
    )
    kafka: str | None = _setting(
        "LANNER_KAFKA", None, "Kafka brokers HOST:PORT[,…] for consume and Kafka outputs."
    )
    kafka_topic: str | None = _setting(
        "LANNER_KAFKA_TOPIC", None, "Topic consume reads alerts from."
    )
    kafka_group: str = _setting("LANNER_KAFKA_GROUP", "lanner", "Consumer group of consume.")
    kafka_security_protocol: str | None = _setting(
        "LANNER_KAFKA_SECURITY_PROTOCOL",
        None,
        "plaintext, ssl, sasl_plaintext or sasl_ssl, for every consumer and producer.",
    )
    kafka_sasl_mechanism: str | None = _setting(
        "LANNER_KAFKA_SASL_MECHANISM", None, "SASL mechanism, e.g. SCRAM-SHA-512 or PLAIN."
    )
    kafka_sasl_username: str | None = _setting(
        "LANNER_KAFKA_SASL_USERNAME", None, "SASL user name."
    )
    kafka_sasl_password: str | None = _setting(
        "LANNER_KAFKA_SASL_PASSWORD", None, "SASL password.", secret=True
    )
    kafka_ssl_ca: str | None = _setting(
        "LANNER_KAFKA_SSL_CA", None, "File of the CA certificates that sign the brokers'."
    )
    batch_size: int = _setting("LANNER_BATCH_SIZE", 1000, "Alerts per batch at most.", int)
    batch_seconds: float = _setting(
        "LANNER_BATCH_SECONDS", 1.0, "Longest time (s) a batch from Kafka stays open.", float
    )
    filter_timeout: float = _setting(
        "LANNER_FILTER_TIMEOUT", 10.0, "Seconds one filter may run on one batch.", float
    )
    query_timeout: float = _setting(
        "LANNER_QUERY_TIMEOUT", 30.0, "Seconds one on-demand query may run.", float
    )
    max_rows: int = _setting("LANNER_MAX_ROWS", 10000, "Row cap of a filter or query result.", int)
    classifiers: str = _setting(
        "LANNER_CLASSIFIERS",
        "auto",
        "Classifiers run on each stored batch, their scores written as annotations: auto "
        "(those fast enough for a stream, when the lanner[ml] extra is installed; "
        "lanner classifiers lists them), none, or names separated by commas (auto,slsn).",
    )
    metrics_port: int | None = _setting(
        "LANNER_METRICS_PORT",
        None,
        "TCP port of the Prometheus /metrics endpoint of consume and run (none: off).",
        _port,
    )
    log_level: str = _setting(
        "LANNER_LOG_LEVEL", "INFO", "Log level of consume: DEBUG, INFO, WARNING or ERROR."
    )
    log_format: str = _setting(
        "LANNER_LOG_FORMAT",
        "text",
        "Log lines of consume: text, or json with the ids.",
    )
    db_retry_seconds: float = _setting(
        "LANNER_DB_RETRY_SECONDS",
        0.0,
        "How long (s) a worker retries an unreachable database before giving up (0: forever).",
        float,
    )
    smtp_host: str | None = _setting(
        "LANNER_SMTP_HOST", None, "SMTP server for e-mail outputs and digests (none: no e-mail)."
    )
    smtp_port: int = _setting("LANNER_SMTP_PORT", 25, "Its port.", int)
    smtp_sender: str = _setting(
        "LANNER_SMTP_SENDER", "lanner@localhost", "From address of e-mails and digests."
    )
    smtp_user: str | None = _setting("LANNER_SMTP_USER", None, "SMTP login.", _optional)
    smtp_password: str | None = _setting(
        "LANNER_SMTP_PASSWORD", None, "SMTP password.", secret=True
    )
    smtp_security: str = _setting(
        "LANNER_SMTP_SECURITY", "none", "SMTP transport security: none, starttls or ssl."
    )
    delivery_max_age: float = _setting(
        "LANNER_DELIVERY_MAX_AGE",
        24.0,
        "Hours a pending match is retried before it is marked failed.",
        float,
    )
    delivery_lease: float = _setting(
        "LANNER_DELIVERY_LEASE",
        300.0,
        "Seconds a delivery worker holds the matches it sends; a worker killed mid-send "
        "delays them by this much, then another sends them.",
        float,
    )
    webhook_timeout: float = _setting(
        "LANNER_WEBHOOK_TIMEOUT", 10.0, "Seconds one webhook request may take.", float
    )
    webhook_allow_private: bool = _setting(
        "LANNER_WEBHOOK_ALLOW_PRIVATE",
        False,
        "1: webhooks may call private and loopback addresses (tests, private networks).",
        lambda text: text == "1",
    )
    sfd_dir: Path | None = _setting(
        "LANNER_SFD_DIR",
        None,
        "Folder of the full SFD dust maps (lanner data); none: the bundled map.",
        Path,
    )
    max_packet_bytes: int = _setting(
        "LANNER_MAX_PACKET_BYTES",
        64 * 2**20,
        "Largest packet held in memory, inflated (bytes).",
        int,
    )
    max_file_bytes: int = _setting(
        "LANNER_MAX_FILE_BYTES",
        16 * 2**30,
        "Most inflated bytes read from one file or tarball.",
        int,
    )
    max_packet_alerts: int = _setting(
        "LANNER_MAX_PACKET_ALERTS", 100000, "Most alerts (records, rows) in one packet.", int
    )
    max_nesting: int = _setting(
        "LANNER_MAX_NESTING", 64, "Deepest nesting of a JSON packet or an Avro schema.", int
    )
    max_cutout_bytes: int = _setting(
        "LANNER_MAX_CUTOUT_BYTES", 16 * 2**20, "Largest cutout of an alert (bytes).", int
    )
    gcn_kafka: str | None = _setting(
        "LANNER_GCN_KAFKA", None, "Bootstrap servers of the GCN notices (none: GCN's own)."
    )
    gcn_security: str | None = _setting(
        "LANNER_GCN_SECURITY",
        None,
        "security.protocol of the GCN connection.",
        shown="GCN's (sasl_ssl)",
    )
    gcn_client_id: str | None = _setting("LANNER_GCN_CLIENT_ID", None, "GCN client id.")
    gcn_client_secret: str | None = _setting(
        "LANNER_GCN_CLIENT_SECRET", None, "GCN client secret.", secret=True
    )
    gcn_topic: str = _setting("LANNER_GCN_TOPIC", "igwn.gwalert", "Topic of the LVK notices.")
    gcn_listen: bool = _setting(
        "LANNER_GCN_LISTEN",
        False,
        "1: `lanner consume` also runs the GCN notice listener (as `lanner skymap listen`).",
        lambda text: text == "1",
    )
    gw_max_area: float = _setting(
        "LANNER_GW_MAX_AREA",
        1000.0,
        "90% area cap (deg²) of the sky maps not classed as one of LANNER_GW_CLASSES.",
        float,
    )
    gw_classes: tuple[str, ...] = _setting(
        "LANNER_GW_CLASSES",
        ("BNS", "NSBH"),
        "Classes whose sky maps are always kept, comma-separated.",
        lambda text: tuple(c.strip() for c in text.split(",") if c.strip()),
        shown="BNS,NSBH",
    )
    tns_url: str = _setting(
        "LANNER_TNS_URL",
        "https://www.wis-tns.org/system/files/tns_public_objects/",
        "Folder URL of the TNS public objects files (lanner tns refresh).",
    )
    tns_api_key: str | None = _setting(
        "LANNER_TNS_API_KEY", None, "API key of the TNS bot that downloads.", secret=True
    )
    tns_bot_id: str | None = _setting("LANNER_TNS_BOT_ID", None, "TNS id of that bot.")
    tns_bot_name: str | None = _setting("LANNER_TNS_BOT_NAME", None, "TNS name of that bot.")
    tns_radius: float = _setting(
        "LANNER_TNS_RADIUS", 3.0, "Radius (arcsec) matching objects to TNS entries.", float
    )

    serve_workers: int = _setting(
        "LANNER_SERVE_WORKERS", 4, "Worker processes of lanner serve.", int
    )
    public_url: str = _setting(
        "LANNER_PUBLIC_URL",
        "",
        "Base URL the web server is reached at, for links it returns (empty: the request's).",
    )
    api_rates: tuple[int, int, int] = _setting(
        "LANNER_API_RATES",
        (10, 100, 10000),
        "API calls per hour of the anon, user and power tiers, comma-separated.",
        _three_ints,
        shown="10,100,10000",
    )
    api_row_caps: tuple[int, int, int] = _setting(
        "LANNER_API_ROW_CAPS",
        (1000, 10000, 1000000),
        "Most rows of one API query of the anon, user and power tiers, comma-separated.",
        _three_ints,
        shown="1000,10000,1000000",
    )
    session_hours: float = _setting(
        "LANNER_SESSION_HOURS", 336.0, "Hours a web login lasts.", float
    )
    sky_survey: str = _setting(
        "LANNER_SKY_SURVEY",
        "P/DSS2/color",
        "HiPS survey of the web site's sky views: a CDS id or the URL of a HiPS server.",
    )
    status_metrics_url: str | None = _setting(
        "LANNER_STATUS_METRICS_URL",
        None,
        "Prometheus /metrics URL of the pipeline, read by the web status page (none: the "
        "archive's figures only).",
        _optional,
    )

    def __post_init__(self) -> None:
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.home / 'lanner.db'}")
        if self.batch_size < 1:
            raise SettingsError("LANNER_BATCH_SIZE must be at least 1")
        if self.batch_seconds <= 0:
            raise SettingsError("LANNER_BATCH_SECONDS must be more than 0")
        if self.log_format not in ("text", "json"):
            raise SettingsError("LANNER_LOG_FORMAT must be text or json")
        if not 0 < self.tns_radius <= 60:
            raise SettingsError("LANNER_TNS_RADIUS must be in (0, 60] arcsec")
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise SettingsError("LANNER_SMTP_SECURITY must be none, starttls or ssl")
        if self.serve_workers < 1:
            raise SettingsError("LANNER_SERVE_WORKERS must be at least 1")

    @classmethod
    def for_db(cls, db_url: str | None) -> Settings:
        """Settings from the environment, with the database ``db_url`` when one is given
        (a command's ``--db``)."""
        return cls(db_url=db_url) if db_url else cls()

    def with_overrides(self, **values: Any) -> Settings:
        """These settings with the given fields replaced, ignoring ``None`` (an option the
        user did not give); secrets cannot be overridden here."""
        given = {k: v for k, v in values.items() if v is not None}
        secret = sorted(k for k in given if setting_info(k).secret and k != "db_url")
        if secret:
            raise SettingsError(f"{secret} are secrets: set them in the environment or a file")
        return replace(self, **given) if given else self

    @property
    def dead_letter_dir(self) -> Path:
        return self.home / "deadletter"

    def kafka_config(self) -> dict[str, Any]:
        """librdkafka settings shared by every consumer and producer: security, and the
        library's log sent to the ``lanner.librdkafka`` logger, critical lines only (an
        unreachable broker is reported once by Lanner, not once per reconnection)."""
        pairs = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": self.kafka_sasl_mechanism,
            "sasl.username": self.kafka_sasl_username,
            "sasl.password": self.kafka_sasl_password,
            "ssl.ca.location": self.kafka_ssl_ca,
        }
        shared: dict[str, Any] = {"logger": logging.getLogger("lanner.librdkafka"), "log_level": 2}
        return shared | {k: v for k, v in pairs.items() if v is not None}


def setting_info(name: str) -> SettingInfo:
    """The declaration of field ``name`` of :class:`Settings`."""
    return SETTINGS[name]


def _infos() -> Mapping[str, SettingInfo]:
    out = {}
    for f in fields(Settings):
        m = f.metadata
        out[f.name] = SettingInfo(f.name, m["env"], m["shown"], m["help"], m["secret"])
    return out


#: Every setting, by field name, in declaration order.
SETTINGS: Mapping[str, SettingInfo] = _infos()


def option_help(name: str, text: str | None = None) -> str:
    """Help of a command-line option that overrides setting ``name``."""
    info = setting_info(name)
    return f"{text or info.help} [env {info.env}; default: {info.default}]"


def settings_table() -> str:
    """The Markdown table of every setting (the operations guide includes it verbatim)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for info in SETTINGS.values():
        env = f"`{info.env}`" + (f" or `{info.env}_FILE`" if info.secret else "")
        lines.append(f"| {env} | {info.default} | {info.help} |")
    return "\n".join(lines)
