"""Reward points (积分): a shop's balance right now, and the office recording a redemption against it.

The balance is what `project_shop` gives from one read of the shop's partition (so it never waits for the
follower), and a redemption is a server-written event `{shop}:redemption:{number}` the follower then folds into
`{shop}:rewards`. Redemptions are numbered per shop: two offices (or two gateways) redeeming at once both try the
same next number, the store lets one in and answers the other `conflict`, which reads the balance again. A
client's `request_id` is kept on the redemption, so a retried request finds it instead of spending twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from server.errors import CouchError, conflict, no_such
from server.models.projections import Redemption, redemption_id
from server.store.protocol import Doc, Store
from server.validators import projections
from server.validators import rules as R
from server.validators.context import Clock, Context, utc_now
from server.validators.shops import read_partition

ATTEMPTS: Final = 8


@dataclass(frozen=True)
class Balance:
    registry: Doc
    rewards: Doc  # the `{shop}:rewards` document as the events give it now
    redemptions: list[Doc]  # oldest first


@dataclass(frozen=True)
class Redeemed:
    redemption: Doc
    rewards: Doc
    replayed: bool  # a retry of a request already recorded: nothing new was written


async def balance(store: Store, code: str, context: Context, clock: Clock = utc_now) -> Balance:
    part = await read_partition(store, code)
    if part.registry is None:
        raise no_such("shop", code)
    registry = part.registry
    today = context.today(clock)

    def project() -> Balance:
        docs = projections.project_shop(registry, part.events, context.rules_history, today, context.templates)
        rewards = next(doc for doc in docs if doc["type"] == "rewards")
        return Balance(registry, rewards, [r.to_doc() for r in projections.redemptions(part.events)])

    return await asyncio.to_thread(project)


async def redeem(
    store: Store,
    code: str,
    context: Context,
    *,
    points: int,
    prize: str,
    note: str,
    request_id: str | None,
    by: str,
    clock: Clock = utc_now,
) -> Redeemed:
    """Record `points` exchanged for `prize`, refused (409 `insufficient_points`) beyond the balance."""
    for _ in range(ATTEMPTS):
        now = await balance(store, code, context, clock)
        if request_id is not None:
            earlier = next((r for r in now.redemptions if r.get("request_id") == request_id), None)
            if earlier is not None:
                return _replay(earlier, now, points, prize, note)
        left = int(now.rewards["balance"])
        if points > left:
            have = max(left, 0)
            raise CouchError(
                409,
                "insufficient_points",
                f"可兑换积分不足：店铺 {code} 只有 {have} 分，本次要兑换 {points} 分。"
                f"shop {code} has {have} reward points; {points} were asked",
            )
        number = max((int(r["number"]) for r in now.redemptions), default=0) + 1
        doc = Redemption.model_validate(
            {
                "_id": redemption_id(code, number),
                "type": "redemption",
                "schema": 1,
                "shop": code,
                "number": number,
                "points": points,
                "prize": prize,
                "note": note,
                "request_id": request_id,
                "performed_at": _now(clock, context).isoformat(),
                "created_by": by,
            }
        ).to_doc()
        [answer] = await store.bulk_docs([doc])
        if answer.get("ok"):
            rewards = _after(now.rewards, points, doc)
            return Redeemed(doc, rewards, replayed=False)
        if answer.get("error") != "conflict":
            raise CouchError(500, str(answer.get("error", "error")), str(answer.get("reason", "write failed")))
    raise conflict(f"the redemptions of shop {code} kept changing; try again")


def _replay(earlier: Doc, now: Balance, points: int, prize: str, note: str) -> Redeemed:
    if (earlier["points"], earlier["prize"], earlier.get("note", "")) != (points, prize, note):
        raise conflict(
            f"request_id {earlier['request_id']} already recorded {earlier['_id']} "
            f"({earlier['points']} points for {earlier['prize']}); use a new request_id for a new redemption"
        )
    return Redeemed(earlier, now.rewards, replayed=True)


def _after(rewards: Doc, points: int, redemption: Doc) -> Doc:
    """The rewards document once the follower has folded the new redemption in."""
    redeemed = int(rewards["redeemed"]) + points
    return {
        **rewards,
        "redeemed": redeemed,
        "redemptions": int(rewards["redemptions"]) + 1,
        "balance": int(rewards["earned"]) - redeemed,
        "updated_at": max(str(rewards.get("updated_at") or ""), str(redemption["performed_at"])),
    }


def _now(clock: Clock, context: Context) -> datetime:
    return R.local(clock(), context.rules).replace(microsecond=0)


def public(doc: Doc) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("_rev", "_revisions", "_conflicts")}
