"""Server-owned documents to set the API tests up with (alarms, scores), shaped as the validators write them and
checked against server/models/projections.py, so a test never passes on a document the follower could not write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.ids import new_ulid
from server.models import Alarm, Hazard, Score
from server.store.protocol import Doc, Store


def alarm_doc(shop: str, created_at: str, *, kind: str = "patrol", item: str = "gas_safe") -> Doc:
    """A new alarm, open, as `project_shop` raises it for a patrol (or self-check) performed at `created_at`."""
    ulid = new_ulid(int(datetime.fromisoformat(created_at).timestamp() * 1000))
    doc: dict[str, Any] = {
        "_id": f"{shop}:alarm:{ulid}",
        "type": "alarm",
        "schema": 1,
        "shop": shop,
        "status": "open",
        "source": f"{shop}:{kind}:{ulid}",
        "shop_name": f"小吃店{shop}",
        "address": "曙光北路1号",
        "grid": "g1",
        "grid_worker": "grid:zhou" if kind == "patrol" else None,
        "items": [
            {
                "item": item,
                "severity": "serious",
                "hazard": f"{shop}:hazard:{ulid}-f1",
                "photos": [f"{shop}:photo:{new_ulid()}"],
            }
        ],
        "cost": 10,
        "department": None,
        "created_at": created_at,
        "history": [{"status": "open", "at": created_at, "by": "server"}],
    }
    return Alarm.model_validate(doc).to_doc()


def hazard_doc(alarm: dict[str, Any], status: str, note: str, deadline: str = "2026-03-03") -> dict[str, Any]:
    """The hazard an alarm's first item names, as the validators write it (found with the alarm, then `status`)."""
    item = alarm["items"][0]
    found = alarm["created_at"]
    return Hazard.model_validate(
        {
            "_id": item["hazard"],
            "type": "hazard",
            "schema": 1,
            "shop": alarm["shop"],
            "status": status,
            "source": alarm["source"],
            "item": item["item"],
            "finding": "f1",
            "severity": item["severity"],
            "self_reported": False,
            "found_at": found,
            "deadline": deadline,
            "cost": 10,
            "note": note,
            "closed_at": found if status == "closed" else None,
            "updated_at": found,
            "history": [{"status": "open", "at": found, "by": "grid:zhou", "event": alarm["source"]}]
            + ([{"status": status, "at": found, "by": "server"}] if status != "open" else []),
        }
    ).to_doc()


def score_doc(shop: str, points: int, rank: int | None = None, of: int | None = None, listed: str | None = None) -> Doc:
    doc = {
        "_id": f"{shop}:score",
        "type": "score",
        "schema": 1,
        "shop": shop,
        "points": points,
        "rank": rank,
        "of": of,
        "list": listed,
        "open_hazards": 0,
        "rules_version": 1,
        "updated_at": "2026-03-02T10:00:00+08:00",
    }
    return Score.model_validate(doc).to_doc()


async def write(store: Store, *docs: Doc) -> None:
    """Write documents the way the validators do: straight into the store, as new documents."""
    answers = await store.bulk_docs(list(docs))
    assert all(answer.get("ok") for answer in answers), answers
