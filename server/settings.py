"""Settings, read from the environment (`MASHANG_*`) in this one place and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    # Where the embedded store keeps its SQLite file and attachment bodies.
    data_dir: Path = Path("data")
    # When set, the CouchDB backend is used instead of the embedded store.
    couchdb_url: str | None = None
    couchdb_db: str = "mashang"
    # Secret for signing tokens. When unset, a random one is kept in the store itself.
    secret: str | None = None
    # Largest request body the gateway accepts (bytes), answered with a 413 beyond.
    max_body_bytes: int = 32 * 1024 * 1024
    # CouchDB's default: how many revisions of a document's history are kept.
    revs_limit: int = 1000
    # SQLite `synchronous`: FULL survives power loss, NORMAL survives a killed process only.
    sqlite_synchronous: str = "FULL"
    # Responses at least this large are gzip-compressed when the client accepts it.
    gzip_min_bytes: int = 1024
    # Longpoll `_changes`: the longest a request may wait and the default heartbeat (ms).
    longpoll_max_ms: int = 60_000
    # Admin token lifetime (days).
    admin_token_days: int = 365
    # Run the validators (the changes-feed follower that derives scores, hazards, alarms, rankings) inside the
    # gateway. Off for extra gateways in front of CouchDB, where one `mashang worker` runs them.
    run_validators: bool = True
    # Where each new alarm is POSTed (unset: no webhook), and the secret its HMAC-SHA256 signature is made with.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # A failed delivery is tried again after 1, 2, 4 ... times `webhook_backoff_seconds`, each wait at most
    # `webhook_backoff_max_seconds`, for `webhook_retry_hours` after it was queued (and at most `webhook_attempts`
    # tries, unless 0). Why 5 minutes: a receiver back from a restart or a deploy (minutes) hears of the alarm
    # within 5 minutes of being back (at once when a newer alarm gets through: the waiting ones follow it), and a
    # day's pending alarms of a city (~430) cost a receiver that is down ~1.4 requests a second. Why 24 hours: it
    # outlasts a receiver broken overnight and mended the next working morning; a day-old alarm has long been on
    # the office's desk, and the bound keeps a dead receiver's pending deliveries to about a day's alarms. The
    # 5 tries of before (`MASHANG_WEBHOOK_ATTEMPTS=5`) gave up 15 s after the alarm.
    webhook_attempts: int = 0
    webhook_backoff_seconds: float = 1.0
    webhook_backoff_max_seconds: float = 300.0
    webhook_retry_hours: float = 24.0
    webhook_timeout_seconds: float = 10.0
    # Of the gateways of one database only the holder of the webhook's lease delivers (`server.webhook`): it renews
    # it every third of this; another takes it over at most this and a third after the holder died (at once when the
    # holder was a process of the same machine that has ended), within a third of this after it stopped cleanly.
    webhook_lease_seconds: float = 30.0
    # The address printed in shops' QR codes (`{public_url}/s/{code}`); unset: the address the request came to.
    public_url: str | None = None
    # Scheduled backups of the embedded store (`server.backup.Schedule`): into this folder (unset: none, back up
    # with `mashang backup` from cron), every so many hours, keeping the newest so many backups there.
    backup_dir: Path | None = None
    backup_every_hours: float = 24.0
    backup_keep: int = 3
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        base = cls(
            data_dir=Path(_env("MASHANG_DATA", "data") or "data"),
            couchdb_url=_env("COUCHDB_URL") or _env("MASHANG_COUCHDB_URL") or None,
            couchdb_db=_env("MASHANG_COUCHDB_DB", "mashang") or "mashang",
            secret=_env("MASHANG_SECRET") or None,
            max_body_bytes=int(_env("MASHANG_MAX_BODY_BYTES", str(32 * 1024 * 1024)) or 0),
            sqlite_synchronous=(_env("MASHANG_SQLITE_SYNCHRONOUS", "FULL") or "FULL").upper(),
            run_validators=_flag(_env("MASHANG_VALIDATORS"), True),
            webhook_url=_env("MASHANG_WEBHOOK_URL") or None,
            webhook_secret=_env("MASHANG_WEBHOOK_SECRET") or None,
            webhook_attempts=int(_env("MASHANG_WEBHOOK_ATTEMPTS", "0") or 0),
            webhook_backoff_seconds=float(_env("MASHANG_WEBHOOK_BACKOFF_SECONDS", "1") or 1),
            webhook_backoff_max_seconds=float(_env("MASHANG_WEBHOOK_BACKOFF_MAX_SECONDS", "300") or 300),
            webhook_retry_hours=float(_env("MASHANG_WEBHOOK_RETRY_HOURS", "24") or 24),
            webhook_timeout_seconds=float(_env("MASHANG_WEBHOOK_TIMEOUT_SECONDS", "10") or 10),
            webhook_lease_seconds=float(_env("MASHANG_WEBHOOK_LEASE_SECONDS", "30") or 30),
            public_url=_env("MASHANG_PUBLIC_URL") or None,
            backup_dir=Path(raw) if (raw := _env("MASHANG_BACKUP_DIR")) else None,
            backup_every_hours=float(_env("MASHANG_BACKUP_EVERY_HOURS", "24") or 24),
            backup_keep=int(_env("MASHANG_BACKUP_KEEP", "3") or 3),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **clean)
