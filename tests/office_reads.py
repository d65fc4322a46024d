"""Which shops the office view reads from the store (`server.office.facts._shop`), for the tests of where it starts."""

from __future__ import annotations

from typing import Any

import pytest

from server.office import facts


def shops_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The codes of the shops the office view reads from now on, in order (it still reads them)."""
    read: list[str] = []
    real_shop = facts._shop

    async def counted(store: Any, code: str, *args: Any) -> Any:
        read.append(code)
        return await real_shop(store, code, *args)

    monkeypatch.setattr(facts, "_shop", counted)
    return read
