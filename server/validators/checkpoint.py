"""The follower's own local documents, which never replicate: its checkpoint (`_local/server/validators`, the
feed position up to which every change is projected) and its retry history (`_local/server/validators-retries`,
shops whose projection failed: tries, last error, parked)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from server.errors import CouchError
from server.store.protocol import Doc, Seq, Store

log = logging.getLogger("mashang.validators")

CHECKPOINT_ID: Final = "server/validators"
RETRIES_ID: Final = "server/validators-retries"


class LocalDocs:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._revs: dict[str, str | None] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> tuple[Seq | None, dict[str, dict[str, Any]]]:
        """The saved checkpoint (None when there is none) and retry history."""
        checkpoint = await self._read(CHECKPOINT_ID)
        retries = await self._read(RETRIES_ID)
        seq = checkpoint.get("seq", 0) if checkpoint is not None else None
        return seq, dict(retries.get("shops", {})) if retries is not None else {}

    async def save_checkpoint(self, seq: Seq) -> bool:
        return await self._save(CHECKPOINT_ID, {"seq": seq})

    async def save_retries(self, shops: dict[str, dict[str, Any]]) -> bool:
        return await self._save(RETRIES_ID, {"shops": shops})

    async def _read(self, local_id: str) -> Doc | None:
        try:
            doc = await self.store.get_local(local_id)
        except CouchError as e:
            if e.status != 404:
                raise
            self._revs[local_id] = None
            return None
        self._revs[local_id] = str(doc["_rev"])
        return doc

    async def _save(self, local_id: str, body: Doc) -> bool:
        """Write with the last known `_rev`; on failure log, learn the current `_rev`, and answer False (the next
        save carries the newer state anyway)."""
        async with self._lock:
            rev = self._revs.get(local_id)
            try:
                answer = await self.store.put_local(local_id, {**body, "_rev": rev} if rev else body)
            except Exception as e:
                log.warning("saving _local/%s failed: %s", local_id, e)
                try:
                    await self._read(local_id)
                except Exception:
                    self._revs.pop(local_id, None)
                return False
            self._revs[local_id] = str(answer["rev"])
            return True
