"""Lanner's settings: one typed object, defaults for the embedded mode, values from the
environment (secrets only ever from there).

=====================  ===================================================  ==================
variable               meaning                                              default
=====================  ===================================================  ==================
``LANNER_HOME``        folder of the embedded database and dead letters     ``./lanner-data``
``LANNER_DB``          database URL (``sqlite:///…`` or ``postgresql://…``)  SQLite in home
``LANNER_KAFKA``       Kafka bootstrap servers for consume/replay/delivery  none
``LANNER_BATCH_SIZE``  alerts per batch                                      ``1000``
``LANNER_BATCH_SECONDS``  longest wait to fill a batch from Kafka            ``5``
``LANNER_FILTER_TIMEOUT``  seconds per filter per batch                      ``10``
``LANNER_QUERY_TIMEOUT``   seconds per on-demand query                       ``30``
``LANNER_MAX_ROWS``    row cap of a filter or query result                   ``10000``
``LANNER_SMTP_HOST``   SMTP server for e-mail digests (none: no e-mail)      none
``LANNER_SMTP_PORT``   its port                                              ``25``
``LANNER_SMTP_SENDER`` ``From`` address of digests                           ``lanner@localhost``
``LANNER_SMTP_USER``   SMTP login (password in ``LANNER_SMTP_PASSWORD``)     none
``LANNER_SMTP_SECURITY``  ``none``, ``starttls`` or ``ssl``                  ``none``
``LANNER_DELIVERY_MAX_AGE``  hours a match is retried before it is failed       ``24``
``LANNER_WEBHOOK_TIMEOUT``   seconds per webhook request                       ``10``
``LANNER_WEBHOOK_ALLOW_PRIVATE``  ``1``: webhooks may call private/loopback    ``0``
``LANNER_SFD_DIR``     folder of the full SFD dust maps (``lanner data``)    none: bundled map
``LANNER_MAX_PACKET_BYTES``  largest packet held in memory, inflated [bytes]    ``67108864``
``LANNER_MAX_FILE_BYTES``  most inflated bytes read from one file or tarball    ``17179869184``
``LANNER_MAX_PACKET_ALERTS``  most alerts (records, rows) in one packet          ``100000``
``LANNER_MAX_NESTING``  deepest nesting of a JSON packet or an Avro schema      ``64``
``LANNER_MAX_CUTOUT_BYTES``  largest cutout of an alert [bytes]                 ``16777216``
``LANNER_GCN_KAFKA``   bootstrap servers of the GCN notices (none: GCN's)    none
``LANNER_GCN_SECURITY``  security.protocol of that connection               GCN's (sasl_ssl)
``LANNER_GCN_CLIENT_ID``  GCN client id (secret in ``LANNER_GCN_CLIENT_SECRET``)  none
``LANNER_GCN_TOPIC``   topic of the LVK notices                              ``igwn.gwalert``
``LANNER_GW_MAX_AREA`` 90% area cap [deg²] of maps not classed BNS/NSBH      ``1000``
``LANNER_GW_CLASSES``  classes whose maps are always kept                    ``BNS,NSBH``
=====================  ===================================================  ==================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default."""

    home: Path = field(default_factory=lambda: Path(_env("LANNER_HOME", "lanner-data")))
    db_url: str = ""
    kafka: str | None = field(default_factory=lambda: os.environ.get("LANNER_KAFKA") or None)
    batch_size: int = field(default_factory=lambda: int(_env("LANNER_BATCH_SIZE", "1000")))
    batch_seconds: float = field(default_factory=lambda: float(_env("LANNER_BATCH_SECONDS", "5")))
    filter_timeout: float = field(
        default_factory=lambda: float(_env("LANNER_FILTER_TIMEOUT", "10"))
    )
    query_timeout: float = field(default_factory=lambda: float(_env("LANNER_QUERY_TIMEOUT", "30")))
    max_rows: int = field(default_factory=lambda: int(_env("LANNER_MAX_ROWS", "10000")))
    smtp_host: str | None = field(
        default_factory=lambda: os.environ.get("LANNER_SMTP_HOST") or None
    )
    smtp_port: int = field(default_factory=lambda: int(_env("LANNER_SMTP_PORT", "25")))
    smtp_sender: str = field(default_factory=lambda: _env("LANNER_SMTP_SENDER", "lanner@localhost"))
    smtp_user: str | None = field(
        default_factory=lambda: os.environ.get("LANNER_SMTP_USER") or None
    )
    smtp_security: str = field(default_factory=lambda: _env("LANNER_SMTP_SECURITY", "none"))
    delivery_max_age: float = field(
        default_factory=lambda: float(_env("LANNER_DELIVERY_MAX_AGE", "24"))
    )
    webhook_timeout: float = field(
        default_factory=lambda: float(_env("LANNER_WEBHOOK_TIMEOUT", "10"))
    )
    webhook_allow_private: bool = field(
        default_factory=lambda: _env("LANNER_WEBHOOK_ALLOW_PRIVATE", "0") == "1"
    )
    sfd_dir: Path | None = field(
        default_factory=lambda: Path(d) if (d := os.environ.get("LANNER_SFD_DIR")) else None
    )
    max_packet_bytes: int = field(
        default_factory=lambda: int(_env("LANNER_MAX_PACKET_BYTES", str(64 * 2**20)))
    )
    max_file_bytes: int = field(
        default_factory=lambda: int(_env("LANNER_MAX_FILE_BYTES", str(16 * 2**30)))
    )
    max_packet_alerts: int = field(
        default_factory=lambda: int(_env("LANNER_MAX_PACKET_ALERTS", "100000"))
    )
    max_nesting: int = field(default_factory=lambda: int(_env("LANNER_MAX_NESTING", "64")))
    max_cutout_bytes: int = field(
        default_factory=lambda: int(_env("LANNER_MAX_CUTOUT_BYTES", str(16 * 2**20)))
    )
    gcn_kafka: str | None = field(
        default_factory=lambda: os.environ.get("LANNER_GCN_KAFKA") or None
    )
    gcn_security: str | None = field(
        default_factory=lambda: os.environ.get("LANNER_GCN_SECURITY") or None
    )
    gcn_client_id: str | None = field(
        default_factory=lambda: os.environ.get("LANNER_GCN_CLIENT_ID") or None
    )
    gcn_topic: str = field(default_factory=lambda: _env("LANNER_GCN_TOPIC", "igwn.gwalert"))
    gw_max_area: float = field(default_factory=lambda: float(_env("LANNER_GW_MAX_AREA", "1000")))
    gw_classes: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            c.strip() for c in _env("LANNER_GW_CLASSES", "BNS,NSBH").split(",") if c.strip()
        )
    )

    def __post_init__(self) -> None:
        if not self.db_url:
            url = os.environ.get("LANNER_DB") or f"sqlite:///{self.home / 'lanner.db'}"
            object.__setattr__(self, "db_url", url)
        if self.batch_size < 1:
            raise ValueError("LANNER_BATCH_SIZE must be at least 1")

    @classmethod
    def for_db(cls, db_url: str | None) -> Settings:
        """Settings from the environment, with the database ``db_url`` when one is given
        (a command's ``--db``)."""
        return cls(db_url=db_url or "")

    @property
    def dead_letter_dir(self) -> Path:
        return self.home / "deadletter"
