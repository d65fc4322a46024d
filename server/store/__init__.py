"""Storage: one `Store` protocol (protocol.py), the embedded sqlite backend and the couchdb backend."""

from __future__ import annotations

from server.settings import Settings
from server.store.protocol import Store


async def open_store(settings: Settings) -> Store:
    if settings.couchdb_url:
        from server.store.couchdb import CouchStore

        return await CouchStore.open(settings.couchdb_url, settings.couchdb_db)
    from server.store.sqlite import SqliteStore

    return await SqliteStore.open(
        settings.data_dir, revs_limit=settings.revs_limit, synchronous=settings.sqlite_synchronous
    )
